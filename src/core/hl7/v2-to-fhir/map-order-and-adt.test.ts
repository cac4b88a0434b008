import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Encounter, Observation, Patient, ServiceRequest, Specimen } from '@medplum/fhirtypes';
import { CPR_SYSTEM, X_ECPR_SYSTEM } from '../../identity/index.ts';
import { mapHl7TextToFhir } from './map-hl7-to-fhir.ts';
import { assertValidTransaction, entryOf, resourcesOf } from './transaction-bundle.fixture.ts';
import type { V2ToFhirBundleResult } from './v2-to-fhir-result.ts';

const msh = (type: string, control: string) =>
  `MSH|^~\\&|EPJ|RSYD|LABSYS|OUH|20260115103000||${type}|${control}|P|2.5.1`;
const PID = 'PID|1||2512489996^^^CPR&1.2.208.176.1.2&ISO^NNDNK||Hansen^Jens||19481225|M';
const PV1 =
  'PV1|1|I|MED1^12^3^OUH&1.2.208.176.1.1.123&ISO||||||||||||||||V-991^^^OUH^VN|||||||||||||||||||||||||20260114220000';

function bundle(lines: string[], control: string): V2ToFhirBundleResult {
  const r = mapHl7TextToFhir(lines.join('\r'));
  if (!r.ok || r.kind !== 'bundle') assert.fail(JSON.stringify(r));
  assertValidTransaction(r.bundle, control);
  return r;
}

const order = (control: string, orderControl: string) =>
  bundle(
    [
      msh('OML^O21^OML_O21', control),
      PID,
      PV1,
      `ORC|${orderControl}|REQ-9^EPJ`,
      'OBR|1|REQ-9^EPJ||NPU03230^P-Kalium^NPU',
      'NTE|1||Fastende',
      'OBX|1|ST|Q1^Fasting?^L||Ja||||||O',
      'SPM|1|S-1&EPJ||119297000^Blood specimen^SCT|||||||||||||20260115071500',
    ],
    control,
  );

test('OML^O21 NW → active ServiceRequest (conditional update on the placer number) with Specimen and supportingInfo', () => {
  const r = order('ORD-1', 'NW');
  const sr = resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0] as ServiceRequest;
  assert.equal(sr.status, 'active');
  assert.equal(sr.intent, 'order');
  assert.equal(sr.code?.coding?.[0]?.code, 'NPU03230');
  assert.deepEqual(sr.note, [{ text: 'Fastende' }]);
  const e = entryOf(r.bundle, sr);
  assert.equal(e.request?.method, 'PUT');
  assert.equal(e.request?.url, 'ServiceRequest?identifier=urn%3Adxhub%3Aid%3AEPJ|REQ-9');
  const specimen = resourcesOf<Specimen>(r.bundle, 'Specimen')[0] as Specimen;
  assert.equal(specimen.request?.[0]?.reference, e.fullUrl);
  assert.equal(sr.specimen?.[0]?.reference, entryOf(r.bundle, specimen).fullUrl);
  assert.equal(specimen.collection?.collectedDateTime, '2026-01-15T07:15:00+01:00');
  const question = resourcesOf<Observation>(r.bundle, 'Observation')[0] as Observation;
  assert.equal(question.status, 'registered');
  assert.equal(sr.supportingInfo?.[0]?.reference, entryOf(r.bundle, question).fullUrl);
  const encounter = resourcesOf<Encounter>(r.bundle, 'Encounter')[0] as Encounter;
  assert.equal(sr.encounter?.reference, entryOf(r.bundle, encounter).fullUrl);
  assert.equal(encounter.class.code, 'IMP');
  assert.equal(encounter.status, 'in-progress');
  assert.equal(entryOf(r.bundle, encounter).request?.method, 'POST');
});

