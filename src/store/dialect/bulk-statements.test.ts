import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../../test/support/dialects.ts';
import { type Dialect, openDialect } from './dialect.ts';
import { arrayLiteral, copyText, withLiterals } from './postgres.ts';

/** Text that array literals and SQL quoting must carry unchanged. */
const AWKWARD = [
  'plain',
  '',
  'with "double" quotes',
  'back\\slash and \\"both\\"',
  'comma, {braces} and NULL',
  'NULL',
  'æøå Ø 🧪 \u00a0tab\there',
  "single ' quote",
  'new\nline',
];

describe('PostgreSQL array literals for bulk statements', () => {
  it('quotes strings, escapes backslash and double quote, writes numbers and NULL as they are', () => {
    assert.equal(arrayLiteral(['a', 'b"c', 'd\\e', null, undefined]), '{"a","b\\"c","d\\\\e",NULL,NULL}');
    assert.equal(arrayLiteral([1, 2.5, -3, 1e21]), '{1,2.5,-3,1e+21}');
    assert.equal(arrayLiteral([]), '{}');
    // Anything else is left to pg's own conversion.
    const buffers = [Buffer.from('x')];
    assert.equal(arrayLiteral(buffers), buffers);
  });
});

describe('PostgreSQL COPY text rows', () => {
  it('separates columns by tabs, ends rows with newlines, escapes the four special characters, writes NULL as \\N', () => {
    assert.equal(
      copyText(
        [
          ['a\tb', 'c\nd\re', 'back\\slash', null],
          [1.5, 7n, true, undefined],
          ['\\N', '', Buffer.from([0, 255]), 'æ'],
        ],
        4,
      ),
      'a\\tb\tc\\nd\\re\tback\\\\slash\t\\N\n1.5\t7\tt\t\\N\n\\\\N\t\t\\\\x00ff\tæ\n',
    );
    assert.throws(() => copyText([[Number.NaN]], 1), /not a finite number/);
    assert.throws(() => copyText([[{}]], 1), /cannot write a value of type object/);
  });
});

describe('PostgreSQL: parameters written in as literals for a first statement sent with BEGIN', () => {
  it('quotes every value as an untyped literal, escapes backslashes and quotes, and refuses what it cannot write safely', () => {
    assert.equal(
      withLiterals('UPDATE t SET a = $1, b = $2 WHERE n = $3 AND f = $4 AND z IS $5', [
        42,
        'it\'s \\ "x"',
        7n,
        true,
        null,
      ]),
      `UPDATE t SET a = '42', b = E'it''s \\\\ "x"' WHERE n = '7' AND f = 'true' AND z IS NULL`,
    );
    assert.equal(withLiterals('SELECT 1', []), 'SELECT 1');
    // Not plainly safe: left to the extended protocol (BEGIN then sent on its own).
    assert.equal(withLiterals('SELECT $1', [[1, 2]]), undefined, 'arrays: pg converts them');
    assert.equal(withLiterals('SELECT $1', [Buffer.from('x')]), undefined);
    assert.equal(withLiterals('SELECT $1', ['a\0b']), undefined, 'NUL');
    assert.equal(withLiterals('SELECT $1', ['x'.repeat(5000)]), undefined, 'long text');
    assert.equal(withLiterals('SELECT $1', [Number.NaN]), undefined);
    assert.equal(withLiterals("SELECT 'a' || $1", ['b']), undefined, 'quotes of its own');
    assert.equal(withLiterals('SELECT $1; DROP TABLE t', ['b']), undefined, 'a second statement');
    assert.equal(withLiterals('SELECT $$a$$ || $1', ['b']), undefined, 'dollar quotes');
    assert.equal(withLiterals('SELECT $2', ['b']), undefined, 'a parameter not given');
  });
});

