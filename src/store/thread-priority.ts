import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * The nice value of the server's background threads (SQLite detached inserts, the audit journal
 * mover; not the checkpoints, whose lag would let the WAL grow and slow every read). Under
 * contention a thread at nice 10 gets about a tenth of the CPU share of one at 0: the threads
 * still progress, and use any idle CPU, but no longer take whole time slices from the thread that
 * answers requests (on the 2-core benchmark machine they held a fifth of a core while order-sign
 * was measured, and the request thread waited for the CPU).
 */
export const BACKGROUND_NICE = 10;

/** The calling thread's id on Linux (`/proc/thread-self` → `<pid>/task/<tid>`), else undefined. */
export function currentThreadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lowers the scheduling priority of the calling thread only — Linux keeps the nice value per
 * thread, and `setpriority` on a thread id changes just that thread. Meant for a worker thread's
 * first statement; refuses the process's main thread (its id is the process id). Returns whether
 * the priority was changed (false elsewhere than on Linux, or when the system refuses).
 */
export function lowerThreadPriority(nice = BACKGROUND_NICE): boolean {
  const tid = currentThreadId();
  if (tid === undefined || tid === process.pid) return false;
  try {
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/** A thread's nice value from `/proc/<pid>/task/<tid>/stat` (Linux), for tests and diagnostics. */
export function threadNice(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3; nice is field 19.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  } catch {
    return undefined;
  }
}
