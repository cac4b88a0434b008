import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ConceptMap, Observation, Task } from '@medplum/fhirtypes';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { LOINC_SYSTEM, NPU_SYSTEM, UCUM_SYSTEM } from '../core/hl7/v2-to-fhir/index.ts';
import { ORIGINAL_QUANTITY_EXTENSION, TARGET_UNIT_PROPERTY } from '../core/terminology/index.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository } from '../store/repository.ts';
import { Hl7Inbox } from './hl7-inbox.ts';
import { Hl7Processor } from './hl7-processor.ts';
import { MAP_LOCAL_CODE, MAP_LOCAL_CODE_TASK_SYSTEM, TASK_CODE_SYSTEM } from './terminology-tasks.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7', name));

/** Local systems the mapper gives the senders below (`urn:dxhub:local:<MSH-3>:<MSH-4>[:<CWE.3>]`). */
const GHH = 'urn:dxhub:local:GHH%20LAB:ELAB-3';
const GHH_OBX = `${GHH}:POST%2012H%20CFST%3AMCNC%3APT%3ASER%2FPLAS%3AQN`;
const LABKA = 'urn:dxhub:local:LABKA:OUH:L';
/** Not a real code system: mappings into it are test data. */
const FICTIVE = 'urn:dxhub:test:fictitious-target';

/**
 * Fixture oru-r01-ms-02 (the HL7 v2 glucose example): OBX-3 `1554-5^GLUCOSE^POST 12H CFST:MCNC:PT:SER/PLAS:QN`
 * carries LOINC 1554-5 with LOINC's name parts in CWE.3 instead of `LN`, so dxhub keeps it as a
 * local code; the map says what the sample means. Target unit g/L: 182 mg/dl → 1.82 g/L.
 */
const ghhMap = (unit: string): ConceptMap => ({
  resourceType: 'ConceptMap',
  id: 'ghh-lab-elab-3',
  url: 'http://region.example/fhir/ConceptMap/ghh-lab-elab-3',
  status: 'active',
  group: [
    {
      source: GHH_OBX,
      target: LOINC_SYSTEM,
      element: [
        {
          code: '1554-5',
          target: [
            {
              code: '1554-5',
              equivalence: 'equal',
              product: [{ property: TARGET_UNIT_PROPERTY, system: UCUM_SYSTEM, value: unit }],
            },
          ],
        },
      ],
    },
  ],
});

/** A hand-written result from a fictitious Danish laboratory LABKA at OUH with lab-local codes. */
function labkaMessage(control: string): Buffer {
  return Buffer.from(
    [
      `MSH|^~\\&|LABKA|OUH|DXHUB|RSYD|20250301101500+0100||ORU^R01^ORU_R01|${control}|P|2.5.1`,
      'PID|1||TEST-1^^^LABKA^MR||Testesen^Test||19900101|M',
      'OBR|1|ORD-1^DXHUB|LAB-1^LABKA|PANEL^Akut panel^L|||20250301090000+0100|||||||||||||||20250301100000+0100|||F',
      'OBX|1|NM|CRP^C-reaktivt protein^L||0.5|mg/dL^^UCUM|0.0-0.8|N|||F',
      'OBX|2|NM|HB^Haemoglobin^L||8.1|mmol/L^^UCUM|7.3-9.5|N|||F',
      'OBX|3|NM|NYT^Ny analyse^L||12|U/L^^UCUM|||||F',
      'OBX|4|ST|SMAL^Smal kode^L||positiv||||||F',
    ].join('\r'),
  );
}

const labkaMap: ConceptMap = {
  resourceType: 'ConceptMap',
  id: 'labka-ouh',
  url: 'http://region.example/fhir/ConceptMap/labka-ouh',
  version: '1',
  status: 'active',
  group: [
    {
      source: LABKA,
      // NPU as MedCom writes it (OID); dxhub stores http://npu-terminology.org.
      target: 'urn:oid:1.2.208.176.2.1',
      element: [
        {
          code: 'CRP',
          // NPU19748 "P—C-reaktivt protein; massek.", mg/L: identity-and-terminology.md §3.2.
          target: [
            {
              code: 'NPU19748',
              equivalence: 'equivalent',
              product: [{ property: TARGET_UNIT_PROPERTY, value: 'mg/L' }],
            },
          ],
        },
        {
          code: 'HB',
          // NPU02319 "B—Hæmoglobin(Fe); stofk.", mmol/L: identity-and-terminology.md §3.2.
          target: [{ code: 'NPU02319', equivalence: 'equivalent' }],
        },
      ],
    },
    {
      source: LABKA,
      target: FICTIVE,
      // Reviewed: the only candidate is narrower, so nothing is added and no Task is opened.
      element: [{ code: 'SMAL', target: [{ code: 'TEST-NARROW', equivalence: 'narrower' }] }],
    },
  ],
};

