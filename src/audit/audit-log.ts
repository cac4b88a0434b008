import { Worker } from 'node:worker_threads';
import { auditFields, type ChainTail, chainEntries } from '../core/audit/audit-chain.ts';
import type { AuditEntry, AuditFields, AuditRecord } from '../core/audit/audit-entry.ts';
import type { AuditSource } from '../core/audit/audit-event.ts';
import { GENESIS_HASH } from '../core/audit/audit-hash.ts';
import type { Dialect, SqlExecutor, TableRows } from '../store/dialect/dialect.ts';
import { migrate } from '../store/migrations/index.ts';
import { yieldToIo } from '../store/poll-loop.ts';
import { type Clock, systemClock } from '../store/repository.ts';
import { installAppendOnlyGuards } from './append-only-guards.ts';
import type { AuditJournal } from './audit-journal.ts';
import { FIELD_COLUMNS, fieldsFromValues, fieldValues, insertAuditRecords } from './audit-table.ts';

/** The advisory lock that serialises appenders across processes (PostgreSQL; SQLite has one writer). */
export const AUDIT_LOCK = 'dxhub:audit';

export interface AuditLogOptions {
  readonly clock?: Clock;
  /** This instance as the AuditEvent's `source` and server agent. */
  readonly source?: AuditSource;
  /** Most `record` entries committed in one transaction (default 2048). */
  readonly maxBatch?: number;
  /**
   * An append-only journal that {@link AuditLog.record} writes read audits to first (the embedded
   * database). They are moved into the chain in large batches ({@link AuditLog.drainJournal}), so
   * that reads, which are most requests, cost one file write per turn of the event loop instead of
   * a database commit each: on SQLite every commit also empties the reading connection's page cache.
   */
  readonly journal?: AuditJournal;
  /** How often journalled entries move into the chain (ms, default 250). */
  readonly drainIntervalMs?: number;
  /**
   * The database URL: journalled (SQLite) or staged (PostgreSQL) entries are then moved into the
   * chain by a worker thread on a connection of its own (`journal-mover.ts`), every
   * {@link MOVER_INTERVAL_MS}, so the server's thread only writes the journal or the staged rows (a
   * move of 256 entries held it for 3–5 ms, ~10 µs per read). This thread still moves what is left
   * on {@link AuditLog.flushed} and {@link AuditLog.close}, and every {@link MOVER_CLEANUP_MS}
   * deletes journal segments it no longer writes (and moves what a failed mover left).
   */
  readonly moveInThread?: string;
  /**
   * Journal segments named with this process's pid are written by another thread of it (the
   * journal mover's view): never deleted here.
   */
  readonly ownSegmentsLive?: boolean;
  /**
   * Most journalled entries chained per move transaction (default {@link MOVE_BATCH}). The journal
   * mover thread takes more: its moves hold no event loop, and larger ones write fewer pages per
   * entry (the `(patient, seq)` index leaves an entry touches are shared within a transaction).
   */
  readonly moveBatch?: number;
  /**
   * Stage entries in the `audit_staging` table instead of chaining them at once (default: on
   * PostgreSQL). {@link AuditLog.record} and {@link AuditLog.recordInTx} then insert there without
   * the chain's lock, and the staged rows move into the chain in small batches. Without it every
   * request that writes an audit entry queues for {@link AUDIT_LOCK}, and a transaction holding it
   * waits for this process's event loop between its statements: under load, reads waited
   * milliseconds for writes and the result consumers' transactions.
   */
  readonly staging?: boolean;
}

/** Column types of `audit_staging` ({@link FIELD_COLUMNS}, migration 2026-11-30-013). */
const STAGING_TYPES = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text'] as const;

/**
 * Most entries chained per move transaction: reading, chaining (SHA-256) and inserting an entry
 * costs ~10 µs on the event loop, so a move of this size holds it for 2–5 ms, not the tens of
 * milliseconds that 8,192 took (which showed in the p99 of every request served meanwhile).
 */
const MOVE_BATCH = 256;
/**
 * Most staged rows (PostgreSQL) chained per move transaction. Here the time of a move is mostly
 * the database's (six round trips and a commit), not the event loop's: with 256 the chain fell
 * behind at 12-18k entries/s in bench/audit-append.ts, with 1,024 it keeps 20-34k. Only a
 * backlog fills a batch; a move every 250 ms finds a few hundred rows at most otherwise.
 */
