import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import type {
  ColumnType,
  Dialect,
  DialectCapabilities,
  InsertOptions,
  OpenOptions,
  SqlExecutor,
  TableRows,
} from './dialect.ts';

export class SqliteExecutor implements SqlExecutor {
  private readonly stmts = new Map<string, StatementSync>();
  private readonly db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.db = db;
  }

  prepare(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.prepare(sql).all(...(params as SQLInputValue[])) as T[];
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return Number(this.prepare(sql).run(...(params as SQLInputValue[])).changes);
  }

  async insertMany(
    table: string,
    columns: readonly string[],
    _types: readonly ColumnType[],
    rows: readonly unknown[][],
    opts: InsertOptions = {},
  ) {
    // One row per statement, the statement prepared once: node:sqlite binds a 32-row VALUES list
    // ~2-3x slower per row where the table has an index or no rowid (tmp measurements, 2026-12-02:
    // audit rows with their (patient, seq) index 16 -> 6 µs, search-index rows 8.7 -> 2.7-3.3 µs).
    const stmt = this.prepare(
      `INSERT INTO ${table} (${columns.join(',')}) VALUES (${columns.map(() => '?').join(',')})${opts.append ? '' : ' ON CONFLICT DO NOTHING'}`,
    );
    for (const row of rows) stmt.run(...(row as SQLInputValue[]));
  }

  async insertAll(parts: readonly TableRows[]): Promise<void> {
    // Writers are serialised already (lock() is a no-op): one call per table, no round trips.
    for (const p of parts) await this.insertMany(p.table, p.columns, p.types, p.rows, p);
  }

  async deleteMany(
    table: string,
    columns: readonly string[],
    _types: readonly ColumnType[],
    rows: readonly unknown[][],
  ) {
    if (rows.length === 0) return;
    const stmt = this.prepare(`DELETE FROM ${table} WHERE ${columns.map((c) => `${c} = ?`).join(' AND ')}`);
    for (const r of rows) stmt.run(...(r as SQLInputValue[]));
  }

  async updateMany(
    table: string,
    keyColumns: readonly string[],
    setColumns: readonly string[],
    _types: readonly ColumnType[],
    rows: readonly unknown[][],
  ) {
    if (rows.length === 0) return;
    const stmt = this.prepare(
      `UPDATE ${table} SET ${setColumns.map((c) => `${c} = ?`).join(', ')} WHERE ${keyColumns.map((c) => `${c} = ?`).join(' AND ')}`,
    );
    const k = keyColumns.length;
    for (const r of rows) stmt.run(...([...r.slice(k), ...r.slice(0, k)] as SQLInputValue[]));
  }

  async lock(_key: string): Promise<void> {}
  async lockMany(_keys: readonly string[]): Promise<void> {}

  /** The single writer hands out ids from a counter seeded from MAX(rid). */
  private lastRid: number | undefined;
  async nextResourceIds(n: number): Promise<number[]> {
    if (this.lastRid === undefined) {
      const row = this.prepare('SELECT COALESCE(MAX(rid), 0) AS m FROM resource').get() as { m: number };
      this.lastRid = Number(row.m);
    }
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(++this.lastRid);
    return out;
  }
}

interface PendingTx {
  fn: (tx: SqlExecutor) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Above this size the writer no longer runs `PRAGMA optimize` (see the constructor). */
const OPTIMIZE_MAX_BYTES = 2 ** 30;
/** How often the checkpointer thread refreshes planner statistics (`PRAGMA optimize`). */
const OPTIMIZE_INTERVAL_MS = 30_000;

const smallEnoughToAnalyze = (file: string) =>
  file === ':memory:' || (statSync(file, { throwIfNoEntry: false })?.size ?? 0) < OPTIMIZE_MAX_BYTES;

/** Most transactions committed together by one group commit. */
const MAX_GROUP = 64;
/**
 * A group stops taking further transactions once it has run this long (ms): the transactions of a
 * group run back to back on the event loop, so a large group held every request meanwhile (tens
 * of milliseconds under ingestion, in the order-sign p99). The rest form the next group, after
 * the event loop has had a turn.
 */
const GROUP_BUDGET_MS = 4;
/** How long a transaction waits for the write lock held by another connection (ms). */
const BUSY_TIMEOUT_MS = 10_000;

/** SQLITE_BUSY, with any of its extended codes (node:sqlite reports the extended code). */
const isBusy = (err: unknown) => ((err as { errcode?: number }).errcode ?? 0) % 256 === 5;

/**
 * SQLite through Node's built-in `node:sqlite` (synchronous, in-process). One write connection
 * whose transactions are serialised by an async mutex, and one read connection that sees only
 * committed data (WAL mode), so that reads never wait for writers.
 */
class SqliteDialect implements Dialect {
  readonly caps: DialectCapabilities = {
    name: 'sqlite',
    ilike: 'LIKE',
    serialPk: 'INTEGER PRIMARY KEY',
    textType: 'TEXT',
    withoutRowid: ' WITHOUT ROWID',
    json: { columnType: 'TEXT', encode: (json) => json, decode: (stored) => stored as string },
  };
  private readonly writer: SqliteExecutor;
  private readonly reader: SqliteExecutor;
  private readonly writeDb: DatabaseSync;
  private readonly readDb: DatabaseSync;
  private readonly file: string;
  private readonly pending: PendingTx[] = [];
  private draining = false;
  private commits = 0;
  /** Background thread with its own connection: checkpoints and statistics. */
  private checkpointer: Worker | undefined;
  /** Background thread with its own connection, at a low priority: detached inserts. */
  private inserter: Worker | undefined;
  /** Detached inserts sent to the background thread, by id, until it reports their commit. */
  private readonly detached = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private detachedIds = 0;