async function setup(dialect: 'sqlite' | 'postgres', options: { terminology?: false } = {}) {
  const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)));
  const inbox = new Hl7Inbox(repo.db);
  const service = new FhirService(repo);
  const processor = new Hl7Processor({ inbox, service, ...options });
  const search = async <T>(type: string, params: [string, string][] = []) => {
    const r = await service.search(type, [...params, ['_count', '1000']], INTERNAL);
    return ((JSON.parse(r.body!) as { entry?: { resource: T }[] }).entry ?? []).map((e) => e.resource);
  };
  const putMap = (map: ConceptMap) => service.update('ConceptMap', map.id!, map, INTERNAL);
  const run = async () => {
    const s = await processor.runOnce();
    assert.equal(s.failed, 0, JSON.stringify((await inbox.deadLetters()).map((r) => r.reason)));
  };
  return { repo, inbox, service, processor, search, putMap, run };
}

const codes = (o: Observation) => (o.code.coding ?? []).map((c) => `${c.system}|${c.code}`);
const taskKey = (t: Task) => t.identifier?.[0]?.value;

for (const dialect of await testDialects()) {
  describe(`HL7 terminology (ConceptMaps, units, mapping Tasks) on ${dialect}`, () => {
    it('an unmapped local code is stored as sent and opens one Task, however many messages carry it', async () => {
      const { repo, inbox, processor, search, run } = await setup(dialect);
      try {
        const raw = fixture('oru-r01-ms-02-sn-glucose.hl7');
        await inbox.accept(raw, 'test');
        await run();
        const [glucose] = await search<Observation>('Observation');
        assert.deepEqual(codes(glucose!), [`${GHH_OBX}|1554-5`]);
        assert.deepEqual([glucose!.valueQuantity?.value, glucose!.valueQuantity?.code], [182, 'mg/dl']);
        const tasks = await search<Task>('Task', [['code', `${TASK_CODE_SYSTEM}|${MAP_LOCAL_CODE}`]]);
        // OBX-3 (Observation) and OBR-4 (ServiceRequest) are both sender-local.
        assert.deepEqual(tasks.map(taskKey).sort(), [`${GHH_OBX}|1554-5`, `${GHH}|15545`]);
        const obsTask = tasks.find((t) => taskKey(t) === `${GHH_OBX}|1554-5`)!;
        assert.equal(obsTask.status, 'requested');
        assert.equal(obsTask.identifier?.[0]?.system, MAP_LOCAL_CODE_TASK_SYSTEM);
        assert.equal(obsTask.focus?.reference, `Observation/${glucose!.id}`);
        assert.deepEqual(
          obsTask.input?.map((i) => [i.type.text, i.valueUri ?? i.valueCode ?? i.valueString]),
          [
            ['system', GHH_OBX],
            ['code', '1554-5'],
            ['display', 'GLUCOSE'],
          ],
        );
        // Other messages from the sender with the same codes, and a reprocess: still two Tasks.
        for (const control of ['CNTRL-3457', 'CNTRL-3458']) {
          await inbox.accept(Buffer.from(raw.toString('latin1').replace('CNTRL-3456', control), 'latin1'), 'test');
        }
        await run();
        await inbox.reprocess((await inbox.list('processed'))[0]!.id, processor.handle, { force: true });
        assert.equal((await search<Task>('Task')).length, 2);
      } finally {
        await repo.close();
      }
    });

    it('a ConceptMap written after the first message applies to the next one: target code added, unit converted', async () => {
      const { repo, inbox, processor, search, putMap, run } = await setup(dialect);
      try {
        const raw = fixture('oru-r01-ms-02-sn-glucose.hl7');
        await inbox.accept(raw, 'test');
        await run();
        await putMap(ghhMap('g/L'));
        // Reprocessing the message (after loading the map) updates the same Observation.
        await inbox.reprocess((await inbox.list('processed'))[0]!.id, processor.handle, { force: true });
        let [glucose] = await search<Observation>('Observation');
        assert.deepEqual(codes(glucose!), [`${GHH_OBX}|1554-5`, `${LOINC_SYSTEM}|1554-5`]);
        // 182 mg/dl = 1.82 g/L; the reported quantity is kept beside it.
        assert.deepEqual([glucose!.valueQuantity?.value, glucose!.valueQuantity?.code], [1.82, 'g/L']);
        assert.deepEqual(glucose!.valueQuantity?.extension, [
          {
            url: ORIGINAL_QUANTITY_EXTENSION,
            valueQuantity: { value: 182, unit: 'mg/dl', system: UCUM_SYSTEM, code: 'mg/dl' },
          },
        ]);
        assert.equal((await search<Observation>('Observation', [['code', `${LOINC_SYSTEM}|1554-5`]])).length, 1);
        // The map changes (now mg/dL): the cache notices the write without being told.
        await putMap(ghhMap('mg/dL'));
        await inbox.reprocess((await inbox.list('processed'))[0]!.id, processor.handle, { force: true });
        [glucose] = await search<Observation>('Observation');
        assert.deepEqual([glucose!.valueQuantity?.value, glucose!.valueQuantity?.code], [182, 'mg/dL']);
        // The Observation's identity did not change with its codes: still one.
        assert.equal((await search('Observation')).length, 1);
        // The run's Provenance names the map it followed.
        const provenances = await search<{ policy?: string[] }>('Provenance', [
          ['target', `Observation/${glucose!.id}`],
        ]);
        assert.ok(provenances.some((p) => p.policy?.includes('http://region.example/fhir/ConceptMap/ghh-lab-elab-3')));
      } finally {
        await repo.close();
      }
    });

    it('NPU targets (OID accepted), conversion where units allow it, reviewed codes without Tasks', async () => {
      const { repo, inbox, search, putMap, run } = await setup(dialect);
      try {
        await putMap(labkaMap);
        await inbox.accept(labkaMessage('DK-0001'), 'test');
        await run();
        const observations = await search<Observation>('Observation');
        const byLocal = (code: string) => observations.find((o) => codes(o)[0] === `${LABKA}|${code}`)!;
        const crp = byLocal('CRP');
        assert.deepEqual(codes(crp), [`${LABKA}|CRP`, `${NPU_SYSTEM}|NPU19748`]);
        // 0.5 mg/dL = 5 mg/L; the reference range 0.0-0.8 mg/dL follows: 0-8 mg/L.
        assert.deepEqual([crp.valueQuantity?.value, crp.valueQuantity?.code], [5, 'mg/L']);
        assert.deepEqual([crp.referenceRange?.[0]?.low?.value, crp.referenceRange?.[0]?.high?.value], [0, 8]);
        // No target unit: the code is added, the value stays as reported.
        const hb = byLocal('HB');
        assert.deepEqual(codes(hb), [`${LABKA}|HB`, `${NPU_SYSTEM}|NPU02319`]);
        assert.deepEqual([hb.valueQuantity?.value, hb.valueQuantity?.code], [8.1, 'mmol/L']);
        // Narrower only: reviewed, nothing added.
        assert.deepEqual(codes(byLocal('SMAL')), [`${LABKA}|SMAL`]);
        // Searchable by NPU.
        assert.equal((await search('Observation', [['code', `${NPU_SYSTEM}|NPU19748`]])).length, 1);
        // Tasks: the unmapped OBX-3 NYT and the OBR-4 panel code, nothing for the reviewed codes.
        const tasks = await search<Task>('Task');
        assert.deepEqual(tasks.map(taskKey).sort(), [`${LABKA}|NYT`, `${LABKA}|PANEL`]);
        // A later message with the same codes opens no new Task.
        await inbox.accept(labkaMessage('DK-0002'), 'test');
        await run();
        assert.equal((await search('Task')).length, 2);
      } finally {
        await repo.close();
      }
    });

    it('a closed Task does not block a new one for a code that is still unmapped', async () => {
      const { repo, inbox, service, search, run } = await setup(dialect);
      try {
        await inbox.accept(labkaMessage('DK-0001'), 'test');
        await run();
        const nyt = (await search<Task>('Task')).find((t) => taskKey(t) === `${LABKA}|NYT`)!;
        await service.update('Task', nyt.id!, { ...nyt, status: 'cancelled' }, INTERNAL);
        await inbox.accept(labkaMessage('DK-0002'), 'test');
        await run();
        const again = (await search<Task>('Task')).filter((t) => taskKey(t) === `${LABKA}|NYT`);
        assert.deepEqual(again.map((t) => t.status).sort(), ['cancelled', 'requested']);
      } finally {
        await repo.close();
      }
    });

    it('terminology: false keeps codes as sent and opens no Tasks', async () => {
      const { repo, inbox, search, putMap, run } = await setup(dialect, { terminology: false });
      try {
        await putMap(labkaMap);
        await inbox.accept(labkaMessage('DK-0001'), 'test');
        await run();
        assert.ok((await search<Observation>('Observation')).every((o) => codes(o).length === 1));
        assert.deepEqual(await search('Task'), []);
      } finally {
        await repo.close();
      }
    });
  });
}
