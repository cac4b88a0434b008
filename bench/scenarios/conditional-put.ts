import { ANALYSES, LAB_ID, observation, rng } from '../lab-data.ts';
import { fetchJson, runLoad } from '../load.ts';
import { preload } from '../preload.ts';
import { loadFigures, type ScenarioContext, type ScenarioResult, seconds, withFreshServer } from './harness.ts';

const IDENTIFIERS = 50;

/**
 * 8 connections doing `PUT /fhir/Observation?identifier=<sys>|<val>` on the same 50 identifiers
 * for ~10 s, each with a new value (so the first of each creates and the rest update). No warm-up:
 * the racing creates at the start are the point. Afterwards every identifier must match exactly
 * one Observation (`_summary=count`).
 */
export async function conditionalPutScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  return withFreshServer(
    ctx,
    (db) => preload(db.url, { observations: 0, patients: IDENTIFIERS }),
    async (server, { patientIds }) => {
      const random = rng(5);
      const next = () => {
        const k = Math.floor(random() * IDENTIFIERS);
        const accession = `CPUT-${String(k).padStart(3, '0')}`;
        const body = observation({
          analysis: ANALYSES[k % ANALYSES.length]!,
          patientId: patientIds[k]!,
          at: Date.UTC(2025, 5, 1) + k * 60_000,
          random,
          accession,
        });
        return {
          path: `/fhir/Observation?identifier=${encodeURIComponent(`${LAB_ID}|${accession}`)}`,
          method: 'PUT' as const,
          body: JSON.stringify(body),
        };
      };
      const r = await runLoad({ baseUrl: server.url, connections: 8, seconds: seconds(ctx, 10), next });
      const counts: number[] = [];
      for (let k = 0; k < IDENTIFIERS; k++) {
        const q = encodeURIComponent(`${LAB_ID}|CPUT-${String(k).padStart(3, '0')}`);
        counts.push(
          (await fetchJson<{ total: number }>(`${server.url}/fhir/Observation?identifier=${q}&_summary=count`)).total,
        );
      }
      const duplicates = counts.filter((c) => c > 1).length;
      const missing = counts.filter((c) => c === 0).length;
      if (missing) ctx.log(`  (${missing} identifiers were never chosen or never written)`);
      return {
        figures: [
          ...loadFigures('conditionalPut', 'Conditional PUT, 50 ids (8 conn)', r, 'ops/s'),
          {
            key: 'conditionalPut.non2xx',
            label: 'Conditional PUT: non-2xx + errors',
            value: r.non2xx + r.errors,
            unit: '',
          },
          {
            key: 'conditionalPut.duplicates',
            label: 'Conditional PUT: ids with > 1 Observation',
            value: duplicates,
            unit: '',
          },
        ],
        detail: { load: r, observationsPerIdentifier: counts },
      };
    },
  );
}
