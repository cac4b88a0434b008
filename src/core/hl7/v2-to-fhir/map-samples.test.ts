import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { DiagnosticReport, Encounter, Observation, Patient, ServiceRequest, Specimen } from '@medplum/fhirtypes';
import { parseHl7Batch } from '../parse-hl7-batch.ts';
import { mapHl7TextToFhir, mapHl7ToFhir } from './map-hl7-to-fhir.ts';
import { assertValidTransaction, entryOf, resourcesOf } from './transaction-bundle.fixture.ts';
import type { V2ToFhirBundleResult, V2ToFhirResult } from './v2-to-fhir-result.ts';

/** Permissive copies in the repository, and the shared set (which may also hold GPL files). */
const FIXTURES = path.resolve(import.meta.dirname, '../../../../test/fixtures/hl7');
const SHARED = '/work/shared/data/hl7';

function hl7Files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.hl7'))
    .map((f) => path.join(dir, f))
    .sort();
}

/**
 * Samples that cannot be mapped, with the reason: each is checked to fail with exactly this
 * catalogue code (parser or mapper) and table 0357 condition. Every other sample must map.
 */
const EXPECTED_FAILURES: Readonly<Record<string, readonly [reason: string, condition: string]>> = {
  'ack-derived-01-ae.hl7': ['unsupported-message-type', '200'],
  'ack-derived-02-ar.hl7': ['unsupported-message-type', '200'],
  'ack-ti-01-natus.hl7': ['unsupported-message-type', '200'],
  'mdm-t02-ms-01-report-text.hl7': ['unsupported-message-type', '200'],
  'omg-o19-ms-01-general-order.hl7': ['unsupported-message-type', '200'],
  'oul-r22-ms-01-specimen-results.hl7': ['unsupported-message-type', '200'],
  'malformed-ti-01-empty.hl7': ['empty-message', '100'],
  'malformed-ti-02-msh-only.hl7': ['missing-encoding-characters', '101'],
  'malformed-ti-03-missing-msh2.hl7': ['missing-encoding-characters', '101'],
  'malformed-ti-04-missing-msh9.hl7': ['missing-message-type', '101'],
  'malformed-ti-05-missing-msh10.hl7': ['missing-control-id', '101'],
  // OBX-5 "NOVALUE" as NM, "February 2 2024" as DTM, a whole address in XAD.1.
  'malformed-ti-06-nm-not-numeric.hl7': ['invalid-observation-value', '102'],
  'malformed-ti-07-bad-dtm.hl7': ['invalid-observation-value', '102'],
  'malformed-ti-08-bad-xad.hl7': ['invalid-observation-value', '102'],
  'malformed-ti-09-wrapped-obr.hl7': ['bad-segment-name', '100'],
  // The first ORDER has ORC-4 (placer group) only: no ORC-2/3, OBR-2/3.
  'oml-o21-ms-03-lab-order-multi.hl7': ['missing-order-number', '101'],
  // `OBX||ED|||App5^…`: OBX-3 empty.
  'oru-r01-ms-01-lab-mixed-types.hl7': ['missing-observation-code', '101'],
  // FHS/BHS before MSH: a batch, mapped message by message below.
  'oru-r01-ti-08-obx2-with-components.hl7': ['batch-header', '100'],
};

const mapFile = (file: string) => mapHl7TextToFhir(readFileSync(file));

function bundleOf(file: string): V2ToFhirBundleResult {
  const r = mapFile(path.join(FIXTURES, file));
  if (!r.ok || r.kind !== 'bundle') assert.fail(`${file}: ${JSON.stringify(r)}`);
  return r;
}

function checkSample(file: string, r: V2ToFhirResult): void {
  const name = path.basename(file);
  const expected = EXPECTED_FAILURES[name];
  if (expected) {
    assert.equal(r.ok, false, `${name} should fail`);
    if (r.ok) return;
    assert.deepEqual([r.reason, r.code], expected, `${name}: ${r.message}`);
    assert.ok(r.message.length > 10, name);
    return;
  }
  if (!r.ok) assert.fail(`${name}: ${r.code} ${r.reason} ${r.message} ${r.segment ?? ''} ${r.field ?? ''}`);
  if (r.kind === 'merge') {
    assert.ok(r.merges.length > 0 && r.surviving.length > 0 && r.replaced.length > 0, name);
    return;
  }
  assertValidTransaction(r.bundle, r.controlId, name);
  for (const w of r.warnings) assert.equal(typeof w, 'string');
}

test('every repository fixture maps to a valid transaction or fails with the expected reason', () => {
  const files = hl7Files(FIXTURES);
  assert.ok(files.length >= 47);
  for (const f of files) checkSample(f, mapFile(f));
});

