import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../../test/support/dialects.ts';
import { type Dialect, openDialect } from './dialect.ts';

const dialects = await testDialects();

for (const dialect of dialects) {
  describe(`statements planned once (genericPlan) on ${dialect}`, () => {
    let db: Dialect;
    before(async () => {
      db = await openDialect(freshDbUrl(dialect));
      await db.run('CREATE TABLE plan_probe (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
      await db.run("INSERT INTO plan_probe (k, v) VALUES ('a', 1), ('b', 2)");
    });
    after(async () => {
      await db.close();
    });

    test('answers as the plain statement, on the same schema, with its parameters', async () => {
      const sql = 'SELECT k, v FROM plan_probe WHERE k = ? OR v = ? ORDER BY k';
      for (const params of [
        ['a', 0],
        ['x', 2],
        ['a', 2],
        ['x', 9],
      ]) {
        assert.deepEqual(await db.all(sql, params, { genericPlan: true }), await db.all(sql, params));
      }
    });

    test('PostgreSQL runs it in a session that plans generically; other statements and transactions keep the default', {
      skip: dialect !== 'postgres',
    }, async () => {
      const mode = "SELECT current_setting('plan_cache_mode') AS m, current_schema() AS s";
      const [generic] = await db.all<{ m: string; s: string }>(mode, [], { genericPlan: true });
      const [plain] = await db.all<{ m: string; s: string }>(mode, []);
      assert.equal(generic?.m, 'force_generic_plan');
      assert.equal(plain?.m, 'auto');
      // The test's own schema in both sessions.
      assert.equal(generic?.s, plain?.s);
      const inTx = await db.transaction((tx) => tx.all<{ m: string }>(mode, [], { genericPlan: true }));
      assert.equal(inTx[0]?.m, 'auto');
    });
  });
}
