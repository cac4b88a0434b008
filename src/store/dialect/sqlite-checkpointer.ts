/**
 * Worker thread that checkpoints a SQLite WAL database (copies committed pages from the WAL back
 * into the database file) on its own connection, so that the writer on the main thread never
 * pays for checkpoints. PASSIVE checkpoints block neither readers nor the writer. It also
 * refreshes planner statistics and runs the dialect's detached inserts (append-only logs).
 */
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../thread-priority.ts';
import { SqliteExecutor } from './sqlite.ts';

// Background work: it yields the CPU to the server's request thread (thread-priority.ts).
lowerThreadPriority();

const { file, intervalMs, optimizeIntervalMs, optimizeMaxBytes } = workerData as {
  file: string;
  intervalMs: number;
  optimizeIntervalMs: number;
  optimizeMaxBytes: number;
};
const db = new DatabaseSync(file);
db.exec('PRAGMA busy_timeout = 10000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const truncate = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)');
/**
 * Above this WAL size the log is also reset. PASSIVE checkpoints copy pages back but never restart
 * the log while readers are busy, so under steady reads with small writes (audit entries) the WAL
 * only grows; every read then looks pages up in a longer WAL index and, after each commit, reads
 * them from the WAL file instead of the memory-mapped database.
 */
const MAX_WAL_BYTES = 16 * 1024 * 1024;

const timer = setInterval(() => {
  try {
    checkpoint.get();
    if (walBytes() > MAX_WAL_BYTES) {
      // Waits briefly for readers to move to the newest snapshot; writers wait at most as long.
      db.exec('PRAGMA busy_timeout = 200');
      try {
        truncate.get();
      } finally {
        db.exec('PRAGMA busy_timeout = 10000');
      }
    }
  } catch {
    // Busy or closing: the next tick tries again.
  }
}, intervalMs);

/**
 * Planner statistics, refreshed here rather than on the writer's thread: `PRAGMA optimize` runs
 * ANALYZE on tables that grew, which takes the write lock for as long as it reads them (150 ms
 * under ingestion in the order-sign benchmark). The writer waits for the lock on a timer, so the
 * server's event loop keeps serving meanwhile. Above `optimizeMaxBytes` nothing runs (see
 * OPTIMIZE_MAX_BYTES in sqlite.ts). Mask 0x10002: this connection runs no queries of its own, so
 * every table is considered (0x10000), not only the ones it has read.
 */
const optimizer = setInterval(() => {
  try {
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) < optimizeMaxBytes) db.exec('PRAGMA optimize = 0x10002');
  } catch {
    // Busy or closing: the next interval tries again.
  }
}, optimizeIntervalMs);

function walBytes(): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

/** Runs the detached inserts with the writer's own multi-row statements (`SqliteExecutor`). */
const executor = new SqliteExecutor(db);

/**
 * A detached insert (`Dialect.insertManyDetached`): the rows in one transaction on this thread's
 * connection, so that the server's thread does not spend its time on them. Waiting for the write
 * lock here blocks only this thread (busy timeout).
 */
async function insert(table: string, columns: readonly string[], rows: readonly unknown[][]): Promise<void> {
  db.exec('BEGIN IMMEDIATE');
  try {
    await executor.insertMany(table, columns, [], rows);
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
/** Inserts run one after the other, in the order they arrived. */
let inserting: Promise<void> = Promise.resolve();

parentPort?.on('message', (msg: unknown) => {
  const m = msg as { kind?: string; id?: number; table?: string; columns?: string[]; rows?: unknown[][] };
  if (m?.kind === 'insert') {
    inserting = inserting.then(() =>
      insert(m.table!, m.columns!, m.rows!).then(
        () => parentPort?.postMessage({ kind: 'inserted', id: m.id }),
        (err) => parentPort?.postMessage({ kind: 'inserted', id: m.id, error: (err as Error).message }),
      ),
    );
    return;
  }
  if (msg === 'stop') {
    clearInterval(timer);
    clearInterval(optimizer);
    try {
      checkpoint.get();
    } catch {}
    db.close();
    parentPort?.postMessage('stopped');
  }
});
