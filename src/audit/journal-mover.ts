/**
 * Worker thread that moves audit entries into the hash chain on a connection of its own
 * (`AuditLogOptions.moveInThread`): the journal's on SQLite, the rows staged in `audit_staging` on
 * PostgreSQL. Reading them, chaining (SHA-256) and inserting the entries then costs the server's
 * thread nothing. Exactly-once as on the server's thread: the
 * byte offset per segment is stored in the same transaction as the entries, and the write lock
 * orders this connection's transactions with the server's (whose writes chain their own entries).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDialect } from '../store/dialect/dialect.ts';
import { lowerThreadPriority } from '../store/thread-priority.ts';
import { AuditJournal } from './audit-journal.ts';
import { AuditLog, MOVER_BATCH, MOVER_INTERVAL_MS } from './audit-log.ts';

// Background work: it yields the CPU to the server's request thread (thread-priority.ts).
lowerThreadPriority();
const { dbUrl, dir, staging } = workerData as { dbUrl: string; dir: string | undefined; staging: boolean };
// The server's connection runs the background thread (checkpoints, statistics); on PostgreSQL
// two pooled connections are plenty for one move at a time.
const db = await openDialect(poolOfTwo(dbUrl), { backgroundThread: false });
// Moves every MOVER_INTERVAL_MS; the segments of this process are the server thread's to delete.
const log = new AuditLog(db, {
  journal: dir ? new AuditJournal(dir) : undefined,
  staging,
  drainIntervalMs: MOVER_INTERVAL_MS,
  ownSegmentsLive: true,
  moveBatch: MOVER_BATCH,
});

/** A PostgreSQL URL with `pool=2` unless it names a pool size (`openPostgres` reads it). */
function poolOfTwo(url: string): string {
  if (!/^postgres(ql)?:/.test(url)) return url;
  const u = new URL(url);
  if (!u.searchParams.has('pool')) u.searchParams.set('pool', '2');
  return u.toString();
}

parentPort?.on('message', (msg: unknown) => {
  if (msg !== 'stop') return;
  void (async () => {
    try {
      await log.close();
    } finally {
      await db.close();
      parentPort?.close();
    }
  })();
});
