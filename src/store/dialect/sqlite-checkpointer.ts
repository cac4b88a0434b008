/**
 * Worker thread that checkpoints a SQLite WAL database (copies committed pages from the WAL back
 * into the database file) on its own connection, so that the writer on the main thread never
 * pays for checkpoints. PASSIVE checkpoints block neither readers nor the writer.
 */
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new DatabaseSync(file);
db.exec('PRAGMA busy_timeout = 5000');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');

const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy or closing: the next tick tries again.
  }
}, intervalMs);

parentPort?.on('message', (msg: unknown) => {
  if (msg === 'stop') {
    clearInterval(timer);
    try {
      checkpoint.get();
    } catch {}
    db.close();
    parentPort?.postMessage('stopped');
  }
});