if ((await testDialects()).includes('postgres')) {
  describe('PostgreSQL: a first statement with literals keeps every value and the transaction', () => {
    let db: Dialect;
    after(async () => db?.close());

    it('awkward text, numbers and NULL arrive exactly; a failing first statement rolls back; nothing leaks between transactions', async () => {
      db = await openDialect(freshDbUrl('postgres'));
      await db.execScript('CREATE TABLE literal_probe (k BIGINT PRIMARY KEY, t TEXT, n DOUBLE PRECISION)');
      for (const [i, t] of AWKWARD.entries()) {
        // The INSERT is the transaction's first statement: sent with BEGIN, values as literals.
        await db.transaction(async (tx) => {
          await tx.run('INSERT INTO literal_probe (k, t, n) VALUES (?, ?, ?)', [i, t, i === 2 ? null : i / 8 - 1]);
          const [row] = await tx.all<{ t: string; n: number | null }>('SELECT t, n FROM literal_probe WHERE k = ?', [
            i,
          ]);
          assert.equal(row!.t, t);
        });
      }
      const rows = await db.all<{ k: string; t: string; n: number | null }>(
        'SELECT k, t, n FROM literal_probe ORDER BY k',
      );
      assert.deepEqual(
        rows.map((r) => [Number(r.k), r.t, r.n === null ? null : Number(r.n)]),
        AWKWARD.map((t, i) => [i, t, i === 2 ? null : i / 8 - 1]),
      );
      // Text written to break out of a literal stays text: the table and its rows are intact.
      const attack = "x\\'); DROP TABLE literal_probe; -- ' \\\\' E'\\' $$";
      await db.transaction((tx) => tx.run('INSERT INTO literal_probe (k, t) VALUES (?, ?)', [50, attack]));
      const [stored] = await db.all<{ t: string }>('SELECT t FROM literal_probe WHERE k = ?', [50]);
      assert.equal(stored!.t, attack);
      await db.run('DELETE FROM literal_probe WHERE k = ?', [50]);
      // A first statement that reads: its rows come back from the second result of the simple query.
      const [hit] = await db.transaction((tx) =>
        tx.all<{ k: string }>('SELECT k FROM literal_probe WHERE t = ?', ['plain']),
      );
      assert.equal(Number(hit!.k), 0);
      // The first statement fails (duplicate key): the transaction rolls back, the next one is clean.
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO literal_probe (k, t) VALUES (?, ?)', [0, 'again']);
        }),
      );
      await db.transaction(async (tx) => {
        await tx.run('UPDATE literal_probe SET t = ? WHERE k = ?', ['changed', 1]);
        await tx.run('INSERT INTO literal_probe (k, t) VALUES (?, ?)', [100, 'new']);
      });
      const after2 = await db.all<{ t: string }>('SELECT t FROM literal_probe WHERE k IN (1, 100) ORDER BY k');
      assert.deepEqual(
        after2.map((r) => r.t),
        ['changed', 'new'],
      );
    });
  });
}

for (const dialect of await testDialects()) {
  describe(`bulk statements round-trip awkward values (${dialect})`, () => {
    let db: Dialect;
    after(async () => db?.close());

    it('insertMany, updateMany and deleteMany keep every value exactly', async () => {
      db = await openDialect(freshDbUrl(dialect));
      await db.execScript('CREATE TABLE bulk_probe (k BIGINT PRIMARY KEY, t TEXT, n DOUBLE PRECISION)');
      const rows = AWKWARD.map((t, i) => [i, t, i === 3 ? null : i / 4]);
      rows.push([AWKWARD.length, null, -1e-7]);
      await db.insertMany('bulk_probe', ['k', 't', 'n'], ['bigint', 'text', 'double'], rows);
      const read = async () =>
        (
          await db.all<{ k: number; t: string | null; n: number | null }>('SELECT k, t, n FROM bulk_probe ORDER BY k')
        ).map((r) => [Number(r.k), r.t, r.n === null ? null : Number(r.n)]);
      assert.deepEqual(await read(), rows);
      const updated = AWKWARD.map((t, i) => [i, `${t}"\\`, 7]);
      await db.updateMany('bulk_probe', ['k'], ['t', 'n'], ['bigint', 'text', 'double'], updated);
      assert.deepEqual((await read()).slice(0, AWKWARD.length), updated);
      await db.deleteMany('bulk_probe', ['t'], ['text'], [[`${AWKWARD[3]}"\\`], [`${AWKWARD[6]}"\\`]]);
      assert.deepEqual(
        (await read()).map((r) => r[0]),
        [0, 1, 2, 4, 5, 7, 8, 9],
      );
    });
  });
}

