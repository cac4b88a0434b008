import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import pg from 'pg';
import type {
  ColumnType,
  Dialect,
  DialectCapabilities,
  InsertOptions,
  JsonCodec,
  QueryOptions,
  SqlExecutor,
  TableRows,
} from './dialect.ts';

const ARRAY_TYPES: Record<ColumnType, string> = {
  text: 'text[]',
  int: 'int[]',
  bigint: 'bigint[]',
  double: 'float8[]',
  json: 'bytea[]',
};

/**
 * Resource JSON is stored deflate-compressed in a BYTEA column. PostgreSQL compresses only rows
 * over ~2 kB (TOAST), i.e. never a typical 1 kB lab result; compressing here makes an Observation
 * ~1.1 kB of JSON ~0.45 kB on disk. Level 1: the fastest, most of the gain.
 */
/**
 * zlib's output buffer per call. Node's default (16 kB) is an ArrayBuffer of its own per call,
 * which V8 counts as external memory until a major GC frees it: with a write or read of a resource
 * per call, that forced a full mark of the heap (~90 MB, ~60 ms of a GC thread) every 0.4–1 s under
 * 100 Observations/s (2026-12-02). Below 4 kB, `Buffer.allocUnsafe` carves the buffer from its shared
 * pool instead; a longer output takes several chunks, joined once.
 */
const ZLIB_CHUNK = 1024;
const compressedJson: JsonCodec = {
  columnType: 'BYTEA',
  encode: (json) => deflateRawSync(Buffer.from(json, 'utf8'), { level: 1, chunkSize: ZLIB_CHUNK }),
  decode: (stored) => inflateRawSync(stored as Buffer, { chunkSize: ZLIB_CHUNK }).toString('utf8'),
};

const converted = new Map<string, { text: string; name: string | undefined }>();
/** Most distinct statements that get a server-side prepared statement (per process). */
const MAX_PREPARED = 2000;
/**
 * Rewrites `?` placeholders to `$1…$n` and names the statement, so that each connection parses
 * and plans it once (pg's named prepared statements). Cached per statement text.
 */
function toPg(sql: string): { text: string; name: string | undefined } {
  let out = converted.get(sql);
  if (out === undefined) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    out = { text, name: n > 0 ? statementName(text) : undefined };
    converted.set(sql, out);
  }
  return out;
}

/**
 * A statement already in `$n` form (the `unnest` bulk statements), named like {@link toPg}'s so
 * that each connection parses and plans it once rather than on every batch.
 */
function namedPg(text: string): { text: string; name: string | undefined } {
  let out = converted.get(text);
  if (out === undefined) {
    out = { text, name: statementName(text) };
    converted.set(text, out);
  }
  return out;
}

/** The server-side name of a statement, while fewer than {@link MAX_PREPARED} are named. */
const statementName = (text: string): string | undefined =>
  converted.size < MAX_PREPARED ? `dx${createHash('sha1').update(text).digest('hex').slice(0, 20)}` : undefined;

/** `$1::text[], $2::bigint[], …`: one array parameter per column, for `unnest`. */
const unnestArgs = (types: readonly ColumnType[], from = 0) =>
  types.map((t, i) => `$${from + i + 1}::${ARRAY_TYPES[t]}`).join(',');

/**
 * The columns of `rows` as `unnest` parameters: each column one PostgreSQL array literal. pg would
 * build the same literal, but escapes every element with two regular-expression replacements,
 * which profiles showed as ~5 % of the server's CPU on bulk writes (index rows, order events,
 * audit staging); here text that needs no escaping is quoted as it is.
 */
function transpose(rows: readonly unknown[][], width: number): unknown[] {
  const cols: unknown[][] = Array.from({ length: width }, () => []);
  for (const r of rows) for (let i = 0; i < width; i++) cols[i]!.push(r[i]);
  return cols.map(arrayLiteral);
}

