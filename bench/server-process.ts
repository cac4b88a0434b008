import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultHeaders } from './load.ts';

const CLI = fileURLToPath(new URL('../src/cli/dxhub.ts', import.meta.url));
const PAIRED_SERVER = fileURLToPath(new URL('./paired-server.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A free loopback TCP port (the OS picks one; a race with other processes is unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Reads a `kB` field (VmRSS, VmHWM) of `/proc/<pid>/status`, in bytes; undefined off Linux. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fields of a `/proc/…/stat` line after the command name (stat(5) field 3 onwards, so field N is
 * at index N − 3) and the command name; undefined when the file cannot be read (off Linux, or the
 * process or thread is gone).
 */
function procStat(path: string): { name: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    const close = stat.lastIndexOf(')');
    return { name: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
  } catch {
    return undefined;
  }
}

/** utime + stime (stat(5) fields 14 and 15, clock ticks of 10 ms) in microseconds. */
const cpuOf = (fields: readonly string[]) => (Number(fields[11]) + Number(fields[12])) * 10_000;

/**
 * CPU time (user + system, all threads) a process has used so far, in microseconds, from
 * `/proc/<pid>/stat` (clock ticks of 10 ms); undefined off Linux. Per-request CPU is the figure
 * that holds on a busy machine, where throughput depends on what else runs.
 */
export function processCpuMicros(pid: number): number | undefined {
  const stat = procStat(`/proc/${pid}/stat`);
  return stat && cpuOf(stat.fields);
}

/** Minor page faults of a process so far (`/proc/<pid>/stat` field 10); 0 off Linux. */
export function minorFaults(pid: number): number {
  return Number(procStat(`/proc/${pid}/stat`)?.fields[7] ?? 0);
}

/**
 * CPU time per kind of thread of a process, in microseconds, by thread name (`MainThread`, `V8Worker`
 * for the garbage collector's helpers, `WorkerThread` for worker threads, `libuv-worker` …), from
 * `/proc/<pid>/task/*\/stat`; empty off Linux. Shows where work beside the request thread goes.
 */
export function threadCpuMicros(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    // A thread that ended meanwhile is left out.
    const stat = procStat(`/proc/${pid}/task/${tid}/stat`);
    if (stat) out[stat.name] = (out[stat.name] ?? 0) + cpuOf(stat.fields);
  }
  return out;
}

/** A dxhub server running as a child process (`dxhub serve`) on loopback. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** The HL7 v2 MLLP port when started with `{ mllp: true }` (otherwise the OS picked one nobody knows). */
  readonly mllpPort: number | undefined;
  /** The ASTM listener port when started with `{ astm: true }`. */
  readonly astmPort: number | undefined;
  /**
   * With `{ pairedOpen: true }`: the same process's second FHIR API, without authentication, access
   * decisions and audit (bench/paired-server.ts).
   */
  readonly openUrl: string | undefined;
  /** Largest RSS seen by the 200 ms poller since {@link resetPeak}, and the kernel's VmHWM. */
  peakRss(): { polledBytes: number; hwmBytes: number | undefined };
  resetPeak(): void;
  /** Last lines the server wrote to stderr (warnings and errors at DXHUB_LOG_LEVEL=warn). */
  stderrTail(): string;
  /** `Bearer …` minted with `dxhub token` for this server (e.g. `['--role', 'clinician', …]`). */
  bearer(args: readonly string[]): string;
  stop(): Promise<void>;
}

/**
 * Starts `dxhub serve` on a free port against `db` and waits (≤ 120 s) until `/readyz` answers.
 * `nodeArgs` go to the child's Node (e.g. `--cpu-prof`).
 */
/**
 * DXHUB_AUDIT_JOURNAL of the servers started here (PostgreSQL's read-audit journal; a directory per
 * database below it, emptied as the entries move into the chain).
 */
export const BENCH_AUDIT_JOURNAL = join(tmpdir(), 'dxhub-bench-audit-journal');

export async function startServer(
  db: string,
  nodeArgs: readonly string[] = [],
  opts: {
    readonly mllp?: boolean;
    readonly astm?: boolean;
    readonly demo?: boolean;
    readonly env?: Readonly<Record<string, string>>;
    /**
     * `dxhub serve`'s FHIR API and, in the same process, a second one without authentication,
     * access decisions and audit ({@link ServerProcess.openUrl}; bench/paired-server.ts).
     */
    readonly pairedOpen?: boolean;
  } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const mllpPort = opts.mllp ? await freePort() : undefined;
  const astmPort = opts.astm ? await freePort() : undefined;
  const openPort = opts.pairedOpen ? await freePort() : undefined;
  // Own signing keys per server; no rate limit (the load generator is one principal).
  const keyDir = mkdtempSync(join(tmpdir(), 'dxhub-bench-keys-'));
  const env = {
    ...process.env,
    DXHUB_LOG_LEVEL: 'warn',
    DXHUB_KEY_DIR: keyDir,
    DXHUB_AUDIT_JOURNAL: BENCH_AUDIT_JOURNAL,
    DXHUB_RATE_LIMIT_PER_MINUTE: '0',
    ...opts.env,
  };
  const args =
    openPort !== undefined
      ? [PAIRED_SERVER, '--port', String(port), '--open-port', String(openPort), '--host', '127.0.0.1', '--db', db]
      : [
          CLI,
          'serve',
          '--port',
          String(port),
          '--mllp-port',
          String(mllpPort ?? 0),
          '--astm-port',
          String(astmPort ?? 0),
          '--host',
          '127.0.0.1',
          '--db',
          db,
          ...(opts.demo ? ['--demo'] : []),
        ];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const bearer = (args: readonly string[]) =>
    `Bearer ${execFileSync(process.execPath, [CLI, 'token', '--port', String(port), '--host', '127.0.0.1', ...args], { cwd: ROOT, env, encoding: 'utf8' }).trim()}`;
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start dxhub');
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited) throw new Error(`dxhub exited during start-up:\n${log}`);
    try {
      const r = await fetch(`${url}/readyz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`dxhub did not become ready within 120 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  // With an external issuer (DXHUB_OIDC_ISSUER) tokens come from it, not from `dxhub token`.
  if (!opts.env?.DXHUB_OIDC_ISSUER) {
    defaultHeaders.authorization = bearer(['--user', 'bench-interface', '--role', 'integration', '--org', 'bench-org']);
  }
  let peak = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, procStatusBytes(pid, 'VmRSS') ?? 0);
  }, 200);
  poll.unref();

  return {
    url,
    pid,
    mllpPort,
    astmPort,
    openUrl: openPort === undefined ? undefined : `http://127.0.0.1:${openPort}`,
    peakRss: () => ({ polledBytes: peak, hwmBytes: procStatusBytes(pid, 'VmHWM') }),
    resetPeak: () => {
      peak = procStatusBytes(pid, 'VmRSS') ?? 0;
    },
    stderrTail: () => log,
    bearer,
    async stop() {
      clearInterval(poll);
      rmSync(keyDir, { recursive: true, force: true });
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
