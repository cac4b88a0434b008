import { allResourceTypes } from '../core/fhir/definitions.ts';
import { Errors } from '../core/fhir/errors.ts';
import { normaliseIdentifierValue } from '../core/fhir/identifier-normalisation.ts';
import { type IndexRows, indexRows, patientCompartmentParams, patientKey } from '../core/fhir/index-rows.ts';
import { newResourceId } from '../core/fhir/resource-id.ts';
import { searchParams } from '../core/fhir/search-parameters.ts';
import type { SearchRequest } from '../core/fhir/search-request.ts';
import type { ColumnType, Dialect, QueryOptions, SqlExecutor, TableRows } from './dialect/dialect.ts';
import { IndexWriter } from './index-writer.ts';
import { migrate } from './migrations/index.ts';
import { paddedKeys, placeholders } from './multi-row.ts';
import { compileCount, compileEach, compileSearch } from './search-sql.ts';

/** A FHIR resource as JSON. */
export type Resource = { resourceType: string; id?: string; meta?: Record<string, unknown> } & Record<string, unknown>;

/** What a write did: the stored JSON text and whether a new resource was created. */
export interface WriteResult {
  readonly type: string;
  readonly id: string;
  readonly version: number;
  readonly lastUpdated: number;
  /** JSON text of the stored version (undefined for a delete). */
  readonly json: string | undefined;
  readonly created: boolean;
  /** True when an update changed nothing and no version was written. */
  readonly unchanged: boolean;
}

/** One version read from the store. */
export interface StoredVersion {
  readonly type: string;
  readonly id: string;
  readonly version: number;
  readonly lastUpdated: number;
  readonly deleted: boolean;
  readonly json: string | undefined;
  /**
   * The stored patient key (the first Patient of the R4 Patient compartment, `null` for none);
   * only on current versions read with {@link FhirRepository.read}.
   */
  readonly patient?: string | null;
}

/** A history entry: the version plus the interaction that produced it. */
export interface HistoryEntry extends StoredVersion {
  readonly interaction: 'create' | 'update' | 'delete';
  readonly seq: number;
}

/** The page of a search. */
export interface SearchPage {
  readonly matches: { rid: number; json: string }[];
  readonly hasNext: boolean;
  readonly total: number | undefined;
  readonly snapshot: number;
}

/** Store options that a deployment configures. */
export interface RepositoryOptions {
  /** Identifier systems whose values name one resource of a type only, e.g. `{ Patient: [CPR] }`. */
  uniqueIdentifiers?: Readonly<Record<string, readonly string[]>>;
}

/** A clock, injected so that tests can control time. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Index layout version: bump when extraction changes so that `reindex` runs at start-up. */
export const INDEX_VERSION = '4';

interface CurrentRow {
  rid: number;
  version: number;
  deleted: number;
  /** As stored (see JsonCodec); decode with {@link FhirRepository.text}. */
  content: unknown;
  last_updated: number;
  patient: string | null;
}

/**
 * A unit of work: every write in one database transaction, its index rows and outbox events
 * written at the end, before commit. Obtain one from {@link FhirRepository.transaction}.
 */
/**
 * Sees every write of a transaction: access control checks the old and new content before the
 * row is written, and appends its audit entries in the same transaction before it commits. A
 * throw from any hook rolls the whole transaction back.
 */
export interface WriteInterceptor {
  /** Before `type/id` changes; `next` is undefined for a delete, `current` for a create. */
  beforeWrite(w: WriteContext, type: string, next: Resource | undefined, current: Resource | undefined): Promise<void>;
  /** After a version was written (not for no-op updates). */
  afterWrite(w: WriteContext, result: WriteResult, next: Resource | undefined, current: Resource | undefined): void;
  /** Last step inside the transaction, after every row and before the outbox lock. */
  beforeCommit(w: WriteContext): Promise<void>;
  /** After the transaction committed. */
  afterCommit?(): void;
}

/**
 * One resource version written by a committed transaction of a {@link FhirRepository}: what
 * in-process caches learn through {@link FhirRepository.onCommit} without reading the outbox.
 */
export interface CommittedChange {
  readonly type: string;
  readonly id: string;
  readonly version: number;
  /** The patient key stored with the version (`resource.patient`); for a delete, the last one. */
  readonly patient: string | null;
}

export class WriteContext {
  readonly tx: SqlExecutor;
  readonly index: IndexWriter;
  /** Set by {@link FhirRepository.transaction}'s caller to see every write. */
  interceptor: WriteInterceptor | undefined;
  /** Outbox rows; type and id are the resource row's (joined on rid when read). */
  readonly events: [rid: number, version: number, interaction: string, at: number][] = [];
  /** The versions behind `events`, as commit listeners receive them. */
  readonly changes: CommittedChange[] = [];
  /** New resources, inserted together at the end (one statement on PostgreSQL). */
  readonly created: [
    rid: number,
    type: string,
    id: string,
    version: number,
    at: number,
    deleted: number,
    patient: string | null,
    content: unknown,
  ][] = [];
  /** Rows of other tables to insert with the last flush before the commit (with the outbox events). */
  readonly atCommit: TableRows[] = [];
  private rids: number[] = [];
  constructor(tx: SqlExecutor, index: IndexWriter) {
    this.tx = tx;
    this.index = index;
  }

