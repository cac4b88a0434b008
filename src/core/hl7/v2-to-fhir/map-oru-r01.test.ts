import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiagnosticReport, Observation, Patient, ServiceRequest, Specimen } from '@medplum/fhirtypes';
import { CPR_SYSTEM } from '../../identity/index.ts';
import { mapHl7TextToFhir } from './map-hl7-to-fhir.ts';
import { OBSERVATION_KEY_SYSTEM } from './map-observation.ts';
import { assertValidTransaction, entryOf, resourcesOf } from './transaction-bundle.fixture.ts';
import { LOINC_SYSTEM, NPU_SYSTEM, UCUM_SYSTEM } from './v2-code-systems.ts';
import type { V2ToFhirBundleResult } from './v2-to-fhir-result.ts';

const MSH = (control = 'CTRL-1', type = 'ORU^R01^ORU_R01') =>
  `MSH|^~\\&|LABSYS|OUH|DXHUB|RSYD|20260115103000||${type}|${control}|P|2.5.1`;
const PID = 'PID|1||2512489996^^^CPR&1.2.208.176.1.2&ISO^NNDNK~H-778^^^OUH^MR||Hansen^Jens^Peter||19481225|M';
const ORC = 'ORC|RE|REQ-1^EPJ|LAB-1^OUHLAB';
const OBR = (status = 'F') =>
  `OBR|1|REQ-1^EPJ|LAB-1^OUHLAB|NPU19748^P-CRP^NPU|||20260115080000|||||||20260115083000||||||||20260115101500|||${status}`;

/** An ORU^R01 with the given OBX (and NTE) lines; fails the test unless it maps. */
function oru(lines: string[], options: { control?: string; obrStatus?: string } = {}): V2ToFhirBundleResult {
  const text = [MSH(options.control), PID, ORC, OBR(options.obrStatus), ...lines].join('\r');
  const r = mapHl7TextToFhir(text);
  if (!r.ok || r.kind !== 'bundle') assert.fail(JSON.stringify(r));
  assertValidTransaction(r.bundle, options.control ?? 'CTRL-1');
  return r;
}

const observations = (r: V2ToFhirBundleResult) => resourcesOf<Observation>(r.bundle, 'Observation');
const first = (r: V2ToFhirBundleResult) => observations(r)[0] as Observation;

test('NM with a UCUM unit → valueQuantity with the UCUM system; NPU code kept as sent', () => {
  const r = oru(['OBX|1|NM|NPU19748^P-CRP^NPU||12.50|mg/L^milligram per liter^UCUM|<5|H|||F|||20260115090500']);
  const o = first(r);
  assert.deepEqual(o.code.coding, [{ system: NPU_SYSTEM, code: 'NPU19748', display: 'P-CRP' }]);
  assert.deepEqual(o.valueQuantity, { value: 12.5, unit: 'milligram per liter', system: UCUM_SYSTEM, code: 'mg/L' });
  assert.equal(o.status, 'final');
  assert.equal(o.effectiveDateTime, '2026-01-15T09:05:00+01:00');
  assert.equal(o.issued, '2026-01-15T10:15:00+01:00');
  assert.deepEqual(r.warnings, []);
});

test('NM with a unit that is not UCUM keeps the unit as text only, with a warning', () => {
  const r = oru(['OBX|1|NM|NPU02593^B-Leukocytter^NPU||8.2|giga.l-1||N|||F']);
  assert.deepEqual(first(r).valueQuantity, { value: 8.2, unit: 'giga.l-1' });
  assert.ok(r.warnings.some((w) => w.includes('"giga.l-1" is not UCUM')));
});

test('SN `<^5` → valueQuantity with comparator; `^1^:^128` → valueRatio; `^10^-^20` → valueRange', () => {
  const r = oru([
    'OBX|1|SN|NPU19748^P-CRP^NPU|1|<^5|mg/L|||||F',
    'OBX|2|SN|NPU19748^P-CRP^NPU|2|^1^:^128||||||F',
    'OBX|3|SN|NPU19748^P-CRP^NPU|3|^10^-^20|mg/L|||||F',
  ]);
  const [a, b, c] = observations(r) as [Observation, Observation, Observation];
  assert.deepEqual(a.valueQuantity, { value: 5, unit: 'mg/L', system: UCUM_SYSTEM, code: 'mg/L', comparator: '<' });
  assert.deepEqual(b.valueRatio, { numerator: { value: 1 }, denominator: { value: 128 } });
  assert.equal(c.valueRange?.low?.value, 10);
  assert.equal(c.valueRange?.high?.value, 20);
});

