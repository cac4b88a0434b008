import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchDialect, PG_URL, postgresProblem } from './databases.ts';
import { type Figure, renderTable } from './figures.ts';
import { hl7ProcessorScenario } from './hl7-processor.ts';
import { resultPipelineScenario } from './result-pipeline.ts';
import { astmScenario } from './scenarios/astm.ts';
import { bundleScenario } from './scenarios/bundle.ts';
import { conditionalPutScenario } from './scenarios/conditional-put.ts';
import type { ScenarioContext, ScenarioResult } from './scenarios/harness.ts';
import { hl7Scenario } from './scenarios/hl7.ts';
import { operationsScenario } from './scenarios/operations.ts';
import { orderSignScenario } from './scenarios/order-sign.ts';
import { readScenario } from './scenarios/read.ts';
import { searchScenario } from './scenarios/search.ts';
import { seedScenario } from './scenarios/seed.ts';
import { simulateOrdersScenario } from './scenarios/simulate-orders.ts';
import { webScenario } from './web.ts';

const USAGE = `npm run bench -- [options]     (= node bench/run.ts)

  --dialect sqlite|postgres|both   databases to measure (default both; PostgreSQL from
                                   DXHUB_BENCH_PG_URL, default ${PG_URL})
  --quick                          small data and short runs: a smoke run in under 2 minutes
  --only <names>                   comma-separated: bundle, read, search, disk, conditional-put, hl7,
                                   hl7-processor, astm, operations, order-sign, result-pipeline, seed, simulate-orders, web (search
                                   includes disk; disk alone skips the HTTP run). Not in the default
                                   set: hl7 (HL7 v2 parse + MLLP end to end), hl7-processor (the
                                   HL7 processor alone, per message and batched), astm (ASTM results
                                   from one analyzer connection: ACKed, and processed), operations (management
                                   information on 10 M results of history, 1 M with --quick),
                                   order-sign (CDS Hooks order-sign with 5,000 results and 200 rules
                                   while Observations are ingested), result-pipeline (Observations
                                   with and without result processing), seed (the demo region build
                                   for --observations results), web (the browser app on the demo
                                   region in Chromium: first screen and patient overview),
                                   simulate-orders (the simulator's requisition channel: CDS
                                   Hooks, requisition, sign/revoke per order; 600, 60 with --quick)
  --observations <n>               Observations pre-loaded for search/disk (default 1,000,000;
                                   50,000 with --quick)
  --compare-medplum                add the Medplum figures cited in the research note
  --profile                        write a V8 CPU profile of each server process to
                                   bench/results/profiles/ (open in Chrome DevTools)
  --lag-probe                      load bench/lag-probe.ts into each server: its event-loop
                                   delays split into long tasks and waits for a core, in
                                   $DXHUB_LAG_PROBE_DIR (default the temp directory)
  --help`;

const SCENARIOS = [
  'bundle',
  'read',
  'search',
  'disk',
  'conditional-put',
  'hl7',
  'hl7-processor',
  'astm',
  'operations',
  'order-sign',
  'result-pipeline',
  'seed',
  'simulate-orders',
  'web',
] as const;
type ScenarioName = (typeof SCENARIOS)[number];

const RUNNERS: Record<ScenarioName, (ctx: ScenarioContext) => Promise<ScenarioResult>> = {
  bundle: bundleScenario,
  read: readScenario,
  search: (ctx) => searchScenario(ctx, { http: true }),
  disk: (ctx) => searchScenario(ctx, { http: false }),
  'conditional-put': conditionalPutScenario,
  hl7: hl7Scenario,
  'hl7-processor': hl7ProcessorScenario,
  astm: astmScenario,
  operations: operationsScenario,
  'order-sign': orderSignScenario,
  'result-pipeline': resultPipelineScenario,
  seed: seedScenario,
  'simulate-orders': simulateOrdersScenario,
  web: webScenario,
};

