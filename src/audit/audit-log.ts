import { auditFields, type ChainTail, chainEntries } from '../core/audit/audit-chain.ts';
import type { AuditEntry, AuditFields, AuditRecord } from '../core/audit/audit-entry.ts';
import type { AuditSource } from '../core/audit/audit-event.ts';
import { GENESIS_HASH } from '../core/audit/audit-hash.ts';
import type { ColumnType, Dialect, SqlExecutor } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { type Clock, systemClock } from '../store/repository.ts';
import { installAppendOnlyGuards } from './append-only-guards.ts';
import { insertAuditRecords } from './audit-table.ts';

/** Columns of the spool table: the hashed fields of an entry, as {@link AuditFields}. */
const SPOOL_COLUMNS = [
  'at',
  'patient',
  'agent',
  'organisation',
  'role',
  'action',
  'outcome',
  'purpose',
  'source_ip',
  'event',
] as const;
const SPOOL_TYPES: ColumnType[] = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text'];

/** The advisory lock that serialises appenders across processes (PostgreSQL; SQLite has one writer). */
export const AUDIT_LOCK = 'dxhub:audit';

export interface AuditLogOptions {
  readonly clock?: Clock;
  /** This instance as the AuditEvent's `source` and server agent. */
  readonly source?: AuditSource;
  /** Most `record` entries committed in one transaction (default 2048). */
  readonly maxBatch?: number;
  /**
   * A separate database that {@link AuditLog.record} commits read audits to first (SQLite). They
   * are moved into the chain in large batches ({@link AuditLog.drainSpool}), so that reads, which
   * are most requests, do not make the main database commit several hundred times a second: on
   * SQLite every commit empties the page cache of the reading connection.
   */
  readonly spool?: Dialect;
  /** How often spooled entries move into the chain (ms, default 250). */
  readonly drainIntervalMs?: number;
}

interface Pending {
  readonly fields: AuditFields;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * The append-only, hash-chained audit log. Writes audit entries either inside the caller's write
 * transaction ({@link appendInTx}: the change and its audit commit together) or, for reads,
 * through {@link record}: entries arriving close together share one transaction, and each promise
 * resolves only after that transaction committed, so a read is answered only once its audit entry
 * is durable.
 *
 * Every append takes {@link AUDIT_LOCK} and reads the chain's tail inside the transaction, so
 * concurrent appenders (other transactions, other processes) never fork the chain. The tail is
 * deliberately not cached: an `appendInTx` whose transaction later rolls back (on SQLite, a
 * SAVEPOINT rolled back inside a group commit) would leave a cached tail pointing at an entry that
 * never existed. The read is one primary-key lookup per transaction, not per entry.
 */
export class AuditLog {
  readonly db: Dialect;
  private readonly clock: Clock;
  private readonly source: AuditSource;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private readonly spool: Dialect | undefined;
  private spoolBatch: Pending[] = [];
  private readonly spooling = new Set<Promise<void>>();
  private spoolKey = '';
  private draining: Promise<void> | undefined;
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(db: Dialect, options: AuditLogOptions = {}) {
    this.db = db;
    this.clock = options.clock ?? systemClock;
    this.source = options.source ?? { observer: 'dxhub' };
    this.maxBatch = options.maxBatch ?? 2048;
    this.spool = options.spool;
    if (this.spool) {
      this.drainTimer = setInterval(() => void this.drainSpool().catch(() => {}), options.drainIntervalMs ?? 250);
      this.drainTimer.unref();
    }
  }

  /**
   * Migrates the database (idempotent), ensures the append-only triggers and returns the log. With
   * a spool, entries a previous process spooled but did not move yet are moved first.
   */
  static async open(db: Dialect, options?: AuditLogOptions): Promise<AuditLog> {
    await migrate(db);
    await installAppendOnlyGuards(db);
    const log = new AuditLog(db, options);
    if (log.spool) {
      await log.spool.run(
        `CREATE TABLE IF NOT EXISTS audit_spool (id INTEGER PRIMARY KEY AUTOINCREMENT, ${SPOOL_COLUMNS.map((c) => `${c} ${c === 'at' ? 'INTEGER NOT NULL' : 'TEXT'}`).join(', ')})`,
      );
      await log.spool.run('CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
      // The spool's identity: a new spool file never continues an old one's positions.
      await log.spool.run("INSERT INTO spool_meta (key, value) VALUES ('id', ?) ON CONFLICT DO NOTHING", [
        crypto.randomUUID(),
      ]);
      const id = await log.spool.all<{ value: string }>("SELECT value FROM spool_meta WHERE key = 'id'");
      log.spoolKey = `audit_spool:${id[0]!.value}`;
      await log.drainSpool();
    }
    return log;
  }

  /** Stops the spool timer and moves what is left into the chain. */
  async close(): Promise<void> {
    if (this.drainTimer) clearInterval(this.drainTimer);
    await this.flushed();
  }

  /**
   * Appends entries inside the caller's transaction `tx` and returns them as stored. Holds the
   * audit lock until `tx` ends (PostgreSQL), so call it last in a write transaction. Needs READ
   * COMMITTED (the dialect's default), so that the tail read under the lock is current.
   */
  async appendInTx(tx: SqlExecutor, entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const now = this.clock.now();
    return this.appendFields(
      tx,
      entries.map((e) => auditFields(e, e.at ?? now, this.source)),
    );
  }

  /** Appends entries in a transaction of their own. */
  append(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    return this.db.transaction((tx) => this.appendInTx(tx, entries));
  }

  /**
   * Records one entry, batched with the others of the same moment. Resolves after the entry's
   * transaction committed; rejects when it failed (then the caller must not answer the read).
   */
  record(entry: AuditEntry): Promise<void> {
    let fields: AuditFields;
    try {
      // The event is built now: outside the lock, with the time of the access.
      fields = auditFields(entry, entry.at ?? this.clock.now(), this.source);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.spool) return this.toSpool(fields);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      // Start on the check phase, after this poll phase's other requests have queued theirs.
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /**
   * Spooling: the entries of one turn of the event loop go in one spool transaction, started at
   * once without waiting for the previous one; the SQLite dialect commits all that are pending
   * together (its group commit), so an entry waits for one commit, not for a queue of them.
   */
  private toSpool(fields: AuditFields): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.spoolBatch.push({ fields, resolve, reject });
      if (this.spoolBatch.length > 1) return;
      queueMicrotask(() => {
        const batch = this.spoolBatch.splice(0);
        const rows = batch.map(({ fields: f }) => [
          f.at,
          f.patient,
          f.agent,
          f.organisation,
          f.role,
          f.action,
          f.outcome,
          f.purpose,
          f.sourceIp,
          f.event,
        ]);
        const done = this.spool!.transaction((tx) =>
          tx.insertMany('audit_spool', SPOOL_COLUMNS, SPOOL_TYPES, rows),
        ).then(
          () => {
            for (const p of batch) p.resolve();
          },
          (err: unknown) => {
            for (const p of batch) p.reject(err);
          },
        );
        this.spooling.add(done);
        void done.finally(() => this.spooling.delete(done));
      });
    });
  }