test('ST, TX and FT keep line breaks from \\.br\\ (and TX repetitions become lines)', () => {
  const r = oru([
    'OBX|1|ST|8251-1^Comment^LN|1|one\\.br\\two||||||F',
    'OBX|2|TX|8251-1^Comment^LN|2|first line~second \\T\\ line||||||F',
    'OBX|3|FT|8251-1^Comment^LN|3|Konklusion:\\.br\\Normal \\F\\ ingen fund||||||F',
  ]);
  const [st, tx, ft] = observations(r) as [Observation, Observation, Observation];
  assert.equal(st.valueString, 'one\ntwo');
  assert.equal(tx.valueString, 'first line\nsecond & line');
  assert.equal(ft.valueString, 'Konklusion:\nNormal | ingen fund');
});

test('CWE value → valueCodeableConcept with codings and original text', () => {
  const r = oru([
    'OBX|1|CWE|600-7^Bacteria identified in Blood by Culture^LN||3092008^Staphylococcus aureus^SCT^^^^^^S. aureus||||||F',
  ]);
  assert.deepEqual(first(r).valueCodeableConcept, {
    coding: [{ system: 'http://snomed.info/sct', code: '3092008', display: 'Staphylococcus aureus' }],
    text: 'S. aureus',
  });
  assert.deepEqual(first(r).code.coding?.[0], {
    system: LOINC_SYSTEM,
    code: '600-7',
    display: 'Bacteria identified in Blood by Culture',
  });
});

test('DT and TS values → valueDateTime (precision kept; TS without zone in Copenhagen time)', () => {
  const r = oru([
    'OBX|1|DT|11778-8^Delivery date^LN|1|20260704||||||F',
    'OBX|2|TS|11778-8^Delivery date^LN|2|202607041230||||||F',
    'OBX|3|DTM|11778-8^Delivery date^LN|3|20260704123015+0000||||||F',
    'OBX|4|DT|11778-8^Delivery date^LN|4|202607||||||F',
  ]);
  assert.deepEqual(
    observations(r).map((o) => o.valueDateTime),
    ['2026-07-04', '2026-07-04T12:30:00+02:00', '2026-07-04T12:30:15+00:00', '2026-07'],
  );
});

test('OBX-7 reference ranges: `3.5-5.0` low/high, `<5` high, `>10` low, free text kept as text', () => {
  const r = oru([
    'OBX|1|NM|NPU03230^P-Kalium^NPU|1|4.1|mmol/L|3.5-5.0|N|||F',
    'OBX|2|NM|NPU03230^P-Kalium^NPU|2|4.1|mmol/L|<5|N|||F',
    'OBX|3|NM|NPU03230^P-Kalium^NPU|3|12|mmol/L|>10|H|||F',
    'OBX|4|NM|NPU03230^P-Kalium^NPU|4|12|mmol/L|see lab handbook|H|||F',
  ]);
  const ranges = observations(r).map((o) => o.referenceRange?.[0]);
  const mmol = { unit: 'mmol/L', system: UCUM_SYSTEM, code: 'mmol/L' };
  assert.deepEqual(ranges[0], { low: { value: 3.5, ...mmol }, high: { value: 5, ...mmol }, text: '3.5-5.0' });
  assert.deepEqual(ranges[1], { high: { value: 5, ...mmol }, text: '<5' });
  assert.deepEqual(ranges[2], { low: { value: 10, ...mmol }, text: '>10' });
  assert.deepEqual(ranges[3], { text: 'see lab handbook' });
});

test('OBX-8 H/L/HH/A → v3 ObservationInterpretation; unknown flags kept in v2-0078 with a warning', () => {
  const r = oru(
    ['H', 'L', 'HH', 'A', 'ZZ'].map((f, i) => `OBX|${i + 1}|NM|NPU03230^P-Kalium^NPU|${i + 1}|4|mmol/L||${f}|||F`),
  );
  const codings = observations(r).map((o) => o.interpretation?.[0]?.coding?.[0]);
  const v3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
  assert.deepEqual(
    codings.slice(0, 4).map((c) => [c?.system, c?.code]),
    [
      [v3, 'H'],
      [v3, 'L'],
      [v3, 'HH'],
      [v3, 'A'],
    ],
  );
  assert.deepEqual(codings[4], { system: 'http://terminology.hl7.org/CodeSystem/v2-0078', code: 'ZZ' });
  assert.ok(r.warnings.some((w) => w.includes('"ZZ"')));
});

