import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { testDialects } from '../../test/support/dialects.ts';
import { GENESIS_HASH } from '../core/audit/audit-hash.ts';
import { type Dialect, openDialect } from '../store/dialect/dialect.ts';
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
      await log.flushed();
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
      await Promise.all([logA.flushed(), logB.flushed()]);
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
            // Committed: in the chain, or staged for it (PostgreSQL).
            const seen = await reader.all(
              'SELECT seq FROM audit_log WHERE agent = ? UNION ALL SELECT id FROM audit_staging WHERE agent = ?',
              [entry.agent, entry.agent],
            );
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
      await log.flushed();
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok && verdict.count, 2);
    });
  });

  describe(`audit staging on ${dialect}`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    const staged = async (db: Dialect) =>
      Number((await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_staging'))[0]!.n);
    const chained = async (db: Dialect) =>
      Number((await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log'))[0]!.n);
    /** `n` connections to one fresh database (processes sharing it), closed after the suite. */
    const sharedDbs = async (n: number) => {
      const shared = sharedDbUrl(dialect);
      const dbs: Dialect[] = [];
      // One after the other: each creates the test schema if it is missing.
      for (let i = 0; i < n; i++) dbs.push(await openDialect(shared.url));
      cleanups.push(async () => {
        for (const db of dbs) await db.close();
        shared.cleanup();
      });
      return dbs;
    };

    test('recordInTx stages with the write: a rollback leaves nothing, a commit is chained once', async () => {
      const db = (await sharedDbs(1))[0]!;
      // No timer-driven moves in this test: the moves are the test's own.
      const log = await AuditLog.open(db, { staging: true, drainIntervalMs: 3_600_000 });
      await db.execScript('CREATE TABLE staging_probe (id INTEGER PRIMARY KEY)');
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO staging_probe (id) VALUES (1)');
          await log.recordInTx(tx, [{ ...readEntry(1), action: 'create' }]);
          throw new Error('the write failed');
        }),
        /the write failed/,
      );
      assert.equal(await staged(db), 0);
      await db.transaction(async (tx) => {
        await tx.run('INSERT INTO staging_probe (id) VALUES (2)');
        await log.recordInTx(tx, [{ ...readEntry(2), action: 'create' }]);
      });
      await log.record(readEntry(3));
      // Durable before it is chained: both committed, neither in the chain yet.
      assert.deepEqual([await staged(db), await chained(db)], [2, 0]);
      await log.flushed();
      assert.deepEqual([await staged(db), await chained(db)], [0, 2]);
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok && verdict.count, 2);
      const rows = await db.all<{ action: string; patient: string }>(
        'SELECT action, patient FROM audit_log ORDER BY seq',
      );
      assert.deepEqual(
        rows.map((r) => r.action),
        ['create', 'read'],
      );
    });

    test('a row committed late with a lower id than the rows moved is chained by the next move', async () => {
      const db = (await sharedDbs(1))[0]!;
      const log = await AuditLog.open(db, { staging: true, drainIntervalMs: 3_600_000 });
      await Promise.all(Array.from({ length: 5 }, (_, i) => log.record(readEntry(i))));
      // Row 3's transaction "commits" only after the others were moved: out of the table now,
      // back with its own id afterwards.
      const [late] = await db.all<Record<string, unknown>>('SELECT * FROM audit_staging ORDER BY id LIMIT 1 OFFSET 2');
      await db.run('DELETE FROM audit_staging WHERE id = ?', [late!.id]);
      await log.flushed();
      assert.deepEqual([await staged(db), await chained(db)], [0, 4]);
      const cols = Object.keys(late!);
      await db.run(
        `INSERT INTO audit_staging (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
        cols.map((c) => late![c]),
      );
      await log.flushed();
      assert.deepEqual([await staged(db), await chained(db)], [0, 5]);
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok && verdict.count, 5);
    });

    test('staged entries left by a process that died are chained by the next one, once', async () => {
      const db = (await sharedDbs(1))[0]!;
      const dead = await AuditLog.open(db, { staging: true, drainIntervalMs: 3_600_000 });
      await Promise.all(Array.from({ length: 700 }, (_, i) => dead.record(readEntry(i))));
      // `dead` is never closed or flushed: its process is gone. A restart moves what it staged.
      assert.equal(await staged(db), 700);
      const next = await AuditLog.open(db, { staging: true, drainIntervalMs: 3_600_000 });
      assert.deepEqual([await staged(db), await chained(db)], [0, 700]);
      await next.flushed();
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok && verdict.count, 700);
    });

    test('two processes moving at once chain every staged entry exactly once', async () => {
      const [a, b] = (await sharedDbs(2)) as [Dialect, Dialect];
      const logA = await AuditLog.open(a, { staging: true, drainIntervalMs: 5 });
      const logB = await AuditLog.open(b, { staging: true, drainIntervalMs: 5 });
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 1500; i++) {
        work.push(logA.record({ ...readEntry(i), agent: `a-${i}` }), logB.record({ ...readEntry(i), agent: `b-${i}` }));
        if (i % 300 === 0) work.push(logA.drainJournal(), logB.drainJournal());
      }
      await Promise.all(work);
      await Promise.all([logA.flushed(), logB.flushed()]);
      const verdict = await verifyAuditChain(a, { batchSize: 211 });
      assert.equal(verdict.ok && verdict.count, 3000);
      const agents = await a.all<{ agent: string; n: number }>(
        'SELECT agent, COUNT(*) AS n FROM audit_log GROUP BY agent HAVING COUNT(*) > 1',
      );
      assert.deepEqual(agents, []);
      assert.equal(await staged(a), 0);
      await Promise.all([logA.close(), logB.close()]);
    });
  });
}