test('every shared sample (recursively) maps or fails with the expected reason', (t) => {
  if (!existsSync(SHARED)) {
    t.skip(`${SHARED} is not mounted on this machine`);
    return;
  }
  const files = hl7Files(SHARED);
  assert.ok(files.length > 0);
  for (const f of files) checkSample(f, mapFile(f));
});

test('oru-r01-ti-08 (FHS/BHS batch without trailers) maps message by message', () => {
  const batch = parseHl7Batch(readFileSync(path.join(FIXTURES, 'oru-r01-ti-08-obx2-with-components.hl7')));
  assert.ok(batch.ok);
  assert.equal(batch.value.messages.length, 1);
  for (const m of batch.value.messages) {
    assert.ok(m.ok);
    const r = mapHl7ToFhir(m.value);
    assert.ok(r.ok && r.kind === 'bundle', JSON.stringify(r));
    assertValidTransaction(r.bundle, r.controlId, 'ti-08');
    // OBX-2 and OBX-11 sent as coded triplets (CWE^^HL70125, F^Final^HL70085): the codes are read.
    const obs = resourcesOf<Observation>(r.bundle, 'Observation');
    assert.ok(obs.length > 0 && obs.every((o) => o.status === 'final'));
  }
});

test('ORU^R01 NIST LRI CBC (oru-r01-ms-05): values, units, ranges, flags, times, report', () => {
  const r = bundleOf('oru-r01-ms-05-nist-lri-cbc.hl7');
  const obs = resourcesOf<Observation>(r.bundle, 'Observation');
  assert.equal(obs.length, 28);
  const hgb = obs.find((o) => o.code.coding?.[0]?.code === '718-7') as Observation;
  assert.deepEqual(hgb.valueQuantity, {
    value: 12.5,
    unit: 'grams per milliliter',
    system: 'http://unitsofmeasure.org',
    code: 'g/mL',
  });
  assert.equal(hgb.referenceRange?.[0]?.low?.value, 13);
  assert.equal(hgb.referenceRange?.[0]?.high?.value, 18);
  assert.equal(hgb.interpretation?.[0]?.coding?.[0]?.code, 'L');
  assert.equal(hgb.effectiveDateTime, '2011-01-03T14:34:28-08:00');
  assert.equal(hgb.issued, '2011-01-04T17:00:28-08:00');
  assert.equal(hgb.status, 'final');
  const aniso = obs.find((o) => o.code.coding?.[0]?.code === '38892-6') as Observation;
  assert.deepEqual(aniso.valueCodeableConcept, {
    coding: [{ system: 'http://snomed.info/sct', code: '260348001', display: 'Present ++ out of ++++' }],
    text: 'Moderate Anisocytosis',
  });
  assert.equal(obs.find((o) => o.code.coding?.[0]?.code === '6742-1')?.valueString, 'Many spherocytes present.');
  const report = resourcesOf<DiagnosticReport>(r.bundle, 'DiagnosticReport')[0] as DiagnosticReport;
  assert.equal(report.status, 'final');
  assert.equal(report.result?.length, 28);
  assert.equal(report.code.coding?.[0]?.code, '57021-8');
  assert.equal(report.issued, '2011-01-04T17:00:28-08:00');
  assert.equal(
    entryOf(r.bundle, report).request?.url,
    'DiagnosticReport?identifier=urn%3Adxhub%3Aid%3ANIST%2520Lab%2520Filler|R-991133',
  );
  const specimen = resourcesOf<Specimen>(r.bundle, 'Specimen')[0] as Specimen;
  assert.equal(specimen.collection?.collectedDateTime, '2011-01-03T14:34:28-08:00');
  assert.equal(specimen.type?.coding?.[0]?.code, '119297000');
});

test('the derived correction of the CBC updates the same Observations and report (OBX-11 = C, OBR-25 = C)', () => {
  const original = bundleOf('oru-r01-ms-05-nist-lri-cbc.hl7');
  const corrected = bundleOf('oru-r01-derived-01-correction.hl7');
  const urls = (r: V2ToFhirBundleResult, type: string) =>
    (r.bundle.entry ?? []).filter((e) => e.resource?.resourceType === type).map((e) => e.request?.url);
  assert.deepEqual(urls(corrected, 'Observation'), urls(original, 'Observation'));
  assert.deepEqual(urls(corrected, 'DiagnosticReport'), urls(original, 'DiagnosticReport'));
  const obs = resourcesOf<Observation>(corrected.bundle, 'Observation');
  const hgb = obs.find((o) => o.code.coding?.[0]?.code === '718-7') as Observation;
  const wbc = obs.find((o) => o.code.coding?.[0]?.code === '26464-8') as Observation;
  assert.deepEqual([hgb.status, hgb.valueQuantity?.value], ['corrected', 13.2]);
  assert.deepEqual([wbc.status, wbc.valueQuantity?.value], ['corrected', 10560]);
  assert.equal(resourcesOf<DiagnosticReport>(corrected.bundle, 'DiagnosticReport')[0]?.status, 'corrected');
  const short = [bundleOf('oru-r01-ti-01-short.hl7'), bundleOf('oru-r01-derived-02-correction-short.hl7')];
  const [a, b] = short.map((r) => resourcesOf<Observation>(r.bundle, 'Observation')[0] as Observation);
  assert.deepEqual(a?.identifier, b?.identifier);
  assert.deepEqual([a?.status, b?.status], ['final', 'corrected']);
});

