import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { testDialects } from '../../test/support/dialects.ts';
import { GENESIS_HASH } from '../core/audit/audit-hash.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { freshAuditLog, readEntry, sharedDbUrl } from './audit.fixture.ts';
import { AuditLog } from './audit-log.ts';
import { searchAuditLog } from './search-audit-log.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';

for (const dialect of await testDialects()) {
  describe(`audit log on ${dialect}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    const fresh = async () => {
      const r = await freshAuditLog(dialect);
      cleanups.push(() => r.db.close());
      return r;
    };

    test('append numbers and chains entries; the chain verifies', async () => {
      const { db, log } = await fresh();
      const first = await log.append([readEntry(1), readEntry(2)]);
      const second = await log.append([readEntry(3)]);
      assert.deepEqual(
        [...first, ...second].map((r) => r.seq),
        [1, 2, 3],
      );
      assert.equal(first[0]!.prevHash, GENESIS_HASH);
      assert.equal(second[0]!.prevHash, first[1]!.hash);
      const verdict = await verifyAuditChain(db);
      assert.deepEqual(verdict, { ok: true, count: 3, last: { seq: 3, hash: second[0]!.hash } });
      const stored = await db.all<{ event: string; agent: string }>('SELECT event, agent FROM audit_log WHERE seq = 1');
      // The row keeps what has no column of its own; the AuditEvent is derived from the whole row.
      assert.equal(JSON.parse(stored[0]!.event).observer, 'dxhub');
      const [found] = await searchAuditLog(db, { count: 1, before: 2 });
      assert.equal(found!.event.resourceType, 'AuditEvent');
      assert.equal(stored[0]!.agent, 'user-1');
    });

    test('the database refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL)', async () => {
      const { db, log } = await fresh();
      await log.append([readEntry(1)]);
      await assert.rejects(db.run("UPDATE audit_log SET agent = 'mallory'"), /append-only/);
      await assert.rejects(db.run('DELETE FROM audit_log WHERE seq = 1'), /append-only/);
      if (dialect === 'postgres') await assert.rejects(db.run('TRUNCATE audit_log'), /append-only/);
      assert.equal((await verifyAuditChain(db)).ok, true);
      // Re-opening (e.g. a restart) keeps the guards and the data.
      await AuditLog.open(db);
      await assert.rejects(db.run("UPDATE audit_log SET agent = 'mallory'"), /append-only/);
    });

    test('entries written in a rolled-back transaction leave no trace and no gap', async () => {
      const { db, log } = await fresh();
      await log.append([readEntry(1)]);
      await assert.rejects(
        db.transaction(async (tx) => {
          await log.appendInTx(tx, [readEntry(2), readEntry(3)]);
          throw new Error('the write failed');
        }),
        /the write failed/,
      );
      const next = await log.append([readEntry(4)]);
      assert.equal(next[0]!.seq, 2);
      assert.deepEqual(await verifyAuditChain(db), { ok: true, count: 2, last: { seq: 2, hash: next[0]!.hash } });
    });

    test('concurrent record calls and appendInTx transactions give one linear chain', async () => {
      const { db, log } = await fresh();
      await db.execScript('CREATE TABLE audit_probe (id INTEGER PRIMARY KEY, note TEXT)');
      const reads = Array.from({ length: 600 }, (_, i) => log.record(readEntry(i)));
      const writes = Array.from({ length: 8 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO audit_probe (id, note) VALUES (?, ?)', [i, 'written']);
          await log.appendInTx(tx, [
            { ...readEntry(i), action: 'create' },
            { ...readEntry(i), action: 'update' },
          ]);
        }),
      );
      const moreReads = Array.from({ length: 300 }, (_, i) => log.record(readEntry(1000 + i)));
      await Promise.all([...reads, ...writes, ...moreReads]);
      const verdict = await verifyAuditChain(db, { batchSize: 97 });
      assert.deepEqual(verdict.ok && verdict.count, 600 + 16 + 300);
      const writesSeen = await db.all<{ n: number }>(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('create', 'update')",
      );
      assert.equal(Number(writesSeen[0]!.n), 16);
    });

    test('two independent appenders on one database (two processes) never fork the chain', async () => {
      const shared = sharedDbUrl(dialect);
      const a = await openDialect(shared.url);
      const b = await openDialect(shared.url);
      cleanups.push(async () => {
        await a.close();
        await b.close();
        shared.cleanup();
      });
      const logA = await AuditLog.open(a);
      const logB = await AuditLog.open(b);
      const work: Promise<unknown>[] = [];
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < 40; i++) {
          work.push(logA.record(readEntry(i)), logB.record(readEntry(i, 'pat-2')));
        }
        work.push(b.transaction((tx) => logB.appendInTx(tx, [readEntry(round)])));
        work.push(a.transaction((tx) => logA.appendInTx(tx, [readEntry(round)])));
      }
      await Promise.all(work);
      const seenByA = await verifyAuditChain(a, { batchSize: 33 });
      assert.equal(seenByA.ok && seenByA.count, 5 * 82);
      assert.deepEqual(await verifyAuditChain(b), seenByA);
    });

    test('record resolves only after commit: a second connection sees the entry', async () => {
      const shared = sharedDbUrl(dialect);
      const writer = await openDialect(shared.url);
      const reader = await openDialect(shared.url);
      cleanups.push(async () => {
        await writer.close();
        await reader.close();
        shared.cleanup();
      });
      const log = await AuditLog.open(writer);
      for (let round = 1; round <= 3; round++) {
        const batch = Array.from({ length: 50 }, (_, i) => ({ ...readEntry(i), agent: `round-${round}-${i}` }));
        await Promise.all(
          batch.map(async (entry) => {
            await log.record(entry);
            const seen = await reader.all('SELECT seq FROM audit_log WHERE agent = ?', [entry.agent]);
            assert.equal(seen.length, 1, `${entry.agent} visible after record resolved`);
          }),
        );
      }
      await log.flushed();
    });

    test('record rejects when its transaction fails, and the log stays consistent', async () => {
      const { db, log } = await fresh();
      await log.append([readEntry(1)]);
      // A value the column refuses (NOT NULL agent) fails the whole batch's transaction.
      await assert.rejects(log.record({ ...readEntry(2), agent: null as unknown as string }));
      await log.record(readEntry(3));
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok && verdict.count, 2);
    });
  });
}
