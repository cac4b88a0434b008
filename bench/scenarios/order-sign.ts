import { randomUUID } from 'node:crypto';
import { buildCatalogue } from '../../src/core/ordering/catalogue.ts';
import { SEED_RULE_SET } from '../../src/core/ordering/seed/rule-set.ts';
import type { Rule, RuleSet } from '../../src/core/ordering/types.ts';
import { RuleSetStore } from '../../src/ordering/rule-set-store.ts';
import { openDialect } from '../../src/store/dialect/dialect.ts';
import { FhirRepository } from '../../src/store/repository.ts';
import { defaultHeaders, fetchJson, runLoad } from '../load.ts';
import { processCpuMicros } from '../server-process.ts';
import {
  consumersCaughtUp,
  type ScenarioContext,
  type ScenarioResult,
  seconds,
  warmupSeconds,
  withFreshServer,
} from './harness.ts';

const RESULTS = 5_000;
/**
 * Concurrent ingestion: lab Observations posted for other patients at this fixed rate (2
 * connections), each going through the server's result pipeline, operations, delivery and the
 * ordering projection. 100/s is 8.6 million results a day, several times a Danish region's volume.
 */
const INGEST_PER_SECOND = 100;
/** The throughput figure: the paced run offers order-sign calls at this rate. */
const TARGET_PER_SECOND = 2_000;
/** prom-client's default `eventLoopMonitoringPrecision` (the server keeps the default). */
const LOOP_MONITOR_PERIOD_MS = 10;
const RULES = 200;
const DAY = 86_400_000;

/**
 * 200 active rules: the seed set plus synthetic retest-interval rules over every lab analysis
 * (bench load only, never clinical content: they exist to make the engine walk 200 rules).
 */
export function benchRuleSet(): RuleSet {
  const labs = buildCatalogue().items.filter((i) => i.kind === 'lab');
  const synthetic: Rule[] = Array.from({ length: RULES - SEED_RULE_SET.rules.length }, (_, n) => ({
    id: `bench-synthetic-${n}`,
    version: 1,
    kind: 'retest-interval',
    tests: [labs[n % labs.length]!.id],
    interval: `PT${1 + (n % 6)}H`,
    action: 'info',
    unless: [{ kind: 'setting', in: ['icu'] }],
    title: { da: 'Bench-regel', en: 'Bench rule' },
    message: { da: 'Syntetisk bench-regel', en: 'Synthetic bench rule' },
    source: { label: 'bench only: synthetic load, not clinical content' },
  }));
  return { ...SEED_RULE_SET, name: 'bench: seed + synthetic rules', rules: [...SEED_RULE_SET.rules, ...synthetic] };
}

/** A patient with 5,000 results spread over five years on every catalogue analysis, and the bench rule set active. */
export async function prepare(dbUrl: string): Promise<{ patientId: string }> {
  const repo = await FhirRepository.open(await openDialect(dbUrl));
  try {
    const catalogue = buildCatalogue();
    const labs = catalogue.items.filter((i) => i.kind === 'lab');
    const now = Date.now();
    const patientId = await repo.transaction(async (w) => {
      const p = await repo.put(w, { resourceType: 'Patient', birthDate: '1958-03-02', gender: 'female' });
      await repo.put(w, {
        resourceType: 'Condition',
        clinicalStatus: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
        },
        code: { coding: [{ system: 'urn:oid:1.2.208.176.2.4', code: 'DE11' }] },
        subject: { reference: `Patient/${p.id}` },
      });
      return p.id;
    });
    for (let start = 0; start < RESULTS; start += 500) {
      await repo.transaction(async (w) => {
        for (let i = start; i < Math.min(RESULTS, start + 500); i++) {
          const item = labs[i % labs.length]!;
          await repo.put(w, {
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [item.code] },
            subject: { reference: `Patient/${patientId}` },
            effectiveDateTime: new Date(now - ((i * 5 * 365) / RESULTS) * DAY - 3_600_000).toISOString(),
            valueQuantity: { value: 20 + (i % 60), unit: 'x' },
          });
        }
      });
    }
    const rules = await RuleSetStore.open(repo.db, catalogue, () => now);
    await rules.activate(benchRuleSet(), 'bench', now);
    return { patientId };
  } finally {
    await repo.close();
  }
}

export const sr = (id: string, patientId: string, system: string, code: string) => ({
  resourceType: 'ServiceRequest',
  id,
  status: 'draft',
  intent: 'order',
  code: { coding: [{ system, code }] },
  subject: { reference: `Patient/${patientId}` },
});