test('ORC-1 CA → revoked, on the same conditional URL as the new order', () => {
  const created = order('ORD-1', 'NW');
  const cancelled = order('ORD-2', 'CA');
  const [a, b] = [created, cancelled].map(
    (r) => resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0] as ServiceRequest,
  );
  assert.equal(b?.status, 'revoked');
  assert.equal(entryOf(created.bundle, a!).request?.url, entryOf(cancelled.bundle, b!).request?.url);
});

test('ORM^O01 without OBR still gives a ServiceRequest; an order without numbers → 101 at ORC-2', () => {
  const r = bundle([msh('ORM^O01', 'ORM-1'), PID, 'ORC|NW|REQ-7^EPJ'], 'ORM-1');
  assert.equal(resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0]?.status, 'active');
  const bad = mapHl7TextToFhir([msh('ORM^O01', 'ORM-2'), PID, 'ORC|NW', 'OBR|1|||NPU03230^K^NPU'].join('\r'));
  assert.ok(!bad.ok);
  assert.deepEqual([bad.code, bad.segment, bad.field], ['101', 'ORC', 2]);
});

test('ADT^A01 → Patient and Encounter as conditional updates; Encounter in-progress', () => {
  const r = bundle([msh('ADT^A01^ADT_A01', 'ADT-1'), 'EVN|A01|20260114220000', PID, PV1], 'ADT-1');
  const patient = resourcesOf<Patient>(r.bundle, 'Patient')[0] as Patient;
  assert.equal(
    entryOf(r.bundle, patient).request?.url,
    `Patient?identifier=${encodeURIComponent(CPR_SYSTEM)}|2512489996`,
  );
  const encounter = resourcesOf<Encounter>(r.bundle, 'Encounter')[0] as Encounter;
  assert.equal(encounter.status, 'in-progress');
  assert.deepEqual(encounter.identifier?.[0]?.value, 'V-991');
  assert.equal(encounter.period?.start, '2026-01-14T22:00:00+01:00');
  assert.deepEqual(encounter.serviceProvider, {
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.208.176.1.1.123' },
    display: 'OUH',
  });
  assert.equal(entryOf(r.bundle, encounter).request?.method, 'PUT');
});

test('ADT^A04 → Encounter arrived (class from PV1-2 O → AMB); A08 → status from PV1-44/45', () => {
  const pv1 = PV1.replace('PV1|1|I|', 'PV1|1|O|');
  const a04 = bundle([msh('ADT^A04', 'ADT-4'), PID, pv1], 'ADT-4');
  const e4 = resourcesOf<Encounter>(a04.bundle, 'Encounter')[0] as Encounter;
  assert.deepEqual([e4.status, e4.class.code], ['arrived', 'AMB']);
  const a08 = bundle([msh('ADT^A08', 'ADT-8'), PID, `${PV1}|20260116120000`], 'ADT-8');
  const e8 = resourcesOf<Encounter>(a08.bundle, 'Encounter')[0] as Encounter;
  assert.equal(e8.status, 'finished');
  assert.equal(e8.period?.end, '2026-01-16T12:00:00+01:00');
});

test('ADT^A40 → a merge result (no Bundle): PID-3 survives, MRG-1 is replaced', () => {
  const r = mapHl7TextToFhir(
    [msh('ADT^A40^ADT_A39', 'MRG-1'), 'EVN|A40', PID, 'MRG|0101901AB3^^^CPR&1.2.208.176.1.2&ISO^NNDNK'].join('\r'),
  );
  assert.ok(r.ok && r.kind === 'merge');
  assert.deepEqual(
    r.surviving.map((i) => [i.system, i.value]),
    [[CPR_SYSTEM, '2512489996']],
  );
  assert.deepEqual(
    r.replaced.map((i) => [i.system, i.value, i.use]),
    [[X_ECPR_SYSTEM, '0101901AB3', 'temp']],
  );
  assert.equal(r.merges.length, 1);
  const bad = mapHl7TextToFhir([msh('ADT^A40', 'MRG-2'), PID, 'MRG|'].join('\r'));
  assert.ok(!bad.ok);
  assert.deepEqual([bad.code, bad.segment, bad.field], ['101', 'MRG', 1]);
});
