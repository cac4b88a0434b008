import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { ColumnType, Dialect, DialectCapabilities, SqlExecutor } from './dialect.ts';

/**
 * SQLite through Node's built-in `node:sqlite` (synchronous, in-process). One write connection
 * whose transactions are serialised by an async mutex, and one read connection that sees only
 * committed data (WAL mode), so that reads never wait for writers.
 */
class SqliteExecutor implements SqlExecutor {
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
  ) {
    if (rows.length === 0) return;
    const stmt = this.prepare(
      `INSERT INTO ${table} (${columns.join(',')}) VALUES (${columns.map(() => '?').join(',')}) ON CONFLICT DO NOTHING`,
    );
    for (const r of rows) stmt.run(...(r as SQLInputValue[]));
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

  async lock(_key: string): Promise<void> {}
}

class SqliteDialect implements Dialect {
  readonly caps: DialectCapabilities = {
    name: 'sqlite',
    ilike: 'LIKE',
    serialPk: 'INTEGER PRIMARY KEY',
    textType: 'TEXT',
    withoutRowid: ' WITHOUT ROWID',
  };
  private readonly writer: SqliteExecutor;
  private readonly reader: SqliteExecutor;
  private readonly writeDb: DatabaseSync;
  private readonly readDb: DatabaseSync;
  private readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.writeDb = new DatabaseSync(file);
    for (const pragma of [
      'journal_mode = WAL',
      'synchronous = NORMAL',
      'busy_timeout = 10000',
      'foreign_keys = OFF',
      'cache_size = -65536',
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
    this.writer = new SqliteExecutor(this.writeDb);
    this.reader = this.readDb === this.writeDb ? this.writer : new SqliteExecutor(this.readDb);
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.reader.all<T>(sql, params);
  }
  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }
  insertMany(table: string, columns: readonly string[], types: readonly ColumnType[], rows: readonly unknown[][]) {
    return this.transaction((tx) => tx.insertMany(table, columns, types, rows));
  }
  deleteMany(table: string, columns: readonly string[], types: readonly ColumnType[], rows: readonly unknown[][]) {
    return this.transaction((tx) => tx.deleteMany(table, columns, types, rows));
  }
  async lock(): Promise<void> {}

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.writeDb.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.writer);
        this.writeDb.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.writeDb.isTransaction) this.writeDb.exec('ROLLBACK');
        throw err;
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
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
    this.writeDb.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    return statSync(this.file).size;
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.readDb !== this.writeDb) this.readDb.close();
    this.writeDb.close();
  }
}

/** Opens (and creates) a SQLite database file, or `:memory:`. */
export function openSqlite(file: string): Dialect {
  return new SqliteDialect(file || ':memory:');
}
