import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freshDbUrl, testDialects } from '../../../test/support/dialects.ts';
import { loadConfig } from '../../server/config.ts';
import { type Dialect, openDialect } from './dialect.ts';
import { PgMaintenance } from './pg-maintenance.ts';

const pgTested = (await testDialects()).includes('postgres');

interface Stats {
  n_mod_since_analyze: number;
  n_dead_tup: number;
  n_ins_since_vacuum: number;
  last_analyze: Date | null;
  last_vacuum: Date | null;
}

describe('PostgreSQL maintenance (ANALYZE and VACUUM of dxhub tables while autovacuum is off)', {
  skip: !pgTested,
}, () => {
  let url: string;
  let db: Dialect;

  const stats = async (): Promise<Stats> => {
    const [s] = await db.all<Stats>(
      `SELECT n_mod_since_analyze::int AS n_mod_since_analyze, n_dead_tup::int AS n_dead_tup,
              n_ins_since_vacuum::int AS n_ins_since_vacuum, last_analyze, last_vacuum
         FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'maint_probe'`,
    );
    assert.ok(s, 'the probe table has statistics');
    return s;
  };
  /** The writing backend reports its counts when it goes idle, at most once a second: ask for it now. */
  const counted = async (ok: (s: Stats) => boolean) => {
    await db.all('SELECT pg_stat_force_next_flush()');
    for (let i = 0; i < 150; i++) {
      const s = await stats();
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`statistics did not arrive: ${JSON.stringify(await stats())}`);
  };

  before(async () => {
    // One connection: the statistics flush is asked for on the backend that wrote.
    url = freshDbUrl('postgres').replace(/pool=\d+/, 'pool=1');
    db = await openDialect(url);
    await db.run('CREATE TABLE maint_probe (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  after(async () => {
    await db.close();
  });

  test('off: a pass does nothing', async () => {
    const m = new PgMaintenance(url, { mode: 'off' });
    assert.deepEqual(await m.runOnce(), { active: false, analyzed: [], vacuumed: [] });
    await m.close();
  });

  test('auto: active exactly when the server has autovacuum off', async () => {
    const [{ autovacuum }] = (await db.all<{ autovacuum: string }>(
      "SELECT current_setting('autovacuum') AS autovacuum",
    )) as [{ autovacuum: string }];
    const m = new PgMaintenance(url, { mode: 'auto' });
    assert.equal((await m.runOnce()).active, autovacuum === 'off');
    await m.close();
  });

  test('on: analyses and vacuums a table past autovacuum’s thresholds, and leaves it once done', async () => {
    const told: string[] = [];
    const m = new PgMaintenance(url, { mode: 'on', log: (msg) => told.push(msg) });
    try {
      // 2,000 inserts into an empty table: past both the analyse rule (50 + 10 % of 0 rows) and the
      // insert-vacuum rule (1,000 + 20 % of 0 rows) of PostgreSQL's defaults.
      await db.run("INSERT INTO maint_probe SELECT g, 'row ' || g FROM generate_series(1, 2000) g");
      await counted((s) => s.n_ins_since_vacuum >= 2000);
      assert.equal((await stats()).last_analyze, null, 'nothing analysed the table before the pass');
      const first = await m.runOnce();
      assert.ok(first.active);
      assert.ok(first.analyzed.includes('maint_probe'), JSON.stringify(first));
      assert.ok(first.vacuumed.includes('maint_probe'), JSON.stringify(first));
      const [{ reltuples }] = (await db.all<{ reltuples: number }>(
        "SELECT reltuples::int AS reltuples FROM pg_class WHERE oid = 'maint_probe'::regclass",
      )) as [{ reltuples: number }];
      assert.equal(reltuples, 2000, 'the planner now knows the table size');
      assert.match(told.join('\n'), /analyses and vacuums its own tables/);

      // Nothing changed since: the next pass leaves the table alone.
      const second = await m.runOnce();
      assert.ok(!second.analyzed.includes('maint_probe') && !second.vacuumed.includes('maint_probe'));

      // 1,500 of 2,000 rows deleted: dead rows past 50 + 20 % of 2,000, changes past 50 + 10 %.
      await db.run('DELETE FROM maint_probe WHERE id <= 1500');
      await counted((s) => s.n_dead_tup >= 1500);
      const third = await m.runOnce();
      assert.ok(
        third.vacuumed.includes('maint_probe') && third.analyzed.includes('maint_probe'),
        JSON.stringify(third),
      );
      const after = await counted((s) => s.n_dead_tup === 0);
      assert.equal(after.n_mod_since_analyze, 0);
      assert.notEqual(after.last_vacuum, null);
    } finally {
      await m.close();
    }
  });

  test('its VACUUM and ANALYZE are throttled as autovacuum’s are (cost-based delay and limit)', async () => {
    const m = new PgMaintenance(url, { mode: 'on' });
    try {
      await m.runOnce();
      // The maintenance connection's own settings (the pass opened it), against autovacuum's.
      const own = (m as unknown as { client: { query(sql: string): Promise<{ rows: Record<string, string>[] }> } })
        .client;
      const [mine] = (
        await own.query("SELECT current_setting('vacuum_cost_delay') AS d, current_setting('vacuum_cost_limit') AS l")
      ).rows;
      const [auto] = await db.all<{ d: string; l: string }>(
        `SELECT current_setting('autovacuum_vacuum_cost_delay') AS d,
                CASE WHEN current_setting('autovacuum_vacuum_cost_limit')::int > 0
                     THEN current_setting('autovacuum_vacuum_cost_limit')
                     ELSE current_setting('vacuum_cost_limit') END AS l`,
      );
      // A session's own VACUUM runs unthrottled by default (vacuum_cost_delay 0); autovacuum's is 2 ms.
      assert.notEqual(auto!.d, '0');
      assert.deepEqual(mine, { d: auto!.d, l: auto!.l });
    } finally {
      await m.close();
    }
  });

  test('a scheduled pass runs on its own and stops with close()', async () => {
    await db.run("INSERT INTO maint_probe SELECT g, 'more ' || g FROM generate_series(5001, 7000) g");
    await counted((s) => s.n_mod_since_analyze >= 2000);
    const m = PgMaintenance.start(url, { mode: 'on', intervalMs: 50 });
    try {
      await counted((s) => s.n_mod_since_analyze === 0);
    } finally {
      await m.close();
    }
  });
});

test('DXHUB_PG_MAINTENANCE: auto by default, on or off, anything else refused by name', () => {
  assert.equal(loadConfig({}).pgMaintenance, 'auto');
  assert.equal(loadConfig({ DXHUB_PG_MAINTENANCE: 'on' }).pgMaintenance, 'on');
  assert.equal(loadConfig({ DXHUB_PG_MAINTENANCE: 'off' }).pgMaintenance, 'off');
  assert.throws(() => loadConfig({ DXHUB_PG_MAINTENANCE: 'sometimes' }), /DXHUB_PG_MAINTENANCE.*'sometimes'/);
});

test('DXHUB_AUDIT_JOURNAL: ./data/audit-journal by default, a directory or off, empty refused by name', () => {
  assert.equal(loadConfig({}).auditJournal, './data/audit-journal');
  assert.equal(loadConfig({ DXHUB_AUDIT_JOURNAL: 'off' }).auditJournal, 'off');
  assert.equal(loadConfig({ DXHUB_AUDIT_JOURNAL: '/var/lib/dxhub/audit' }).auditJournal, '/var/lib/dxhub/audit');
  assert.throws(() => loadConfig({ DXHUB_AUDIT_JOURNAL: ' ' }), /DXHUB_AUDIT_JOURNAL must be a directory or 'off'/);
});

test('DXHUB_AUDIT_FLUSH_DELAY_MS: 0 by default, whole milliseconds up to 100, anything else refused by name', () => {
  assert.equal(loadConfig({}).auditFlushDelayMs, 0);
  assert.equal(loadConfig({ DXHUB_AUDIT_FLUSH_DELAY_MS: '2' }).auditFlushDelayMs, 2);
  assert.throws(
    () => loadConfig({ DXHUB_AUDIT_FLUSH_DELAY_MS: '101' }),
    /DXHUB_AUDIT_FLUSH_DELAY_MS must be at most 100/,
  );
  assert.throws(() => loadConfig({ DXHUB_AUDIT_FLUSH_DELAY_MS: 'soon' }), /DXHUB_AUDIT_FLUSH_DELAY_MS/);
  assert.throws(() => loadConfig({ DXHUB_AUDIT_FLUSH_DELAY_MS: '-1' }), /DXHUB_AUDIT_FLUSH_DELAY_MS/);
});
