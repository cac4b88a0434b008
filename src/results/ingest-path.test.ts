import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Observation } from '@medplum/fhirtypes';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { AuditLog } from '../audit/index.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { FhirService } from '../fhir-api/fhir-service.ts';
import { Hl7Inbox } from '../ingest/hl7-inbox.ts';
import { Hl7Processor } from '../ingest/hl7-processor.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { processingTags } from './result-facts.ts';
import { ResultPipeline } from './result-pipeline.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7', name));

for (const dialect of await testDialects()) {
  describe(`results from HL7 ingestion (${dialect})`, () => {
    it('every Observation an ORU^R01 produces passes the pipeline once, none lost', async () => {
      const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
      const audit = await AuditLog.open(repo.db);
      try {
        const inbox = new Hl7Inbox(repo.db);
        const processor = new Hl7Processor({ inbox, service: new FhirService(repo), audit });
        for (const f of ['oru-r01-ms-05-nist-lri-cbc.hl7', 'oru-r01-ti-02-normal-abnormal.hl7'])
          await inbox.accept(fixture(f), 'test');
        await processor.runOnce();
        const pipeline = new ResultPipeline({ repo });
        const processed = await pipeline.drain();
        const all = (await repo.search(parseSearchRequest('Observation', [['_count', '1000']]))).matches.map(
          (m) => JSON.parse(m.json) as Observation,
        );
        const lab = all.filter(
          (o) => !o.hasMember && o.category?.some((c) => c.coding?.some((x) => x.code === 'laboratory')),
        );
        assert.ok(lab.length >= 5 && processed >= lab.length, `${processed} processed, ${lab.length} lab results`);
        for (const o of lab)
          assert.equal(processingTags(o).ruleSet, pipeline.rules.version, `Observation/${o.id} not processed`);
        const rows = await repo.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM result_outcome');
        assert.equal(Number(rows[0]?.n), processed);
        assert.equal(await pipeline.drain(), 0, 'its own updates are not processed again');
      } finally {
        await audit.close();
        await repo.close();
      }
    });
  });
}