const STAGED_MOVE_BATCH = 1024;
/**
 * The journal mover thread's moves: every second, up to 4,096 entries per transaction. Every
 * commit to the database makes every reader connection drop its page cache and memory map of the
 * file (SQLite, WAL mode: a read transaction that sees a changed WAL resets both), so reads after
 * it fault the pages they touch in again. Moving 4 × a second in transactions of 1,024 (16 commits
 * a second at 10,000 reads/s) cost reads of 20,000 Observations ~20 µs each on the request thread;
 * a move a second costs them ~5 µs (bench/scenarios/read.ts, `cpuPerRequestByThread`). A move of
 * 4,096 holds the write lock for ~15-40 ms; the chain lags the reads by up to ~1 s (each entry is
 * durable in the journal before the answer; audit searches move what is left first).
 */
export const MOVER_INTERVAL_MS = 1_000;
export const MOVER_BATCH = 4_096;
/** With the journal mover thread: how often this thread moves what is left and deletes segments. */
const MOVER_CLEANUP_MS = 30_000;

interface Pending {
  readonly fields: AuditFields;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** The `store_meta` key of a journal segment's moved offset. */
export function journalKey(segment: string): string {
  return `audit_journal:${segment}`;
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
  private readonly journal: AuditJournal | undefined;
  private journalBatch: Pending[] = [];
  private draining: Promise<void> | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  /** Whether entries are staged in `audit_staging` first ({@link AuditLogOptions.staging}). */
  readonly staging: boolean;
  private readonly ownSegmentsLive: boolean;
  private readonly moveBatch: number;
  /** The journal mover thread ({@link AuditLogOptions.moveInThread}) while it runs. */
  private mover: Worker | undefined;

  constructor(db: Dialect, options: AuditLogOptions = {}) {
    this.db = db;
    this.clock = options.clock ?? systemClock;
    this.source = options.source ?? { observer: 'dxhub' };
    this.maxBatch = options.maxBatch ?? 2048;
    this.journal = options.journal;
    this.staging = options.staging ?? db.caps.name === 'postgres';
    this.ownSegmentsLive = options.ownSegmentsLive ?? false;
    this.moveBatch = options.moveBatch ?? MOVE_BATCH;
    const interval = options.drainIntervalMs ?? 250;
    if ((this.journal || this.staging) && options.moveInThread) {
      const mover = new Worker(new URL('./journal-mover.ts', import.meta.url), {
        workerData: {
          dbUrl: options.moveInThread,
          dir: this.journal?.dir,
          staging: this.staging,
        },
      });
      mover.unref();
      // A mover that fails leaves the moving to this thread again, at the usual interval.
      mover.on('error', () => {
        if (this.mover !== mover) return;
        this.mover = undefined;
        this.startDrainTimer(interval);
      });
      this.mover = mover;
      this.startDrainTimer(MOVER_CLEANUP_MS);
    } else if (this.journal || this.staging) this.startDrainTimer(interval);
  }

  private startDrainTimer(ms: number): void {
    if (this.drainTimer) clearInterval(this.drainTimer);
    // While the mover thread runs, this thread only deletes what it has moved: moving a backlog
    // here (the mover runs at a low priority and may lag on a busy machine) would put the work
    // back on the thread that answers requests.
    this.drainTimer = setInterval(
      () => void (this.mover ? this.removeMovedSegments() : this.drainJournal()).catch(() => {}),
      ms,
    );
    this.drainTimer.unref();
  }

  /**
   * Deletes the journal segments nobody writes to any more that have been moved completely (their
   * stored offset is their size). What is not moved yet stays for the mover, or for
   * {@link drainJournal} on {@link flushed} and {@link close}.
   */
  async removeMovedSegments(): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    for (const seg of journal.segments()) {
      if (!this.finished(seg)) continue;
      const pos = await this.db.all<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [
        journalKey(seg.name),
      ]);
      if (pos.length === 0 || Number(pos[0]!.value) < journal.sizeOf(seg.name)) continue;
      await this.removeSegment(journal, seg.name);
    }
  }

  /** Written by nobody any more: not this process's current segment, and its writer is gone. */
  private finished(seg: { name: string; current: boolean }): boolean {
    return !seg.current && !writerAlive(seg.name, this.ownSegmentsLive);
  }

  /** Deletes a finished segment and its stored offset. */
  private async removeSegment(journal: AuditJournal, name: string): Promise<void> {
    journal.remove(name);
    await this.db.run('DELETE FROM store_meta WHERE key = ?', [journalKey(name)]);
  }

  /**
   * Migrates the database (idempotent), ensures the append-only triggers and returns the log. With
   * a journal, entries a previous process journalled but did not move yet are moved first.
   */
  static async open(db: Dialect, options?: AuditLogOptions): Promise<AuditLog> {
    await migrate(db);
    await installAppendOnlyGuards(db);
    const log = new AuditLog(db, options);
    // Entries a previous process journalled or staged but did not move yet are moved first.
    await log.drainJournal();
    return log;
  }

  /** Stops the journal timer (and mover thread) and moves what is left into the chain. */
  async close(): Promise<void> {
    if (this.drainTimer) clearInterval(this.drainTimer);
    const mover = this.mover;
    this.mover = undefined;
    if (mover) {
      const exited = new Promise<void>((resolve) => mover.once('exit', () => resolve()));
      mover.postMessage('stop');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      await mover.terminate();
    }
    await this.flushed();
    this.journal?.close();
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

  /**
   * The audit entries of a write, committed with it in the caller's transaction `tx`. With
   * staging they are inserted into `audit_staging` (no lock; chained within the move interval),
   * otherwise chained at once ({@link appendInTx}: call it last in the transaction).
   */
  async recordInTx(tx: SqlExecutor, entries: readonly AuditEntry[]): Promise<void> {
    const staged = this.stagingRows(entries);
    if (staged) await tx.insertMany(staged.table, staged.columns, staged.types, staged.rows, staged);
    else await this.appendInTx(tx, entries);
  }

  /**
   * With staging, the `audit_staging` rows of a write's entries, for the caller to insert in its
   * transaction (e.g. with the write's own rows, `WriteContext.atCommit`); undefined without
   * staging ({@link recordInTx} then chains them).
   */
  stagingRows(entries: readonly AuditEntry[]): TableRows | undefined {
    if (!this.staging) return undefined;
    const now = this.clock.now();
    return {
      table: 'audit_staging',
      columns: FIELD_COLUMNS,
      types: STAGING_TYPES,
      // Keys from the table's serial column: a plain INSERT (no speculative insertion).
      append: true,
      rows: entries.map((e) => fieldValues(auditFields(e, e.at ?? now, this.source))),
    };
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
    if (this.journal) return this.toJournal(fields);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      // Start on the check phase, after this poll phase's other requests have queued theirs.
      this.flushing ??= new Promise<void>((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /**
   * Journalling: the entries of one turn of the event loop (every request answered in this poll
   * phase) are written together on the check phase right after it, in one write.
   */
  private toJournal(fields: AuditFields): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.journalBatch.push({ fields, resolve, reject });
      if (this.journalBatch.length > 1) return;
      setImmediate(() => {
        const batch = this.journalBatch.splice(0);
        const journal = this.journal!;
        const fields = batch.map((p) => p.fields);
        // PostgreSQL (sync): answered once on the disk; the next turn's entries need not wait.
        const written = journal.sync
          ? journal.appendSynced(fields)
          : new Promise<void>((resolve) => {
              journal.append(fields);
              resolve();
            });
        written.then(
          () => {
            for (const p of batch) p.resolve();
          },
          (err) => {
            for (const p of batch) p.reject(err);
          },
        );
      });
    });
  }

  /** Resolves when every entry given to {@link record} so far is in the chain (or has failed). */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
    // A journal batch is written on the next check phase; a synced journal may hold it in memory
    // until its running flush ends.
    await new Promise((r) => setImmediate(r));
    await this.journal?.synced();
    await this.drainJournal();
  }

  /**
   * Moves journalled entries into the chain: per segment, read past the stored byte offset,
   * append, store the new offset — in one transaction of the main database, so each entry enters
   * the chain exactly once, even when the process dies in between. A segment nobody writes to
   * any more is deleted once moved completely (then its offset).
   */
  drainJournal(): Promise<void> {
    const journal = this.journal;
    if (!journal && !this.staging) return Promise.resolve();
    const run = async () => {
      if (this.staging) await this.moveStaged();
      if (!journal) return;
      for (const seg of journal.segments()) {
        const key = journalKey(seg.name);
        for (;;) {
          const step = await this.db.transaction(async (tx) => {
            await tx.lock(AUDIT_LOCK);
            const pos = await tx.all<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [key]);
            const after = Number(pos[0]?.value ?? 0);
            const chunk = journal.read(seg.name, after, this.moveBatch);
            if (!chunk || chunk.fields.length === 0) return { more: false };
            await insertAuditRecords(tx, chainEntries(await readTail(tx), chunk.fields));
            await tx.run('DELETE FROM store_meta WHERE key = ?', [key]);
            await tx.run('INSERT INTO store_meta (key, value) VALUES (?, ?)', [key, String(chunk.end)]);
            return { more: chunk.fields.length === this.moveBatch };
          });
          if (!step.more) break;
          await yieldToIo();
        }
        // Written by nobody any more (not ours, or ours but replaced; its writer gone): a line
        // without its newline at the end was never acknowledged and is dropped with the segment.
        if (this.finished(seg)) await this.removeSegment(journal, seg.name);
      }
    };
    // One drain at a time; a caller arriving during one waits for it and then runs its own.
    const next = (this.draining ?? Promise.resolve()).then(run, run);
    // The chain of drains never rejects (each caller gets its own `next` to handle).
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.draining = settled;
    void settled.then(() => {
      if (this.draining === settled) this.draining = undefined;
    });
    return next;
  }

  /**
   * Moves staged rows into the chain, oldest id first, a batch per transaction: under the chain's
   * lock, chain and insert them and delete exactly those rows, so each enters the chain once even
   * with several processes moving. A row whose transaction commits after a higher id was moved
   * enters the chain in a later batch (the chain's order is the order of moving; `at` keeps the
   * time of the access).
   */
  private async moveStaged(): Promise<void> {
    // Most turns find nothing: look without a transaction or the lock first. Through the primary
    // key: the table is a queue, and a plain LIMIT 1 would scan the dead rows of moved entries.
    // After a full batch there is more to move without looking.
    const any = await this.db.all('SELECT id FROM audit_staging ORDER BY id LIMIT 1');
    if (any.length === 0) return;
    // Within one move, each batch starts after the last id moved: the index entries of the rows
    // just deleted stay until vacuum, and `ORDER BY id` from the start would step over all of them
    // again. A row committed late with a lower id is moved by the next call (every interval).
    let after = 0;
    for (;;) {
      const more = await this.db.transaction(async (tx) => {
        await tx.lock(AUDIT_LOCK);
        // Taken out of the table and chained in one transaction: a rollback puts them back.
        const rows = await tx.all<Record<string, unknown>>(
          `DELETE FROM audit_staging WHERE id IN (SELECT id FROM audit_staging WHERE id > ? ORDER BY id LIMIT ${STAGED_MOVE_BATCH}) ` +
            `RETURNING id, ${FIELD_COLUMNS.join(', ')}`,
          [after],
        );
        if (rows.length === 0) return false;
        rows.sort((a, b) => Number(a.id) - Number(b.id));
        after = Number(rows[rows.length - 1]!.id);
        const fields = rows.map((r) => fieldsFromValues(FIELD_COLUMNS.map((c) => r[c])));
        await insertAuditRecords(tx, chainEntries(await readTail(tx), fields));
        return rows.length === STAGED_MOVE_BATCH;
      });
      if (!more) return;
      await yieldToIo();
    }
  }

  private async drain(): Promise<void> {
    try {
      // One transaction at a time: entries that arrive while one commits form the next batch.
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const fields = batch.map((p) => p.fields);
        try {
          if (this.staging)
            // One statement: on PostgreSQL it commits on its own (no BEGIN/COMMIT round trips), on
            // SQLite it joins the group commit.
            await this.db.insertMany('audit_staging', FIELD_COLUMNS, STAGING_TYPES, fields.map(fieldValues), {
              append: true,
            });
          else await this.db.transaction((tx) => this.appendFields(tx, fields));
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

/**
 * Whether the process that writes a journal segment may still append to it: this process for the
 * segment it writes now (the caller checks), another live process for its own. Segment names
 * carry the writer's pid (`<time>-<pid>-<n>.jsonl`). In the journal mover thread every segment of
 * this process counts as written (by the server's thread, which deletes them itself).
 */
function writerAlive(name: string, ownSegmentsLive: boolean): boolean {
  const pid = Number(name.split('-')[1]);
  if (!Number.isInteger(pid)) return false;
  if (pid === process.pid) return ownSegmentsLive;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
