/**
 * Worker thread that moves the audit journal's entries into the hash chain on a connection of its
 * own (`AuditLogOptions.moveInThread`): reading the journal, chaining (SHA-256) and inserting the
 * entries then costs the server's thread nothing. Exactly-once as on the server's thread: the
 * byte offset per segment is stored in the same transaction as the entries, and the write lock
 * orders this connection's transactions with the server's (whose writes chain their own entries).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDialect } from '../store/dialect/dialect.ts';
import { lowerThreadPriority } from '../store/thread-priority.ts';
import { AuditJournal } from './audit-journal.ts';
import { AuditLog, MOVER_BATCH } from './audit-log.ts';

// Background work: it yields the CPU to the server's request thread (thread-priority.ts).
lowerThreadPriority();
const { dbUrl, dir, intervalMs } = workerData as { dbUrl: string; dir: string; intervalMs: number };
// The server's connection runs the background thread (checkpoints, statistics).
const db = await openDialect(dbUrl, { backgroundThread: false });
// Moves every `intervalMs`; the segments of this process are the server thread's to delete.
const log = new AuditLog(db, {
  journal: new AuditJournal(dir),
  drainIntervalMs: intervalMs,
  ownSegmentsLive: true,
  moveBatch: MOVER_BATCH,
});

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
