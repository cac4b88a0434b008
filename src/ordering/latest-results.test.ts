import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countingDialect, RoundTrips } from '../../bench/counting-dialect.ts';
import { freshDbUrl, freshRepo, testDialects } from '../../test/support/dialects.ts';
import { labResult } from '../../test/support/ordering.ts';
import { buildCatalogue } from '../core/ordering/catalogue.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { LatestResults } from './latest-results.ts';

for (const dialect of await testDialects()) {
  describe(`latest result projection (${dialect})`, () => {
    it('follows creates, later and earlier results, withdrawals and deletes; both NPU system URIs', async () => {
      const repo = await freshRepo(dialect);
      try {
        const latest = new LatestResults(repo, buildCatalogue());
        const put = async (r: Record<string, unknown>) => repo.transaction(async (w) => repo.put(w, r as never));
        const p = await put({ resourceType: 'Patient' });
        const a = await put(labResult(p.id, 'urn:oid:1.2.208.176.2.1', 'NPU19748', 48, 10, 'mg/L'));
        assert.equal((await latest.forPatient(p.id)).get('crp')?.value, 10);
        const b = await put(labResult(p.id, 'http://npu-terminology.org', 'NPU19748', 2, 80, 'mg/L'));
        await put(labResult(p.id, 'http://npu-terminology.org', 'NPU19748', 100, 5, 'mg/L'));
        await put(labResult(p.id, 'http://loinc.org', '1988-5', 1, 99, 'mg/L'));
        const m = await latest.forPatient(p.id);
        assert.deepEqual([m.get('crp')?.value, m.get('crp')?.observationId, m.size], [80, b.id, 1]);
        // Withdrawn (entered-in-error): the row falls back to the next latest result.
        const withdrawn = JSON.parse(b.json!);
        await put({ ...withdrawn, status: 'entered-in-error' });
        assert.equal((await latest.forPatient(p.id)).get('crp')?.observationId, a.id);
        await repo.transaction(async (w) => repo.delete(w, 'Observation', a.id));
        assert.equal((await latest.forPatient(p.id)).get('crp')?.value, 5);
      } finally {
        await repo.close();
      }
    });

    it('applies a batch with many patients and several changes to one (patient, test) in commit order', async () => {
      const repo = await freshRepo(dialect);
      try {
        const latest = new LatestResults(repo, buildCatalogue());
        const put = async (r: Record<string, unknown>) => repo.transaction(async (w) => repo.put(w, r as never));
        const npu = 'http://npu-terminology.org';
        // 100 patients (more than one upsert statement holds) and one with a history of changes,
        // all committed before the projection looks: one batch.
        const many: string[] = [];
        for (let i = 0; i < 100; i++) {
          const p = await put({ resourceType: 'Patient' });
          many.push(p.id);
          await put(labResult(p.id, npu, 'NPU19748', 10, i, 'mg/L'));
        }
        const x = await put({ resourceType: 'Patient' });
        const a = await put(labResult(x.id, npu, 'NPU19748', 48, 10, 'mg/L'));
        const b = await put(labResult(x.id, npu, 'NPU19748', 2, 80, 'mg/L'));
        const c = await put(labResult(x.id, npu, 'NPU19748', 100, 5, 'mg/L'));
        await put({ ...JSON.parse(b.json!), status: 'entered-in-error' });
        await repo.transaction(async (w) => repo.delete(w, 'Observation', a.id));
        const y = await put({ resourceType: 'Patient' });
        const d = await put(labResult(y.id, npu, 'NPU19748', 5, 7, 'mg/L'));
        await put({ ...JSON.parse(d.json!), valueQuantity: { value: 8, unit: 'mg/L' } });
        const m = await latest.forPatient(x.id);
        assert.deepEqual([m.get('crp')?.value, m.get('crp')?.observationId], [5, c.id]);
        const n = await latest.forPatient(y.id);
        assert.deepEqual([n.get('crp')?.value, n.get('crp')?.observationId], [8, d.id]);
        for (const [i, id] of many.entries()) assert.equal((await latest.forPatient(id)).get('crp')?.value, i);
      } finally {
        await repo.close();
      }
    });

    it('writes a round of 7 upserts in one statement on PostgreSQL (on SQLite, a multi-row VALUES per power of two)', async () => {
      const trips = new RoundTrips();
      const repo = await FhirRepository.open(countingDialect(await openDialect(freshDbUrl(dialect)), trips));
      try {
        const latest = new LatestResults(repo, buildCatalogue());
        const put = async (r: Record<string, unknown>) => repo.transaction(async (w) => repo.put(w, r as never));
        const ids: string[] = [];
        for (let i = 0; i < 7; i++) {
          const p = await put({ resourceType: 'Patient' });
          ids.push(p.id);
          await put(labResult(p.id, 'http://npu-terminology.org', 'NPU19748', 10, i, 'mg/L'));
        }
        trips.reset();
        await latest.catchUp();
        const upserts = [...trips.byLabel].filter(([l]) => l.startsWith('INSERT INTO ordering_latest_result'));
        const n = upserts.reduce((a, [, k]) => a + k, 0);
        assert.equal(n, dialect === 'postgres' ? 1 : 3, JSON.stringify(upserts));
        for (const [i, id] of ids.entries()) assert.equal((await latest.forPatient(id)).get('crp')?.value, i);
      } finally {
        await repo.close();
      }
    });
  });
}
