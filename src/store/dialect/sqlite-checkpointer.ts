/**
 * Worker thread of a SQLite file database, on its own connection, in one of two roles:
 * - `checkpoint`: checkpoints the WAL (copies committed pages from the WAL back into the database
 *   file), so that the writer on the main thread never pays for checkpoints (PASSIVE checkpoints
 *   block neither readers nor the writer), and refreshes planner statistics. Normal priority: a
 *   checkpoint that lags lets the WAL grow, and every read then gets slower.
 * - `insert`: runs the dialect's detached inserts (append-only logs such as the order events) at a
 *   low priority (thread-priority.ts), so that on a busy machine they take the CPU the server's
 *   request thread leaves.
 */
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../thread-priority.ts';
import { SqliteExecutor } from './sqlite.ts';

const { file, role, intervalMs, optimizeIntervalMs, optimizeMaxBytes } = workerData as {
  file: string;
  role: 'checkpoint' | 'insert';
  intervalMs: number;
  optimizeIntervalMs: number;
  optimizeMaxBytes: number;
};
// Detached inserts are background work: they yield the CPU to the server's request thread.
if (role === 'insert') lowerThreadPriority();
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

function checkpointWal(): void {
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
}

/**
 * Planner statistics, refreshed here rather than on the writer's thread: `PRAGMA optimize` runs
 * ANALYZE on tables that grew, which takes the write lock for as long as it reads them (150 ms
 * under ingestion in the order-sign benchmark). The writer waits for the lock on a timer, so the
 * server's event loop keeps serving meanwhile. Above `optimizeMaxBytes` nothing runs (see
 * OPTIMIZE_MAX_BYTES in sqlite.ts). Mask 0x10002: this connection runs no queries of its own, so
 * every table is considered (0x10000), not only the ones it has read.
 */
function optimize(): void {
  try {
    if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) < optimizeMaxBytes) db.exec('PRAGMA optimize = 0x10002');
  } catch {
    // Busy or closing: the next interval tries again.
  }
}

// Only the checkpoint role runs timers; the insert role waits for messages.
const timers =
  role === 'checkpoint' ? [setInterval(checkpointWal, intervalMs), setInterval(optimize, optimizeIntervalMs)] : [];

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
    await executor.insertMany(table, columns, [], rows, { append: true });
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
    for (const t of timers) clearInterval(t);
    try {
      if (role === 'checkpoint') checkpoint.get();
    } catch {}
    db.close();
    parentPort?.postMessage('stopped');
  }
});
