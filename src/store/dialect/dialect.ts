/**
 * The one place where SQLite and PostgreSQL differ. Everything above `src/store/dialect/` talks to
 * a {@link Dialect}; no other module imports a database driver (a test enforces this).
 * SQL is written with `?` placeholders; the PostgreSQL dialect rewrites them to `$n`.
 */
/** How a statement is run. */
export interface QueryOptions {
  /**
   * The statement's shape and the selectivity of its parameters are the same on every call (an
   * internal look-up by key, not a user's search): PostgreSQL may plan it once for all values. It
   * otherwise keeps planning statements with many subqueries anew on every call, as their generic
   * plan looks costlier than a custom one (measured 2026-12-02: the access facts' six searches in
   * one statement, 1.2 ms per call with a new plan each time, 0.33 ms with the generic plan).
   * Ignored inside a transaction (its connection's settings stay as they are) and on SQLite, which
   * plans a prepared statement once anyway.
   */
  readonly genericPlan?: boolean;
}

export interface SqlExecutor {
  /** Runs a statement that returns rows. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[], opts?: QueryOptions): Promise<T[]>;
  /** Runs a statement and returns the number of changed rows. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /**
   * Inserts many rows into one table, ignoring rows whose primary key already exists, or with
   * `append` (rows of an append-only log whose key the database assigns) as a plain INSERT, in which
   * a duplicate key fails the statement. `types` are the PostgreSQL array element types of the
   * columns (used for `unnest`).
   */
  insertMany(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
    opts?: InsertOptions,
  ): Promise<void>;
  /**
   * {@link insertMany} into several tables, in one statement where the engine allows (PostgreSQL:
   * one round trip instead of one per table). With `lockFirst`, {@link lock} is taken on that key
   * before any of the rows is inserted (serial columns get their values under the lock).
   */
  insertAll(parts: readonly TableRows[], opts?: { readonly lockFirst?: string }): Promise<void>;
  /** Deletes the rows whose key columns equal one of the given tuples. */
  deleteMany(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void>;
  /**
   * Updates rows by key: `rows` hold the key columns' values first, then the set columns'
   * (one statement on PostgreSQL).
   */
  updateMany(
    table: string,
    keyColumns: readonly string[],
    setColumns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void>;
  /**
   * Serialises writers on a key until the transaction ends (PostgreSQL advisory lock; a no-op on
   * SQLite, whose writers are already serialised).
   */
  lock(key: string): Promise<void>;
  /** {@link lock} on several keys in one statement, in the given order. */
  lockMany(keys: readonly string[]): Promise<void>;
  /** Reserves `n` new row ids of the `resource` table (gaps are allowed). */
  nextResourceIds(n: number): Promise<number[]>;
}

/** Rows for one table, as {@link SqlExecutor.insertMany} takes them. */
export interface TableRows extends InsertOptions {
  readonly table: string;
  readonly columns: readonly string[];
  readonly types: readonly ColumnType[];
  readonly rows: readonly unknown[][];
}

/** How {@link SqlExecutor.insertMany} treats keys. */
export interface InsertOptions {
  /**
   * The rows go to an append-only log and get their keys from the database (a serial column), so
   * none can exist yet: a plain INSERT, and a duplicate key fails the statement. Without it a row
   * whose key exists is skipped (`ON CONFLICT DO NOTHING`), which PostgreSQL pays for per row: a
   * speculative insertion (a lookup in each unique index, an extra WAL record to confirm it),
   * measured at ~1.2 µs of server CPU per row in batches of 256 (~25 % of a plain insert).
   */
  readonly append?: boolean;
  /**
   * With {@link append}: load the rows with the engine's bulk loader where it has one (PostgreSQL:
   * `COPY … FROM STDIN`, text format, in one round trip: no statement to parse, bind or plan, and
   * measured at about half a multi-row INSERT's server CPU per row). For large batches of an
   * append-only log; a duplicate key fails the load as it fails an INSERT. SQLite ignores it.
   */
  readonly copy?: boolean;
}

/** Column types as far as the dialects need to know them. */
export type ColumnType = 'text' | 'int' | 'bigint' | 'double' | 'json';

/** How resource JSON is stored: as text (SQLite), or compressed (PostgreSQL). */
export interface JsonCodec {
  /** SQL type of the column. */
  readonly columnType: string;
  encode(json: string): unknown;
  decode(stored: unknown): string;
}

/** Engine capabilities that callers may branch on through data, not through `if (sqlite)`. */
export interface DialectCapabilities {
  /** Name for logs and metrics. */
  readonly name: 'sqlite' | 'postgres';
  /** Case-insensitive LIKE operator (`LIKE` in SQLite, `ILIKE` in PostgreSQL). */
  readonly ilike: string;
  /** Auto-increment primary key column definition. */
  readonly serialPk: string;
  /** Type for JSON text. */
  readonly textType: string;
  /** Suffix that makes an index-organised table (SQLite `WITHOUT ROWID`). */
  readonly withoutRowid: string;
  /** Storage of resource JSON. */
  readonly json: JsonCodec;
}

/** A connected database. */
export interface Dialect extends SqlExecutor {
  readonly caps: DialectCapabilities;
  /** Runs `fn` in one ACID transaction; committed when `fn` resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * {@link SqlExecutor.insertMany} in a transaction of its own, off this thread where the engine
   * allows it: a SQLite database file is written by a background thread on its own connection
   * (an insert costs ~7 µs per row of this thread's time there otherwise); elsewhere it is
   * `insertMany`. Resolves once committed. For append-only logs whose rows no transaction of
   * {@link transaction} depends on: the two are not ordered with each other. The rows are appended
   * ({@link InsertOptions.append}): their keys are the database's to assign.
   */
  insertManyDetached(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void>;
  /** Runs DDL (several statements separated by `;`). */
  execScript(sql: string): Promise<void>;
  /** Checks that the database answers. */
  ping(): Promise<void>;
  /** Database size in bytes (data and indexes). */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link openDialect}. */
export interface OpenOptions {
  /**
   * SQLite file: start the background thread that checkpoints, refreshes statistics and runs
   * detached inserts (default true). A second connection opened inside another worker thread of
   * the same process leaves it to the first.
   */
  readonly backgroundThread?: boolean;
}

/** Opens the dialect for a `DXHUB_DB` URL: `sqlite:<file>` / `sqlite::memory:` or `postgres://…`. */
export async function openDialect(url: string, opts: OpenOptions = {}): Promise<Dialect> {
  if (url.startsWith('sqlite:')) {
    const { openSqlite } = await import('./sqlite.ts');
    return openSqlite(url.slice('sqlite:'.length), opts);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(url);
  }
  throw new Error(`unsupported database URL '${url}': use sqlite:<file> or postgres://…`);
}