  /** A new resource row id, reserved in chunks. */
  async nextRid(): Promise<number> {
    if (this.rids.length === 0) this.rids = await this.tx.nextResourceIds(16);
    return this.rids.shift()!;
  }

  /** Makes sure `n` row ids are reserved, with one statement (a batch about to create `n` resources). */
  async reserveRids(n: number): Promise<void> {
    if (this.rids.length < n) this.rids.push(...(await this.tx.nextResourceIds(n - this.rids.length)));
  }

  /**
   * Writes buffered new resources and index rows, so that reads in this transaction see them; with
   * `extra` rows for other tables in the same statement (PostgreSQL: one round trip for all).
   */
  async flush(
    extra: readonly TableRows[] = [],
    last?: { readonly rows: readonly TableRows[]; readonly lockFirst: string },
  ): Promise<void> {
    const created = this.created.splice(0);
    const resources = created.length
      ? [{ table: 'resource', columns: RESOURCE_COLUMNS, types: RESOURCE_TYPES, rows: created }]
      : [];
    await this.index.flush(this.tx, [...resources, ...extra], last);
  }

  /** Rows the next {@link flush} inserts: new resources and queued index rows. */
  get pendingRows(): number {
    return this.created.length + this.index.queuedRows;
  }
}

/**
 * Most rows (resources, index rows and rows queued for the commit) that a transaction's last
 * statement writes together with its outbox rows under the outbox lock ({@link FhirRepository}'s
 * `finish`). Larger writes insert their rows first and take the lock in a statement of its own, so
 * that every other writer does not wait while thousands of index rows are written.
 */
const SMALL_WRITE_ROWS = 256;

/** The advisory lock that orders outbox appends by commit (held from the append to the commit). */
const OUTBOX_LOCK = 'dxhub:outbox';

const OUTBOX_COLUMNS = ['rid', 'version', 'interaction', 'at'];
const OUTBOX_TYPES: ColumnType[] = ['bigint', 'int', 'text', 'bigint'];
const RESOURCE_COLUMNS = ['rid', 'type', 'id', 'version', 'last_updated', 'deleted', 'patient', 'content'];
const RESOURCE_TYPES: ColumnType[] = ['bigint', 'text', 'text', 'int', 'bigint', 'int', 'text', 'json'];

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** One write of {@link FhirRepository.putMany}. */
export interface PutManyItem {
  readonly resource: Resource;
  /** Expected current version (412 when stale). */
  readonly ifMatch?: number;
  /** Skip (result undefined) when the resource exists and is not deleted. */
  readonly ifAbsent?: boolean;
  /** The id was just made by the server for this write: no lock, no lookup (as `put`'s `fresh`). */
  readonly fresh?: boolean;
}

/** A version computed by `nextVersion`, not yet written; `rid`, `history` and `update` for an update. */
interface Written {
  readonly type: string;
  readonly id: string;
  readonly version: number;
  readonly now: number;
  readonly stored: Resource;
  readonly json: string;
  readonly rows: IndexRows;
  readonly curResource: Resource | undefined;
  readonly created: boolean;
  readonly patient: string | null;
  readonly content: unknown;
  readonly rid?: number;
  /** The current row as a `resource_history` row (rid, version, last_updated, deleted, content). */
  readonly history?: unknown[];
}

/**
 * The FHIR repository: versioned resources, search and the outbox, on any {@link Dialect}.
 * All methods take plain data; nothing here knows HTTP.
 */
export class FhirRepository {
  readonly db: Dialect;
  readonly clock: Clock;
  /**
   * Fault injection for crash tests only (DXHUB_TEST_PAUSE_BEFORE_COMMIT_MS): waits this long
   * after all rows of a transaction are written and before it commits.
   */
  pauseBeforeCommitMs = 0;
  /** Receives store timings (operation, seconds), e.g. for Prometheus. */
  observe: ((operation: string, seconds: number) => void) | undefined;
  private pids = new Map<string, number>();
  private readonly commitListeners = new Set<(changes: readonly CommittedChange[]) => void>();
  private uniqueIdentifiers: Readonly<Record<string, readonly string[]>> = {};

  private constructor(db: Dialect, clock: Clock) {
    this.db = db;
    this.clock = clock;
  }

  /** Migrates the database, registers search parameters and rebuilds the index if its layout changed. */
  static async open(db: Dialect, clock: Clock = systemClock, options: RepositoryOptions = {}): Promise<FhirRepository> {
    await migrate(db);
    const repo = new FhirRepository(db, clock);
    repo.uniqueIdentifiers = options.uniqueIdentifiers ?? {};
    await repo.registerSearchParams();
    const meta = await db.all<{ value: string }>("SELECT value FROM store_meta WHERE key = 'index_version'");
    if (meta[0]?.value !== INDEX_VERSION) {
      await repo.reindex();
      await db.transaction(async (tx) => {
        await tx.run("DELETE FROM store_meta WHERE key = 'index_version'");
        await tx.run("INSERT INTO store_meta (key, value) VALUES ('index_version', ?)", [INDEX_VERSION]);
      });
    }
    return repo;
  }