test('a correction (OBX-11 = C) has the same conditional identifier as the final result', () => {
  const original = oru(['OBX|1|NM|NPU02319^B-Hgb^NPU||8.1|mmol/L|8.3-10.5|L|||F']);
  const corrected = oru(['OBX|1|NM|NPU02319^B-Hgb^NPU||9.1|mmol/L|8.3-10.5|N|||C'], {
    control: 'CTRL-2',
    obrStatus: 'C',
  });
  const [a, b] = [first(original), first(corrected)];
  assert.equal(a.status, 'final');
  assert.equal(b.status, 'corrected');
  assert.deepEqual(a.identifier, b.identifier);
  assert.equal(a.identifier?.[0]?.system, OBSERVATION_KEY_SYSTEM);
  assert.equal(entryOf(original.bundle, a).request?.url, entryOf(corrected.bundle, b).request?.url);
  assert.equal(entryOf(corrected.bundle, b).request?.method, 'PUT');
  const [ra, rb] = [original, corrected].map((r) => resourcesOf<DiagnosticReport>(r.bundle, 'DiagnosticReport')[0]);
  assert.equal(rb?.status, 'corrected');
  assert.equal(entryOf(original.bundle, ra!).request?.url, entryOf(corrected.bundle, rb!).request?.url);
});

test('a cancelled result (OBX-11 = X) → status cancelled with dataAbsentReason, and is kept', () => {
  const r = oru(['OBX|1|NM|NPU02319^B-Hgb^NPU||||||||X']);
  const o = first(r);
  assert.equal(o.status, 'cancelled');
  assert.equal(o.valueQuantity, undefined);
  assert.equal(o.dataAbsentReason?.coding?.[0]?.code, 'not-performed');
});

test('local codes are kept with a sender-local system and a warning; no OBX is dropped', () => {
  const r = oru([
    'OBX|1|NM|K-123^Kalium (lokal)^L||4|mmol/L|||||F',
    'OBX|2|ST|XYZ^Free||text||||||F',
    'OBX|3|NM|NPU03230^P-Kalium^NPU||4|mmol/L|||||F',
  ]);
  assert.equal(observations(r).length, 3);
  assert.deepEqual(first(r).code.coding?.[0], {
    system: 'urn:dxhub:local:LABSYS:OUH:L',
    code: 'K-123',
    display: 'Kalium (lokal)',
  });
  assert.equal(observations(r)[1]?.code.coding?.[0]?.system, 'urn:dxhub:local:LABSYS:OUH');
  assert.equal(r.warnings.filter((w) => w.startsWith('Local code')).length, 2);
});

test('NTE after OBX → Observation.note; NTE after OBR → DiagnosticReport note extension', () => {
  const text = [
    MSH(),
    PID,
    ORC,
    OBR(),
    'NTE|1|L|Hemolytic\\.br\\sample',
    'OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F',
    'NTE|1|L|Recheck',
  ].join('\r');
  const r = mapHl7TextToFhir(text);
  assert.ok(r.ok && r.kind === 'bundle');
  assert.deepEqual(resourcesOf<Observation>(r.bundle, 'Observation')[0]?.note, [{ text: 'Recheck' }]);
  const report = resourcesOf<DiagnosticReport>(r.bundle, 'DiagnosticReport')[0];
  assert.deepEqual(report?.extension?.find((e) => e.url.endsWith('DiagnosticReport.note'))?.valueAnnotation, {
    text: 'Hemolytic\nsample',
  });
});

test('CPR in PID-3 → DK-core CPR identifier; conditional create on it', () => {
  const r = oru(['OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F']);
  const patient = resourcesOf<Patient>(r.bundle, 'Patient')[0] as Patient;
  assert.deepEqual(patient.identifier?.[0], {
    use: 'official',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NNDNK' }] },
    system: CPR_SYSTEM,
    value: '2512489996',
  });
  assert.deepEqual(patient.identifier?.[1]?.system, 'urn:dxhub:id:OUH');
  const e = entryOf(r.bundle, patient);
  assert.equal(e.request?.method, 'POST');
  assert.equal(e.request?.ifNoneExist, `identifier=${encodeURIComponent(CPR_SYSTEM)}|2512489996`);
  assert.equal(patient.birthDate, '1948-12-25');
  assert.equal(patient.gender, 'male');
});

