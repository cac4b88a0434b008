import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../../test/support/dialects.ts';
import { type Dialect, openDialect } from './dialect.ts';

const COLUMNS = ['k', 't', 'n'] as const;
const TYPES = ['bigint', 'text', 'double'] as const;

for (const dialect of await testDialects()) {
  // On a SQLite file the rows go through the background thread's connection; in memory and on
  // PostgreSQL through insertMany.
  const where = dialect === 'sqlite' ? ['file', 'memory'] : ['server'];
  for (const place of where) {
    describe(`insertManyDetached (${dialect}, ${place})`, () => {
      let db: Dialect;
      const dir = mkdtempSync(join(tmpdir(), 'dxhub-detached-'));
      after(async () => {
        await db?.close();
        rmSync(dir, { recursive: true, force: true });
      });

      it('commits every row, visible to reads once it resolves, and refuses a bad insert with the reason', async () => {
        db = await openDialect(freshDbUrl(dialect, place === 'file' ? join(dir, 'd.db') : undefined));
        await db.execScript('CREATE TABLE detached_probe (k BIGINT PRIMARY KEY, t TEXT, n DOUBLE PRECISION)');
        const batches = Array.from({ length: 20 }, (_, b) =>
          Array.from({ length: 50 }, (_, i) => [b * 50 + i, `row ${b * 50 + i} æø "q" \\ ,`, i === 7 ? null : i / 3]),
        );
        await Promise.all(batches.map((rows) => db.insertManyDetached('detached_probe', COLUMNS, TYPES, rows)));
        const got = await db.all<{ k: number; t: string; n: number | null }>(
          'SELECT k, t, n FROM detached_probe ORDER BY k',
        );
        assert.equal(got.length, 1000);
        assert.deepEqual(
          got.map((r) => [Number(r.k), r.t, r.n === null ? null : Number(r.n)]),
          batches.flat(),
        );
        // Detached inserts append (the keys are the database's): a duplicate key fails, and the row
        // already there stays as it was.
        await assert.rejects(db.insertManyDetached('detached_probe', COLUMNS, TYPES, [[0, 'again', 1]]));
        assert.equal(
          (await db.all<{ t: string }>('SELECT t FROM detached_probe WHERE k = 0'))[0]!.t,
          batches[0]![0]![1],
        );
        await assert.rejects(db.insertManyDetached('no_such_table', COLUMNS, TYPES, [[1, 'x', 1]]), /no_such_table/);
        // Rows in flight when the database closes are committed first.
        const late = db.insertManyDetached('detached_probe', COLUMNS, TYPES, [[5000, 'late', 0]]);
        if (place === 'file') {
          await db.close();
          await late;
          db = await openDialect(freshDbUrl(dialect, join(dir, 'd.db')));
        } else await late;
        assert.equal((await db.all('SELECT k FROM detached_probe WHERE k = 5000')).length, 1);
      });
    });
  }
}
