/**
 * Event-loop delay, split by cause, for a server under a benchmark: `npm run bench -- --lag-probe …`
 * loads it into each server process (`node --import`; only a `serve` process's main thread probes). Every 2 ms a timer measures how late it fired; a delay
 * over 6 ms is written to `$DXHUB_LAG_PROBE_DIR/lag-probe.<pid>.log` (default the temp directory)
 * with the main thread's own CPU time and run-queue wait over the same interval, read from
 * `/proc/self/task/<pid>/schedstat` (Linux):
 *
 *   lag <µs monotonic> <s since start> <delay>ms oncpu=<ms> runqwait=<ms>
 *
 * A delay with the thread on the CPU is a long task on the event loop (a profile taken at the same
 * time names it: the µs column is the clock of V8's CPU profiles); one with run-queue wait is the
 * thread waiting for a core that other threads or processes held. Requests for `/metrics` (the
 * order-sign scenario scrapes it before and after each timed phase) are written as
 * `mark <µs> <s> metrics` lines, so the phases can be told apart. Garbage collections over 2 ms
 * are written as `gc` lines. Not for production: it keeps a core's timer busy.
 */
import dc from 'node:diagnostics_channel';
import { appendFileSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.argv.includes('serve')) {
  const out = join(process.env.DXHUB_LAG_PROBE_DIR ?? tmpdir(), `lag-probe.${process.pid}.log`);
  const lines: string[] = [];
  const t0 = performance.now();
  const micros = () => Number(process.hrtime.bigint() / 1000n);
  const since = (t: number) => ((t - t0) / 1000).toFixed(3);
  /** [ms on the CPU, ms waiting in the run queue] of the main thread so far. */
  const sched = (): [number, number] => {
    const f = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return [Number(f[0]) / 1e6, Number(f[1]) / 1e6];
  };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.duration > 2) lines.push(`gc ${micros()} ${since(e.startTime)} ${e.duration.toFixed(1)}ms`);
  }).observe({ entryTypes: ['gc'] });
  dc.subscribe('http.server.request.start', (msg) => {
    const { request } = msg as { request: IncomingMessage };
    if (request.url?.startsWith('/metrics')) lines.push(`mark ${micros()} ${since(performance.now())} metrics`);
  });
  const PERIOD_MS = 2;
  let last = performance.now();
  let [cpu0, wait0] = sched();
  setInterval(() => {
    const now = performance.now();
    const [cpu, wait] = sched();
    const delay = now - last - PERIOD_MS;
    if (delay > 6)
      lines.push(
        `lag ${micros()} ${since(last)} ${delay.toFixed(1)}ms oncpu=${(cpu - cpu0).toFixed(1)} runqwait=${(wait - wait0).toFixed(1)}`,
      );
    last = now;
    cpu0 = cpu;
    wait0 = wait;
  }, PERIOD_MS).unref();
  const flush = () => {
    if (lines.length > 0) appendFileSync(out, `${lines.splice(0).join('\n')}\n`);
  };
  setInterval(flush, 500).unref();
  process.on('exit', flush);
}
