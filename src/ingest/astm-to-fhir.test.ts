import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAstmMessage } from '../core/astm/index.ts';
import { ASTM_OBSERVATION_KEY_SYSTEM, astmLocalCodeSystem, mapAstmToFhir } from './astm-to-fhir.ts';

function map(records: string[], specimens?: Map<string, { reference: string; subject?: string; requests?: string[] }>) {
  const m = parseAstmMessage(`${records.join('\r')}\r`);
  if (!m.ok) assert.fail(m.error.message);
  return mapAstmToFhir(m.value, specimens ? { specimens } : {});
}
const observations = (r: ReturnType<typeof map>) =>
  r.bundle.entry
    .filter((e) => e.resource.resourceType === 'Observation')
    .map((e) => e.resource as unknown as Record<string, unknown>);

test('R records → Observations: status, comparator, UCUM only when UCUM, flags, local code, summer time', () => {
  const r = map([
    'H|\\^&|||LAB-1^3.2^SN7|||||||P|1|20250701083000',
    'O|1|S-100||^^^GLU\\^^^CRP|R||20250701080000',
    'R|1|^Glucose^^GLU|6.1|mmol/L|3.5 - 6.0|H||F||||20250701082900',
    'C|1|I|hemolysed|G',
    'R|2|^^^CRP|<5|mg/L||N||P',
    'R|3|^^^HIV|NEGATIVE|||||C',
    'R|4|^^^X1|12|giga/l||LL||X',
    'R|5|^^^X2||||||X',
    'L|1|N',
  ]);
  const [glu, crp, hiv, x1, x2] = observations(r);
  assert.equal(r.observations, 5);
  assert.deepEqual(glu!.code, {
    coding: [{ system: astmLocalCodeSystem('LAB-1'), code: 'GLU', display: 'Glucose' }],
    text: 'Glucose',
  });
  assert.deepEqual(glu!.valueQuantity, {
    value: 6.1,
    unit: 'mmol/L',
    system: 'http://unitsofmeasure.org',
    code: 'mmol/L',
  });
  assert.equal(glu!.status, 'final');
  // Local time without a zone is Europe/Copenhagen: summer time in July.
  assert.equal(glu!.effectiveDateTime, '2025-07-01T08:00:00+02:00');
  assert.equal(glu!.issued, '2025-07-01T08:29:00+02:00');
  assert.deepEqual(glu!.note, [{ text: 'hemolysed' }]);
  assert.deepEqual(glu!.identifier, [{ system: ASTM_OBSERVATION_KEY_SYSTEM, value: 'LAB-1/S-100/GLU' }]);
  assert.deepEqual(crp!.valueQuantity, {
    value: 5,
    comparator: '<',
    unit: 'mg/L',
    system: 'http://unitsofmeasure.org',
    code: 'mg/L',
  });
  assert.equal(crp!.status, 'preliminary');
  assert.deepEqual(hiv!.valueString, 'NEGATIVE');
  assert.equal(hiv!.status, 'corrected');
  // "giga/l" is not UCUM: unit text only, no system or code.
  assert.deepEqual(x1!.valueQuantity, { value: 12, unit: 'giga/l' });
  assert.equal((x1!.interpretation as { coding: { code: string }[] }[])[0]!.coding[0]!.code, 'LL');
  assert.equal(x2!.status, 'cancelled');
  assert.deepEqual(x2!.dataAbsentReason, {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'not-performed' }],
  });
  // One Device, one Specimen (conditional creates), then the Observations (conditional updates).
  assert.deepEqual(r.bundle.entry.map((e) => `${e.request.method} ${e.request.url}`).slice(0, 2), [
    'POST Device',
    'POST Specimen',
  ]);
});

test('a stored Specimen is referenced, with its patient and requests; no Specimen is created', () => {
  const r = map(
    ['H|\\^&|||LAB-1', 'O|1|S-200||^^^K', 'R|1|^^^K|4.0|mmol/L||N||F', 'L|1|N'],
    new Map([['S-200', { reference: 'Specimen/7', subject: 'Patient/3', requests: ['ServiceRequest/9'] }]]),
  );
  const [k] = observations(r);
  assert.deepEqual(k!.specimen, { reference: 'Specimen/7' });
  assert.deepEqual(k!.subject, { reference: 'Patient/3' });
  assert.deepEqual(k!.basedOn, [{ reference: 'ServiceRequest/9' }]);
  assert.equal(r.bundle.entry.filter((e) => e.resource.resourceType === 'Specimen').length, 0);
});

test('quality control messages and control samples are not mapped; placeholder dates are dropped', () => {
  const qc = map(['H|\\^&|||LAB-1|||||||Q|1', 'O|1|C1||^^^K', 'R|1|^^^K|4.0', 'L|1|N']);
  assert.equal(qc.bundle.entry.length, 0);
  assert.match(qc.notes[0]!, /processing ID "Q"/);
  const control = map(['H|\\^&|||LAB-1', 'O|1|C1||^^^K|||||||Q', 'R|1|^^^K|4.0', 'L|1|N']);
  assert.equal(control.bundle.entry.length, 0);
  const phadia = map(['H|\\^&|||LAB-1', 'O|1|S-3||^^^K||18991230000000|18991230000000', 'R|1|^^^K|4.0', 'L|1|N']);
  assert.equal(observations(phadia)[0]!.effectiveDateTime, undefined);
});

test('repeated test codes in one message (value, interpretation, raw signal) get distinct keys', () => {
  const r = map(['H|\\^&|||ARCH', 'O|1|S-4||^^^1', 'R|1|^^^1|0.2', 'R|2|^^^1|NEGATIVE', 'R|3|^^^1|9245', 'L|1|N']);
  assert.deepEqual(
    observations(r).map((o) => (o.identifier as { value: string }[])[0]!.value),
    ['ARCH/S-4/1', 'ARCH/S-4/1#2', 'ARCH/S-4/1#3'],
  );
});
