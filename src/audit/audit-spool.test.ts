import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testDialects } from '../../test/support/dialects.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { freshAuditLog, readEntry } from './audit.fixture.ts';
import { AuditLog } from './audit-log.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';

const count = async (db: { all<T>(sql: string): Promise<T[]> }) =>
  Number((await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log'))[0]!.n);

for (const dialect of await testDialects()) {
  test(`spooled read audits reach the chain exactly once, also after a crash (${dialect})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-spool-'));
    const { db } = await freshAuditLog(dialect);
    try {
      const spoolUrl = `sqlite:${join(dir, 'spool.db')}`;
      let spool = await openDialect(spoolUrl);
      let log = await AuditLog.open(db, { spool, drainIntervalMs: 60_000 });
      // record() resolves once the entry is committed to the spool, before it is in the chain.
      await Promise.all(Array.from({ length: 50 }, (_, i) => log.record(readEntry(i))));
      assert.equal(await count(db), 0);
      const spooled = await spool.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_spool');
      assert.equal(Number(spooled[0]!.n), 50);
      // "Crash": the process goes away without draining; the next one moves the entries at open.
      await spool.close();
      spool = await openDialect(spoolUrl);
      log = await AuditLog.open(db, { spool, drainIntervalMs: 60_000 });
      assert.equal(await count(db), 50);
      // A crash after the chain commit but before the spool rows were deleted: the stored position
      // keeps the rows from entering twice.
      await Promise.all(Array.from({ length: 10 }, (_, i) => log.record(readEntry(100 + i))));
      const kept = await spool.all<Record<string, unknown>>('SELECT * FROM audit_spool ORDER BY id');
      await log.flushed();
      assert.equal(await count(db), 60);
      const columns = Object.keys(kept[0]!);
      await spool.insertMany(
        'audit_spool',
        columns,
        columns.map(() => 'text'),
        kept.map((r) => columns.map((c) => r[c])),
      );
      await log.close();
      log = await AuditLog.open(db, { spool, drainIntervalMs: 60_000 });
      await log.flushed();
      assert.equal(await count(db), 60);
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok, true);
      await log.close();
      await spool.close();
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
