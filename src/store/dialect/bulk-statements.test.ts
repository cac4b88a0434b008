import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../../test/support/dialects.ts';
import { type Dialect, openDialect } from './dialect.ts';
import { arrayLiteral } from './postgres.ts';

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