/**
 * `{"a","b\"c",NULL,5}`: strings quoted (backslash and double quote escaped), numbers as they
 * print, null/undefined as NULL. A column holding anything else (Buffers for bytea, booleans,
 * objects) is returned as it is, for pg's own conversion.
 */
export function arrayLiteral(values: readonly unknown[]): unknown {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    if (v === null || v === undefined) out += 'NULL';
    else if (typeof v === 'string')
      out += v.includes('\\') || v.includes('"') ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${v}"`;
    else if (typeof v === 'number' || typeof v === 'bigint') out += String(v);
    else return values;
  }
  return `${out}}`;
}

/**
 * Rows in `COPY`'s text format: columns separated by tabs, rows ended by newlines, NULL as `\N`;
 * in text, backslash, newline, carriage return and tab are escaped with a backslash. Values are
 * strings, numbers (bigint too), booleans, null/undefined, or Buffers (bytea, as `\\x` hex).
 */
export function copyText(rows: readonly (readonly unknown[])[], width: number): string {
  let out = '';
  for (const r of rows) {
    for (let i = 0; i < width; i++) {
      if (i > 0) out += '\t';
      const v = r[i];
      if (v === null || v === undefined) out += '\\N';
      else if (typeof v === 'string') out += COPY_SPECIAL.test(v) ? v.replace(COPY_ESCAPE, escapeCopyChar) : v;
      else if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new Error(`COPY: ${v} is not a finite number`);
        out += String(v);
      } else if (typeof v === 'bigint') out += String(v);
      else if (typeof v === 'boolean') out += v ? 't' : 'f';
      else if (Buffer.isBuffer(v)) out += `\\\\x${v.toString('hex')}`;
      else throw new Error(`COPY: cannot write a value of type ${typeof v}`);
    }
    out += '\n';
  }
  return out;
}
const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPE = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeCopyChar = (c: string) => COPY_ESCAPES[c]!;

/** What pg hands a custom query ("submittable"): its connection's protocol writers. */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * `COPY … FROM STDIN` as a pg custom query: pg itself answers a copy-in request by failing it,
 * and the stream package that does this is a dependency for ~30 lines. The whole payload goes in
 * one CopyData message when the server asks for it; an error (a duplicate key, a bad value) fails
 * the statement and so the transaction, like a failed INSERT.
 */
