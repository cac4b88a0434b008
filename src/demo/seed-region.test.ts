import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLI } from '../../test/support/cli.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { REGION_ORGANISATIONS } from '../core/demo/index.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { formatSeedProgress } from './progress-bar.ts';
import { isRegionSeeded, patientBatch, seedRegion } from './seed-region.ts';

const AS_OF = Date.parse('2026-11-29T12:00:00Z');

async function count(service: FhirService, type: string, params: [string, string][] = []): Promise<number> {
  const r = await service.search(type, [...params, ['_summary', 'count']], INTERNAL);
  return (JSON.parse(r.body!) as { total: number }).total;
}

describe('seed batches', () => {
  it('the same seed builds the same resources; another seed does not', () => {
    const a = patientBatch({ seed: 3, asOf: AS_OF, years: 2 }, 0, 30);
    const b = patientBatch({ seed: 3, asOf: AS_OF, years: 2 }, 0, 30);
    const c = patientBatch({ seed: 4, asOf: AS_OF, years: 2 }, 0, 30);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.resources, c.resources);
  });

  it('the progress bar shows share, counts, rate and ETA', () => {
    const line = formatSeedProgress(
      { patients: 50, totalPatients: 100, results: 3000, resources: 6000, elapsedMs: 2000 },
      10,
    );
    assert.equal(line, '[#####-----] 50% 50/100 patients, 3,000 results, 1,500 results/s, ETA 2 s');
  });
});

for (const dialect of await testDialects()) {
  describe(`seedRegion (${dialect})`, () => {
    it('writes the region, staff, devices, patients and history through the store; refuses a second seed', async () => {
      const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
      const service = new FhirService(repo);
      try {
        const progress: number[] = [];
        const r = await seedRegion(repo, {
          patients: 60,
          years: 1,
          seed: 2,
          asOf: AS_OF,
          batchPatients: 25,
          admitNow: { ward: 'demo-ouh-med', emergency: 'demo-ouh-fam', count: 5 },
          onProgress: (p) => progress.push(p.patients),
        });
        // Two workers: batches (25, 25, 10 patients) finish in either order; the count only grows.
        assert.equal(progress.length, 3);
        assert.deepEqual(
          progress,
          [...progress].sort((x, y) => x - y),
        );
        assert.equal(progress.at(-1), 60);
        assert.equal(r.patients, 60);
        assert.equal(await count(service, 'Patient'), 60);
        assert.equal(await count(service, 'Organization'), REGION_ORGANISATIONS.length);
        assert.equal(await count(service, 'Observation'), r.results);
        assert.ok((await count(service, 'Device')) > 5);
        assert.ok(
          (await count(service, 'PractitionerRole', [['organization', 'Organization/demo-ouh-kba-akut']])) >= 2,
        );
        // The current admissions give the ward a treatment relation (in-progress Encounters).
        assert.ok(
          (await count(service, 'Encounter', [
            ['status', 'in-progress'],
            ['service-provider', 'Organization/demo-ouh-med'],
          ])) >= 5,
        );
        // Stage timestamps are searchable where the management-information module needs them.
        assert.ok((await count(service, 'Specimen', [['collected', 'ge2025-01-01']])) > 0);
        assert.ok(await isRegionSeeded(repo));
        await assert.rejects(seedRegion(repo, { patients: 1, years: 1 }), /already holds a demo region/);
      } finally {
        await repo.close();
      }
    });

    it('dxhub seed builds a small region and reports it; bad options are named', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dxhub-seed-'));
      try {
        const db = dialect === 'sqlite' ? `sqlite:${join(dir, 'seed.db')}` : freshDbUrl('postgres');
        const out = execFileSync(process.execPath, [CLI, 'seed', '--patients', '30', '--years', '1', '--db', db], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        assert.match(out, new RegExp(`seeded 30 patients, \\d+ results, \\d+ resources on ${dialect} in`));
        assert.throws(
          () => execFileSync(process.execPath, [CLI, 'seed', '--patients', 'many', '--db', db], { stdio: 'pipe' }),
          (e: { stderr: Buffer }) => /--patients must be a positive number, not 'many'/.test(String(e.stderr)),
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
