import { seedRegion } from '../../src/demo/seed-region.ts';
import { openDialect } from '../../src/store/dialect/dialect.ts';
import { FhirRepository } from '../../src/store/repository.ts';
import { freshDatabase } from '../databases.ts';
import type { ScenarioContext, ScenarioResult } from './harness.ts';

/** Results per patient over ten years of demo history (measured: ~59, see docs/demo-region.md). */
const RESULTS_PER_PATIENT = 59;

/**
 * `dxhub seed` in-process on a fresh database: a region with ten years of history for
 * `--observations` results (≈ observations / 59 patients; 18,000 results with --quick), written
 * through `FhirRepository.transaction` in batches of 100 patients, 2 in flight. Not in the default set.
 */
export async function seedScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const patients = Math.max(10, Math.round((ctx.quick ? 18_000 : ctx.observations) / RESULTS_PER_PATIENT));
  const db = await freshDatabase(ctx.dialect);
  const unregister = ctx.onInterrupt(() => db.drop());
  try {
    const repo = await FhirRepository.open(await openDialect(db.url));
    try {
      const r = await seedRegion(repo, { patients, years: 10, seed: 1 });
      const seconds = r.elapsedMs / 1000;
      ctx.log(`  ${r.patients} patients, ${r.results} results, ${r.resources} resources in ${seconds.toFixed(1)} s`);
      return {
        figures: [
          {
            key: 'seed.resultsPerSecond',
            label: 'dxhub seed: results (Observations) written',
            value: r.results / seconds,
            unit: 'results/s',
          },
          {
            key: 'seed.resourcesPerSecond',
            label: 'dxhub seed: resources written',
            value: r.resources / seconds,
            unit: 'res/s',
          },
        ],
        detail: { ...r, seconds },
      };
    } finally {
      await repo.close();
    }
  } finally {
    unregister();
    await db.drop();
  }
}
