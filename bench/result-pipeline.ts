import { readFileSync } from 'node:fs';
import { CODES } from '../src/core/results/index.ts';
import { ResultPipeline } from '../src/results/result-pipeline.ts';
import { openDialect } from '../src/store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../src/store/repository.ts';
import { countingDialect, RoundTrips } from './counting-dialect.ts';
import { freshDatabase } from './databases.ts';
import { rng } from './lab-data.ts';
import type { ScenarioContext, ScenarioResult } from './scenarios/harness.ts';

/** The everyday mix of the synthetic day (mean, SD, unit), most of it inside the reference intervals. */
const MIX = [
  [CODES.potassium, 4.1, 0.35, 'mmol/L'],
  [CODES.sodium, 140, 2.5, 'mmol/L'],
  [CODES.chloride, 104, 2.5, 'mmol/L'],
  [CODES.creatinine, 80, 20, 'umol/L'],
  [CODES.alt, 25, 10, 'U/L'],
  [CODES.tsh, 1.8, 0.9, 'm[IU]/L'],
  [CODES.haemoglobin, 8.5, 0.6, 'mmol/L'],
] as const;
const PER_REQUISITION = 10;

/** `count` preliminary lab results of `patients` patients, in requisitions of ten on one specimen. */
function results(count: number, patients: number, start: number, seed: number, prefix: string): Resource[][] {
  const random = rng(seed);
  const groups: Resource[][] = [];
  for (let g = 0; g * PER_REQUISITION < count; g++) {
    const patient = `Patient/bp${Math.floor(random() * patients)}`;
    const at = new Date(start + g * 1000).toISOString();
    groups.push(
      Array.from({ length: Math.min(PER_REQUISITION, count - g * PER_REQUISITION) }, (_, i) => {
        const [code, mean, sd, unit] = MIX[Math.floor(random() * MIX.length)]!;
        const value = Math.round((mean + (random() + random() + random() - 1.5) * 2 * sd) * 100) / 100;
        return {
          resourceType: 'Observation',
          id: `${prefix}-${g}-${i}`,
          status: 'preliminary',
          category: [
            { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
          ],
          code: { coding: [{ ...code }] },
          subject: { reference: patient },
          specimen: { reference: `Specimen/${prefix}-${g}` },
          effectiveDateTime: at,
          valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
        };
      }),
    );
  }
  return groups;
}

/** CPU seconds (user + system) of processes by pid, from /proc; a pid that is gone is left out. */
export function cpuSeconds(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      // Fields after the command: state is field 3, utime 14 and stime 15 (clock ticks, 100 per second).
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // Not on this machine, or the backend ended.
    }
  }
  return out;
}

/** PostgreSQL backends of this database (when the server runs on this machine, their CPU is readable). */
export async function backends(repo: FhirRepository): Promise<number[]> {
  if (repo.db.caps.name !== 'postgres') return [];
  const rows = await repo.db.all<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return rows.map((r) => Number(r.pid));
}

async function ingest(repo: FhirRepository, groups: Resource[][]): Promise<void> {
  for (const g of groups) {
    await repo.transaction(async (w) => {
      for (const r of g) await repo.put(w, r, { fresh: true });
    });
  }
}

/**
 * `--only result-pipeline`: in-process, on a fresh database. (a) ingestion of N preliminary
 * Observations in requisitions of ten (one transaction each) without the pipeline; (b) the pipeline
 * draining them: its added cost per Observation (target ≤ 1 ms); (c) ingestion of another N with
 * the pipeline running alongside, until all are processed: the rate with the pipeline.
 */
