import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { adtA01 } from '../../test/support/hl7-mllp.ts';
import { FhirService, INTERNAL } from '../fhir-api/fhir-service.ts';
import { openDialect } from '../store/dialect/dialect.ts';
import { FhirRepository, type Resource } from '../store/repository.ts';
import { Hl7Inbox } from './hl7-inbox.ts';
import { Hl7Processor } from './hl7-processor.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'hl7', name));

/** An ORU^R01 with one order and one OBX per value (NM, mmol/L), all with result status `status`. */
function oru(o: {
  control: string;
  patient: string;
  order: string;
  values: readonly number[];
  status?: 'F' | 'C';
}): Buffer {
  const codes = ['2345-7^Glucose', '2951-2^Sodium', '2823-3^Potassium', '718-7^Hemoglobin'];
  return Buffer.from(
    [
      `MSH|^~\\&|TESTLAB|TESTHOSP|DXHUB|REGION|20250101120000||ORU^R01^ORU_R01|${o.control}|P|2.5.1`,
      `PID|1||${o.patient}^^^TESTHOSP^MR||Patient${o.patient}^Test||19700101|F`,
      `OBR|1|PL${o.order}^TESTHOSP|FL${o.order}^TESTLAB|24323-8^Panel^LN|||20250101110000|||||||||||||||20250101113000||CH|${o.status ?? 'F'}`,
      ...o.values.map(
        (v, k) => `OBX|${k + 1}|NM|${codes[k]}^LN||${v}|mmol/L|1-10|N|||${o.status ?? 'F'}|||20250101110000`,
      ),
      '',
    ].join('\r'),
    'latin1',
  );
}

/**
 * The fixture's corrected message (OBX-11 C) and its original (status F, another control id). Its
 * patient and order numbers get `tag`: other test files process the same fixture at the same time,
 * and on PostgreSQL the advisory locks of equal conditional queries are shared across schemas.
 */
function correctionPair(tag: string): [Buffer, Buffer] {
  const corrected = fixture('oru-r01-derived-01-correction.hl7')
    .toString('utf8')
    .replace(/PATID1234|ORD666555|R-991133/g, (m) => `${m}-${tag}`);
  const original = corrected.replace(/\|C\|/g, '|F|').replace(/(MSH(?:\|[^|\r]*){8}\|)([^|\r]*)/, '$1$2-F');
  return [Buffer.from(original), Buffer.from(corrected)];
}

const TYPES = [
  'Patient',
  'Encounter',
  'ServiceRequest',
  'Specimen',
  'Observation',
  'DiagnosticReport',
  'Binary',
  'Provenance',
  'Task',
];

async function setup(dialect: 'sqlite' | 'postgres', batchWrites = true) {
  // A fixed clock: two runs write the same meta.lastUpdated and Provenance.recorded.
  const repo = await FhirRepository.open(await openDialect(freshDbUrl(dialect)), { now: () => 1_767_225_600_000 });
  const inbox = new Hl7Inbox(repo.db);
  const service = new FhirService(repo);
  const processor = new Hl7Processor({ inbox, service, batchWrites });
  const search = async (type: string, params: [string, string][] = []) => {
    const r = await service.search(type, [...params, ['_count', '1000']], INTERNAL);
    return ((JSON.parse(r.body!) as { entry?: { resource: Resource }[] }).entry ?? []).map((e) => e.resource);
  };
  /**
   * Every stored resource as canonical JSON: server-assigned ids replaced by what identifies the
   * resource (its identifiers; a Provenance by activity, targets and inbox row), so that the
   * outcome of two runs can be compared; versions, contents and references are kept.
   */
  const snapshot = async (): Promise<string[]> => {
    const all = (await Promise.all(TYPES.map((t) => search(t)))).flat();
    const keyOf = new Map<string, string>();
    for (const r of all) {
      if (r.resourceType === 'Binary') keyOf.set(`Binary/${r.id}`, `Binary/${r.id}`);
      else if (r.identifier)
        keyOf.set(`${r.resourceType}/${r.id}`, `${r.resourceType}/${JSON.stringify(r.identifier)}`);
    }
    const canonical = (r: Resource) =>
      JSON.stringify({ ...r, id: undefined }, (k, v) =>
        k === 'reference' && typeof v === 'string' ? (keyOf.get(v) ?? `unknown:${v.split('/')[0]}`) : v,
      );
    for (const r of all) {
      if (r.resourceType === 'Provenance') keyOf.set(`Provenance/${r.id}`, canonical(r));
    }
    return all.map(canonical).sort();
  };
  return { repo, inbox, service, processor, search, snapshot };
}