for (const dialect of await testDialects()) {
  describe(`insertAll: several tables in one statement (${dialect})`, () => {
    let db: Dialect;
    after(async () => db?.close());

    it('inserts every part, ignores rows whose key exists, and writes nothing when one part fails', async () => {
      db = await openDialect(freshDbUrl(dialect));
      await db.execScript(
        'CREATE TABLE all_a (k BIGINT PRIMARY KEY, t TEXT); CREATE TABLE all_b (k BIGINT PRIMARY KEY, n DOUBLE PRECISION NOT NULL)',
      );
      const a = { table: 'all_a', columns: ['k', 't'], types: ['bigint', 'text'] as const };
      const b = { table: 'all_b', columns: ['k', 'n'], types: ['bigint', 'double'] as const };
      await db.insertAll([
        { ...a, rows: AWKWARD.map((t, i) => [i, t]) },
        { ...b, rows: [] },
        { ...b, rows: [[1, 0.5]] },
      ]);
      await db.transaction((tx) =>
        tx.insertAll([
          {
            ...a,
            rows: [
              [0, 'ignored: key exists'],
              [100, 'new'],
            ],
          },
          { ...b, rows: [[2, -2]] },
        ]),
      );
      assert.deepEqual(
        (await db.all<{ k: number; t: string }>('SELECT k, t FROM all_a ORDER BY k')).map((r) => [Number(r.k), r.t]),
        [...AWKWARD.map((t, i) => [i, t]), [100, 'new']],
      );
      assert.deepEqual(
        (await db.all<{ k: number; n: number }>('SELECT k, n FROM all_b ORDER BY k')).map((r) => [
          Number(r.k),
          Number(r.n),
        ]),
        [
          [1, 0.5],
          [2, -2],
        ],
      );
      // A NOT NULL violation in the second part: the first part's rows are not written either.
      await assert.rejects(
        db.transaction((tx) =>
          tx.insertAll([
            { ...a, rows: [[200, 'must not stay']] },
            { ...b, rows: [[3, null]] },
          ]),
        ),
      );
      assert.equal((await db.all('SELECT k FROM all_a WHERE k = 200')).length, 0);
    });

    it('with lockFirst, a second writer waits for the lock holder to commit', async () => {
      db ??= await openDialect(freshDbUrl(dialect));
      await db.execScript('CREATE TABLE all_seq (s BIGINT PRIMARY KEY, who TEXT)');
      const order: string[] = [];
      const { promise: held, resolve: release } = Promise.withResolvers<void>();
      const { promise: isLocked, resolve: locked } = Promise.withResolvers<void>();
      const first = db.transaction(async (tx) => {
        await tx.insertAll(
          [{ table: 'all_seq', columns: ['s', 'who'], types: ['bigint', 'text'], rows: [[1, 'first']] }],
          {
            lockFirst: 'probe:all',
          },
        );
        locked();
        await held;
        order.push('first commits');
      });
      await isLocked;
      const second = db.transaction(async (tx) => {
        await tx.insertAll(
          [{ table: 'all_seq', columns: ['s', 'who'], types: ['bigint', 'text'], rows: [[2, 'second']] }],
          {
            lockFirst: 'probe:all',
          },
        );
        order.push('second inserted');
      });
      await new Promise((r) => setTimeout(r, 200));
      order.push('released');
      release();
      await Promise.all([first, second]);
      // SQLite serialises whole transactions: the second starts after the first either way.
      assert.deepEqual(order, ['released', 'first commits', 'second inserted']);
      assert.equal((await db.all('SELECT s FROM all_seq')).length, 2);
    });
  });
}

