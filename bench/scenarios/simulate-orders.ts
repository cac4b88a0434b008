import {
  type LiveEvent,
  liveArrivals,
  liveOrderEvent,
  serviceRequestResource,
  specimenResource,
} from '../../src/core/demo/index.ts';
import { requisitionOrderChannel, simulatedOrderer } from '../../src/demo/requisition-channel.ts';
import { patientBatch } from '../../src/demo/seed-region.ts';
import { openDialect } from '../../src/store/dialect/dialect.ts';
import { FhirRepository } from '../../src/store/repository.ts';
import { type ScenarioContext, type ScenarioResult, withFreshServer } from './harness.ts';

const SEED = 1;
const PATIENTS = 200;

/** A small seeded region (patients with a few weeks of history) written in-process before the server starts. */
async function prepare(dbUrl: string): Promise<void> {
  const repo = await FhirRepository.open(await openDialect(dbUrl));
  try {
    const batch = patientBatch({ seed: SEED, asOf: Date.now() - 3_600_000, years: 0.1 }, 0, PATIENTS).resources;
    for (let i = 0; i < batch.length; i += 500)
      await repo.transaction(async (w) => {
        for (const r of batch.slice(i, i + 500)) await repo.put(w, r);
      });
  } finally {
    await repo.close();
  }
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
};

/**
 * The live simulator's default order channel end to end against a dxhub child process: per order
 * CDS Hooks order-select, create requisition, sign (or revoke) as the unit's clinician, Specimen
 * registered by the lab — one order at a time, as the simulator places them. Reports orders/s and
 * per-order latency; the simulator's default rate is 300 orders per simulated hour.
 */
export async function simulateOrdersScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 60 : 600;
  return withFreshServer(
    ctx,
    (db) => prepare(db.url),
    async (server) => {
      const tokens = new Map<string, string>();
      const token = (args: string[]) => {
        const key = args.join(' ');
        if (!tokens.has(key)) tokens.set(key, server.bearer(args).replace(/^Bearer /, ''));
        return tokens.get(key)!;
      };
      const channel = requisitionOrderChannel(
        server.url,
        {
          orderer: async (org) => token(['--user', simulatedOrderer(org), '--role', 'clinician', '--org', org]),
          integration: async () =>
            token(['--user', 'demo-simulator', '--role', 'integration', '--org', 'demo-ouh-kba']),
        },
        SEED,
      );
      const arrivals = liveArrivals(SEED, Date.now() - 3_600_000, 300);
      const recent: LiveEvent[] = [];
      const events = Array.from({ length: n }, (_, i) =>
        liveOrderEvent(
          SEED,
          i,
          { patientCount: PATIENTS, at: arrivals.next().value as number, runId: 'bench' },
          recent,
        ),
      );
      // Tokens first (each is a `dxhub token` child process), so they are not timed.
      for (const e of events)
        token(['--user', simulatedOrderer(e.order.requester), '--role', 'clinician', '--org', e.order.requester]);
      const latencies: number[] = [];
      let withdrawn = 0;
      const t0 = performance.now();
      for (const e of events) {
        const t = performance.now();
        const resources =
          e.order.kind === 'lab'
            ? [serviceRequestResource(e.order, 'active'), specimenResource(e.order)]
            : [serviceRequestResource(e.order, 'active')];
        if (!(await channel.place(e.order, resources))) withdrawn++;
        latencies.push(performance.now() - t);
      }
      const seconds = (performance.now() - t0) / 1000;
      const perSecond = n / seconds;
      ctx.log(
        `  ${n} orders in ${seconds.toFixed(1)} s (${withdrawn} withdrawn, ${events.filter((e) => e.order.overOrder).length} over-orders)`,
      );
      return {
        figures: [
          {
            key: 'simulate-orders.perSecond',
            label: 'simulator requisition channel: orders',
            value: perSecond,
            unit: 'orders/s',
            digits: 1,
          },
          {
            key: 'simulate-orders.p50',
            label: 'simulator requisition channel: p50 per order',
            value: percentile(latencies, 50),
            unit: 'ms',
            digits: 0,
          },
          {
            key: 'simulate-orders.p95',
            label: 'simulator requisition channel: p95 per order',
            value: percentile(latencies, 95),
            unit: 'ms',
            digits: 0,
          },
        ],
        detail: {
          orders: n,
          withdrawn,
          seconds,
          perSecond,
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
        },
      };
    },
  );
}
