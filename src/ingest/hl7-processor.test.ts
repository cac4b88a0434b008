import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { adtA01 } from '../../test/support/hl7-mllp.ts';
import { AuditLog } from '../audit/index.ts';
import { mapHl7TextToFhir } from '../core/hl7/v2-to-fhir/index.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { Hl7Inbox } from './hl7-inbox.ts';
import { Hl7Processor } from './hl7-processor.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7', name));

async function setup(dialect: 'sqlite' | 'postgres') {
  const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
  const audit = await AuditLog.open(repo.db);
  const inbox = new Hl7Inbox(repo.db);
  const service = new FhirService(repo);
  const processor = new Hl7Processor({ inbox, service, audit });
  const search = async (type: string, params: [string, string][] = []) => {
    const r = await service.search(type, [...params, ['_count', '1000']], INTERNAL);
    return ((JSON.parse(r.body!) as { entry?: { resource: Resource }[] }).entry ?? []).map((e) => e.resource);
  };
  return { repo, inbox, processor, search };
}

for (const dialect of await testDialects()) {
  describe(`HL7 inbox → FHIR on ${dialect}`, () => {
    it('an ORU^R01 becomes Patient, ServiceRequest, Specimen, Observations and a DiagnosticReport, once', async () => {
      const { repo, inbox, processor, search } = await setup(dialect);
      try {
        const raw = fixture('oru-r01-ms-05-nist-lri-cbc.hl7');
        await inbox.accept(raw, 'test');
        const first = await processor.runOnce();
        assert.deepEqual(first, { processed: 1, failed: 0, skipped: 0 });
        const observations = await search('Observation');
        assert.ok(observations.length >= 5, `${observations.length} Observations`);
        const erythrocytes = observations.find((o) => JSON.stringify(o.code).includes('26453-1')) as Resource & {
          valueQuantity: { value: number; system: string; code: string };
        };
        assert.equal(erythrocytes.valueQuantity.value, 4.41);
        assert.equal((await search('Patient')).length, 1);
        assert.equal((await search('DiagnosticReport')).length, 1);
        assert.ok((await search('ServiceRequest')).length >= 1);
        // The same message again (reprocessed after a crash or a fix): the same resources, no copies.
        await inbox.reprocess((await inbox.list('processed'))[0]!.id, processor.handle, { force: true });
        assert.equal((await search('Observation')).length, observations.length);
        assert.equal((await search('Patient')).length, 1);
      } finally {
        await repo.close();
      }
    });

    it('a correction (OBX-11 C) updates the same Observation as a new version', async () => {
      const { repo, inbox, processor, search } = await setup(dialect);
      try {
        const original = fixture('oru-r01-derived-01-correction.hl7').toString('utf8');
        // The derived fixture is the corrected message; the original is the same with status F.
        const asFinal = original.replace(/\|C\|/g, '|F|').replace(/(MSH(?:\|[^|\r]*){8}\|)([^|\r]*)/, '$1$2-F');
        await inbox.accept(Buffer.from(asFinal), 'test');
        await inbox.accept(Buffer.from(original), 'test');
        const s = await processor.runOnce();
        assert.equal(s.failed, 0, JSON.stringify(await inbox.deadLetters()));
        const obs = await search('Observation');
        const corrected = obs.filter((o) => o.status === 'corrected');
        assert.ok(corrected.length >= 1, JSON.stringify(obs.map((o) => o.status)));
        assert.ok(corrected.every((o) => Number((o.meta as { versionId: string }).versionId) >= 2));
      } finally {
        await repo.close();
      }
    });

    it('ADT^A40 merges the replaced patient into the surviving one, once', async () => {
      const { repo, inbox, processor, search } = await setup(dialect);
      try {
        // Both patients exist, e.g. from earlier admissions (identifiers as the A40 names them).
        await inbox.accept(adtA01('12345', 'a01-1'), 'test');
        await inbox.accept(adtA01('56789', 'a01-2'), 'test');
        await inbox.accept(fixture('adt-a40-ms-01-merge.hl7'), 'test');
        const s = await processor.runOnce();
        assert.equal(s.failed, 0, JSON.stringify((await inbox.deadLetters()).map((r) => r.reason)));
        const patients = await search('Patient');
        const surviving = patients.find((p) => JSON.stringify(p.identifier).includes('12345'))!;
        const replaced = patients.find((p) => p.id !== surviving.id)!;
        assert.equal(patients.length, 2);
        // The surviving record now also answers to the replaced identifier (use: old).
        assert.match(JSON.stringify(surviving.identifier), /"value":"56789","use":"old"/);
        assert.deepEqual(
          (replaced.link as { type: string; other: { reference: string } }[]).map((l) => [l.type, l.other.reference]),
          [['replaced-by', `Patient/${surviving.id}`]],
        );
        // Again: no second merge, no failure.
        await inbox.reprocess((await inbox.list('processed', 10)).at(-1)!.id, processor.handle, { force: true });
        assert.equal((await inbox.deadLetters()).length, 0);
      } finally {
        await repo.close();
      }
    });

    it('every fixture that maps to a Bundle is stored with its Binary, Provenance and mapping Tasks', async () => {
      const { repo, inbox, processor, search } = await setup(dialect);
      try {
        const dir = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7');
        const names = readdirSync(dir).filter((f) => {
          const r = mapHl7TextToFhir(readFileSync(join(dir, f)));
          return f.endsWith('.hl7') && r.ok && r.kind === 'bundle';
        });
        assert.ok(names.length >= 20, `${names.length} fixtures`);
        for (const f of names) await inbox.accept(fixture(f), 'test');
        const s = await processor.runOnce();
        assert.equal(s.failed, 0, JSON.stringify((await inbox.deadLetters()).map((r) => r.reason)));
        // One Binary per distinct message.
        assert.equal((await search('Binary')).length, s.processed);
        // Every result and order has a Provenance.
        for (const type of ['Observation', 'ServiceRequest', 'DiagnosticReport']) {
          const provenanced = new Set(
            (await search('Provenance')).flatMap((p) => (p.target as { reference: string }[]).map((t) => t.reference)),
          );
          for (const r of await search(type)) assert.ok(provenanced.has(`${type}/${r.id}`), `${type}/${r.id}`);
        }
        // One open Task per distinct local code, not per message.
        const tasks = await search('Task');
        const keys = tasks.map((t) => JSON.stringify(t.identifier));
        assert.equal(new Set(keys).size, keys.length);
        assert.ok(tasks.length > 0);
      } finally {
        await repo.close();
      }
    });

    it('a message that does not map is failed with the HL7 reason and kept for reprocessing', async () => {
      const { repo, inbox, processor } = await setup(dialect);
      try {
        await inbox.accept(fixture('malformed-ti-06-nm-not-numeric.hl7'), 'test');
        await inbox.accept(fixture('mdm-t02-ms-01-report-text.hl7'), 'test');
        const s = await processor.runOnce();
        assert.equal(s.failed, 2);
        const reasons = (await inbox.deadLetters()).map((r) => r.reason ?? '');
        assert.ok(
          reasons.some((r) => /HL7 error 102/.test(r)),
          reasons.join(' | '),
        );
        assert.ok(
          reasons.some((r) => /HL7 error 20[01]/.test(r)),
          reasons.join(' | '),
        );
      } finally {
        await repo.close();
      }
    });
  });
}