if ((await testDialects()).includes('postgres')) {
  describe('PostgreSQL transactions send BEGIN with their first statement', () => {
    let db: Dialect;
    after(async () => db?.close());

    it('a reservation that opens the transaction is rolled back with it; one that sent nothing commits nothing', async () => {
      db = await openDialect(freshDbUrl('postgres'));
      // Row ids come from the sequence of `resource` (as the migrations create it).
      await db.execScript(
        'CREATE TABLE resource (rid BIGSERIAL PRIMARY KEY); CREATE TABLE begin_probe (k BIGINT PRIMARY KEY)',
      );
      // The reservation goes out with BEGIN; what follows is in the same transaction.
      await assert.rejects(
        db.transaction(async (tx) => {
          const [rid] = await tx.nextResourceIds(3);
          assert.ok(Number.isSafeInteger(rid));
          await tx.run('INSERT INTO begin_probe (k) VALUES (?)', [rid]);
          const inTx = await tx.all<{ n: number }>('SELECT COUNT(*)::int AS n FROM begin_probe');
          assert.equal(inTx[0]!.n, 1);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.equal((await db.all('SELECT k FROM begin_probe')).length, 0);
      // Reservations grow: ids of the rolled-back transaction are not handed out again.
      const ids = await db.transaction((tx) => tx.nextResourceIds(2));
      assert.equal(ids.length, 2);
      assert.ok(ids[1]! > ids[0]!);
      // Nothing sent: nothing to commit, and the connection is clean for the next transaction.
      assert.equal(await db.transaction(async () => 42), 42);
      await db.transaction((tx) => tx.run('INSERT INTO begin_probe (k) VALUES (?)', [1]));
      assert.equal((await db.all('SELECT k FROM begin_probe')).length, 1);
    });
  });
}

for (const dialect of await testDialects()) {
  describe(`insertMany with copy: an append through the bulk loader (${dialect})`, () => {
    let db: Dialect;
    after(async () => db?.close());

    it('keeps every value exactly, fails on a duplicate key with the whole transaction, and leaves the connection clean', async () => {
      db = await openDialect(freshDbUrl(dialect));
      await db.execScript('CREATE TABLE copy_probe (k BIGINT PRIMARY KEY, t TEXT, n DOUBLE PRECISION, b BYTEA)');
      const cols = ['k', 't', 'n', 'b'];
      const types = ['bigint', 'text', 'double', 'json'] as const;
      const copy = { append: true, copy: true } as const;
      const odd = [...AWKWARD, 'tab\tcr\rnl\nbs\\', '\\N', '\\.', 'line\n\\.\nafter', 'x'.repeat(100_000)];
      const rows = odd.map((t, i) => [
        i,
        t,
        i === 3 ? null : i / 4 - 1,
        i === 0 ? Buffer.from([0, 9, 10, 92, 255]) : null,
      ]);
      rows.push([odd.length, null, -1e-7, null]);
      // The transaction's first statement (BEGIN goes before it), then an ordinary one after it.
      await db.transaction(async (tx) => {
        await tx.insertMany('copy_probe', cols, [...types], rows, copy);
        const [n] = await tx.all<{ n: number }>('SELECT COUNT(*) AS n FROM copy_probe');
        assert.equal(Number(n!.n), rows.length);
      });
      const read = async () =>
        (
          await db.all<{ k: number; t: string | null; n: number | null; b: Uint8Array | null }>(
            'SELECT k, t, n, b FROM copy_probe ORDER BY k',
          )
        ).map((r) => [Number(r.k), r.t, r.n === null ? null : Number(r.n), r.b === null ? null : Buffer.from(r.b)]);
      assert.deepEqual(await read(), rows);
      // A duplicate key among new rows: the load fails, and so does the transaction around it.
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO copy_probe (k, t) VALUES (?, ?)', [1000, 'before the load']);
          await tx.insertMany(
            'copy_probe',
            cols,
            [...types],
            [
              [1001, 'new', 1, null],
              [2, 'dup', 1, null],
            ],
            copy,
          );
        }),
      );
      assert.equal((await db.all('SELECT k FROM copy_probe WHERE k >= 1000')).length, 0);
      // The connection serves the next transaction; outside a transaction the rows go in as well.
      await db.transaction((tx) => tx.insertMany('copy_probe', cols, [...types], [[1002, 'next', 0, null]], copy));
      await db.insertMany('copy_probe', cols, [...types], [[1003, 'no tx', 0, null]], copy);
      assert.deepEqual(
        (await db.all<{ t: string }>('SELECT t FROM copy_probe WHERE k >= 1000 ORDER BY k')).map((r) => r.t),
        ['next', 'no tx'],
      );
    });
  });
}

