import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { AuditLog } from '../audit/index.ts';
import {
  astmForOrder,
  brokenOru,
  liveEvent,
  oruForOrder,
  serviceRequestResource,
  specimenResource,
} from '../core/demo/index.ts';
import { CPR_SYSTEM } from '../core/identity/index.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { AstmInbox } from '../ingest/astm-inbox.ts';
import { AstmProcessor } from '../ingest/astm-processor.ts';
import { Hl7Inbox } from '../ingest/hl7-inbox.ts';
import { Hl7Processor } from '../ingest/hl7-processor.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { seedRegion } from './seed-region.ts';

const AT = Date.parse('2026-11-29T09:00:00Z');
const PATIENTS = 40;
const EVENTS = 60;

for (const dialect of await testDialects()) {
  describe(`generated messages pass ingestion (${dialect})`, () => {
    it(`${EVENTS} live orders: every ORU^R01 and every ASTM message is stored, processed and lands on the seeded patient`, async () => {
      const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
      const audit = await AuditLog.open(repo.db);
      const service = new FhirService(repo);
      const hl7 = new Hl7Inbox(repo.db);
      const astm = new AstmInbox(repo.db);
      const hl7Processor = new Hl7Processor({ inbox: hl7, service, audit });
      const astmProcessor = new AstmProcessor({ inbox: astm, service });
      const search = async (type: string, params: [string, string][]) => {
        const r = await service.search(type, [...params, ['_count', '1000']], INTERNAL);
        return ((JSON.parse(r.body!) as { entry?: { resource: Resource }[] }).entry ?? []).map((e) => e.resource);
      };
      try {
        await seedRegion(repo, { patients: PATIENTS, years: 0.2, seed: 6, asOf: AT });
        const events = Array.from({ length: EVENTS }, (_, n) =>
          liveEvent(6, n, { patientCount: PATIENTS, at: AT + n * 60_000, runId: 't' }),
        );
        let results = 0;
        for (const e of events) {
          results += e.order.results.length;
          // The order as the order channel places it; the analyzer's results meet its Specimen by barcode.
          await repo.transaction(async (w) => {
            await repo.put(w, serviceRequestResource(e.order, 'active'));
            if (e.order.kind === 'lab') await repo.put(w, specimenResource(e.order));
          });
          const oru = await hl7.accept(Buffer.from(oruForOrder(e.order, `T-${e.n}`), 'utf8'), 'demo-lis');
          assert.equal(oru.outcome, 'stored', `ORU ${e.n}`);
          // Imaging is reported by the RIS over HL7 only.
          if (e.order.kind === 'imaging') continue;
          const records = astmForOrder(e.order, e.analyzer);
          const a = await astm.accept(Buffer.from(`${records.join('\r')}\r`, 'latin1'), e.analyzer);
          assert.equal(a.outcome, 'stored', `ASTM ${e.n}`);
        }
        assert.deepEqual(await hl7Processor.runOnce(), { processed: EVENTS, failed: 0, skipped: 0 });
        const imaging = events.filter((e) => e.order.kind === 'imaging');
        assert.ok(imaging.length > 0, 'the stream has imaging orders');
        assert.deepEqual(await astmProcessor.runOnce(), { processed: EVENTS - imaging.length, failed: 0, skipped: 0 });
        // The imaging report text arrives as the result of the order.
        const report = await search('Observation', [['based-on', `ServiceRequest/${imaging[0]!.order.id}-sr`]]);
        assert.equal(report[0]?.valueString, imaging[0]!.order.conclusion);
        // Every result arrived twice (once per route) on the right patient.
        for (const e of events.slice(0, 15)) {
          const onPatient = await search('Observation', [
            ['subject', `Patient/${e.order.patient.id}`],
            ['_lastUpdated', 'gt2020-01-01'],
          ]);
          const values = new Set(onPatient.map((o) => (o.valueQuantity as { value: number } | undefined)?.value));
          for (const r of e.order.results)
            assert.ok(values.has(r.value), `${e.order.id} ${r.analysis.key} = ${r.value}`);
        }
        const hasCpr = events.filter((e) => e.order.patient.identifier.some((i) => i.system === CPR_SYSTEM));
        assert.ok(hasCpr.length > 0);
        const firstLab = events.find((e) => e.order.kind === 'lab')!;
        const viaAstm = await search('Observation', [['specimen', `Specimen/${firstLab.order.id}-sp`]]);
        assert.equal(viaAstm.length, firstLab.order.results.length);
        // HL7 results meet the order the channel placed too (OBR-2 carries its placer number): both routes' results.
        const lab = events.find((e) => e.order.kind === 'lab')!;
        const onOrder = await search('Observation', [['based-on', `ServiceRequest/${lab.order.id}-sr`]]);
        assert.equal(onOrder.length, 2 * lab.order.results.length);
        assert.ok(results > EVENTS);
        // The fault injector's broken message is refused (AR) and kept as a dead letter.
        const bad = await hl7.accept(Buffer.from(brokenOru('BAD-1'), 'utf8'), 'demo-lis');
        assert.equal(bad.outcome, 'unparseable');
        assert.match(bad.ack, /MSA\|AR/);
      } finally {
        await audit.close();
        await repo.close();
      }
    });
  });
}
