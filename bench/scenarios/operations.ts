import { IndicatorState } from '../../src/operations/indicator-state.ts';
import { DEFAULT_OPERATIONS_CONFIG } from '../../src/operations/operations-config.ts';
import { openDialect } from '../../src/store/dialect/dialect.ts';
import { FhirRepository } from '../../src/store/repository.ts';
import { simulateOrders } from '../../test/support/ops-simulation.ts';
import { labBundle, rng } from '../lab-data.ts';
import { fetchJson, runLoad } from '../load.ts';
import { loadFigures, type ScenarioContext, type ScenarioResult, seconds, withFreshServer } from './harness.ts';

const SECTIONS = ['1003', '1004', '1005', '1006', '1007', '1008'];
const RESULTS_PER_ORDER = 8;
const DAY = 86_400_000;

/**
 * Management information with a long history: synthetic order timelines (8 results each, six
 * sections, 150 orders/h per section by day and 50 by night) are fed in-process through the same
 * incremental path the outbox consumer uses (`IndicatorState.apply`, one batch per simulated hour)
 * until the state holds 10 million results (1 million with --quick). Then `dxhub serve` runs on
 * that database and is measured over HTTP: (1) dashboard queries under the /mi API, random mix
 * of windows, breakdowns and organisations, 4 connections; (2) transaction Bundles (1 report +
 * 10 results) POSTed by 4 connections while the server's operations consumer keeps the
 * indicators current: the event → indicator lag from its Prometheus histogram.
 */
