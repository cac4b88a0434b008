import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Binary, Provenance } from '@medplum/fhirtypes';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { adtA01 } from '../../test/support/hl7-mllp.ts';
import { AuditLog } from '../audit/index.ts';
import { MAPPING_VERSION, mapHl7TextToFhir } from '../core/hl7/v2-to-fhir/index.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { Hl7Inbox } from './hl7-inbox.ts';
import { Hl7Processor } from './hl7-processor.ts';
import { HL7V2_CONTENT_TYPE, hl7MessageBinaryId, MAPPING_VERSION_EXTENSION } from './provenance.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7', name));

async function setup(dialect: 'sqlite' | 'postgres') {
  const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
  const audit = await AuditLog.open(repo.db);
  const inbox = new Hl7Inbox(repo.db);
  const service = new FhirService(repo);
  const processor = new Hl7Processor({ inbox, service, audit });
  const search = async <T = Resource>(type: string, params: [string, string][] = []) => {
    const r = await service.search(type, [...params, ['_count', '1000']], INTERNAL);
    return ((JSON.parse(r.body!) as { entry?: { resource: T }[] }).entry ?? []).map((e) => e.resource);
  };
  const read = async <T>(reference: string) => {
    const [type, id] = reference.split('/') as [string, string];
    return JSON.parse((await service.read(type, id, INTERNAL)).body!) as T;
  };
  return { repo, inbox, processor, service, search, read };
}

const activity = (p: Provenance) => p.activity?.coding?.[0]?.code;

