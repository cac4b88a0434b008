import { openDialect } from '../../src/store/dialect/dialect.ts';
import { type BenchDatabase, type BenchDialect, freshDatabase } from '../databases.ts';
import type { Figure } from '../figures.ts';
import type { LoadResult } from '../load.ts';
import { type ServerProcess, startServer } from '../server-process.ts';

/** What every scenario gets from the runner. */
export interface ScenarioContext {
  readonly dialect: BenchDialect;
  readonly quick: boolean;
  /** Observations to pre-load for the search scenario (`--observations`). */
  readonly observations: number;
  /** Extra Node options for the server child process (`--profile` adds `--cpu-prof`). */
  readonly serverNodeArgs: readonly string[];
  log(msg: string): void;
  /** Registers a clean-up to run if the bench is interrupted; returns its removal. */
  onInterrupt(fn: () => Promise<void>): () => void;
}

/** Figures for the table plus raw numbers for the JSON file. */
export interface ScenarioResult {
  readonly figures: Figure[];
  readonly detail: Record<string, unknown>;
}

/**
 * Runs `fn` against a dxhub child process on a fresh database that `prepare` may fill first
 * (in-process, before the server starts). The server is stopped and the database dropped after.
 */
export async function withFreshServer<P, R>(
  ctx: ScenarioContext,
  prepare: (db: BenchDatabase) => Promise<P>,
  fn: (server: ServerProcess, prepared: P, startupSeconds: number) => Promise<R>,
  serverOpts: Parameters<typeof startServer>[2] = {},
): Promise<R> {
  const db = await freshDatabase(ctx.dialect);
  let server: ServerProcess | undefined;
  const cleanup = async () => {
    await server?.stop();
    await db.drop();
  };
  const unregister = ctx.onInterrupt(cleanup);
  try {
    const prepared = await prepare(db);
    const t0 = performance.now();
    server = await startServer(db.url, ctx.serverNodeArgs, serverOpts);
    const startup = (performance.now() - t0) / 1000;
    return await fn(server, prepared, startup);
  } catch (e) {
    if (server) ctx.log(`  server log tail:\n${server.stderrTail()}`);
    throw e;
  } finally {
    unregister();
    await cleanup();
  }
}

/** Throughput and latency figures of a load run, keyed `<prefix>.perSecond|p50|p95`. */
export function loadFigures(prefix: string, label: string, r: LoadResult, unit = 'req/s'): Figure[] {
  return [
    { key: `${prefix}.perSecond`, label: `${label}: throughput`, value: r.perSecond, unit },
    { key: `${prefix}.p50`, label: `${label}: latency p50`, value: r.p50, unit: 'ms', digits: 1 },
    { key: `${prefix}.p95`, label: `${label}: latency p95`, value: r.p95, unit: 'ms', digits: 1 },
  ];
}

/** Durations: the issue's for a full run, a third of them (at least 3 s) for `--quick`. */
export const seconds = (ctx: ScenarioContext, full: number) => (ctx.quick ? Math.max(3, Math.round(full / 3)) : full);

/** A short unmeasured run first, so that the JIT and the database caches are warm. */
export const warmupSeconds = (ctx: ScenarioContext) => (ctx.quick ? 1 : 3);

/**
 * The server's background outbox consumers. (`ordering-latest-results` is drained on demand, before
 * an ordering decision reads it, so its position may stay behind while nobody orders.)
 */
export const BACKGROUND_CONSUMERS = ['result-pipeline', 'operations', 'delivery'] as const;

/**
 * Waits until the server's background outbox consumers (`consumers`) have
 * processed everything committed so far, including what they wrote themselves, twice in a row:
 * a timed run must not include the server working off a pre-load's backlog. Returns the seconds
 * it took.
 */
export async function consumersCaughtUp(
  dbUrl: string,
  consumers: readonly string[] = BACKGROUND_CONSUMERS,
  timeoutSeconds = 600,
): Promise<number> {
  const db = await openDialect(dbUrl);
  const t0 = performance.now();
  try {
    let stable = 0;
    while (stable < 2) {
      const [end] = await db.all<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM outbox', []);
      const rows = await db.all<{ name: string; position: number }>('SELECT name, position FROM outbox_consumer', []);
      const at = new Map(rows.map((r) => [r.name, Number(r.position)]));
      const done = consumers.every((c) => (at.get(c) ?? 0) >= Number(end?.seq ?? 0));
      stable = done ? stable + 1 : 0;
      if ((performance.now() - t0) / 1000 > timeoutSeconds)
        throw new Error(
          `the server's consumers did not catch up within ${timeoutSeconds} s (outbox at ${end?.seq}: ${rows.map((r) => `${r.name} ${r.position}`).join(', ')})`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    await db.close();
  }
}

/**
 * Sets the background consumers' positions past everything in the outbox, before the server
 * starts: a pre-load then stands for history the consumers processed long ago (years of results
 * in a region), not for a backlog the server works through while it is measured. For scenarios
 * that measure reads of the pre-load only (search); a 1,000,000-result pre-load would otherwise
 * take its consumers tens of minutes.
 */
export async function consumersPastPreload(
  dbUrl: string,
  consumers: readonly string[] = BACKGROUND_CONSUMERS,
): Promise<void> {
  const db = await openDialect(dbUrl);
  try {
    const [end] = await db.all<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM outbox', []);
    const seq = Number(end?.seq ?? 0);
    for (const name of consumers) {
      await db.run('DELETE FROM outbox_consumer WHERE name = ?', [name]);
      await db.insertMany(
        'outbox_consumer',
        ['name', 'position', 'updated_at'],
        ['text', 'bigint', 'bigint'],
        [[name, seq, Date.now()]],
      );
    }
  } finally {
    await db.close();
  }
}
