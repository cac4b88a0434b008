import { labBundle, rng } from '../lab-data.ts';
import { fetchJson, runLoad } from '../load.ts';
import { preload } from '../preload.ts';
import {
  loadFigures,
  type ScenarioContext,
  type ScenarioResult,
  seconds,
  warmupSeconds,
  withFreshServer,
} from './harness.ts';

const POOL = 64;

/**
 * Transaction Bundles (1 DiagnosticReport + 10 Observations) POSTed to `/fhir` by 8 connections
 * for ~15 s. Resources/s = 11 × bundles/s. Afterwards the Observation count must equal 10 × the
 * bundles answered 2xx (nothing lost, nothing half-written).
 */
export async function bundleScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  return withFreshServer(
    ctx,
    (db) => preload(db.url, { observations: 0, patients: 1000 }),
    async (server, { patientIds }, startup) => {
      const random = rng(7);
      const bundles = Array.from({ length: POOL }, (_, i) =>
        labBundle(patientIds[i % patientIds.length]!, Date.UTC(2025, 0, 1) + i * 3_600_000, random, `B${i}`),
      );
      let i = 0;
      const next = () => ({ path: '/fhir', method: 'POST' as const, body: bundles[i++ % POOL] });
      const warm = await runLoad({ baseUrl: server.url, connections: 8, seconds: warmupSeconds(ctx), next });
      const r = await runLoad({ baseUrl: server.url, connections: 8, seconds: seconds(ctx, 15), next });
      const count = await fetchJson<{ total: number }>(`${server.url}/fhir/Observation?_summary=count`);
      // Requests still in flight when a run stops are answered after autocannon stopped counting:
      // up to one bundle per connection per run may be stored without being counted.
      const expected = 10 * (warm.ok + r.ok);
      const slack = 10 * 8 * 2;
      if (count.total % 10 !== 0 || count.total < expected || count.total > expected + slack) {
        ctx.log(`  ✗ ${count.total} Observations stored; expected ${expected}–${expected + slack} in whole bundles`);
      }
      const [throughput, ...latency] = loadFigures('bundle', 'Transaction bundle (8 conn)', r, 'bundles/s');
      return {
        figures: [
          { key: 'startup.seconds', label: 'Server start on an empty database', value: startup, unit: 's', digits: 1 },
          {
            key: 'bundle.resourcesPerSecond',
            label: 'Transaction bundle (8 conn): resources',
            value: 11 * r.perSecond,
            unit: 'res/s',
          },
          throughput!,
          ...latency,
          { key: 'bundle.non2xx', label: 'Transaction bundle: non-2xx', value: r.non2xx + r.errors, unit: '' },
        ],
        detail: { load: r, warmup: warm, observationsStored: count.total, observationsExpected: expected, startup },
      };
    },
  );
}