for (const dialect of await testDialects()) {
  describe(`HL7 message provenance on ${dialect}`, () => {
    it('a result traces back to the raw message through its Provenance and a Binary', async () => {
      const { repo, inbox, processor, search, read } = await setup(dialect);
      try {
        const raw = fixture('oru-r01-ms-05-nist-lri-cbc.hl7');
        await inbox.accept(raw, 'test');
        assert.equal((await processor.runOnce()).failed, 0);
        const observation = (await search('Observation')).find((o) => JSON.stringify(o.code).includes('26453-1'))!;
        const provenances = await search<Provenance>('Provenance', [['target', `Observation/${observation.id}`]]);
        assert.equal(provenances.length, 1);
        const p = provenances[0]!;
        assert.equal(activity(p), 'CREATE');
        assert.ok(p.recorded);
        assert.ok(p.policy?.includes(`urn:dxhub:mapping:${MAPPING_VERSION}`));
        assert.deepEqual(
          p.extension?.filter((e) => e.url === MAPPING_VERSION_EXTENSION).map((e) => e.valueString),
          [MAPPING_VERSION],
        );
        // MSH-3 and MSH-4 of the fixture.
        assert.equal(p.agent[0]?.who.display, 'NIST Test Lab APP');
        assert.equal(p.agent[0]?.onBehalfOf?.display, 'NIST Lab Facility');
        const source = p.entity?.find((e) => e.role === 'source');
        assert.equal(source?.what.reference, `Binary/${hl7MessageBinaryId(raw)}`);
        const binary = await read<Binary>(source!.what.reference!);
        assert.equal(binary.contentType, HL7V2_CONTENT_TYPE);
        assert.deepEqual(Buffer.from(binary.data!, 'base64'), raw);
        // The raw bytes are about the message's patient (Binary.securityContext).
        const patients = await search('Patient');
        assert.equal(binary.securityContext?.reference, `Patient/${patients[0]!.id}`);
        // Every resource the message wrote is a target, by its real id.
        for (const type of ['Patient', 'ServiceRequest', 'Specimen', 'Observation', 'DiagnosticReport']) {
          for (const r of await search(type)) {
            const found = await search('Provenance', [['target', `${type}/${r.id}`]]);
            assert.equal(found.length, 1, `${type}/${r.id}`);
          }
        }
      } finally {
        await repo.close();
      }
    });

    it('reprocessing adds a Provenance of the run (UPDATE) but never a second Binary', async () => {
      const { repo, inbox, processor, search, read } = await setup(dialect);
      try {
        const raw = fixture('oru-r01-ms-05-nist-lri-cbc.hl7');
        await inbox.accept(raw, 'test');
        await processor.runOnce();
        const row = (await inbox.list('processed'))[0]!;
        await inbox.reprocess(row.id, processor.handle, { force: true });
        await inbox.reprocess(row.id, processor.handle, { force: true });
        const binaries = await search<Binary>('Binary');
        assert.equal(binaries.length, 1);
        assert.equal((binaries[0]!.meta as { versionId: string }).versionId, '1');
        const observation = (await search('Observation'))[0]!;
        const runs = await search<Provenance>('Provenance', [['target', `Observation/${observation.id}`]]);
        assert.deepEqual(runs.map(activity).sort(), ['CREATE', 'UPDATE', 'UPDATE']);
        for (const p of runs) assert.equal(p.entity?.[0]?.what.reference, `Binary/${binaries[0]!.id}`);
        // The row id is on each run's Provenance, for `dxhub inbox reprocess`.
        assert.ok(runs.every((p) => JSON.stringify(p.extension).includes(`"valueString":"${row.id}"`)));
        assert.deepEqual(Buffer.from((await read<Binary>(`Binary/${binaries[0]!.id}`)).data!, 'base64'), raw);
      } finally {
        await repo.close();
      }
    });

    it('a patient that already existed is referenced, not claimed: the Provenance does not target it', async () => {
      const { repo, inbox, processor, service, search } = await setup(dialect);
      try {
        const raw = fixture('oru-r01-ms-05-nist-lri-cbc.hl7');
        // The same patient, created earlier by another feed (same PID-3 identifiers).
        const mapped = mapHl7TextToFhir(raw);
        assert.ok(mapped.ok && mapped.kind === 'bundle');
        const identifier = mapped.bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')
          ?.resource as Resource;
        const created = await service.create(
          'Patient',
          { resourceType: 'Patient', identifier: identifier.identifier },
          { ...INTERNAL, prefer: 'representation' },
        );
        const id = (JSON.parse(created.body!) as Resource).id;
        await inbox.accept(raw, 'test');
        assert.equal((await processor.runOnce()).failed, 0);
        assert.equal((await search('Patient')).length, 1);
        assert.deepEqual(await search('Provenance', [['target', `Patient/${id}`]]), []);
        const observation = (await search('Observation'))[0]!;
        assert.equal((await search('Provenance', [['target', `Observation/${observation.id}`]])).length, 1);
      } finally {
        await repo.close();
      }
    });

    it('an ADT^A40 merge is traced to its message', async () => {
      const { repo, inbox, processor, search } = await setup(dialect);
      try {
        await inbox.accept(adtA01('12345', 'a01-1'), 'test');
        await inbox.accept(adtA01('56789', 'a01-2'), 'test');
        const merge = fixture('adt-a40-ms-01-merge.hl7');
        await inbox.accept(merge, 'test');
        assert.equal((await processor.runOnce()).failed, 0);
        const binaries = await search<Binary>('Binary');
        assert.equal(binaries.length, 3);
        const mergeBinary = `Binary/${hl7MessageBinaryId(merge)}`;
        const traced = (await search<Provenance>('Provenance')).filter(
          (p) => p.entity?.[0]?.what.reference === mergeBinary,
        );
        assert.equal(traced.length, 1);
        assert.equal(traced[0]!.target.length, 2);
        assert.equal(activity(traced[0]!), 'UPDATE');
      } finally {
        await repo.close();
      }
    });

    it('provenance: false writes neither Binary nor Provenance', async () => {
      const { repo, inbox, service, search } = await setup(dialect);
      try {
        const processor = new Hl7Processor({ inbox, service, provenance: false });
        await inbox.accept(fixture('oru-r01-ms-05-nist-lri-cbc.hl7'), 'test');
        assert.equal((await processor.runOnce()).failed, 0);
        assert.deepEqual(await search('Binary'), []);
        assert.deepEqual(await search('Provenance'), []);
      } finally {
        await repo.close();
      }
    });
  });
}
