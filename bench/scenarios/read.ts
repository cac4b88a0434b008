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

/**
 * `GET /fhir/Observation/<id>` over 16 connections for ~10 s, the ids rotating through a
 * pre-loaded set (20,000; 5,000 with `--quick`) so that consecutive reads hit different rows.
 */
export async function readScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const size = ctx.quick ? 5_000 : 20_000;
  return withFreshServer(
    ctx,
    (db) => preload(db.url, { observations: size, keepIds: true }),
    async (server, { observationIds: ids }) => {
      const sample = await fetchJson<{ id: string }>(`${server.url}/fhir/Observation/${ids[0]}`);
      if (sample.id !== ids[0]) throw new Error(`read returned id ${sample.id}, expected ${ids[0]}`);
      // A stride coprime with the set size visits every id before repeating, in scattered order.
      let i = 0;
      const next = () => ({ path: `/fhir/Observation/${ids[(i++ * 7919) % ids.length]}` });
      await runLoad({ baseUrl: server.url, connections: 16, seconds: warmupSeconds(ctx), next });
      const r = await runLoad({ baseUrl: server.url, connections: 16, seconds: seconds(ctx, 10), next });
      return {
        figures: [
          ...loadFigures('read', 'Read Observation by id (16 conn)', r),
          { key: 'read.non2xx', label: 'Read by id: non-2xx', value: r.non2xx + r.errors, unit: '' },
        ],
        detail: { load: r, preloaded: ids.length },
      };
    },
  );
}