test('SN, pending and preliminary results (oru-r01-ms-02, oru-r01-ms-03)', () => {
  const sn = resourcesOf<Observation>(bundleOf('oru-r01-ms-02-sn-glucose.hl7').bundle, 'Observation')[0] as Observation;
  assert.deepEqual(sn.valueQuantity, { value: 182, unit: 'mg/dl', system: 'http://unitsofmeasure.org', code: 'mg/dl' });
  assert.deepEqual(sn.referenceRange?.[0], {
    low: { value: 70, unit: 'mg/dl', system: 'http://unitsofmeasure.org', code: 'mg/dl' },
    high: { value: 105, unit: 'mg/dl', system: 'http://unitsofmeasure.org', code: 'mg/dl' },
    text: '70_105',
  });
  assert.equal(sn.interpretation?.[0]?.coding?.[0]?.code, 'H');
  const r = bundleOf('oru-r01-ms-03-hemogram-partial.hl7');
  const obs = resourcesOf<Observation>(r.bundle, 'Observation');
  assert.equal(obs.length, 10);
  assert.deepEqual(
    obs.slice(0, 5).map((o) => [o.status, o.valueQuantity?.value]),
    [
      ['registered', undefined],
      ['preliminary', 4.06],
      ['registered', undefined],
      ['preliminary', 40.1],
      ['final', 221],
    ],
  );
  assert.deepEqual(obs[1]?.valueQuantity, { value: 4.06, unit: 'tera.l-1' });
  // Both OBR groups carry an SPM with ID "SpecimenID": one Specimen, referenced by both reports.
  const specimens = resourcesOf<Specimen>(r.bundle, 'Specimen');
  assert.equal(specimens.length, 1);
  assert.equal(specimens[0]?.receivedTime, '2014-10-06T08:21:00+07:00');
  assert.equal(specimens[0]?.collection?.collectedDateTime, '2014-10-06T05:35:00+07:00');
  // The second OBR sends its status one field late (OBR-26): reported, status unknown.
  const reports = resourcesOf<DiagnosticReport>(r.bundle, 'DiagnosticReport');
  assert.deepEqual(
    reports.map((d) => d.status),
    ['final', 'unknown'],
  );
  assert.ok(r.warnings.some((w) => w.includes('OBR[2]-25')));
});

test('escapes (oru-r01-derived-03): TX keeps the \\.br\\ line break and decoded delimiters', () => {
  const obs = resourcesOf<Observation>(bundleOf('oru-r01-derived-03-escapes.hl7').bundle, 'Observation');
  const tx = obs.find((o) => o.valueString?.startsWith('Smear')) as Observation;
  assert.equal(
    tx.valueString,
    'Smear reviewed\nField sep | component ^ subcomponent & repetition ~ escape \\ and highlighted text',
  );
  const st = obs.find((o) => o.valueString?.startsWith('Hex')) as Observation;
  assert.equal(st.valueString, 'Hex CR LF \r\n inside; ratio 1^2');
  assert.deepEqual(st.note, [{ text: 'Reference: WBC diff & morphology per lab SOP 12|A; see \\\\ network share' }]);
});

test('newborn-screening ORU (oru-r01-ti-01): CWE value, OID specimen IDs, birth time', () => {
  const r = bundleOf('oru-r01-ti-01-short.hl7');
  const o = resourcesOf<Observation>(r.bundle, 'Observation')[0] as Observation;
  assert.deepEqual(o.valueCodeableConcept?.coding, [
    { system: 'http://loinc.org', code: 'LA12432-3', display: 'Acceptable' },
  ]);
  const s = resourcesOf<Specimen>(r.bundle, 'Specimen')[0] as Specimen;
  assert.deepEqual(
    s.identifier?.map((i) => [i.system, i.value]),
    [
      ['urn:oid:1.2.840.114350.1.13.145.2.7.2.695071', '423787478'],
      ['urn:oid:2.16.840.1.114222.4.1.10080', '20231561137'],
    ],
  );
  assert.equal(s.receivedTime, '2023-06-05T10:23:00+02:00');
  const p = resourcesOf<Patient>(r.bundle, 'Patient')[0] as Patient;
  assert.equal(p.birthDate, '2023-05-04');
  assert.equal(
    p.extension?.find((e) => e.url.endsWith('patient-birthTime'))?.valueDateTime,
    '2023-05-04T13:10:00+02:00',
  );
});