  /** Resolves when every entry given to {@link record} so far is in the chain (or has failed). */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
    await new Promise((r) => queueMicrotask(() => r(undefined)));
    await Promise.all(this.spooling);
    if (this.spool) await this.drainSpool();
  }

  /**
   * Moves spooled entries into the chain: read past the stored position, append, store the new
   * position — in one transaction of the main database, so each entry enters the chain exactly
   * once, even when the process dies between this and deleting them from the spool.
   */
  drainSpool(): Promise<void> {
    const spool = this.spool;
    if (!spool) return Promise.resolve();
    const run = async () => {
      for (;;) {
        const moved = await this.db.transaction(async (tx) => {
          await tx.lock(AUDIT_LOCK);
          const pos = await tx.all<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [this.spoolKey]);
          const after = Number(pos[0]?.value ?? 0);
          const rows = await spool.all<Record<(typeof SPOOL_COLUMNS)[number] | 'id', string | number | null>>(
            `SELECT id, ${SPOOL_COLUMNS.join(', ')} FROM audit_spool WHERE id > ? ORDER BY id LIMIT 8192`,
            [after],
          );
          if (rows.length === 0) return after;
          const records = chainEntries(
            await readTail(tx),
            rows.map(
              (r): AuditFields => ({
                at: Number(r.at),
                patient: r.patient as string | null,
                agent: r.agent as string,
                organisation: r.organisation as string | null,
                role: r.role as string | null,
                action: r.action as string,
                outcome: r.outcome as string,
                purpose: r.purpose as string | null,
                sourceIp: r.source_ip as string | null,
                event: r.event as string,
              }),
            ),
          );
          await insertAuditRecords(tx, records);
          const last = Number(rows[rows.length - 1]!.id);
          await tx.run('DELETE FROM store_meta WHERE key = ?', [this.spoolKey]);
          await tx.run('INSERT INTO store_meta (key, value) VALUES (?, ?)', [this.spoolKey, String(last)]);
          return rows.length === 8192 ? -last : last;
        });
        await spool.run('DELETE FROM audit_spool WHERE id <= ?', [Math.abs(moved)]);
        if (moved >= 0) return;
      }
    };
    // One drain at a time; a caller arriving during one waits for it and then runs its own.
    const next = (this.draining ?? Promise.resolve()).then(run, run);
    this.draining = next.finally(() => {
      if (this.draining === next) this.draining = undefined;
    });
    return next;
  }

  private async drain(): Promise<void> {
    try {
      // One transaction at a time: entries that arrive while one commits form the next batch.
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const spool = this.spool;
          if (spool) {
            await spool.transaction((tx) =>
              tx.insertMany(
                'audit_spool',
                ['fields'],
                ['text'],
                batch.map((p) => [JSON.stringify(p.fields)]),
              ),
            );
          } else {
            await this.db.transaction((tx) =>
              this.appendFields(
                tx,
                batch.map((p) => p.fields),
              ),
            );
          }
        } catch (err) {
          for (const p of batch) p.reject(err);
          continue;
        }
        for (const p of batch) p.resolve();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  private async appendFields(tx: SqlExecutor, fields: readonly AuditFields[]): Promise<AuditRecord[]> {
    if (fields.length === 0) return [];
    await tx.lock(AUDIT_LOCK);
    const records = chainEntries(await readTail(tx), fields);
    await insertAuditRecords(tx, records);
    return records;
  }
}

/** The last entry, read inside the appender's transaction (after the lock). */
async function readTail(tx: SqlExecutor): Promise<ChainTail> {
  const rows = await tx.all<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  const last = rows[0];
  return last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
}