function parse() {
  const { values } = parseArgs({
    options: {
      dialect: { type: 'string', default: 'both' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      observations: { type: 'string' },
      'compare-medplum': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'lag-probe': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!['both', 'sqlite', 'postgres'].includes(values.dialect))
    throw new Error(`unknown --dialect '${values.dialect}'`);
  const dialects: BenchDialect[] =
    values.dialect === 'both' ? ['sqlite', 'postgres'] : values.dialect === 'sqlite' ? ['sqlite'] : ['postgres'];
  const only = values.only?.split(',').map((s) => s.trim()) ?? ['bundle', 'read', 'search', 'conditional-put'];
  for (const s of only) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario '${s}'`);
  // `search` already measures the disk figures after its load.
  const scenarios = (only as ScenarioName[]).filter((s) => !(s === 'disk' && only.includes('search')));
  const observations = Number(values.observations ?? (values.quick ? 50_000 : 1_000_000));
  if (!Number.isInteger(observations) || observations < 100) throw new Error('--observations must be an integer ≥ 100');
  return {
    dialects,
    scenarios,
    observations,
    quick: values.quick,
    medplum: values['compare-medplum'],
    profile: values.profile,
    lagProbe: values['lag-probe'],
  };
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

async function main() {
  const opts = parse();
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const cleanups = new Set<() => Promise<void>>();
  process.once('SIGINT', () => {
    log('\ninterrupted: stopping servers and dropping bench databases…');
    void Promise.allSettled([...cleanups].map((fn) => fn())).then(() => process.exit(130));
  });

  const dialects = [...opts.dialects];
  if (dialects.includes('postgres')) {
    const problem = await postgresProblem();
    if (problem) {
      if (opts.dialects.length === 1) throw new Error(`PostgreSQL at ${PG_URL} is not reachable: ${problem}`);
      log(`PostgreSQL at ${PG_URL} is not reachable (${problem}): measuring SQLite only`);
      dialects.splice(dialects.indexOf('postgres'), 1);
    }
  }

  const started = new Date();
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), loadAtStart: loadavg() };
  log(
    `dxhub bench ${opts.quick ? '(quick) ' : ''}on ${machine.cpus} CPUs, load ${machine.loadAtStart.map((l) => l.toFixed(2)).join(' ')}; ` +
      `scenarios ${opts.scenarios.join(', ')}; dialects ${dialects.join(', ')}`,
  );

  const figures: Partial<Record<BenchDialect, Figure[]>> = {};
  const details: Record<string, unknown> = {};
  const failures: string[] = [];
  for (const dialect of dialects) {
    figures[dialect] = [];
    for (const name of opts.scenarios) {
      log(`[${dialect}] ${name}…`);
      const ctx: ScenarioContext = {
        dialect,
        quick: opts.quick,
        observations: opts.observations,
        serverNodeArgs: [
          ...(opts.profile
            ? ['--cpu-prof', `--cpu-prof-dir=${fileURLToPath(new URL('./results/profiles/', import.meta.url))}`]
            : []),
          ...(opts.lagProbe ? ['--import', fileURLToPath(new URL('./lag-probe.ts', import.meta.url))] : []),
        ],
        log,
        onInterrupt: (fn) => {
          cleanups.add(fn);
          return () => cleanups.delete(fn);
        },
      };
      const t0 = performance.now();
      try {
        const r = await RUNNERS[name](ctx);
        figures[dialect].push(...r.figures);
        details[`${dialect}.${name}`] = r.detail;
        log(`[${dialect}] ${name} done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      } catch (e) {
        const msg = `[${dialect}] ${name} failed: ${(e as Error).stack ?? e}`;
        failures.push(msg);
        log(msg);
      }
    }
  }

  process.stdout.write(`\n${renderTable(figures, { medplum: opts.medplum })}\n`);
  if (failures.length) process.stdout.write(`\n${failures.length} scenario(s) failed (see above)\n`);

  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${started.toISOString().replace(/[:.]/g, '-')}.json`;
  const report = {
    started: started.toISOString(),
    finished: new Date().toISOString(),
    commit: commit(),
    node: process.version,
    machine: { ...machine, loadAtEnd: loadavg() },
    options: opts,
    postgresUrl: dialects.includes('postgres') ? PG_URL.replace(/\/\/[^@/]*@/, '//…@') : undefined,
    figures,
    details,
    failures,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  log(`\nresults written to ${file}`);
  if (failures.length) process.exitCode = 1;
}

main().catch((e: Error) => {
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(1);
});