test('an order and its result meet on the same ServiceRequest query (orm-o01-ti-01 → oru-r01-ti-01)', () => {
  const order = bundleOf('orm-o01-ti-01-short.hl7');
  const result = bundleOf('oru-r01-ti-01-short.hl7');
  const sr = (r: V2ToFhirBundleResult) =>
    entryOf(r.bundle, resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0] as ServiceRequest).request;
  assert.equal(sr(order)?.method, 'PUT');
  assert.equal(sr(order)?.url, `ServiceRequest?${sr(result)?.ifNoneExist}`);
  assert.equal(resourcesOf<ServiceRequest>(order.bundle, 'ServiceRequest')[0]?.status, 'active');
});

test('OML^O21 (oml-o21-ms-01): order numbers from ORC, Specimen from SPM, Encounter from PV1', () => {
  const r = bundleOf('oml-o21-ms-01-lab-order.hl7');
  const sr = resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0] as ServiceRequest;
  assert.deepEqual(
    sr.identifier?.map((i) => [i.type?.coding?.[0]?.code, i.system, i.value]),
    [
      ['PLAC', 'urn:dxhub:id:GHHPlacer', '1101'],
      ['FILL', 'urn:dxhub:id:GHHFiller', '1201'],
    ],
  );
  assert.equal(sr.code?.coding?.[0]?.code, '57698-3');
  assert.equal(sr.authoredOn, '2021-10-20T11:26:00+02:15');
  assert.deepEqual(sr.note, [{ text: 'Urgent' }]);
  const specimen = resourcesOf<Specimen>(r.bundle, 'Specimen')[0] as Specimen;
  assert.equal(
    entryOf(r.bundle, specimen).request?.ifNoneExist,
    'identifier=urn%3Aoid%3A2.16.840.1.114222.4.3.3.5.1.2|2012999999',
  );
  assert.deepEqual(specimen.collection?.collectedPeriod, {
    start: '2011-01-03T14:34:28-08:00',
    end: '2011-11-03T14:34:28-08:00',
  });
  const encounter = resourcesOf<Encounter>(r.bundle, 'Encounter')[0] as Encounter;
  assert.deepEqual([encounter.identifier?.[0]?.value, encounter.class.code], ['5001', 'AMB']);
});

test('ORM^O01 (orm-o01-ms-03): ORC-1 NW → active; PV1 class I → IMP', () => {
  const r = bundleOf('orm-o01-ms-03-hemogram-order.hl7');
  const sr = resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0] as ServiceRequest;
  assert.equal(sr.status, 'active');
  assert.equal(sr.code?.coding?.[0]?.code, '24317-0');
  assert.equal(resourcesOf<Encounter>(r.bundle, 'Encounter')[0]?.class.code, 'IMP');
});

test('ADT samples: A01/A04 Encounter status, A08 update, A40 merges with two pairs', () => {
  const a01 = bundleOf('adt-a01-ms-01-admit-full.hl7');
  const a04 = bundleOf('adt-a04-ms-01-register.hl7');
  const a08 = bundleOf('adt-a08-ms-01-update.hl7');
  assert.equal(resourcesOf<Encounter>(a01.bundle, 'Encounter')[0]?.status, 'in-progress');
  assert.equal(resourcesOf<Encounter>(a04.bundle, 'Encounter')[0]?.status, 'arrived');
  for (const r of [a01, a04, a08]) {
    const p = resourcesOf<Patient>(r.bundle, 'Patient')[0] as Patient;
    assert.equal(entryOf(r.bundle, p).request?.method, 'PUT');
    assert.equal(p.identifier?.[0]?.value, 'PATID1234');
    assert.equal(p.gender, 'male');
  }
  const minimal = bundleOf('adt-a01-ti-01-short.hl7');
  assert.equal(resourcesOf<Encounter>(minimal.bundle, 'Encounter').length, 0);
  assert.ok(minimal.warnings.some((w) => w.includes('PV1[1]-19')));
  const merge = mapFile(path.join(FIXTURES, 'adt-a40-ms-02-merge-two.hl7'));
  assert.ok(merge.ok && merge.kind === 'merge');
  assert.deepEqual(
    merge.merges.map((m) => [m.surviving[0]?.value, m.replaced[0]?.value]),
    [
      ['12345', '56789'],
      ['145', '569'],
    ],
  );
  assert.equal(merge.replaced[0]?.system, 'urn:dxhub:id:BCBS');
});