export async function resultPipelineScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 5_000 : 20_000;
  const patients = Math.max(50, Math.floor(n / 20));
  const db = await freshDatabase(ctx.dialect);
  const unregister = ctx.onInterrupt(() => db.drop());
  const trips = new RoundTrips();
  const repo = await FhirRepository.open(countingDialect(await openDialect(db.url), trips));
  try {
    await repo.transaction(async (w) => {
      for (let p = 0; p < patients; p++) {
        await repo.put(w, {
          resourceType: 'Patient',
          id: `bp${p}`,
          gender: p % 2 ? 'male' : 'female',
          birthDate: `${1930 + (p % 70)}-06-15`,
        });
      }
    });
    const start = Date.parse('2026-11-29T00:00:00Z');
    // Warm-up: JIT, statement caches, UCUM tables.
    const warm = new ResultPipeline({ repo });
    await ingest(repo, results(200, patients, start - 3_600_000, 7, 'bw'));
    await warm.drain();

    const first = results(n, patients, start, 1, 'b1');
    let t0 = performance.now();
    await ingest(repo, first);
    const ingestSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const server0 = cpuSeconds(await backends(repo));
    const cpu0 = process.cpuUsage();
    trips.reset();
    const processed = await warm.drain();
    const pipelineSeconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const tripsPer = trips.total / n;
    // The PostgreSQL server's CPU for the drain: its backends of this (bench-only) database.
    const server1 = cpuSeconds(await backends(repo));
    let serverSeconds = 0;
    for (const [pid, s1] of server1) serverSeconds += s1 - (server0.get(pid) ?? 0);
    const serverCpuMsPer = server1.size > 0 ? (serverSeconds * 1000) / n : undefined;
    const topTrips = trips
      .top()
      .map(([sql, count, ms]) => ({ sql, perObservation: count / n, msPerObservation: ms / n }));
    // CPU of this process only: on SQLite that is all of the pipeline's work; on PostgreSQL the
    // server's share is not in it. Wall time on this shared, overloaded machine is pessimistic.
    const cpuMsPer = (cpu.user + cpu.system) / 1000 / n;
    ctx.log(
      `  ${n} ingested in ${ingestSeconds.toFixed(1)} s, pipeline ${pipelineSeconds.toFixed(1)} s (${processed} processed), ${tripsPer.toFixed(2)} statements per Observation`,
    );
    for (const t of topTrips.slice(0, 12))
      ctx.log(`    ${t.perObservation.toFixed(3)} × ${t.msPerObservation.toFixed(3)} ms  ${t.sql}`);

    const second = results(n, patients, start + 86_400_000, 2, 'b2');
    const running = new ResultPipeline({ repo, pollMs: 20 });
    t0 = performance.now();
    running.start();
    await ingest(repo, second);
    const ingestWithSeconds = (performance.now() - t0) / 1000;
    while ((await running.consumer.poll(1)).length > 0) await new Promise((r) => setTimeout(r, 20));
    const endToEndSeconds = (performance.now() - t0) / 1000;
    await running.stop();

    const outcomes = await repo.db.all<{ outcome: string; n: number }>(
      'SELECT outcome, COUNT(*) AS n FROM result_outcome GROUP BY outcome',
    );
    const byOutcome = Object.fromEntries(outcomes.map((r) => [r.outcome, Number(r.n)]));
    const msPer = (pipelineSeconds * 1000) / n;
    return {
      figures: [
        {
          key: 'results.ingestPerSecond',
          label: 'results: ingestion without pipeline',
          value: n / ingestSeconds,
          unit: 'Obs/s',
        },
        {
          key: 'results.pipelineMsPerObservation',
          label: 'results: pipeline cost per Observation',
          value: msPer,
          unit: 'ms',
          digits: 2,
        },
        {
          key: 'results.pipelineCpuMsPerObservation',
          label: 'results: pipeline CPU of this process per Observation',
          value: cpuMsPer,
          unit: 'ms',
          digits: 2,
        },
        ...(serverCpuMsPer === undefined
          ? []
          : [
              {
                key: 'results.pipelineServerCpuMsPerObservation',
                label: 'results: pipeline CPU of the PostgreSQL server per Observation',
                value: serverCpuMsPer,
                unit: 'ms',
                digits: 2,
              },
            ]),
        {
          key: 'results.pipelineStatementsPerObservation',
          label: 'results: pipeline database statements per Observation',
          value: tripsPer,
          unit: 'stmts',
          digits: 2,
        },
        {
          key: 'results.ingestWithPipelinePerSecond',
          label: 'results: ingestion with pipeline running',
          value: n / ingestWithSeconds,
          unit: 'Obs/s',
        },
        {
          key: 'results.endToEndPerSecond',
          label: 'results: ingested and processed, with pipeline',
          value: n / endToEndSeconds,
          unit: 'Obs/s',
        },
      ],
      detail: {
        n,
        patients,
        ingestSeconds,
        pipelineSeconds,
        cpuMsPer,
        tripsPer,
        topTrips,
        ingestWithSeconds,
        endToEndSeconds,
        byOutcome,
      },
    };
  } finally {
    await repo.close();
    unregister();
    await db.drop();
  }
}