/**
 * `POST /cds-services/dxhub-order-sign` (CRP, HbA1c, eGFR and a contrast CT: retest, diabetes,
 * contrast and imaging rules all read the store) for a patient with 5,000 results and 200 active
 * rules, 8 connections, while a second client posts lab Observations for other patients
 * (ingestion) on 2 connections. Reports evaluations/s and p99 latency.
 */
export async function orderSignScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  let dbUrl = '';
  return withFreshServer(
    ctx,
    (db) => {
      dbUrl = db.url;
      return prepare(db.url);
    },
    async (server, { patientId }) => {
      const catchUpSeconds = await consumersCaughtUp(dbUrl);
      ctx.log(`  consumers caught up with the pre-load after ${catchUpSeconds.toFixed(1)} s`);
      const orders = [
        sr('o-crp', patientId, 'http://npu-terminology.org', 'NPU19748'),
        sr('o-a1c', patientId, 'http://npu-terminology.org', 'NPU27300'),
        sr('o-egfr', patientId, 'http://npu-terminology.org', 'DNK35302'),
        sr('o-ct', patientId, 'urn:dxhub:local:imaging', 'ct-abdomen-contrast'),
      ];
      const body = () =>
        JSON.stringify({
          hook: 'order-sign',
          hookInstance: randomUUID(),
          context: {
            userId: 'Practitioner/bench',
            patientId,
            draftOrders: {
              resourceType: 'Bundle',
              type: 'collection',
              entry: orders.map((resource) => ({ resource })),
            },
          },
        });
      const first = await fetchJson<{ cards: { source: { topic: { code: string } } }[] }>(
        `${server.url}/cds-services/dxhub-order-sign`,
        {
          method: 'POST',
          body: body(),
        },
      );
      const fired = first.cards.map((c) => c.source.topic.code);
      if (!fired.includes('vk-hba1c-hospital'))
        throw new Error(`expected the HbA1c rule to fire, got ${fired.join(', ')}`);
      const next = () => ({ path: '/cds-services/dxhub-order-sign', method: 'POST' as const, body: body() });
      let k = 0;
      const ingest = () => ({
        path: '/fhir/Observation',
        method: 'POST' as const,
        body: JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          code: { coding: [{ system: 'http://npu-terminology.org', code: 'NPU19748' }] },
          subject: { reference: `Patient/ingest-${k++ % 100}` },
          effectiveDateTime: new Date().toISOString(),
          valueQuantity: { value: 5, unit: 'mg/L' },
        }),
      });
      // Warm-up of both paths: the first FHIR write compiles the R4 validator (seconds, on the
      // event loop), which is start-up cost, not what an evaluation under ingestion costs.
      await Promise.all([
        runLoad({ baseUrl: server.url, connections: 8, seconds: warmupSeconds(ctx), next }),
        runLoad({
          baseUrl: server.url,
          connections: 2,
          seconds: warmupSeconds(ctx),
          next: ingest,
          overallRate: INGEST_PER_SECOND,
        }),
      ]);
      await consumersCaughtUp(dbUrl);
      const secs = seconds(ctx, 15);
      // The server's event-loop delay over the timed phase (prom-client resets it per scrape).
      await eventLoopLag(server.url);
      const cpuIngest0 = processCpuMicros(server.pid);
      const [hooks, ingestion] = await Promise.all([
        runLoad({ baseUrl: server.url, connections: 8, seconds: secs, next }),
        runLoad({ baseUrl: server.url, connections: 2, seconds: secs, next: ingest, overallRate: INGEST_PER_SECOND }),
      ]);
      const cpuIngest1 = processCpuMicros(server.pid);
      const lag = await eventLoopLag(server.url);
      // The same at the target's rate instead of as fast as the server answers: the closed loop
      // above keeps the server saturated (8 requests always waiting), so its latency is mostly
      // queueing; this run offers 2,000 evaluations/s and reports the latency at that rate.
      await consumersCaughtUp(dbUrl);
      await eventLoopLag(server.url);
      const [paced] = await Promise.all([
        runLoad({ baseUrl: server.url, connections: 8, seconds: secs, next, overallRate: TARGET_PER_SECOND }),
        runLoad({ baseUrl: server.url, connections: 2, seconds: secs, next: ingest, overallRate: INGEST_PER_SECOND }),
      ]);
      const pacedLag = await eventLoopLag(server.url);
      // The "alone" run starts when the server has worked off what ingestion left behind.
      await consumersCaughtUp(dbUrl);
      const cpu0 = processCpuMicros(server.pid);
      const alone = await runLoad({ baseUrl: server.url, connections: 8, seconds: seconds(ctx, 6), next });
      const cpu1 = processCpuMicros(server.pid);
      // Server CPU per evaluation: the figure that holds on a busy machine (throughput does not).
      const cpuPerEval =
        cpu0 === undefined || cpu1 === undefined || alone.responses === 0
          ? Number.NaN
          : (cpu1 - cpu0) / alone.responses;
      // What ingestion costs the server beside the evaluations: the with-ingestion phase's CPU less
      // its evaluations at the alone run's cost, per Observation posted (a rough split: the work
      // ingestion leaves to the background consumers after the phase is not counted).
      const cpuPerObservation =
        cpuIngest0 === undefined || cpuIngest1 === undefined || ingestion.responses === 0
          ? Number.NaN
          : (cpuIngest1 - cpuIngest0 - hooks.responses * cpuPerEval) / ingestion.responses;
      return {
        figures: [
          {
            key: 'orderSign.perSecond',
            label: 'order-sign (5,000 results, 200 rules) with ingestion: evaluations/s',
            value: hooks.perSecond,
            unit: 'eval/s',
          },
          {
            key: 'orderSign.p99',
            label: 'order-sign with ingestion: latency p99',
            value: hooks.p99,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.p50',
            label: 'order-sign with ingestion: latency p50',
            value: hooks.p50,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.loopLagP99',
            label: 'with ingestion: server event-loop delay p99',
            value: lag.p99,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.loopLagMax',
            label: 'with ingestion: server event-loop delay max',
            value: lag.max,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.pacedPerSecond',
            label: `order-sign offered at ${TARGET_PER_SECOND.toLocaleString('en')}/s with ingestion: evaluations/s`,
            value: paced.perSecond,
            unit: 'eval/s',
          },
          {
            key: 'orderSign.pacedP99',
            label: `order-sign at ${TARGET_PER_SECOND.toLocaleString('en')}/s with ingestion: latency p99`,
            value: paced.p99,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.pacedLoopLagP99',
            label: `at ${TARGET_PER_SECOND.toLocaleString('en')}/s: server event-loop delay p99`,
            value: pacedLag.p99,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.non2xx',
            label: 'order-sign: non-2xx',
            value: hooks.non2xx + hooks.errors + paced.non2xx + paced.errors,
            unit: '',
          },
          {
            key: 'orderSign.ingestPerSecond',
            label: 'concurrent ingestion: Observations/s',
            value: ingestion.perSecond,
            unit: 'res/s',
          },
          {
            key: 'orderSign.cpuPerIngested',
            label: 'with ingestion: server CPU per posted Observation (beside the evaluations)',
            value: cpuPerObservation,
            unit: 'µs',
          },
          {
            key: 'orderSign.alonePerSecond',
            label: 'order-sign without ingestion: evaluations/s',
            value: alone.perSecond,
            unit: 'eval/s',
          },
          {
            key: 'orderSign.aloneP99',
            label: 'order-sign without ingestion: latency p99',
            value: alone.p99,
            unit: 'ms',
            digits: 1,
          },
          {
            key: 'orderSign.cpuPerEvaluation',
            label: 'order-sign without ingestion: server CPU per evaluation',
            value: cpuPerEval,
            unit: 'µs',
          },
        ],
        detail: {
          hooks,
          ingestion,
          paced,
          pacedEventLoopLag: pacedLag,
          alone,
          eventLoopLag: lag,
          cardsFired: fired,
          results: RESULTS,
          rules: RULES,
          catchUpSeconds,
        },
      };
    },
  );
}

/**
 * The server's event-loop delay (ms) since the previous scrape of its `/metrics`, from prom-client's
 * `monitorEventLoopDelay` gauges (reset at each scrape): how long a request that arrived could wait
 * for the event loop. NaN where the server does not report it.
 */
async function eventLoopLag(baseUrl: string): Promise<{ p50: number; p99: number; max: number }> {
  const r = await fetch(`${baseUrl}/metrics`, { headers: { ...defaultHeaders } });
  const text = await r.text();
  const gauge = (name: string) => {
    const m = new RegExp(`^dxhub_nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
    // monitorEventLoopDelay records the whole interval between its timer's runs, which includes
    // the timer's own period (prom-client's eventLoopMonitoringPrecision, 10 ms): the delay is the rest.
    return m ? Math.max(0, Number(m[1]) * 1000 - LOOP_MONITOR_PERIOD_MS) : Number.NaN;
  };
  return { p50: gauge('p50'), p99: gauge('p99'), max: gauge('max') };
}