  private async registerSearchParams(): Promise<void> {
    const wanted: [string, string][] = [];
    for (const type of allResourceTypes()) {
      for (const def of searchParams(type).values()) {
        wanted.push([type, def.code]);
        if (def.type === 'token') wanted.push([type, `${def.code}:text`]);
        if (def.type === 'reference') wanted.push([type, `${def.code}:identifier`]);
      }
    }
    const load = async () => {
      const rows = await this.db.all<{ pid: number; type: string; code: string }>(
        'SELECT pid, type, code FROM search_param',
      );
      this.pids = new Map(rows.map((r) => [`${r.type}.${r.code}`, Number(r.pid)]));
    };
    await load();
    const missing = wanted.filter(([t, c]) => !this.pids.has(`${t}.${c}`));
    if (missing.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx.lock('dxhub:search_param');
      const max = await tx.all<{ m: number | null }>('SELECT MAX(pid) AS m FROM search_param');
      let next = Number(max[0]?.m ?? 0) + 1;
      const rows = missing.map(([t, c]) => [next++, t, c]);
      await tx.insertMany('search_param', ['pid', 'type', 'code'], ['int', 'text', 'text'], rows);
    });
    await load();
  }

  /** Resource JSON from its stored form (text on SQLite, compressed on PostgreSQL). */
  private text(stored: unknown): string | undefined {
    return stored === null || stored === undefined ? undefined : this.db.caps.json.decode(stored);
  }

  /** The numeric id of a search parameter (or derived index) of a type; -1 when unknown. */
  readonly pid = (type: string, code: string): number => this.pids.get(`${type}.${code}`) ?? -1;

  /**
   * Calls `listener` with the versions of every transaction of this repository that wrote any,
   * right after its commit and before the transaction's caller resumes: whoever learns of a
   * commit (its caller, and anyone the caller tells) learns of it after the listeners did. Writes
   * of other processes (or other repositories on the same database) are not reported; read the
   * outbox for those. A listener must not throw (a throw is swallowed: the write is committed).
   * Returns the unsubscribe function.
   */
  onCommit(listener: (changes: readonly CommittedChange[]) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Runs `fn` as one atomic unit of work. */
  async transaction<T>(fn: (w: WriteContext) => Promise<T>, interceptor?: WriteInterceptor): Promise<T> {
    const t0 = performance.now();
    try {
      // The attempt that committed (a dialect may run `fn` again after a serialisation failure).
      let committed: WriteContext | undefined;
      const out = await this.db.transaction(async (tx) => {
        const w = new WriteContext(tx, new IndexWriter(this.pid));
        committed = w;
        w.interceptor = interceptor;
        const result = await fn(w);
        await w.interceptor?.beforeCommit(w);
        await this.finish(w);
        if (this.pauseBeforeCommitMs > 0) await new Promise((r) => setTimeout(r, this.pauseBeforeCommitMs));
        return result;
      });
      const changes = (committed as WriteContext | undefined)?.changes;
      if (changes && changes.length > 0) {
        for (const l of this.commitListeners) {
          try {
            l(changes);
          } catch {
            // The transaction is committed; a listener's failure must not turn it into an error.
          }
        }
      }
      interceptor?.afterCommit?.();
      return out;
    } finally {
      this.observe?.('transaction', (performance.now() - t0) / 1000);
    }
  }

  /**
   * Flushes resources and index rows (with the rows queued for the commit), then appends the
   * outbox events under a lock held to the commit, so that sequence order equals commit order
   * (PostgreSQL; outbox.ts). The lock and the append are one statement, after the bulk of the
   * rows: a batch's thousands of index rows are not written while every other writer waits. A
   * small write ({@link SMALL_WRITE_ROWS}) sends all of it in that one statement.
   */
  private async finish(w: WriteContext): Promise<void> {
    const atCommit = w.atCommit.splice(0);
    // The outbox's sequence numbers come from its serial column: appended, without ON CONFLICT (the
    // statement holds the outbox lock that every writer waits for; no speculative insertion).
    const outbox = { table: 'outbox', columns: OUTBOX_COLUMNS, types: OUTBOX_TYPES, rows: w.events, append: true };
    if (w.events.length > 0 && w.pendingRows + atCommit.reduce((n, p) => n + p.rows.length, 0) <= SMALL_WRITE_ROWS) {
      // A small write (a single create or update): its rows and the outbox rows in one statement,
      // the lock taken first in it. One round trip less per write on PostgreSQL; the lock is held
      // for the few extra rows' insertion only.
      await w.flush(atCommit, { rows: [outbox], lockFirst: OUTBOX_LOCK });
      return;
    }
    await w.flush(atCommit);
    if (w.events.length === 0) return;
    await w.tx.insertAll([outbox], { lockFirst: OUTBOX_LOCK });
  }

  private async current(tx: SqlExecutor | WriteContext, type: string, id: string): Promise<CurrentRow | undefined> {
    if (tx instanceof WriteContext) {
      await tx.flush();
      tx = tx.tx;
    }
    const rows = await tx.all<CurrentRow>(
      'SELECT rid, version, deleted, content, last_updated, patient FROM resource WHERE type = ? AND id = ?',
      [type, id],
    );
    return rows[0];
  }

  /**
   * Writes a new version of `type/id` (create when absent). `ifMatch` is the expected current
   * version (412 when stale). An update that changes nothing returns the current version.
   */
  async put(
    w: WriteContext,
    resource: Resource,
    opts: { ifMatch?: number; fresh?: boolean } = {},
  ): Promise<WriteResult> {
    const type = resource.resourceType;
    // A server-assigned UUID cannot exist yet: no lock and no lookup needed.
    const fresh = opts.fresh === true || resource.id === undefined;
    const id = fresh && resource.id === undefined ? newResourceId() : resource.id!;
    if (!ID_RE.test(id)) throw Errors.invalidId(id);
    let cur: CurrentRow | undefined;
    if (!fresh) {
      await w.tx.lock(`${type}/${id}`);
      cur = await this.current(w, type, id);
    }
    const v = await this.nextVersion(w, type, id, resource, cur, opts.ifMatch);
    if ('unchanged' in v) return v.unchanged;
    if (v.history) {
      await w.tx.run(
        'INSERT INTO resource_history (rid, version, last_updated, deleted, content) VALUES (?, ?, ?, ?, ?)',
        v.history,
      );
      await w.tx.run(
        'UPDATE resource SET version = ?, last_updated = ?, deleted = 0, patient = ?, content = ? WHERE rid = ?',
        [v.version, v.now, v.patient, v.content, v.rid],
      );
    }
    return this.afterVersion(w, v);
  }

  /**
   * Writes many resources as {@link put} would one after another, with a few statements for all
   * of them: one lock statement and one read of the current rows per round of distinct
   * resources, then the history rows and the updates as one multi-row statement each (the index
   * rows and new resources are written together anyway). An item with `ifAbsent` is skipped
   * (result undefined) when its resource exists and is not deleted. A stale `ifMatch` throws
   * before anything of the round is written. An item marked `fresh` has a server-assigned id
   * made for this write (as {@link put}'s `fresh`): it is neither locked nor looked up. With an
   * interceptor the items go through {@link put} one by one, so that each hook sees the writes
   * before it.
   */
  async putMany(w: WriteContext, items: readonly PutManyItem[]): Promise<(WriteResult | undefined)[]> {
    const out: (WriteResult | undefined)[] = [];
    if (w.interceptor) {
      for (const x of items) {
        if (x.ifAbsent && x.resource.id) {
          const cur = await this.read(x.resource.resourceType, x.resource.id, w);
          if (cur && !cur.deleted) {
            out.push(undefined);
            continue;
          }
        }
        out.push(
          await this.put(w, x.resource, {
            ...(x.ifMatch === undefined ? {} : { ifMatch: x.ifMatch }),
            ...(x.fresh ? { fresh: true } : {}),
          }),
        );
      }
      return out;
    }
    // Rounds of distinct resources: a resource written twice sees its first write in the next round.
    let start = 0;
    while (start < items.length) {
      const seen = new Set<string>();
      let end = start;
      for (; end < items.length; end++) {
        const r = items[end]!.resource;
        if (r.id === undefined) continue;
        const key = `${r.resourceType}/${r.id}`;
        if (seen.has(key)) break;
        seen.add(key);
      }
      out.push(...(await this.putRound(w, items.slice(start, end), seen)));
      start = end;
    }
    return out;
  }

  private async putRound(
    w: WriteContext,
    items: readonly PutManyItem[],
    keys: ReadonlySet<string>,
  ): Promise<(WriteResult | undefined)[]> {
    const fresh = new Set<string>();
    for (const x of items) {
      if (x.resource.id !== undefined && !ID_RE.test(x.resource.id)) throw Errors.invalidId(x.resource.id);
      if (x.fresh && x.resource.id !== undefined) fresh.add(`${x.resource.resourceType}/${x.resource.id}`);
    }
    // Sorted: two batch writers lock shared resources in the same order.
    await w.tx.lockMany([...keys].filter((k) => !fresh.has(k)).sort());
    await w.flush();
    const byType = new Map<string, string[]>();
    for (const x of items) {
      const { resourceType: type, id } = x.resource;
      if (id === undefined || x.fresh) continue;
      const ids = byType.get(type) ?? [];
      ids.push(id);
      byType.set(type, ids);
    }
    const current = new Map<string, CurrentRow>();
    for (const [type, ids] of byType) {
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = paddedKeys(ids.slice(i, i + 500));
        const rows = await w.tx.all<CurrentRow & { id: string }>(
          `SELECT rid, id, version, deleted, content, last_updated, patient FROM resource WHERE type = ? AND id IN (${placeholders(chunk.length)})`,
          [type, ...chunk],
        );
        for (const r of rows) current.set(`${type}/${r.id}`, r);
      }
    }
    const versions: (Written | { unchanged: WriteResult } | undefined)[] = [];
    for (const x of items) {
      const type = x.resource.resourceType;
      const id = x.resource.id ?? newResourceId();
      const cur = current.get(`${type}/${id}`);
      if (x.ifAbsent && cur && !cur.deleted) versions.push(undefined);
      else versions.push(await this.nextVersion(w, type, id, x.resource, cur, x.ifMatch));
    }
    const written = versions.filter((v): v is Written => v !== undefined && !('unchanged' in v));
    const updates = written.filter((v) => v.history !== undefined);
    await w.tx.insertMany(
      'resource_history',
      ['rid', 'version', 'last_updated', 'deleted', 'content'],
      ['bigint', 'int', 'bigint', 'int', 'json'],
      updates.map((v) => v.history!),
    );
    await w.tx.updateMany(
      'resource',
      ['rid'],
      ['version', 'last_updated', 'deleted', 'patient', 'content'],
      ['bigint', 'int', 'bigint', 'int', 'text', 'json'],
      updates.map((v) => [v.rid, v.version, v.now, 0, v.patient, v.content]),
    );
    // Row ids of the new resources in one statement, not one per 16.
    await w.reserveRids(written.length - updates.length);
    const out: (WriteResult | undefined)[] = [];
    for (const v of versions) {
      if (v === undefined) out.push(undefined);
      else if ('unchanged' in v) out.push(v.unchanged);
      else out.push(await this.afterVersion(w, v));
    }
    return out;
  }

  /**
   * The new version of `type/id` over its current row, in memory: the version check, the
   * interceptor's `beforeWrite`, the no-op check, the stored JSON and its index rows; for an
   * update also the history row and the update to write.
   */
  private async nextVersion(
    w: WriteContext,
    type: string,
    id: string,
    resource: Resource,
    cur: CurrentRow | undefined,
    ifMatch: number | undefined,
  ): Promise<Written | { unchanged: WriteResult }> {
    if (!ID_RE.test(id)) throw Errors.invalidId(id);
    if (ifMatch !== undefined && (cur?.version ?? 0) !== ifMatch) {
      throw Errors.versionConflict(String(ifMatch), cur?.version ?? 0);
    }
    const curJson = cur && !cur.deleted ? this.text(cur.content) : undefined;
    // Parsed once: for the no-op check and for the index rows the update replaces.
    const curResource = curJson ? (JSON.parse(curJson) as Resource) : undefined;
    await w.interceptor?.beforeWrite(w, type, { ...resource, resourceType: type, id }, curResource);
    if (cur && curJson && curResource && sameContent(curResource, resource)) {
      return {
        unchanged: {
          type,
          id,
          version: cur.version,
          lastUpdated: Number(cur.last_updated),
          json: curJson,
          created: false,
          unchanged: true,
        },
      };
    }
    const version = (cur?.version ?? 0) + 1;
    const now = this.clock.now();
    const meta = { ...(resource.meta ?? {}), versionId: String(version), lastUpdated: new Date(now).toISOString() };
    // resourceType, id and meta first, as FHIR JSON customarily does (the search Bundle relies on it).
    const stored: Resource = { resourceType: type, id, meta, ...withoutKeys(resource) };
    const json = JSON.stringify(stored);
    const rows = indexRows(stored);
    const patient = patientKey(stored, rows) ?? null;
    const content = this.db.caps.json.encode(json);
    const base = { type, id, version, now, stored, json, rows, curResource, patient, content };
    if (!cur) return { ...base, created: true };
    const rid = Number(cur.rid);
    return {
      ...base,
      created: cur.deleted === 1,
      rid,
      history: [rid, cur.version, cur.last_updated, cur.deleted, cur.content],
    };
  }

  /** Queues the index rows and the outbox event of a written version (a new one is buffered here). */
  private async afterVersion(w: WriteContext, v: Written): Promise<WriteResult> {
    let rid: number;
    if (v.rid !== undefined) {
      rid = v.rid;
      w.index.queue(v.type, rid, v.curResource ? indexRows(v.curResource) : undefined, v.rows);
    } else {
      rid = await w.nextRid();
      w.created.push([rid, v.type, v.id, v.version, v.now, 0, v.patient, v.content]);
      w.index.queue(v.type, rid, undefined, v.rows);
    }
    await this.claimIdentifiers(w, v.stored, rid);
    w.events.push([rid, v.version, v.created ? 'create' : 'update', v.now]);
    w.changes.push({ type: v.type, id: v.id, version: v.version, patient: v.patient });
    const result: WriteResult = {
      type: v.type,
      id: v.id,
      version: v.version,
      lastUpdated: v.now,
      json: v.json,
      created: v.created,
      unchanged: false,
    };
    w.interceptor?.afterWrite(w, result, v.stored, v.curResource);
    return result;
  }

  /**
   * Claims the resource's identifiers in the unique systems of its type (`use: old` ones excepted);
   * an identifier held by another resource is a 409. The table's primary key is the constraint, so
   * concurrent writers cannot both claim one value.
   */
  private async claimIdentifiers(w: WriteContext, r: Resource, rid: number): Promise<void> {
    const systems = this.uniqueIdentifiers[r.resourceType];
    if (!systems) return;
    const mine = ((r.identifier as { system?: string; value?: string; use?: string }[] | undefined) ?? [])
      .filter((i) => i.system && i.value && i.use !== 'old' && systems.includes(i.system))
      .map((i) => [i.system!, normaliseIdentifierValue(i.system, i.value!)] as const);
    await w.tx.run('DELETE FROM unique_identifier WHERE rid = ?', [rid]);
    for (const [system, value] of mine) {
      await w.tx.run(
        'INSERT INTO unique_identifier (type, system, value, rid) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [r.resourceType, system, value, rid],
      );
      const owner = await w.tx.all<{ rid: number }>(
        'SELECT rid FROM unique_identifier WHERE type = ? AND system = ? AND value = ?',
        [r.resourceType, system, value],
      );
      if (Number(owner[0]?.rid) !== rid) {
        const other = await w.tx.all<{ id: string }>('SELECT id FROM resource WHERE rid = ?', [owner[0]?.rid]);
        throw Errors.duplicateIdentifier(r.resourceType, system, value, other[0]?.id ?? '?');
      }
    }
  }

  /** Deletes `type/id` by writing a deleted version; deleting what is absent or deleted is a no-op. */
  async delete(
    w: WriteContext,
    type: string,
    id: string,
    opts: { ifMatch?: number } = {},
  ): Promise<WriteResult | undefined> {
    await w.tx.lock(`${type}/${id}`);
    const cur = await this.current(w, type, id);
    if (opts.ifMatch !== undefined && (cur?.version ?? 0) !== opts.ifMatch) {
      throw Errors.versionConflict(String(opts.ifMatch), cur?.version ?? 0);
    }
    if (!cur || cur.deleted) return undefined;
    const curJson = this.text(cur.content);
    const curResource = curJson ? (JSON.parse(curJson) as Resource) : undefined;
    await w.interceptor?.beforeWrite(w, type, undefined, curResource);
    const rid = Number(cur.rid);
    const now = this.clock.now();
    const version = cur.version + 1;
    await w.tx.run(
      'INSERT INTO resource_history (rid, version, last_updated, deleted, content) VALUES (?, ?, ?, ?, ?)',
      [rid, cur.version, cur.last_updated, cur.deleted, cur.content],
    );
    await w.tx.run('UPDATE resource SET version = ?, last_updated = ?, deleted = 1, content = NULL WHERE rid = ?', [
      version,
      now,
      rid,
    ]);
    w.index.queue(type, rid, curResource ? indexRows(curResource) : undefined, undefined);
    if (this.uniqueIdentifiers[type]) await w.tx.run('DELETE FROM unique_identifier WHERE rid = ?', [rid]);
    w.events.push([rid, version, 'delete', now]);
    w.changes.push({ type, id, version, patient: cur.patient });
    const result: WriteResult = {
      type,
      id,
      version,
      lastUpdated: now,
      json: undefined,
      created: false,
      unchanged: false,
    };
    w.interceptor?.afterWrite(w, result, undefined, curResource);
    return result;
  }

  /** The current version of `type/id` (deleted versions included, with `deleted: true`). */
  async read(type: string, id: string, tx: SqlExecutor | WriteContext = this.db): Promise<StoredVersion | undefined> {
    const cur = await this.current(tx, type, id);
    if (!cur) return undefined;
    return {
      type,
      id,
      version: cur.version,
      lastUpdated: Number(cur.last_updated),
      deleted: cur.deleted === 1,
      json: this.text(cur.content),
      patient: cur.patient,
    };
  }

  /** A stored row (current or history) as a {@link StoredVersion}. */
  private storedVersion(
    type: string,
    id: string,
    version: number,
    row: { last_updated: number | string; deleted: number; content: unknown },
  ): StoredVersion {
    return {
      type,
      id,
      version,
      lastUpdated: Number(row.last_updated),
      deleted: row.deleted === 1,
      json: this.text(row.content),
    };
  }

  /** One version of `type/id`. */
  async vread(type: string, id: string, version: number): Promise<StoredVersion | undefined> {
    const cur = await this.current(this.db, type, id);
    if (!cur) return undefined;
    if (cur.version === version) return this.storedVersion(type, id, version, cur);
    const rows = await this.db.all<{ last_updated: number; deleted: number; content: unknown }>(
      'SELECT last_updated, deleted, content FROM resource_history WHERE rid = ? AND version = ?',
      [cur.rid, version],
    );
    const h = rows[0];
    return h ? this.storedVersion(type, id, version, h) : undefined;
  }

  /**
   * Many versions at once (an outbox consumer's batch): the answer at index i is what
   * `vread(keys[i])` answers. A few statements per batch instead of one or two per key: the current
   * rows per type, then the older versions from `resource_history` by (rid, version).
   */
  async vreadMany(
    keys: readonly { readonly type: string; readonly id: string; readonly version: number }[],
  ): Promise<(StoredVersion | undefined)[]> {
    const byType = new Map<string, Set<string>>();
    for (const k of keys) {
      const ids = byType.get(k.type) ?? new Set<string>();
      byType.set(k.type, ids);
      ids.add(k.id);
    }
    const current = new Map<string, CurrentRow>();
    for (const [type, idSet] of byType) {
      const ids = [...idSet];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = paddedKeys(ids.slice(i, i + 500));
        const rows = await this.db.all<CurrentRow & { id: string }>(
          `SELECT id, rid, version, deleted, content, last_updated, patient FROM resource WHERE type = ? AND id IN (${placeholders(chunk.length)})`,
          [type, ...chunk],
        );
        for (const r of rows) current.set(`${type}/${r.id}`, r);
      }
    }
    const out: (StoredVersion | undefined)[] = new Array(keys.length);
    const older: { at: number; rid: number; version: number }[] = [];
    keys.forEach((k, at) => {
      const cur = current.get(`${k.type}/${k.id}`);
      if (!cur) return;
      if (cur.version === k.version) out[at] = this.storedVersion(k.type, k.id, k.version, cur);
      else older.push({ at, rid: Number(cur.rid), version: k.version });
    });
    for (let i = 0; i < older.length; i += 200) {
      const chunk = older.slice(i, i + 200);
      const padded = paddedKeys(chunk);
      const rows = await this.db.all<{
        rid: number | string;
        version: number;
        last_updated: number;
        deleted: number;
        content: unknown;
      }>(
        `SELECT rid, version, last_updated, deleted, content FROM resource_history WHERE ${padded.map(() => '(rid = ? AND version = ?)').join(' OR ')}`,
        padded.flatMap((o) => [o.rid, o.version]),
      );
      const found = new Map(rows.map((h) => [`${Number(h.rid)}:${h.version}`, h]));
      for (const o of chunk) {
        const h = found.get(`${o.rid}:${o.version}`);
        const k = keys[o.at]!;
        if (h) out[o.at] = this.storedVersion(k.type, k.id, k.version, h);
      }
    }
    return out;
  }

  /**
   * History from the outbox (newest first): of one resource, of a type, or of the whole system.
   * `before` is a sequence cursor for paging; `since` a time in ms.
   */
  async history(opts: {
    type?: string;
    id?: string;
    since?: number;
    before?: number;
    count: number;
  }): Promise<HistoryEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.type && opts.id) {
      const cur = await this.current(this.db, opts.type, opts.id);
      if (!cur) return [];
      where.push('o.rid = ?');
      params.push(cur.rid);
    } else if (opts.type) {
      where.push('r.type = ?');
      params.push(opts.type);
    }
    if (opts.since !== undefined) {
      where.push('o.at >= ?');
      params.push(opts.since);
    }
    if (opts.before !== undefined) {
      where.push('o.seq < ?');
      params.push(opts.before);
    }
    params.push(opts.count);
    const rows = await this.db.all<{
      seq: number;
      type: string;
      id: string;
      version: number;
      interaction: string;
      at: number;
      content: unknown;
    }>(
      `SELECT o.seq, r.type, r.id, o.version, o.interaction, o.at,
         CASE WHEN r.version = o.version THEN r.content ELSE h.content END AS content
       FROM outbox o JOIN resource r ON r.rid = o.rid
       LEFT JOIN resource_history h ON h.rid = o.rid AND h.version = o.version
       ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY o.seq DESC LIMIT ?`,
      params,
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      type: r.type,
      id: r.id,
      version: r.version,
      lastUpdated: Number(r.at),
      deleted: r.interaction === 'delete',
      json: this.text(r.content),
      interaction: r.interaction as HistoryEntry['interaction'],
    }));
  }

  /** Runs a parsed search. Inside a transaction pass its executor so that uncommitted writes count. */
  async search(req: SearchRequest, w?: WriteContext): Promise<SearchPage> {
    const t0 = performance.now();
    try {
      return await this.searchPage(req, w);
    } finally {
      this.observe?.('search', (performance.now() - t0) / 1000);
    }
  }

  private async searchPage(req: SearchRequest, w?: WriteContext): Promise<SearchPage> {
    const ex: SqlExecutor = w?.tx ?? this.db;
    if (w) await w.flush();
    let total: number | undefined;
    if (req.total === 'accurate' || req.total === 'estimate' || req.summary === 'count') {
      const c = compileCount(req, this.pid);
      const rows = await ex.all<{ n: number }>(c.text, c.params);
      total = Number(rows[0]?.n ?? 0);
    }
    if (req.summary === 'count' || req.count === 0)
      return { matches: [], hasNext: false, total, snapshot: req.snapshot ?? 0 };
    const sql = compileSearch(req, this.pid);
    const rows = await ex.all<{ rid: number; content: unknown; snap?: number }>(sql.text, sql.params);
    const snapshot = req.snapshot ?? Number(rows[0]?.snap ?? 0);
    const hasNext = rows.length > req.count;
    const matches = rows.slice(0, req.count).map((r) => ({ rid: Number(r.rid), json: this.text(r.content)! }));
    // Without a count query the total is known only when this page holds the last match.
    if (total === undefined && !hasNext && req.total !== 'none' && (matches.length > 0 || req.offset === 0)) {
      total = req.offset + matches.length;
    }
    return { matches, hasNext, total, snapshot };
  }

  /**
   * Every current match of each search (filters only: no sort, paging or count) in one statement,
   * as JSON texts, one list per search. For internal look-ups with few matches whose searches have
   * the same shape on every call (a patient's relations): the statement is planned once
   * ({@link QueryOptions.genericPlan}). Inside a transaction pass its context so that uncommitted
   * writes count.
   */
  async searchEach<const R extends readonly SearchRequest[]>(
    reqs: R,
    w?: WriteContext,
  ): Promise<{ -readonly [K in keyof R]: string[] }> {
    const out = reqs.map((): string[] => []) as { -readonly [K in keyof R]: string[] };
    if (reqs.length === 0) return out;
    const t0 = performance.now();
    try {
      if (w) await w.flush();
      const sql = compileEach(reqs, this.pid);
      // One shape for every call (internal look-ups by key): planned once on PostgreSQL.
      const rows = await (w?.tx ?? this.db).all<{ q: number; content: unknown }>(sql.text, sql.params, {
        genericPlan: true,
      });
      for (const r of rows) (out as string[][])[Number(r.q)]!.push(this.text(r.content)!);
      return out;
    } finally {
      this.observe?.('search', (performance.now() - t0) / 1000);
    }
  }

  /**
   * Every current resource whose patient key is `patientId` (the Patient compartment, R4
   * CompartmentDefinition), the Patient itself excluded. Inside a transaction pass its context.
   */
  async compartment(patientId: string, w?: WriteContext): Promise<{ type: string; id: string; json: string }[]> {
    if (w) await w.flush();
    const pids = this.compartmentPids();
    const rows = await (w?.tx ?? this.db).all<{ type: string; id: string; content: unknown }>(
      `SELECT type, id, content FROM resource WHERE deleted = 0 AND type <> 'Patient' AND rid IN (
         SELECT rid FROM idx_reference WHERE pid IN (${pids.map(() => '?').join(',')}) AND ref_id = ? AND ref_type = 'Patient'
       ) ORDER BY rid`,
      [...pids, patientId],
    );
    return rows.map((r) => ({ type: r.type, id: r.id, json: this.text(r.content)! }));
  }

  private compartmentPidList: number[] | undefined;
  /** Index ids of every reference parameter that puts a resource in a Patient compartment. */
  private compartmentPids(): number[] {
    if (!this.compartmentPidList) {
      const set = new Set<number>();
      for (const type of allResourceTypes()) {
        for (const code of patientCompartmentParams(type)) {
          const def = searchParams(type).get(code);
          for (const c of def?.storedAs?.codes ?? [code]) {
            const pid = this.pid(type, c);
            if (pid >= 0) set.add(pid);
          }
        }
      }
      this.compartmentPidList = [...set].sort((a, b) => a - b);
    }
    return this.compartmentPidList;
  }

  /** Current, non-deleted resources by type and ids (for `_include`). */
  async readMany(type: string, ids: readonly string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = paddedKeys(ids.slice(i, i + 500));
      const rows = await this.db.all<{ content: unknown }>(
        `SELECT content FROM resource WHERE type = ? AND deleted = 0 AND id IN (${placeholders(chunk.length)})`,
        [type, ...chunk],
      );
      for (const r of rows) out.push(this.text(r.content)!);
    }
    return out;
  }

  /** Resources of `type` whose reference parameter `code` points at one of `targets` (for `_revinclude`). */
  async referencing(type: string, code: string, targets: readonly [string, string][]): Promise<string[]> {
    const out: string[] = [];
    const def = searchParams(type).get(code);
    const stored = def?.storedAs ?? { codes: [code], refType: undefined };
    const pids = stored.codes.map((c) => this.pid(type, c));
    for (let i = 0; i < targets.length; i += 200) {
      const chunk = targets.slice(i, i + 200);
      const cond = chunk.map(() => '(ref_id = ? AND ref_type = ?)').join(' OR ');
      const rows = await this.db.all<{ content: unknown }>(
        `SELECT r.content FROM resource r WHERE r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_reference WHERE pid IN (${pids.map(() => '?').join(',')}) AND (${cond}))`,
        [...pids, ...chunk.flatMap(([t, id]) => [id, t])],
      );
      for (const r of rows) out.push(this.text(r.content)!);
    }
    return out;
  }

  /** Rebuilds every index row from the stored resources (after an extraction change). */
  async reindex(onProgress?: (done: number) => void): Promise<number> {
    await this.db.transaction(async (tx) => {
      for (const t of [
        'idx_token',
        'idx_string',
        'idx_date',
        'idx_number',
        'idx_quantity',
        'idx_reference',
        'idx_composite',
      ]) {
        await tx.run(`DELETE FROM ${t}`);
      }
    });
    let last = 0;
    let done = 0;
    for (;;) {
      const batch = await this.db.all<{ rid: number; type: string; content: unknown }>(
        'SELECT rid, type, content FROM resource WHERE rid > ? AND deleted = 0 ORDER BY rid LIMIT 1000',
        [last],
      );
      if (batch.length === 0) break;
      await this.db.transaction(async (tx) => {
        const writer = new IndexWriter(this.pid);
        for (const r of batch)
          writer.queue(r.type, Number(r.rid), undefined, indexRows(JSON.parse(this.text(r.content)!) as Resource));
        await writer.flush(tx);
      });
      last = Number(batch[batch.length - 1]!.rid);
      done += batch.length;
      onProgress?.(done);
    }
    return done;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function withoutKeys(r: Resource): Record<string, unknown> {
  const { resourceType: _t, id: _i, meta: _m, ...rest } = r;
  return rest;
}

/** True when `prev` (stored) equals `next` apart from meta.versionId and meta.lastUpdated. */
function sameContent(prev: Resource, next: Resource): boolean {
  const strip = (r: Resource) => {
    const { versionId: _v, lastUpdated: _l, ...meta } = (r.meta ?? {}) as Record<string, unknown>;
    return JSON.stringify({ ...withoutKeys(r), meta, id: r.id });
  };
  return strip(prev) === strip({ ...next, id: next.id ?? prev.id });
}

export type { IndexRows };