  constructor(file: string, opts: OpenOptions = {}) {
    this.file = file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.writeDb = new DatabaseSync(file);
    for (const pragma of [
      'journal_mode = WAL',
      'synchronous = NORMAL',
      // Set to 0 below once the database is open: the writer waits for a busy lock on a timer
      // (see begin()), never by sleeping on the event loop.
      'busy_timeout = 10000',
      'foreign_keys = OFF',
      // Statement and savepoint journals in memory, not in temporary files: every page a statement
      // changes first is copied there, and on disk that is a write(2) per page.
      'temp_store = MEMORY',
      'cache_size = -65536',
      // PRAGMA optimize samples at most this many rows per index: statistics stay cheap to refresh.
      'analysis_limit = 1000',
      // A worker thread checkpoints (see sqlite-checkpointer.ts); the writer checkpoints itself only
      // as a fallback when the WAL has grown past ~256 MB.
      'wal_autocheckpoint = 65536',
    ]) {
      this.writeDb.exec(`PRAGMA ${pragma}`);
    }
    // An in-memory database cannot be shared between connections: read through the writer.
    this.readDb = file === ':memory:' ? this.writeDb : new DatabaseSync(file);
    if (this.readDb !== this.writeDb) {
      this.readDb.exec('PRAGMA busy_timeout = 10000');
      this.readDb.exec('PRAGMA cache_size = -131072');
      this.readDb.exec('PRAGMA mmap_size = 1073741824');
    }
    // Planner statistics: refreshed on open, and then by the checkpointer thread every
    // OPTIMIZE_INTERVAL_MS (an in-memory database: every 2,000 commits) while the database is small.
    // On a large one, ANALYZE reads whole tables despite analysis_limit (a WITHOUT ROWID index table
    // is counted row by row: 61 s for 59 M idx_token rows), which would hold the writer for
    // minutes; there the statistics are left as they are (`ANALYZE` in a maintenance window).
    // A connection without the background thread (the audit journal mover's) leaves it to the
    // server's connection, which ran it on open.
    if (opts.backgroundThread !== false && smallEnoughToAnalyze(file)) this.writeDb.exec('PRAGMA optimize = 0x10002');
    this.writeDb.exec('PRAGMA busy_timeout = 0');
    if (file !== ':memory:' && opts.backgroundThread !== false) {
      const thread = (role: 'checkpoint' | 'insert') => {
        const w = new Worker(new URL('./sqlite-checkpointer.ts', import.meta.url), {
          workerData: {
            file,
            role,
            intervalMs: 250,
            optimizeIntervalMs: OPTIMIZE_INTERVAL_MS,
            optimizeMaxBytes: OPTIMIZE_MAX_BYTES,
          },
        });
        w.unref();
        return w;
      };
      this.checkpointer = thread('checkpoint');
      this.checkpointer.on('error', () => {
        this.checkpointer = undefined;
      });
      const inserter = thread('insert');
      inserter.on('message', (m: { kind?: string; id?: number; error?: string }) => {
        if (m?.kind !== 'inserted' || m.id === undefined) return;
        const job = this.detached.get(m.id);
        this.detached.delete(m.id);
        if (m.error === undefined) job?.resolve();
        else job?.reject(new Error(m.error));
      });
      inserter.on('error', (err) => {
        for (const job of this.detached.values()) job.reject(err);
        this.detached.clear();
        this.inserter = undefined;
      });
      this.inserter = inserter;
    }
    this.writer = new SqliteExecutor(this.writeDb);
    this.reader = this.readDb === this.writeDb ? this.writer : new SqliteExecutor(this.readDb);
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }
  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }
  insertMany(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
    opts?: InsertOptions,
  ) {
    return this.transaction((tx) => tx.insertMany(table, columns, types, rows, opts));
  }
  insertAll(parts: readonly TableRows[]): Promise<void> {
    return this.transaction((tx) => tx.insertAll(parts));
  }
  deleteMany(table: string, columns: readonly string[], types: readonly ColumnType[], rows: readonly unknown[][]) {
    return this.transaction((tx) => tx.deleteMany(table, columns, types, rows));
  }
  updateMany(
    table: string,
    keyColumns: readonly string[],
    setColumns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ) {
    return this.transaction((tx) => tx.updateMany(table, keyColumns, setColumns, types, rows));
  }
  insertManyDetached(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void> {
    const thread = this.inserter;
    if (!thread) return this.insertMany(table, columns, types, rows, { append: true });
    if (rows.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const id = ++this.detachedIds;
      this.detached.set(id, { resolve, reject });
      thread.postMessage({ kind: 'insert', id, table, columns, rows });
    });
  }
  async lock(): Promise<void> {}
  async lockMany(): Promise<void> {}
  nextResourceIds(n: number): Promise<number[]> {
    return this.writer.nextResourceIds(n);
  }

