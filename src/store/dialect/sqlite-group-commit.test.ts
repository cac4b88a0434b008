import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { openDialect } from './dialect.ts';

/** Busy-waits `ms` on the event loop, as a transaction with much work does. */
function work(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('SQLite group commit', () => {
  it('a long run of queued transactions is split into groups, with event-loop turns between them', async () => {
    const db = await openDialect('sqlite::memory:');
    try {
      await db.execScript('CREATE TABLE gc_probe (n INTEGER PRIMARY KEY)');
      const turns: number[] = [];
      let committed = 0;
      // Twenty transactions of 2 ms each, queued in one turn: 40 ms of work.
      const txs = Array.from({ length: 20 }, (_, n) =>
        db
          .transaction(async (tx) => {
            work(2);
            await tx.run('INSERT INTO gc_probe (n) VALUES (?)', [n]);
          })
          .then(() => committed++),
      );
      // A check-phase callback queued now runs between groups, not after all twenty.
      const probe = () =>
        setImmediate(() => {
          turns.push(committed);
          if (committed < 20) probe();
        });
      probe();
      await Promise.all(txs);
      const rows = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM gc_probe');
      assert.equal(Number(rows[0]!.n), 20, 'every transaction committed');
      const between = turns.filter((c) => c > 0 && c < 20);
      assert.ok(between.length >= 3, `the event loop turned between groups (${turns.join(',')})`);
    } finally {
      await db.close();
    }
  });

  it('a failing transaction in a split group rolls back alone', async () => {
    const db = await openDialect('sqlite::memory:');
    try {
      await db.execScript('CREATE TABLE gc_probe (n INTEGER PRIMARY KEY)');
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, n) =>
          db.transaction(async (tx) => {
            work(1);
            await tx.run('INSERT INTO gc_probe (n) VALUES (?)', [n]);
            if (n === 5) throw new Error('refused');
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        Array.from({ length: 12 }, (_, n) => (n === 5 ? 'rejected' : 'fulfilled')),
      );
      const rows = await db.all<{ n: number }>('SELECT n FROM gc_probe ORDER BY n');
      assert.deepEqual(
        rows.map((r) => Number(r.n)),
        [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11],
      );
    } finally {
      await db.close();
    }
  });

  it('waits for a write lock held by another connection without blocking the event loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dxhub-busy-'));
    const file = join(dir, 'busy.db');
    const db = await openDialect(`sqlite:${file}`);
    const other = new DatabaseSync(file);
    try {
      await db.execScript('CREATE TABLE gc_probe (n INTEGER PRIMARY KEY)');
      // Another connection (the checkpointer truncating the WAL, a second process) holds the lock.
      other.exec('BEGIN IMMEDIATE');
      const started = performance.now();
      let committedAt = 0;
      const tx = db.run('INSERT INTO gc_probe (n) VALUES (1)').then(() => {
        committedAt = performance.now() - started;
      });
      // Timers keep firing while the transaction waits: SQLite's busy handler would sleep on this
      // thread until the lock is released, and no timer would fire before.
      const ticks: number[] = [];
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          ticks.push(performance.now() - started);
          if (ticks.length === 5) {
            clearInterval(t);
            resolve();
          }
        }, 10);
      });
      // 10 ms timers: the first fires after ~10 ms; 500 ms leaves room for a slow machine.
      assert.ok(ticks[0]! < 500, `a timer fired while the transaction waited (first after ${ticks[0]} ms)`);
      assert.equal(committedAt, 0, 'not committed while the other connection holds the lock');
      other.exec('COMMIT');
      await tx;
      assert.ok(committedAt > ticks[4]!, `committed after the lock was released (${committedAt} ms)`);
      const rows = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM gc_probe');
      assert.equal(Number(rows[0]!.n), 1);
    } finally {
      if (other.isTransaction) other.exec('ROLLBACK');
      other.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