for (const dialect of await testDialects()) {
  describe(`insertMany and insertAll: skipping existing keys, or appending (${dialect})`, () => {
    let db: Dialect;
    after(async () => db?.close());

    it('skip rows whose key exists by default; with append, a duplicate key fails and nothing of the statement stays', async () => {
      db = await openDialect(freshDbUrl(dialect));
      await db.execScript('CREATE TABLE append_probe (k BIGINT PRIMARY KEY, t TEXT)');
      const keys = async () =>
        (await db.all<{ k: number }>('SELECT k FROM append_probe ORDER BY k')).map((r) => Number(r.k));
      const cols = ['k', 't'];
      const types = ['bigint', 'text'] as const;
      await db.insertMany(
        'append_probe',
        cols,
        [...types],
        [
          [1, 'a'],
          [2, 'b'],
        ],
      );
      // Default: the existing key is skipped, the new one inserted.
      await db.insertMany(
        'append_probe',
        cols,
        [...types],
        [
          [2, 'again'],
          [3, 'c'],
        ],
      );
      assert.deepEqual(await keys(), [1, 2, 3]);
      assert.equal((await db.all<{ t: string }>('SELECT t FROM append_probe WHERE k = 2'))[0]!.t, 'b');
      // Appending: new keys go in; a duplicate fails the whole statement, loudly.
      await db.insertMany('append_probe', cols, [...types], [[4, 'd']], { append: true });
      await assert.rejects(
        db.insertMany(
          'append_probe',
          cols,
          [...types],
          [
            [5, 'e'],
            [3, 'dup'],
          ],
          { append: true },
        ),
      );
      assert.deepEqual(await keys(), [1, 2, 3, 4]);
      // The same through insertAll, per table part.
      await assert.rejects(
        db.transaction((tx) =>
          tx.insertAll([{ table: 'append_probe', columns: cols, types: [...types], rows: [[1, 'dup']], append: true }]),
        ),
      );
      await db.transaction((tx) =>
        tx.insertAll([
          {
            table: 'append_probe',
            columns: cols,
            types: [...types],
            rows: [
              [1, 'skipped'],
              [6, 'f'],
            ],
          },
        ]),
      );
      assert.deepEqual(await keys(), [1, 2, 3, 4, 6]);
      // Detached inserts are appends: a duplicate key is an error there too.
      await db.insertManyDetached('append_probe', cols, [...types], [[7, 'g']]);
      await assert.rejects(db.insertManyDetached('append_probe', cols, [...types], [[7, 'dup']]));
      assert.deepEqual(await keys(), [1, 2, 3, 4, 6, 7]);
    });
  });
}
