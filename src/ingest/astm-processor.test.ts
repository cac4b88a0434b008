import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConceptMap } from '@medplum/fhirtypes';
import { astmResults } from '../../test/support/astm.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { AstmInbox } from './astm-inbox.ts';
import { AstmProcessor } from './astm-processor.ts';
import {
  ASTM_DEVICE_SYSTEM,
  ASTM_OBSERVATION_KEY_SYSTEM,
  astmLocalCodeSystem,
  DEFAULT_ASTM_SPECIMEN_SYSTEM,
} from './astm-to-fhir.ts';
import { ASTM_CONTENT_TYPE, ASTM_INBOX_ROW_EXTENSION, ASTM_MAPPING_VERSION } from './provenance.ts';
import { MAP_LOCAL_CODE_TASK_SYSTEM } from './terminology-tasks.ts';

type Json = Resource & Record<string, unknown>;

/** An E1394 message of one sample's results (`test/support/astm.ts`). */
const message = (
  analyzer: string,
  sample: string,
  results: readonly [string, string, string?][],
  unit?: string,
): Buffer => astmResults(analyzer, sample, results, unit ? { unit } : {});

for (const dialect of await testDialects()) {
  describe(`ASTM processor: provenance and batch transactions on ${dialect}`, () => {
    let dir: string;
    let repo: FhirRepository;
    let service: FhirService;
    let inbox: AstmInbox;

    const search = async (type: string, params: [string, string][] = []) => {
      const r = await service.search(type, [...params, ['_count', '1000']], INTERNAL);
      return ((JSON.parse(r.body!) as { entry?: { resource: Json }[] }).entry ?? []).map((e) => e.resource);
    };
    const observation = async (analyzer: string, sample: string, code: string) => {
      const found = await search('Observation', [
        ['identifier', `${ASTM_OBSERVATION_KEY_SYSTEM}|${analyzer}/${sample}/${code}`],
      ]);
      assert.equal(found.length, 1, `${analyzer}/${sample}/${code}`);
      return found[0]!;
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dxhub-astm-proc-'));
      repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect, join(dir, 'astm.db'))));
      service = new FhirService(repo);
      inbox = new AstmInbox(repo.db);
    });
    after(async () => {
      await repo.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('each result has a Provenance naming the raw message as a Binary, the inbox row and the mapping version', async () => {
      const raw = message('PROV-ANALYZER', 'PROV-1', [
        ['K', '4.1'],
        ['NA', '139'],
      ]);
      const { id: rowId } = await inbox.accept(raw, 'test');
      await new AstmProcessor({ inbox, service }).runOnce();
      const obs = await observation('PROV-ANALYZER', 'PROV-1', 'K');
      const provenances = await search('Provenance', [['target', `Observation/${obs.id}`]]);
      assert.equal(provenances.length, 1);
      const p = provenances[0]! as Json & {
        entity: { role: string; what: { reference: string } }[];
        extension: { url: string; valueString: string }[];
        agent: { who: { identifier?: { value: string } } }[];
        policy: string[];
        target: { reference: string }[];
      };
      const binaryId = `astm-${createHash('sha256').update(raw).digest('hex').slice(0, 40)}`;
      assert.deepEqual(
        p.entity.map((e) => [e.role, e.what.reference]),
        [['source', `Binary/${binaryId}`]],
      );
      assert.ok(p.extension.some((x) => x.url === ASTM_INBOX_ROW_EXTENSION && x.valueString === String(rowId)));
      assert.ok(p.policy.includes(`urn:dxhub:mapping:${ASTM_MAPPING_VERSION}`));
      assert.equal(p.agent[0]!.who.identifier?.value, 'PROV-ANALYZER');
      // Both results, the Specimen and the analyzer's Device were created by this message.
      const na = await observation('PROV-ANALYZER', 'PROV-1', 'NA');
      assert.ok(p.target.some((t) => t.reference === `Observation/${na.id}`));
      const binary = JSON.parse((await service.read('Binary', binaryId, INTERNAL)).body!) as Json & {
        contentType: string;
        data: string;
      };
      assert.equal(binary.contentType, ASTM_CONTENT_TYPE);
      assert.deepEqual(Buffer.from(binary.data, 'base64'), raw);
    });

    test('the messages of a poll are written in batch transactions, with the effect of writing them one after the other', async () => {
      // Samples shared between messages, an analyzer met again, and a correction of a result of an
      // earlier message in the same poll.
      const rows = [
        message('BATCH-A', 'B-1', [['K', '4.0']]),
        message('BATCH-A', 'B-2', [['K', '3.9']]),
        message('BATCH-B', 'B-1', [['NA', '140']]),
        message('BATCH-A', 'B-1', [['K', '4.4', 'C']]),
        message('BATCH-A', 'B-3', [
          ['K', '5.0'],
          ['NA', '135'],
        ]),
      ];
      for (const raw of rows) await inbox.accept(raw, 'test');
      const processor = new AstmProcessor({ inbox, service, batchMessages: 2 });
      assert.deepEqual(await processor.runOnce(), { processed: 5, failed: 0, skipped: 0 });
      assert.equal(processor.stats.batched, 5);
      assert.equal(processor.stats.alone, 0);
      // The correction is the same Observation, a second version, with the corrected value.
      const k1 = await observation('BATCH-A', 'B-1', 'K');
      assert.equal(k1.status, 'corrected');
      assert.equal((k1.valueQuantity as { value: number }).value, 4.4);
      assert.equal((k1.meta as { versionId: string }).versionId, '2');
      // One Specimen per sample id, shared by both analyzers' results; one Device per analyzer.
      for (const sample of ['B-1', 'B-2', 'B-3']) {
        const specimens = await search('Specimen', [['identifier', `${DEFAULT_ASTM_SPECIMEN_SYSTEM}|${sample}`]]);
        assert.equal(specimens.length, 1, sample);
      }
      const na1 = await observation('BATCH-B', 'B-1', 'NA');
      assert.equal((na1.specimen as { reference: string }).reference, (k1.specimen as { reference: string }).reference);
      assert.equal((await search('Device', [['identifier', `${ASTM_DEVICE_SYSTEM}|BATCH-A/SN1`]])).length, 1);
      // Every row processed, each result with a Provenance.
      assert.equal((await inbox.list('received')).length, 0);
      for (const o of [k1, na1, await observation('BATCH-A', 'B-3', 'NA')]) {
        assert.ok((await search('Provenance', [['target', `Observation/${o.id}`]])).length >= 1, String(o.id));
      }
    });

    test('the analyzer’s ConceptMaps add NPU codes to its local codes; an unmapped code opens one mapping Task', async () => {
      const local = astmLocalCodeSystem('TERM-ANALYZER');
      const map: ConceptMap = {
        resourceType: 'ConceptMap',
        id: 'term-analyzer',
        url: 'http://region.example/fhir/ConceptMap/term-analyzer',
        version: '2',
        status: 'active',
        group: [
          {
            source: local,
            target: 'http://npu-terminology.org',
            // NPU19748 "P—C-reaktivt protein; massek.", mg/L: ../shared/research identity-and-terminology.md §3.2.
            element: [{ code: 'CRP', target: [{ code: 'NPU19748', equivalence: 'equivalent' }] }],
          },
        ],
      };
      await service.update('ConceptMap', 'term-analyzer', map, INTERNAL);
      for (const [sample, crp] of [
        ['TERM-1', '4.0'],
        ['TERM-2', '12'],
      ] as const) {
        await inbox.accept(
          message(
            'TERM-ANALYZER',
            sample,
            [
              ['CRP', crp],
              ['NYT', '7'],
            ],
            'mg/L',
          ),
          'test',
        );
      }
      await new AstmProcessor({ inbox, service }).runOnce();
      const crp = await observation('TERM-ANALYZER', 'TERM-1', 'CRP');
      const codings = (crp.code as { coding: { system: string; code: string }[] }).coding;
      assert.deepEqual(
        codings.map((c) => `${c.system}|${c.code}`),
        [`${local}|CRP`, 'http://npu-terminology.org|NPU19748'],
      );
      assert.equal((await search('Observation', [['code', 'http://npu-terminology.org|NPU19748']])).length, 2);
      // The Provenance names the map it applied.
      const [p] = (await search('Provenance', [['target', `Observation/${crp.id}`]])) as (Json & {
        policy: string[];
      })[];
      assert.ok(p!.policy.includes('http://region.example/fhir/ConceptMap/term-analyzer|2'));
      // One open Task for the unmapped code, however many results carried it; the result keeps its code.
      const tasks = await search('Task', [['identifier', `${MAP_LOCAL_CODE_TASK_SYSTEM}|${local}|NYT`]]);
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0]!.status, 'requested');
      const nyt = await observation('TERM-ANALYZER', 'TERM-1', 'NYT');
      assert.deepEqual(
        (nyt.code as { coding: { system: string; code: string }[] }).coding.map((c) => `${c.system}|${c.code}`),
        [`${local}|NYT`],
      );
    });

    test('a message that fails its batch is isolated: the others are written, it fails alone with the reason', async () => {
      // Two Specimens with one barcode in the hub's own system: the message's conditional create of
      // its Specimen matches both, which the batch cannot write and the transaction path refuses.
      for (const n of [1, 2]) {
        await service.create(
          'Specimen',
          {
            resourceType: 'Specimen',
            identifier: [{ system: DEFAULT_ASTM_SPECIMEN_SYSTEM, value: 'TWIN' }],
            note: [{ text: `twin ${n}` }],
          },
          INTERNAL,
        );
      }
      const good1 = await inbox.accept(message('ISO-A', 'ISO-1', [['K', '4.2']]), 'test');
      const bad = await inbox.accept(message('ISO-A', 'TWIN', [['K', '9.9']]), 'test');
      const good2 = await inbox.accept(message('ISO-A', 'ISO-2', [['K', '3.7']]), 'test');
      const processor = new AstmProcessor({ inbox, service });
      assert.deepEqual(await processor.runOnce(), { processed: 2, failed: 1, skipped: 0 });
      assert.equal(processor.stats.failedBatches, 1);
      assert.equal(processor.stats.alone, 3);
      await observation('ISO-A', 'ISO-1', 'K');
      await observation('ISO-A', 'ISO-2', 'K');
      const failed = (await inbox.deadLetters()).find((r) => r.id === bad.id);
      assert.ok(failed, 'the ambiguous message is a dead letter');
      assert.match(failed.reason ?? '', /match more than one Specimen/);
      assert.deepEqual(
        (await inbox.list('processed', 10_000))
          .map((r) => r.id)
          .filter((id) => id === good1.id || id === good2.id)
          .sort(),
        [good1.id, good2.id].sort(),
      );
    });
  });
}
