import { auditFields, type ChainTail, chainEntries } from '../core/audit/audit-chain.ts';
import type { AuditEntry, AuditFields, AuditRecord } from '../core/audit/audit-entry.ts';
import type { AuditSource } from '../core/audit/audit-event.ts';
import { GENESIS_HASH } from '../core/audit/audit-hash.ts';
import type { Dialect, SqlExecutor } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { type Clock, systemClock } from '../store/repository.ts';
import { installAppendOnlyGuards } from './append-only-guards.ts';
import { insertAuditRecords } from './audit-table.ts';

/** The advisory lock that serialises appenders across processes (PostgreSQL; SQLite has one writer). */
export const AUDIT_LOCK = 'dxhub:audit';

export interface AuditLogOptions {
  readonly clock?: Clock;
  /** This instance as the AuditEvent's `source` and server agent. */
  readonly source?: AuditSource;
  /** Most `record` entries committed in one transaction (default 2048). */
  readonly maxBatch?: number;
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

  constructor(db: Dialect, options: AuditLogOptions = {}) {
    this.db = db;
    this.clock = options.clock ?? systemClock;
    this.source = options.source ?? { observer: 'dxhub' };
    this.maxBatch = options.maxBatch ?? 2048;
  }

  /** Migrates the database (idempotent), ensures the append-only triggers and returns the log. */
  static async open(db: Dialect, options?: AuditLogOptions): Promise<AuditLog> {
    await migrate(db);
    await installAppendOnlyGuards(db);
    return new AuditLog(db, options);
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
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      // Start on the check phase, after this poll phase's other requests have queued theirs.
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /** Resolves when every entry given to {@link record} so far has been written (or has failed). */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      // One transaction at a time: entries that arrive while one commits form the next batch.
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.db.transaction((tx) =>
            this.appendFields(
              tx,
              batch.map((p) => p.fields),
            ),
          );
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
