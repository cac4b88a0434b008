import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { testDialects } from '../../test/support/dialects.ts';
import { auditFields } from '../core/audit/audit-chain.ts';
import { type Dialect, openDialect } from '../store/dialect/dialect.ts';
import { freshAuditLog, readEntry, sharedDbUrl } from './audit.fixture.ts';
import { AuditJournal, auditJournalOf, dataEnd } from './audit-journal.ts';
import { AuditLog } from './audit-log.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';

const count = async (db: { all<T>(sql: string): Promise<T[]> }) =>
  Number((await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_log'))[0]!.n);
const lines = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    // A flushed segment's zeros ahead of its entries are no line.
    .reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').replace(/\0+$/, '').split('\n').filter(Boolean).length, 0);
const NEVER = 60_000;

/** The chain's entry count once it holds `n` (or after 10 s, whatever it holds then). */
async function chainedWithin(db: Dialect, n: number): Promise<number> {
  const until = Date.now() + 10_000;
  while ((await count(db)) < n && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return count(db);
}

/** The chain verifies with `n` entries, each a different event. */
async function assertChainedOnce(db: Dialect, n: number): Promise<void> {
  const verdict = await verifyAuditChain(db);
  assert.equal(verdict.ok && verdict.count, n);
  const events = await db.all<{ n: number }>('SELECT COUNT(DISTINCT event) AS n FROM audit_log');
  assert.equal(Number(events[0]!.n), n, 'each entry chained once');
}

for (const dialect of await testDialects()) {
  test(`journalled read audits reach the chain exactly once, also after a crash (${dialect})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-journal-'));
    const { db } = await freshAuditLog(dialect);
    try {
      const log = await AuditLog.open(db, { journal: new AuditJournal(dir), drainIntervalMs: NEVER });
      // record() resolves once the entry is written to the journal, before it is in the chain.
      await Promise.all(Array.from({ length: 50 }, (_, i) => log.record(readEntry(i))));
      assert.equal(await count(db), 0);
      assert.equal(lines(dir), 50);
      // "Crash": the process goes away without moving them; the next one moves them when it opens
      // and deletes the segment nobody writes any more.
      const next = await AuditLog.open(db, { journal: new AuditJournal(dir), drainIntervalMs: NEVER });
      assert.equal(await count(db), 50);
      assert.deepEqual(readdirSync(dir), []);
      // Moving again (a second drain, a restart) never adds an entry twice: the byte offset is
      // stored with the entries.
      await Promise.all(Array.from({ length: 10 }, (_, i) => next.record(readEntry(100 + i))));
      await next.flushed();
      await next.drainJournal();
      assert.equal(await count(db), 60);
      await next.close();
      const again = await AuditLog.open(db, { journal: new AuditJournal(dir), drainIntervalMs: NEVER });
      assert.equal(await count(db), 60);
      await again.close();
      const verdict = await verifyAuditChain(db);
      assert.equal(verdict.ok, true);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`a crashed writer's unfinished last line is dropped; a live writer's segment is kept (${dialect})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-journal-'));
    const { db } = await freshAuditLog(dialect);
    try {
      const line = (i: number) =>
        `${JSON.stringify(Object.values(auditFields(readEntry(i), Date.UTC(2026, 10, 29), { observer: 'dxhub' })))}\n`;
      // pid 2^22 + 1 is above Linux's pid_max: no process has it.
      const dead = '000001000000000-4194305-000000.jsonl';
      writeFileSync(join(dir, dead), `${line(1)}${line(2)}${line(3).slice(0, 40)}`);
      // A flushed segment's writer died too: its torn line is followed by the zeros written ahead.
      const deadFlushed = '000001000000000-4194305-000001.jsonl';
      writeFileSync(
        join(dir, deadFlushed),
        Buffer.concat([Buffer.from(`${line(6)}${line(7).slice(0, 25)}`), Buffer.alloc(8192)]),
      );
      // The parent of this test process is alive: its segment may still grow.
      const live = `000001000000001-${process.ppid}-000000.jsonl`;
      writeFileSync(join(dir, live), `${line(4)}${line(5).slice(0, 30)}`);
      const log = await AuditLog.open(db, { journal: new AuditJournal(dir), drainIntervalMs: NEVER });
      assert.equal(await count(db), 4);
      assert.deepEqual(readdirSync(dir), [live]);
      // The live writer finishes its line: only the new part enters the chain.
      writeFileSync(join(dir, live), `${line(4)}${line(5)}`);
      await log.drainJournal();
      assert.equal(await count(db), 5);
      await log.close();
      assert.equal((await verifyAuditChain(db)).ok, true);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`segments roll over and are moved in order (${dialect})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-journal-'));
    const { db } = await freshAuditLog(dialect);
    try {
      const log = await AuditLog.open(db, {
        journal: new AuditJournal(dir, { maxSegmentBytes: 600 }),
        drainIntervalMs: NEVER,
      });
      for (let i = 0; i < 40; i++) await log.record(readEntry(i, `pat-${i}`));
      assert.ok(readdirSync(dir).length > 5, 'several segments');
      await log.flushed();
      // Only the segment being written remains.
      assert.equal(readdirSync(dir).length, 1);
      const rows = await db.all<{ patient: string }>('SELECT patient FROM audit_log ORDER BY seq');
      assert.deepEqual(
        rows.map((r) => r.patient),
        Array.from({ length: 40 }, (_, i) => `pat-${i}`),
      );
      await log.close();
      assert.equal((await verifyAuditChain(db)).ok, true);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const dialect of await testDialects()) {
  test(`flushed() and close() chain the entries a synced journal still holds in memory (${dialect})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-synced-'));
    const { db } = await freshAuditLog(dialect);
    try {
      // Flushes 300 ms apart: entries recorded right after one wait in memory for the next.
      const journal = () => new AuditJournal(dir, { sync: true, minFlushIntervalMs: 300 });
      const log = await AuditLog.open(db, { journal: journal(), drainIntervalMs: NEVER });
      await log.record(readEntry(1));
      const later = [log.record(readEntry(2)), log.record(readEntry(3))];
      await log.flushed();
      assert.equal(await count(db), 3, 'every entry recorded before flushed() is in the chain');
      await Promise.all(later);
      // close() moves what it holds as well (nothing is left for the next process).
      const next = await AuditLog.open(db, { journal: journal(), drainIntervalMs: NEVER });
      await next.record(readEntry(4));
      const pending = next.record(readEntry(5));
      await next.close();
      await pending;
      assert.equal(await count(db), 5);
      await assertChainedOnce(db, 5);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a flushed segment is filled with zeros ahead of its entries, and readers stop at them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-prealloc-'));
  try {
    const journal = new AuditJournal(dir, { sync: true });
    const entries = Array.from({ length: 3 }, (_, i) =>
      auditFields(readEntry(i), Date.UTC(2026, 11, 2), { observer: 'dxhub' }),
    );
    await journal.appendSynced(entries.slice(0, 2));
    await journal.appendSynced(entries.slice(2));
    const [seg] = journal.segments();
    const file = join(dir, seg!.name);
    const bytes = readFileSync(file);
    assert.equal(bytes.length, 1024 * 1024, 'one step of zeros written ahead');
    const end = bytes.indexOf(0);
    assert.ok(end > 0 && bytes.subarray(end).every((b) => b === 0));
    assert.equal(bytes[end - 1], 0x0a);
    assert.equal(journal.sizeOf(seg!.name), end);
    assert.equal(dataEnd(file), end);
    const chunk = journal.read(seg!.name, 0, 100);
    assert.equal(chunk?.fields.length, 3);
    assert.equal(chunk?.end, end);
    assert.deepEqual(journal.read(seg!.name, end, 100), { fields: [], end });
    // Past the step the file grows by another one; entries stay contiguous.
    const big = auditFields(readEntry(9, 'p'.repeat(700 * 1024)), Date.UTC(2026, 11, 2), { observer: 'dxhub' });
    await journal.appendSynced([big, big]);
    assert.equal(readFileSync(file).length, 2 * 1024 * 1024);
    assert.equal(journal.read(seg!.name, 0, 100)?.fields.length, 5);
    journal.close();
    // An unsynced journal (next to a SQLite file) writes no zeros.
    const plain = new AuditJournal(join(dir, 'plain'));
    plain.append(entries);
    assert.equal(
      readFileSync(join(dir, 'plain', plain.segments()[0]!.name)).length,
      plain.sizeOf(plain.segments()[0]!.name),
    );
    plain.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('synced appends made while a flush runs share the next one (group commit)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-group-'));
  try {
    const journal = new AuditJournal(dir, { sync: true });
    const entry = auditFields(readEntry(1), Date.UTC(2026, 11, 2), { observer: 'dxhub' });
    // Eight writers, each appending as soon as its previous append is on the disk.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 50; i++) await journal.appendSynced([entry]);
      }),
    );
    assert.equal(lines(dir), 400);
    // A flush covers every append made before it started: at least two per flush on average.
    // (Before, a waiter was passed over by flushes that other writers started, one per append.)
    assert.ok(journal.flushes <= 200, `${journal.flushes} flushes for 400 appends`);
    journal.close();
    // After close, a synced append is flushed when its segment closes.
    const after = new AuditJournal(dir, { sync: true });
    await after.appendSynced([entry]);
    after.close();
    assert.equal(lines(dir), 401);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('appends made while a flush runs or waits are written together before the next flush; close writes and flushes them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-delay-'));
  try {
    const journal = new AuditJournal(dir, { sync: true, minFlushIntervalMs: 60_000 });
    const at = Date.UTC(2026, 11, 2);
    const entry = (i: number) => auditFields(readEntry(i), at, { observer: 'dxhub' });
    // After a quiet moment: written and flushed at once.
    await journal.appendSynced([entry(1)]);
    const seg = journal.segments()[0]!.name;
    const first = journal.sizeOf(seg);
    assert.equal(journal.flushes, 1);
    // Within the interval: kept in memory, not written, not resolved.
    let resolved = 0;
    const waiting = [journal.appendSynced([entry(2)]), journal.appendSynced([entry(3), entry(4)])].map((p) =>
      p.then(() => resolved++),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(resolved, 0);
    assert.equal(journal.sizeOf(seg), first, 'nothing written while the next flush waits');
    // Closing writes them in one go and flushes them with the segment; both appends resolve.
    journal.close();
    await Promise.all(waiting);
    assert.equal(resolved, 2);
    assert.equal(journal.flushes, 1, 'flushed by the close, not by a flush of their own');
    assert.deepEqual(
      journal.read(seg, 0, 10)?.fields.map((f) => f.event),
      [1, 2, 3, 4].map((i) => entry(i).event),
    );
    // A write that fails rejects the appends it carried (the directory is gone).
    const gone = new AuditJournal(join(dir, 'gone'), { sync: true, minFlushIntervalMs: 0 });
    rmSync(join(dir, 'gone'), { recursive: true });
    await assert.rejects(gone.appendSynced([entry(5)]), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('synced appends across many segment changes all land and resolve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-roll-'));
  try {
    // A new segment every few entries: segments close (flushed) while flushes of them run.
    const journal = new AuditJournal(dir, { sync: true, maxSegmentBytes: 1024 });
    const entry = auditFields(readEntry(1), Date.UTC(2026, 11, 2), { observer: 'dxhub' });
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 60; i++) await journal.appendSynced([entry]);
      }),
    );
    assert.ok(journal.segments().length > 20, `${journal.segments().length} segments`);
    assert.equal(lines(dir), 240);
    // Appends still waiting when the journal closes are flushed by the close.
    const pending = Array.from({ length: 5 }, () => journal.appendSynced([entry]));
    journal.close();
    await Promise.all(pending);
    assert.equal(lines(dir), 245);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `fn` with an audit log on a fresh SQLite file whose journal the mover thread moves (every 20 ms);
 * the directory is removed afterwards.
 */
async function withMoverLog(
  journalOpts: { maxSegmentBytes?: number },
  fn: (t: { db: Dialect; log: AuditLog; journalDir: string }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-mover-'));
  const file = join(dir, 'mover.db');
  const db = await openDialect(`sqlite:${file}`);
  const journalDir = `${file}.audit-journal`;
  try {
    const log = await AuditLog.open(db, {
      journal: new AuditJournal(journalDir, journalOpts),
      drainIntervalMs: 20,
      moveInThread: `sqlite:${file}`,
    });
    await fn({ db, log, journalDir });
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the journal mover thread chains journalled entries without this thread, and keeps the segment being written', () =>
  withMoverLog({}, async ({ db, log, journalDir }) => {
    // This thread never moves here: its own moves run only every 30 s, in flushed() and close().
    await Promise.all(Array.from({ length: 600 }, (_, i) => log.record(readEntry(i))));
    assert.equal(await chainedWithin(db, 600), 600);
    // The segment this thread writes is still there (the mover must not delete it as finished):
    // what is recorded next is journalled in it and chained too.
    await Promise.all(Array.from({ length: 400 }, (_, i) => log.record(readEntry(1000 + i))));
    assert.equal(await chainedWithin(db, 1000), 1000);
    assert.equal(lines(journalDir), 1000);
    await log.close();
    assert.equal(await count(db), 1000);
    await assertChainedOnce(db, 1000);
  }));

test('with the mover thread, the cleanup on this thread deletes the segments moved completely and keeps the one being written', () =>
  withMoverLog({ maxSegmentBytes: 8 * 1024 }, async ({ db, log, journalDir }) => {
    const segments = () => readdirSync(journalDir).filter((n) => n.endsWith('.jsonl')).length;
    for (let i = 0; i < 6; i++)
      await Promise.all(Array.from({ length: 100 }, (_, j) => log.record(readEntry(i * 100 + j))));
    assert.ok(segments() > 3, `several segments written (${segments()})`);
    assert.equal(await chainedWithin(db, 600), 600, 'the mover chained every entry');
    await log.removeMovedSegments();
    assert.equal(segments(), 1, 'only the segment still being written is left');
    await Promise.all(Array.from({ length: 100 }, (_, j) => log.record(readEntry(1000 + j))));
    await log.close();
    await assertChainedOnce(db, 700);
  }));

if ((await testDialects()).includes('postgres')) {
  test('on PostgreSQL the mover thread chains staged entries without this thread (postgres)', async () => {
    const { url } = sharedDbUrl('postgres');
    const db = await openDialect(url);
    try {
      // This thread's own moves run only every 30 s (MOVER_CLEANUP_MS), in flushed() and close().
      const log = await AuditLog.open(db, { staging: true, moveInThread: url });
      await Promise.all(Array.from({ length: 500 }, (_, i) => log.record(readEntry(i))));
      const staged = async () => Number((await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM audit_staging'))[0]!.n);
      assert.equal(await chainedWithin(db, 500), 500, 'the mover thread chained every staged entry');
      assert.equal(await staged(), 0, 'and took them out of audit_staging');
      await log.close();
      await assertChainedOnce(db, 500);
    } finally {
      await db.close();
    }
  });
}

if ((await testDialects()).includes('postgres')) {
  test('on PostgreSQL the mover thread chains the fsync-ed read journal and the staged entries of writes together (postgres)', async () => {
    const { url } = sharedDbUrl('postgres');
    const db = await openDialect(url);
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-pg-journal-'));
    try {
      // What `dxhub serve` on PostgreSQL does: reads to a synced journal, writes' entries staged.
      // Segments of 2 kB: new segments start while flushes of the last one are still in flight.
      const journal = new AuditJournal(dir, { sync: true, maxSegmentBytes: 2_000 });
      const log = await AuditLog.open(db, { journal, staging: true, moveInThread: url });
      // Ten turns of 30: each turn one append (and a new segment past 2 kB) while flushes run.
      for (let t = 0; t < 10; t++) {
        const turn = Promise.all(Array.from({ length: 30 }, (_, i) => log.record(readEntry(t * 30 + i))));
        if (t % 2 === 1) await turn;
        else void turn;
      }
      const staged = log.stagingRows([readEntry(1000)])!;
      await db.insertMany(staged.table, staged.columns, staged.types, staged.rows, { append: true });
      assert.equal(await chainedWithin(db, 301), 301, 'the mover thread chained every journalled and staged entry');
      await log.close();
      await assertChainedOnce(db, 301);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a synced append resolves once flushed, and a crash after it loses nothing (sqlite file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-synced-'));
  const file = join(dir, 'synced.db');
  const db = await openDialect(`sqlite:${file}`);
  try {
    const journalDir = join(dir, 'journal');
    const log = await AuditLog.open(db, {
      journal: new AuditJournal(journalDir, { sync: true, maxSegmentBytes: 1_000 }),
      drainIntervalMs: NEVER,
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.record(readEntry(i))));
    assert.equal(lines(journalDir), 40);
    assert.equal(await count(db), 0);
    // "Crash": no close(); the next process moves everything the first one answered for.
    const next = await AuditLog.open(db, { journal: new AuditJournal(journalDir), drainIntervalMs: NEVER });
    assert.equal(await count(db), 40);
    await next.close();
    assert.equal((await verifyAuditChain(db)).ok, true);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auditJournalOf: next to a SQLite file, one directory per PostgreSQL database and schema, none when off', () => {
  assert.equal(auditJournalOf('sqlite:./data/dxhub.db', '/var/lib/dxhub/j'), './data/dxhub.db.audit-journal');
  assert.equal(auditJournalOf('sqlite::memory:', '/var/lib/dxhub/j'), undefined);
  assert.equal(auditJournalOf('postgres://dx@db.example:5432/dxhub'), undefined, 'off by default in code');
  assert.equal(auditJournalOf('postgres://dx@db.example:5432/dxhub', 'off'), undefined);
  const a = auditJournalOf('postgres://dx:secret@db.example:5432/dxhub', '/var/lib/dxhub/j')!;
  assert.match(a, /^\/var\/lib\/dxhub\/j\/dxhub-[0-9a-f]{12}$/);
  assert.ok(!a.includes('secret') && !a.includes('dx@'), 'no credentials in the path');
  // The same database with other credentials (e.g. `dxhub audit verify`): the same directory.
  assert.equal(auditJournalOf('postgresql://other:pw@db.example/dxhub', '/var/lib/dxhub/j'), a);
  const schema = auditJournalOf('postgres://dx@db.example:5432/dxhub?schema=t1', '/var/lib/dxhub/j')!;
  assert.match(schema, /\/dxhub\.t1-[0-9a-f]{12}$/);
  assert.notEqual(auditJournalOf('postgres://dx@db.example:5432/dxhub?schema=t2', '/var/lib/dxhub/j'), schema);
  assert.notEqual(auditJournalOf('postgres://dx@db2.example:5432/dxhub', '/var/lib/dxhub/j'), a);
});