test('ServiceRequest carries placer (PLAC) and filler (FILL); Specimen from OBR-7/OBR-14', () => {
  const r = oru(['OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F']);
  const sr = resourcesOf<ServiceRequest>(r.bundle, 'ServiceRequest')[0] as ServiceRequest;
  assert.deepEqual(
    sr.identifier?.map((i) => [i.type?.coding?.[0]?.code, i.system, i.value]),
    [
      ['PLAC', 'urn:dxhub:id:EPJ', 'REQ-1'],
      ['FILL', 'urn:dxhub:id:OUHLAB', 'LAB-1'],
    ],
  );
  assert.equal(entryOf(r.bundle, sr).request?.ifNoneExist, 'identifier=urn%3Adxhub%3Aid%3AEPJ|REQ-1');
  const specimen = resourcesOf<Specimen>(r.bundle, 'Specimen')[0] as Specimen;
  assert.equal(specimen.collection?.collectedDateTime, '2026-01-15T08:00:00+01:00');
  assert.equal(specimen.receivedTime, '2026-01-15T08:30:00+01:00');
  assert.deepEqual(specimen.accessionIdentifier, { system: 'urn:dxhub:id:OUHLAB', value: 'LAB-1' });
  assert.equal(first(r).specimen?.reference, entryOf(r.bundle, specimen).fullUrl);
});

test('SPM → Specimen with SPM-2 identifiers, SPM-17 collection and SPM-18 receipt', () => {
  const r = oru([
    'OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F',
    'SPM|1|P-55&EPJ^F-77&OUHLAB||119297000^Blood specimen^SCT|||||||||||||20260114235500|20260115001000',
  ]);
  const specimen = resourcesOf<Specimen>(r.bundle, 'Specimen')[0] as Specimen;
  assert.deepEqual(
    specimen.identifier?.map((i) => [i.type?.coding?.[0]?.code, i.system, i.value]),
    [
      ['PLAC', 'urn:dxhub:id:EPJ', 'P-55'],
      ['FILL', 'urn:dxhub:id:OUHLAB', 'F-77'],
    ],
  );
  assert.equal(specimen.collection?.collectedDateTime, '2026-01-14T23:55:00+01:00');
  assert.equal(specimen.receivedTime, '2026-01-15T00:10:00+01:00');
  assert.equal(specimen.type?.coding?.[0]?.code, '119297000');
  assert.equal(entryOf(r.bundle, specimen).request?.ifNoneExist, 'identifier=urn%3Adxhub%3Aid%3AOUHLAB|F-77');
});

test('OBX-14 at DST edges: nonexistent 02:30 moves forward, ambiguous 02:30 is the first occurrence', () => {
  const r = oru([
    'OBX|1|NM|NPU03230^K^NPU|1|4|mmol/L|||||F|||20260329023000',
    'OBX|2|NM|NPU03230^K^NPU|2|4|mmol/L|||||F|||20261025023000',
  ]);
  assert.deepEqual(
    observations(r).map((o) => o.effectiveDateTime),
    ['2026-03-29T03:30:00+02:00', '2026-10-25T02:30:00+02:00'],
  );
  assert.ok(r.warnings.some((w) => w.includes('20260329023000') && w.includes('does not exist')));
  assert.ok(r.warnings.some((w) => w.includes('20261025023000') && w.includes('occurs twice')));
});

test('missing PID-3 → table 0357 code 101 at PID-3', () => {
  const r = mapHl7TextToFhir(
    [MSH(), 'PID|1||||Hansen^Jens', ORC, OBR(), 'OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F'].join('\r'),
  );
  assert.deepEqual(r, {
    ok: false,
    code: '101',
    reason: 'missing-patient-identifier',
    message: 'PID-3 patient identifier list is empty',
    segment: 'PID',
    sequence: 1,
    field: 3,
  });
});

test('unknown message type → 200; unsupported event of a known type → 201', () => {
  const r = mapHl7TextToFhir([MSH('C', 'ZZZ^Z01'), PID].join('\r'));
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, '200');
  const s = mapHl7TextToFhir([MSH('C', 'ORU^R30'), PID].join('\r'));
  assert.equal(!s.ok && s.code, '201');
});

test('an OBX-5 that does not match OBX-2 → 102 at that OBX; an empty OBX-3 → 101', () => {
  const r = mapHl7TextToFhir(
    [
      MSH(),
      PID,
      ORC,
      OBR(),
      'OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F',
      'OBX|2|NM|NPU03230^K^NPU||high|mmol/L|||||F',
    ].join('\r'),
  );
  assert.ok(!r.ok);
  assert.deepEqual([r.code, r.segment, r.sequence, r.field], ['102', 'OBX', 2, 5]);
  const s = mapHl7TextToFhir([MSH(), PID, ORC, OBR(), 'OBX|1|NM|||4|mmol/L|||||F'].join('\r'));
  assert.ok(!s.ok);
  assert.deepEqual([s.code, s.segment, s.sequence, s.field], ['101', 'OBX', 1, 3]);
});

test('the same message always gives the same Bundle', () => {
  const lines = ['OBX|1|NM|NPU03230^K^NPU||4|mmol/L|||||F'];
  assert.deepEqual(oru(lines).bundle, oru(lines).bundle);
});