class CopyFromStdin {
  readonly text: string;
  private readonly data: Buffer;
  private readonly done: (err: Error | null) => void;
  private finished = false;
  constructor(text: string, data: Buffer, done: (err: Error | null) => void) {
    this.text = text;
    this.data = data;
    this.done = done;
  }
  submit(connection: PgConnection): void {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }
  handleReadyForQuery(): void {
    this.finish(null);
  }
  handleError(err: Error): void {
    this.finish(err);
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
  private finish(err: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    this.done(err);
  }
}

/** The conflict clause of an INSERT: none when appending ({@link InsertOptions.append}). */
const onConflict = (opts: InsertOptions) => (opts.append ? '' : ' ON CONFLICT DO NOTHING');

/** Reserves row ids of `resource` ($1 of them). */
const RESERVE_RIDS = "SELECT nextval(pg_get_serial_sequence('resource', 'rid')) AS rid FROM generate_series(1, $1)";

interface Queryable {
  query(text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult>;
}

class PgExecutor implements SqlExecutor {
  protected readonly q: Queryable;
  constructor(q: Queryable) {
    this.q = q;
  }
  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const { text, name } = toPg(sql);
    return (await this.q.query({ text, name, values: params as unknown[] })).rows as T[];
  }
  async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    const { text, name } = toPg(sql);
    return (await this.q.query({ text, name, values: params as unknown[] })).rowCount ?? 0;
  }
  async insertMany(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
    opts: InsertOptions = {},
  ) {
    if (rows.length === 0) return;
    if (opts.copy && opts.append) return this.copyRows(table, columns, types, rows);
    await this.q.query({
      ...namedPg(
        `INSERT INTO ${table} (${columns.join(',')}) SELECT * FROM unnest(${unnestArgs(types)})${onConflict(opts)}`,
      ),
      values: transpose(rows, columns.length),
    });
  }
  /**
   * {@link InsertOptions.copy}: outside a transaction there is no connection of our own to run
   * `COPY` on (the pool hands one out per statement), so the rows go as one appending INSERT.
   */
  protected async copyRows(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void> {
    await this.insertMany(table, columns, types, rows, { append: true });
  }
  /**
   * One statement for all tables: an `unnest` INSERT per table as a data-modifying CTE. With
   * `lockFirst` a CTE takes the advisory lock and every INSERT's rows are joined with it, so no row
   * (nor its serial value) is produced before the lock is held.
   */
  async insertAll(parts: readonly TableRows[], opts: { readonly lockFirst?: string } = {}): Promise<void> {
    const live = parts.filter((p) => p.rows.length > 0);
    const lock = opts.lockFirst;
    if (live.length === 0) return lock === undefined ? undefined : this.lock(lock);
    if (live.length === 1 && lock === undefined) {
      const p = live[0]!;
      return this.insertMany(p.table, p.columns, p.types, p.rows, p);
    }
    const values: unknown[] = [];
    const ctes: string[] = [];
    if (lock !== undefined) {
      values.push(lock);
      ctes.push('l AS (SELECT pg_advisory_xact_lock(hashtextextended($1, 0)))');
    }
    live.forEach((p, i) => {
      const args = unnestArgs(p.types, values.length);
      values.push(...transpose(p.rows, p.columns.length));
      ctes.push(
        `i${i} AS (INSERT INTO ${p.table} (${p.columns.join(',')}) SELECT u.* FROM unnest(${args}) AS u${lock === undefined ? '' : ', l'}${onConflict(p)})`,
      );
    });
    await this.q.query({ ...namedPg(`WITH ${ctes.join(', ')} SELECT 1`), values });
  }
  async deleteMany(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ) {
    if (rows.length === 0) return;
    const match = columns.map((c) => `${table}.${c} = u.${c}`).join(' AND ');
    await this.q.query({
      ...namedPg(`DELETE FROM ${table} USING unnest(${unnestArgs(types)}) AS u(${columns.join(',')}) WHERE ${match}`),
      values: transpose(rows, columns.length),
    });
  }
  async updateMany(
    table: string,
    keyColumns: readonly string[],
    setColumns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ) {
    if (rows.length === 0) return;
    const columns = [...keyColumns, ...setColumns];
    const set = setColumns.map((c) => `${c} = u.${c}`).join(', ');
    const match = keyColumns.map((c) => `${table}.${c} = u.${c}`).join(' AND ');
    await this.q.query({
      ...namedPg(
        `UPDATE ${table} SET ${set} FROM unnest(${unnestArgs(types)}) AS u(${columns.join(',')}) WHERE ${match}`,
      ),
      values: transpose(rows, columns.length),
    });
  }
  async nextResourceIds(n: number): Promise<number[]> {
    const r = await this.q.query(RESERVE_RIDS, [n]);
    return r.rows.map((row: { rid: number | string }) => Number(row.rid));
  }
  async lock(key: string): Promise<void> {
    await this.q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  }
  async lockMany(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    if (keys.length === 1) return this.lock(keys[0]!);
    // WITH ORDINALITY and ORDER BY: the locks are taken in the caller's order.
    await this.q.query(
      'SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT k FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n) ORDER BY n OFFSET 0) s',
      [keys],
    );
  }
}

/** Longest text parameter that {@link withLiterals} writes into a statement. */
const MAX_LITERAL = 4096;

/**
 * The statement with its parameters written in as literals, for a simple query sent together with
 * BEGIN; `undefined` when that is not plainly safe: a parameter that is not a number, string,
 * boolean or null (arrays, Buffers: pg's own conversion), a long or NUL-containing string, or
 * statement text that has quotes, dollar quotes or semicolons of its own. Each value becomes the
 * text pg would send for it as a parameter, as an untyped quoted literal (`'42'`, `E'it''s'`), so
 * the server resolves its type from the context as it does for an untyped parameter. Every
 * backslash and quote is escaped (`E''` form: safe whatever `standard_conforming_strings` is).
 */
export function withLiterals(text: string, values: readonly unknown[]): string | undefined {
  if (/['$;]/.test(text.replace(/\$\d+/g, ''))) return undefined;
  const literals: string[] = [];
  for (const v of values) {
    if (v === null || v === undefined) literals.push('NULL');
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return undefined;
      literals.push(`'${String(v)}'`);
    } else if (typeof v === 'bigint' || typeof v === 'boolean') literals.push(`'${String(v)}'`);
    else if (typeof v === 'string') {
      if (v.length > MAX_LITERAL || v.includes('\0')) return undefined;
      literals.push(`E'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`);
    } else return undefined;
  }
  let ok = true;
  const out = text.replace(/\$(\d+)/g, (_, n: string) => {
    const lit = literals[Number(n) - 1];
    if (lit === undefined) ok = false;
    return lit ?? '';
  });
  return ok ? out : undefined;
}

/**
 * A transaction's executor. BEGIN is sent with the transaction's first statement, in one simple
 * query, one round trip: a reservation of row ids (every create starts with one), or any statement
 * whose parameters can be written in as literals ({@link withLiterals}: an outbox consumer's
 * position, a queue row's id). Otherwise BEGIN goes on its own first. A transaction that sent
 * nothing needs neither BEGIN nor COMMIT.
 */
class PgTxExecutor extends PgExecutor {
  private readonly state: { begun: boolean };
  private readonly client: pg.PoolClient;
  constructor(client: pg.PoolClient) {
    const state = { begun: false };
    super({
      query: async (text: string | pg.QueryConfig, values?: unknown[]) => {
        if (!state.begun) {
          state.begun = true;
          const inline =
            typeof text === 'string' ? withLiterals(text, values ?? []) : withLiterals(text.text, text.values ?? []);
          if (inline !== undefined) {
            // Simple query protocol: BEGIN and the statement, two results, one round trip.
            const results = (await client.query(`BEGIN; ${inline}`)) as unknown as pg.QueryResult[];
            return results[1]!;
          }
          await client.query('BEGIN');
        }
        return client.query(text, values);
      },
    });
    this.state = state;
    this.client = client;
  }
  /** Whether BEGIN was sent (then COMMIT or ROLLBACK must follow). */
  get begun(): boolean {
    return this.state.begun;
  }
  /** `COPY … FROM STDIN` on the transaction's connection (after BEGIN, if none was sent yet). */
  protected override async copyRows(
    table: string,
    columns: readonly string[],
    _types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void> {
    const data = Buffer.from(copyText(rows, columns.length), 'utf8');
    if (!this.state.begun) {
      this.state.begun = true;
      await this.client.query('BEGIN');
    }
    await new Promise<void>((resolve, reject) => {
      this.client.query(
        new CopyFromStdin(`COPY ${table} (${columns.join(',')}) FROM STDIN`, data, (err) =>
          err ? reject(err) : resolve(),
        ) as unknown as pg.QueryConfig,
      );
    });
  }
  override async nextResourceIds(n: number): Promise<number[]> {
    if (this.state.begun) return super.nextResourceIds(n);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`cannot reserve ${n} row ids`);
    this.state.begun = true;
    // Simple query protocol (no parameters): two statements, two results, one round trip.
    const results = (await this.client.query(
      `BEGIN; ${RESERVE_RIDS.replace('$1', String(n))}`,
    )) as unknown as pg.QueryResult[];
    return results[1]!.rows.map((row: { rid: number | string }) => Number(row.rid));
  }
}

class PgDialect extends PgExecutor implements Dialect {
  readonly caps: DialectCapabilities = {
    name: 'postgres',
    ilike: 'ILIKE',
    serialPk: 'BIGSERIAL PRIMARY KEY',
    textType: 'TEXT',
    withoutRowid: '',
    json: compressedJson,
  };
  private readonly pool: pg.Pool;
  private readonly schema: string | undefined;
  private readonly makeGenericPool: () => pg.Pool;
  private genericPool: pg.Pool | undefined;
  private generic: PgExecutor | undefined;

  constructor(pool: pg.Pool, schema: string | undefined, makeGenericPool: () => pg.Pool) {
    super(pool);
    this.pool = pool;
    this.schema = schema;
    this.makeGenericPool = makeGenericPool;
  }

  /**
   * {@link QueryOptions.genericPlan} statements go to a small pool of their own whose sessions use
   * `plan_cache_mode = force_generic_plan` (opened on first use): PostgreSQL cannot be told per
   * statement, and a SET around each one would cost two more round trips.
   */
  override async all<T>(sql: string, params: readonly unknown[] = [], opts?: QueryOptions): Promise<T[]> {
    if (!opts?.genericPlan) return super.all<T>(sql, params);
    if (!this.generic) {
      this.genericPool = this.makeGenericPool();
      this.generic = new PgExecutor(this.genericPool);
    }
    return this.generic.all<T>(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx = new PgTxExecutor(client);
    try {
      const result = await fn(tx);
      if (tx.begun) await client.query('COMMIT');
      return result;
    } catch (err) {
      if (tx.begun) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** One `unnest` statement on a pooled connection: the work is the server's, not this thread's. */
  insertManyDetached(
    table: string,
    columns: readonly string[],
    types: readonly ColumnType[],
    rows: readonly unknown[][],
  ): Promise<void> {
    return this.insertMany(table, columns, types, rows, { append: true });
  }

  async execScript(sql: string): Promise<void> {
    await this.transaction(async (tx) => {
      await (tx as PgExecutor).run(sql);
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async sizeBytes(): Promise<number> {
    const r = await this.pool.query(
      `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = $1`,
      [this.schema ?? 'public'],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.genericPool?.end()]);
  }
}

/**
 * What a dxhub PostgreSQL URL says: dxhub's own query parameters `schema` (the search path, for
 * tests' isolated schemas) and `pool` (pool size, default 10) taken out, the rest for `pg`.
 */
export function postgresConnection(url: string): {
  readonly connectionString: string;
  readonly options: string | undefined;
  readonly schema: string | undefined;
  readonly poolSize: number;
} {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  const poolSize = Number(u.searchParams.get('pool') ?? 10);
  u.searchParams.delete('schema');
  u.searchParams.delete('pool');
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name '${schema}'`);
  return {
    connectionString: u.toString(),
    options: schema ? `-c search_path=${schema}` : undefined,
    schema,
    poolSize,
  };
}

/**
 * Opens a PostgreSQL pool. A `schema` query parameter (dxhub's own, removed before connecting)
 * selects and creates a schema: tests use it to isolate their data.
 */
export async function openPostgres(url: string): Promise<Dialect> {
  const { schema, poolSize, ...connection } = postgresConnection(url);
  const types = {
    // BIGINT columns (rids, times in ms) fit in a double; return numbers, not strings.
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ ...connection, max: poolSize, types });
  pool.on('error', () => undefined);
  if (schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  const makeGenericPool = () => {
    const options = [connection.options, '-c plan_cache_mode=force_generic_plan'].filter(Boolean).join(' ');
    const generic = new pg.Pool({ ...connection, options, max: GENERIC_POOL_SIZE, types });
    generic.on('error', () => undefined);
    return generic;
  };
  return new PgDialect(pool, schema, makeGenericPool);
}

/** Connections for {@link QueryOptions.genericPlan} statements (short look-ups, off the write path). */
const GENERIC_POOL_SIZE = 2;