export async function operationsScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const target = ctx.quick ? 1_000_000 : 10_000_000;
  return withFreshServer(
    ctx,
    async (db) => {
      const repo = await FhirRepository.open(await openDialect(db.url));
      const state = new IndicatorState(repo.db, DEFAULT_OPERATIONS_CONFIG);
      const heap0 = process.memoryUsage().heapUsed;
      const end = Date.UTC(2026, 10, 29);
      const days = Math.ceil(target / (SECTIONS.length * (11 * 150 + 13 * 50) * RESULTS_PER_ORDER)) + 3;
      let results = 0;
      let inputs = 0;
      const t0 = performance.now();
      for (let d = days; d > 0 && results < target; d--) {
        const day = simulateOrders({
          seed: d,
          start: end - d * DAY,
          hours: 24,
          sections: SECTIONS,
          ordersPerHour: (h) => (h >= 7 && h < 18 ? 150 : 50),
          resultsPerOrder: RESULTS_PER_ORDER,
        });
        for (let h = 0; h < 24; h++) {
          const to = end - d * DAY + (h + 1) * 3_600_000;
          const batch = [];
          while (inputs < day.length && day[inputs]!.at < to) batch.push(day[inputs++]!);
          await state.apply(batch);
          results += batch.filter((i) => i.kind === 'result').length;
        }
        if (inputs < day.length) await state.apply(day.slice(inputs));
        inputs = 0;
        ctx.log(
          `  history: ${results.toLocaleString('en')} results (${Math.round(results / ((performance.now() - t0) / 1000))}/s)`,
        );
      }
      const loadSeconds = (performance.now() - t0) / 1000;
      const heapBytes = process.memoryUsage().heapUsed - heap0;
      const rows = async (t: string) =>
        Number((await repo.db.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t}`))[0]!.n);
      const sizes = {
        buckets: await rows('ops_bucket'),
        timelines: await rows('ops_timeline'),
        cachedCells: state.cachedCells,
      };
      await repo.close();
      return { results, loadSeconds, heapBytes, sizes, days };
    },
    async (server, history) => {
      const manager = server.bearer(['--user', 'bench-manager', '--role', 'department-manager', '--org', '1003']);
      const random = rng(3);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
      const queries = () => {
        const window = pick(['live', 'today', '7d', '30d', '365d']);
        const org = pick(['', '&org=1003', '&org=1005']);
        return pick([
          `/mi/tat?window=${window}&by=${pick(['all', 'analysis', 'priority', 'section', 'hour', 'department', 'instrument'])}${org}`,
          `/mi/tat?window=${window}&interval=collection-to-report&by=analysis${org}`,
          `/mi/throughput?window=${window}${org}`,
          `/mi/quality?window=${window}${org}`,
          `/mi/wip?x=1${org}`,
          `/mi/alerts?active=true${org}`,
        ]);
      };
      const dash = await runLoad({
        baseUrl: server.url,
        connections: 4,
        seconds: seconds(ctx, 20),
        next: () => ({ path: queries() }),
      });
      const managerDash = await runLoad({
        baseUrl: server.url,
        connections: 4,
        seconds: seconds(ctx, 10),
        next: () => ({
          path: `/mi/tat?window=${pick(['today', '30d', '365d'])}&by=section`,
          headers: { authorization: manager },
        }),
      });
      // Events: results written over the FHIR API while the consumer keeps up.
      const pool = Array.from({ length: 64 }, (_, i) =>
        labBundle('bench-patient', Date.UTC(2026, 10, 28) + i * 60_000, random, `O${i}`),
      );
      const les = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf'];
      const admin = server.bearer(['--role', 'admin', '--org', 'bench-org', '--user', 'bench-admin']);
      const lagHistogram = async () => {
        const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: admin } })).text();
        const lines = metrics.split('\n');
        return new Map(
          les.map((le) => [
            le,
            Number(
              lines.find((l) => l.startsWith(`dxhub_ops_event_lag_seconds_bucket{le="${le}"}`))?.split(' ')[1] ?? 0,
            ),
          ]),
        );
      };
      // Warm the write path first (the validator compiles its definitions on the first write) and
      // let the consumers work off what that started; only the measured run's events are counted.
      for (const body of pool.slice(0, 4)) await fetchJson(`${server.url}/fhir`, { method: 'POST', body });
      await new Promise((r) => setTimeout(r, 3000));
      const before = await lagHistogram();
      let i = 0;
      const writes = await runLoad({
        baseUrl: server.url,
        connections: 4,
        seconds: seconds(ctx, 15),
        next: () => ({ path: '/fhir', method: 'POST', body: pool[i++ % pool.length] }),
      });
      if (writes.ok === 0) throw new Error(`no transaction completed during the lag run: ${JSON.stringify(writes)}`);
      // Let the consumer finish, then read the lag histogram.
      await new Promise((r) => setTimeout(r, 3000));
      const after = await lagHistogram();
      const bucket = (le: string) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
      const total = bucket('+Inf');
      const p95 = les.find((le) => bucket(le) >= 0.95 * total) ?? '>30';
      const eventsPerSecond = (writes.ok * 11) / writes.seconds;
      return {
        figures: [
          {
            key: 'operations.historyResults',
            label: 'operations: results of history in the indicator state',
            value: history.results,
            unit: 'results',
          },
          {
            key: 'operations.historyRate',
            label: 'operations: history fed through the incremental path',
            value: history.results / history.loadSeconds,
            unit: 'results/s',
          },
          ...loadFigures('operations.dashboard', 'operations: /mi dashboard queries (mixed)', dash),
          ...loadFigures(
            'operations.managerDashboard',
            'operations: /mi/tat by section, department manager',
            managerDash,
          ),
          {
            key: 'operations.eventsPerSecond',
            label: 'operations: events written (FHIR transactions) during lag run',
            value: eventsPerSecond,
            unit: 'events/s',
          },
          {
            key: 'operations.lagWithin1s',
            label: 'operations: events in the indicators within 1 s',
            value: total ? (100 * bucket('1')) / total : 0,
            unit: '%',
            digits: 1,
          },
          {
            key: 'operations.lagP95Bucket',
            label: 'operations: event → indicator lag p95 (histogram bucket ≤)',
            value: Number(p95) || Number.NaN,
            unit: 's',
            digits: 2,
          },
          {
            key: 'operations.stateRows',
            label: 'operations: indicator rows (buckets + timelines)',
            value: history.sizes.buckets + history.sizes.timelines,
            unit: 'rows',
          },
          {
            key: 'operations.heapBytes',
            label: 'operations: in-memory state after the history (heap growth)',
            value: history.heapBytes / 1e6,
            unit: 'MB',
            digits: 1,
          },
        ],
        detail: {
          history,
          dash,
          managerDash,
          writes,
          lagEvents: total,
          lagBuckets: Object.fromEntries(les.map((le) => [le, bucket(le)])),
        },
      };
    },
  );
}
