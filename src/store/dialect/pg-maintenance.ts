import pg from 'pg';
import { postgresConnection } from './postgres.ts';

/**
 * `auto`: maintain only while the server's `autovacuum` is off; `on`: always; `off`: never.
 * (DXHUB_PG_MAINTENANCE, default `auto`.)
 */
export type PgMaintenanceMode = 'auto' | 'on' | 'off';

/** What one pass did (table names without schema). */
export interface PgMaintenancePass {
  /** Whether the pass looked at the tables at all (`auto` with autovacuum on: no). */
  readonly active: boolean;
  readonly analyzed: string[];
  readonly vacuumed: string[];
}

export interface PgMaintenanceOptions {
  readonly mode?: PgMaintenanceMode;
  /** Between passes (default 10 s). The first pass runs one interval after {@link PgMaintenance.start}. */
  readonly intervalMs?: number;
  /** Told once when maintenance becomes active, and of a pass that failed. */
  readonly log?: (msg: string) => void;
}

interface TableStats {
  schemaname: string;
  relname: string;
  n_live_tup: string | number;
  n_dead_tup: string | number;
  n_mod_since_analyze: string | number;
  n_ins_since_vacuum: string | number;
  reltuples: string | number;
}

interface Thresholds {
  autovacuum: string;
  at: number;
  asf: number;
  vt: number;
  vsf: number;
  vit: number;
  visf: number;
}

/**
 * Planner statistics and dead rows of dxhub's own tables on PostgreSQL when nobody else looks after
 * them. dxhub's tables grow fast from empty (a fresh region, a bulk import, the bench) and some are
 * queues that are updated or emptied all the time (`audit_staging`, `outbox_consumer`,
 * `hl7_inbox`, `ops_bucket`). Without `ANALYZE` the planner keeps the estimates of an empty table
 * and picks plans that read far more than they need (measured 2026-12-01: batch reads of 500 ids
 * took 1–7 s each in parallel bitmap scans once `resource` held 230,000 rows, and HL7 processing
 * slowed to 10 messages/s; after one `ANALYZE` it ran at 120/s); without `VACUUM`, dead rows of
 * queues stay in every scan.
 *
 * PostgreSQL's autovacuum does exactly this, and then this class does nothing (`auto`). Where
 * autovacuum is turned off (as on the CI machines), each pass applies autovacuum's own rule, with the
 * server's own settings: `ANALYZE` a table once the rows changed since its last analysis exceed
 * `autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × rows`, `VACUUM` it once its dead
 * rows exceed `autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × rows` or the rows
 * inserted since its last vacuum exceed the `_insert_` pair. Both run with `SKIP_LOCKED` (no waiting
 * for another maintainer, e.g. a second dxhub server) on a connection of its own, opened at the first
 * pass, and take only a SHARE UPDATE EXCLUSIVE lock: reads and writes go on meanwhile.
 */
export class PgMaintenance {
  private readonly url: string;
  private readonly mode: PgMaintenanceMode;
  private readonly log: (msg: string) => void;
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private told = false;
  private closed = false;

  /** `url` as dxhub takes it (its own `schema` and `pool` parameters are understood). */
  constructor(url: string, opts: PgMaintenanceOptions = {}) {
    postgresConnection(url); // refuses a bad URL or schema name now rather than at the first pass
    this.url = url;
    this.mode = opts.mode ?? 'auto';
    this.log = opts.log ?? (() => undefined);
  }

  /** Runs a pass every `intervalMs` until {@link close} (the timer does not keep the process alive). */
  static start(url: string, opts: PgMaintenanceOptions = {}): PgMaintenance {
    const m = new PgMaintenance(url, opts);
    if (m.mode !== 'off') {
      m.timer = setInterval(() => {
        if (m.running) return;
        m.running = m
          .runOnce()
          .catch((e: unknown) => m.log(`PostgreSQL maintenance pass failed: ${(e as Error).message}`))
          .finally(() => {
            m.running = undefined;
          });
      }, opts.intervalMs ?? 10_000);
      m.timer.unref();
    }
    return m;
  }

