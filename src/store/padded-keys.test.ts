import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { observation } from '../../test/support/factories.ts';
import { type Dialect, openDialect } from './dialect/dialect.ts';
import { paddedKeys, placeholders } from './multi-row.ts';
import { FhirRepository, type Resource } from './repository.ts';

test('paddedKeys pads to the next power of two with the last key; placeholders', () => {
  assert.deepEqual(paddedKeys([]), []);
  assert.deepEqual(paddedKeys(['a']), ['a']);
  assert.deepEqual(paddedKeys(['a', 'b', 'c']), ['a', 'b', 'c', 'c']);
  assert.equal(paddedKeys(Array.from({ length: 500 }, (_, i) => i)).length, 512);
  assert.equal(paddedKeys(Array.from({ length: 512 }, (_, i) => i)).length, 512);
  assert.equal(placeholders(3), '?,?,?');
});

for (const dialect of await testDialects()) {
  describe(`look-ups by key lists use few statement texts on ${dialect}`, () => {
    let db: Dialect;
    let repo: FhirRepository;
    const texts = new Set<string>();
    before(async () => {
      db = await openDialect(freshDbUrl(dialect));
      // Records the text of every row-returning statement the repository sends.
      const recording = new Proxy(db, {
        get(target, key) {
          if (key === 'all') {
            return (sql: string, params?: readonly unknown[], opts?: { genericPlan?: boolean }) => {
              texts.add(sql);
              return target.all(sql, params, opts);
            };
          }
          const v = Reflect.get(target, key);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
      repo = await FhirRepository.open(recording);
      await repo.transaction(async (w) => {
        for (let i = 0; i < 40; i++) await repo.put(w, observation({ id: `pk-${i}`, value: i }));
      });
      // A second version of each: version 1 is then read from resource_history.
      await repo.transaction(async (w) => {
        for (let i = 0; i < 40; i++) await repo.put(w, observation({ id: `pk-${i}`, value: 100 + i }));
      });
    });
    after(async () => {
      await repo.close();
    });

    test('readMany and vreadMany answer every list length 1…40 exactly, with one text per power of two', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `pk-${i}`);
      texts.clear();
      for (let n = 1; n <= 40; n++) {
        const read = (await repo.readMany('Observation', [...ids.slice(0, n - 1), 'pk-missing', ids[n - 1]!])).map(
          (json) => (JSON.parse(json) as Resource).id,
        );
        assert.deepEqual(read.sort(), ids.slice(0, n).sort(), `readMany of ${n}`);
        const keys = ids.slice(0, n).map((id, i) => ({ type: 'Observation', id, version: 1 + (i % 2) }));
        const versions = await repo.vreadMany(keys);
        assert.deepEqual(
          versions.map((v) => [
            v?.id,
            v?.version,
            (JSON.parse(v!.json!) as { valueQuantity: { value: number } }).valueQuantity.value,
          ]),
          keys.map((k, i) => [k.id, k.version, k.version === 1 ? i : 100 + i]),
          `vreadMany of ${n}`,
        );
      }
      // readMany, vreadMany's current rows and its older versions: 1, 2, 4, … 64 keys each.
      const byStatement = new Map<string, number>();
      for (const t of texts) {
        const head = t.slice(0, 40);
        byStatement.set(head, (byStatement.get(head) ?? 0) + 1);
      }
      for (const [head, n] of byStatement) assert.ok(n <= 7, `${n} texts of "${head}…"`);
    });
  });
}