  /**
   * Group commit: transactions that arrive while another is running are queued and then run
   * together in one SQLite transaction, each inside its own SAVEPOINT (a failing one rolls back
   * alone). Every caller's promise settles only after the shared COMMIT, so nothing is
   * acknowledged before it is durable; one commit (one WAL write) serves the whole group.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve, reject } as PendingTx);
      if (!this.draining) {
        this.draining = true;
        // Start on the check phase, after the requests that arrived in this poll phase have queued
        // their transactions too: they then share one commit.
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * `BEGIN IMMEDIATE` without blocking the event loop. The write lock may be held by another
   * connection: the checkpointer thread while it truncates the WAL (tens of milliseconds), or a
   * second process on the same file. SQLite's own busy handler would sleep on this thread, and
   * with it every request; here the writer connection has no busy timeout, and a busy attempt is
   * retried on a timer until {@link BUSY_TIMEOUT_MS} has passed.
   */
  private async begin(): Promise<void> {
    const deadline = performance.now() + BUSY_TIMEOUT_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 16)) {
      try {
        this.writeDb.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if (!isBusy(err) || performance.now() >= deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group: PendingTx[] = [];
        const outcomes: { ok: boolean; value: unknown }[] = [];
        let started = 0;
        try {
          await this.begin();
          started = performance.now();
        } catch (err) {
          // No transaction (e.g. another process held the database past the busy timeout): the
          // transactions that would have formed this group fail, as they did before.
          for (const job of this.pending.splice(0, MAX_GROUP)) job.reject(err);
          continue;
        }
        try {
          while (group.length < MAX_GROUP && this.pending.length > 0) {
            if (group.length > 0 && performance.now() - started > GROUP_BUDGET_MS) break;
            const job = this.pending.shift()!;
            group.push(job);
            this.writeDb.exec('SAVEPOINT tx');
            try {
              const value = await job.fn(this.writer);
              this.writeDb.exec('RELEASE tx');
              outcomes.push({ ok: true, value });
            } catch (err) {
              this.writeDb.exec('ROLLBACK TO tx');
              this.writeDb.exec('RELEASE tx');
              outcomes.push({ ok: false, value: err });
            }
          }
          this.writeDb.exec('COMMIT');
          // Keep planner statistics current as tables grow (cheap when nothing changed).
          // A file database is analysed by the checkpointer thread: ANALYZE of a grown table held
          // this thread, and every request with it, for 150 ms under ingestion.
          if (this.file === ':memory:' && ++this.commits % 2000 === 0) this.writeDb.exec('PRAGMA optimize');
        } catch (err) {
          if (this.writeDb.isTransaction) this.writeDb.exec('ROLLBACK');
          for (const job of group) job.reject(err);
          continue;
        }
        group.forEach((job, i) => {
          const o = outcomes[i]!;
          if (o.ok) job.resolve(o.value);
          else job.reject(o.value);
        });
        // More waiting: let the event loop turn (requests, I/O) before the next group.
        if (this.pending.length > 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.draining = false;
    }
  }

  async execScript(sql: string): Promise<void> {
    await this.transaction(async () => {
      this.writeDb.exec(sql);
    });
  }

  async ping(): Promise<void> {
    this.readDb.prepare('SELECT 1').get();
  }

  async sizeBytes(): Promise<number> {
    if (this.file === ':memory:') {
      const row = this.readDb
        .prepare('SELECT page_count * page_size AS n FROM pragma_page_count, pragma_page_size')
        .get() as {
        n: number;
      };
      return row.n;
    }
    this.writeDb.exec('PRAGMA busy_timeout = 10000');
    try {
      this.writeDb.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      this.writeDb.exec('PRAGMA busy_timeout = 0');
    }
    return statSync(this.file).size;
  }

  async close(): Promise<void> {
    while (this.draining || this.pending.length > 0 || this.detached.size > 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(
      [this.inserter, this.checkpointer].map(async (thread) => {
        if (!thread) return;
        const stopped = new Promise<void>((resolve) =>
          thread.on('message', (m) => {
            if (m === 'stopped') resolve();
          }),
        );
        thread.postMessage('stop');
        await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000))]);
        await thread.terminate();
      }),
    );
    if (this.readDb !== this.writeDb) this.readDb.close();
    this.writeDb.close();
  }
}

/** Opens (and creates) a SQLite database file, or `:memory:`. */
export function openSqlite(file: string, opts: OpenOptions = {}): Dialect {
  return new SqliteDialect(file || ':memory:', opts);
}