  /** One pass: the tables of dxhub's schema that autovacuum's rule says are due, analysed or vacuumed. */
  async runOnce(): Promise<PgMaintenancePass> {
    if (this.mode === 'off' || this.closed) return { active: false, analyzed: [], vacuumed: [] };
    const c = await this.connection();
    const t = (
      await c.query<Thresholds>(
        `SELECT current_setting('autovacuum') AS autovacuum,
           current_setting('autovacuum_analyze_threshold')::float8 AS at,
           current_setting('autovacuum_analyze_scale_factor')::float8 AS asf,
           current_setting('autovacuum_vacuum_threshold')::float8 AS vt,
           current_setting('autovacuum_vacuum_scale_factor')::float8 AS vsf,
           current_setting('autovacuum_vacuum_insert_threshold')::float8 AS vit,
           current_setting('autovacuum_vacuum_insert_scale_factor')::float8 AS visf`,
      )
    ).rows[0]!;
    if (this.mode === 'auto' && t.autovacuum !== 'off') return { active: false, analyzed: [], vacuumed: [] };
    if (!this.told) {
      this.told = true;
      this.log(
        `PostgreSQL autovacuum is ${t.autovacuum}: dxhub analyses and vacuums its own tables ` +
          `(${this.mode === 'auto' ? 'DXHUB_PG_MAINTENANCE=off leaves it to you' : 'DXHUB_PG_MAINTENANCE=on'})`,
      );
    }
    const tables = (
      await c.query<TableStats>(
        `SELECT s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze, s.n_ins_since_vacuum, c.reltuples
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
          WHERE s.schemaname = current_schema()
          ORDER BY s.relname`,
      )
    ).rows;
    const analyzed: string[] = [];
    const vacuumed: string[] = [];
    for (const s of tables) {
      if (this.closed) break;
      // reltuples is -1 until the table was first analysed or vacuumed.
      const rows = Math.max(Number(s.reltuples), 0);
      const name = `${quoteIdent(s.schemaname)}.${quoteIdent(s.relname)}`;
      const vacuum = Number(s.n_dead_tup) > t.vt + t.vsf * rows || Number(s.n_ins_since_vacuum) > t.vit + t.visf * rows;
      const analyze = Number(s.n_mod_since_analyze) > t.at + t.asf * rows;
      if (vacuum) {
        // VACUUM (ANALYZE) when both are due: one pass over the table.
        await c.query(`VACUUM (SKIP_LOCKED${analyze ? ', ANALYZE' : ''}) ${name}`);
        vacuumed.push(s.relname);
        if (analyze) analyzed.push(s.relname);
      } else if (analyze) {
        await c.query(`ANALYZE (SKIP_LOCKED) ${name}`);
        analyzed.push(s.relname);
      }
    }
    return { active: true, analyzed, vacuumed };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const { connectionString, options } = postgresConnection(this.url);
    const c = new pg.Client({
      connectionString,
      options,
      application_name: 'dxhub-maintenance',
    });
    c.on('error', () => {
      if (this.client === c) this.client = undefined;
    });
    await c.connect();
    // Throttled as autovacuum is (its cost-based delay and limit, where VACUUM and ANALYZE typed by
    // hand run unthrottled): a pass over a large table then spreads its reads and writes out
    // instead of taking the disk and a core from the requests served meanwhile.
    await c.query(
      `SELECT set_config('vacuum_cost_delay',
                CASE WHEN current_setting('autovacuum_vacuum_cost_delay') LIKE '-1%'
                     THEN current_setting('vacuum_cost_delay')
                     ELSE current_setting('autovacuum_vacuum_cost_delay') END, false),
              set_config('vacuum_cost_limit',
                CASE WHEN current_setting('autovacuum_vacuum_cost_limit')::int > 0
                     THEN current_setting('autovacuum_vacuum_cost_limit')
                     ELSE current_setting('vacuum_cost_limit') END, false)`,
    );
    this.client = c;
    return c;
  }
}

/** `"name"` with embedded quotes doubled. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
