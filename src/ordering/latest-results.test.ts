import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { labResult } from '../../test/support/ordering.ts';
import { buildCatalogue } from '../core/ordering/catalogue.ts';
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
  });
}