/** Accepts `messages` and processes them until the inbox is empty. */
async function run(env: Awaited<ReturnType<typeof setup>>, messages: readonly Buffer[]) {
  for (const m of messages) await env.inbox.accept(m, 'test');
  let total = { processed: 0, failed: 0, skipped: 0 };
  for (;;) {
    const s = await env.processor.runOnce();
    if (s.processed + s.failed + s.skipped === 0) return total;
    total = {
      processed: total.processed + s.processed,
      failed: total.failed + s.failed,
      skipped: total.skipped + s.skipped,
    };
  }
}

const quantityOf = (o: Resource) => (o.valueQuantity as { value: number }).value;
const version = (r: Resource) => Number((r.meta as { versionId: string }).versionId);

for (const dialect of await testDialects()) {
  describe(`HL7 batch writes on ${dialect}`, () => {
    it('mixed patients, one patient twice, a correction with its original, a resend under a new control id: one batch, stored as message by message', async () => {
      const [original, corrected] = correctionPair('mixed');
      const messages = [
        oru({ control: 'c1', patient: '1001', order: 'O1', values: [1, 2, 3] }),
        oru({ control: 'c2', patient: '1002', order: 'O2', values: [4, 5, 6] }),
        oru({ control: 'c3', patient: '1001', order: 'O3', values: [7, 8] }),
        oru({ control: 'c4', patient: '1001', order: 'O1', values: [1, 2.5, 3], status: 'C' }),
        oru({ control: 'c5', patient: '1002', order: 'O2', values: [4, 5, 6] }),
        original,
        corrected,
      ];
      const batch = await setup(dialect);
      const single = await setup(dialect, false);
      try {
        assert.deepEqual(await run(batch, messages), { processed: 7, failed: 0, skipped: 0 });
        assert.deepEqual(batch.processor.stats, { batched: 7, alone: 0, failedBatches: 0, lastBatchError: undefined });
        assert.deepEqual(await run(single, messages), { processed: 7, failed: 0, skipped: 0 });
        assert.deepEqual(await batch.snapshot(), await single.snapshot());

        // The same patient twice in the batch: one Patient, both orders on it.
        const patients = await batch.search('Patient', [['identifier', 'urn:dxhub:id:TESTHOSP|1001']]);
        assert.equal(patients.length, 1);
        const reports = await batch.search('DiagnosticReport', [['subject', `Patient/${patients[0]!.id}`]]);
        assert.equal(reports.length, 2);
        // The correction after its original in the same batch: the same Observation, version 2.
        const ofOrder = async (order: string) =>
          (await batch.search('Observation')).filter((o) => JSON.stringify(o.identifier).includes(`/FL${order}/`));
        const o1 = await ofOrder('O1');
        assert.deepEqual(o1.map(quantityOf).sort(), [1, 2.5, 3]);
        assert.ok(o1.every((o) => o.status === 'corrected' && version(o) === 2));
        const fixtureObs = (await batch.search('Observation')).filter((o) => o.status === 'corrected');
        assert.ok(fixtureObs.length > 3);
        // The resend under a new control id updated the same three Observations.
        const o2 = await ofOrder('O2');
        assert.equal(o2.length, 3);
        assert.ok(o2.every((o) => version(o) === 2));
      } finally {
        await batch.repo.close();
        await single.repo.close();
      }
    });

    it('a message that does not map and one the batch cannot write fail alone; the rest of the batch is stored', async () => {
      const messages = [
        oru({ control: 'g1', patient: '2001', order: 'G1', values: [1, 2] }),
        fixture('malformed-ti-06-nm-not-numeric.hl7'),
        // Two Patients carry this identifier: the conditional create matches more than one (412).
        oru({ control: 'bad', patient: '2999', order: 'B1', values: [3] }),
        oru({ control: 'g2', patient: '2001', order: 'G2', values: [4] }),
      ];
      const twoPatients = async (env: Awaited<ReturnType<typeof setup>>) => {
        for (let i = 0; i < 2; i++) {
          const body = { resourceType: 'Patient', identifier: [{ system: 'urn:dxhub:id:TESTHOSP', value: '2999' }] };
          await env.service.create('Patient', body, INTERNAL);
        }
      };
      const batch = await setup(dialect);
      const single = await setup(dialect, false);
      try {
        await twoPatients(batch);
        await twoPatients(single);
        assert.deepEqual(await run(batch, messages), { processed: 2, failed: 2, skipped: 0 });
        assert.equal(batch.processor.stats.failedBatches, 1);
        const reasons = (await batch.inbox.deadLetters()).map((r) => [r.controlId, r.reason]);
        assert.equal(reasons.length, 2);
        assert.match(String(reasons.find(([c]) => c === 'bad')?.[1]), /more than one Patient/);
        assert.ok(
          reasons.some(([, r]) => /HL7 error 102/.test(String(r))),
          JSON.stringify(reasons),
        );
        assert.equal((await batch.search('Observation')).length, 3);
        assert.deepEqual(await run(single, messages), { processed: 2, failed: 2, skipped: 0 });
        assert.deepEqual(
          (await single.inbox.deadLetters()).map((r) => [r.controlId, r.reason]),
          (await batch.inbox.deadLetters()).map((r) => [r.controlId, r.reason]),
        );
        assert.deepEqual(await batch.snapshot(), await single.snapshot());
      } finally {
        await batch.repo.close();
        await single.repo.close();
      }
    });

    it('processing the same rows again (a crash before the inbox knew) has the effect of processing them once', async () => {
      const [original, corrected] = correctionPair('replay');
      const messages = [
        oru({ control: 'r1', patient: '3001', order: 'R1', values: [1, 2] }),
        oru({ control: 'r2', patient: '3001', order: 'R1', values: [1, 2.5], status: 'C' }),
        original,
        corrected,
      ];
      const batch = await setup(dialect);
      const single = await setup(dialect, false);
      try {
        for (const env of [batch, single]) {
          await run(env, messages);
          const before = await env.search('Observation');
          await env.repo.db.run("UPDATE hl7_inbox SET state = 'received'");
          assert.equal((await run(env, [])).processed, 4);
          const after = await env.search('Observation');
          // The same Observations with the same content: a replayed original and its correction
          // write the two versions again (as the per-message path does), ending where they ended.
          const content = (o: Resource) => JSON.stringify({ ...o, meta: { ...o.meta, versionId: undefined } });
          assert.deepEqual(after.map(content), before.map(content));
          assert.equal((await env.search('Patient')).length, 2);
          assert.equal((await env.search('Binary')).length, 4);
        }
        assert.equal(batch.processor.stats.batched, 8, JSON.stringify(batch.processor.stats));
        // Each run records its Provenance (UPDATE) on both paths alike.
        assert.deepEqual(await batch.snapshot(), await single.snapshot());
      } finally {
        await batch.repo.close();
        await single.repo.close();
      }
    });

    it('an exact resend is not processed again; a merge in the middle of a batch runs alone, in its place', async () => {
      const first = oru({ control: 'd1', patient: '4001', order: 'D1', values: [1] });
      const messages = [
        first,
        first,
        adtA01('12345', 'a01-1'),
        adtA01('56789', 'a01-2'),
        fixture('adt-a40-ms-01-merge.hl7'),
        oru({ control: 'd2', patient: '4001', order: 'D2', values: [2] }),
      ];
      const batch = await setup(dialect);
      const single = await setup(dialect, false);
      try {
        assert.deepEqual(await run(batch, messages), { processed: 5, failed: 0, skipped: 0 });
        assert.deepEqual(batch.processor.stats, { batched: 4, alone: 1, failedBatches: 0, lastBatchError: undefined });
        assert.deepEqual(await run(single, messages), { processed: 5, failed: 0, skipped: 0 });
        assert.deepEqual(await batch.snapshot(), await single.snapshot());
        const replaced = (await batch.search('Patient')).find((p) => p.link !== undefined);
        assert.ok(replaced, 'the merge ran');
      } finally {
        await batch.repo.close();
        await single.repo.close();
      }
    });
  });
}
