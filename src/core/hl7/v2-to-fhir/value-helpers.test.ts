import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapReferenceRange } from './reference-range.ts';
import { looksLikeUcum } from './ucum-syntax.ts';
import { resolveCodeSystem } from './v2-code-systems.ts';

test('UCUM syntax: laboratory units pass, v2 pseudo-units and free text do not', () => {
  for (const u of [
    'mmol/L',
    'mg/dL',
    'mg/dl',
    '10*9/L',
    '10*6/uL',
    '{cells}/uL',
    '%',
    'fL',
    'U/L',
    'mL/min/{1.73_m2}',
    'mm[Hg]',
    '1',
    'mmol/mol',
    '/[HPF]',
    '[IU]/L',
  ]) {
    assert.equal(looksLikeUcum(u), true, u);
  }
  for (const u of ['giga.l-1', 'tera.l-1', 'beats/min', 'cells/uL', 'mEq/L', 'ratio', 'mmol /L', '']) {
    assert.equal(looksLikeUcum(u), false, u);
  }
});

test('reference ranges: decimal commas, "to", underscore, bounds, text', () => {
  assert.deepEqual(mapReferenceRange('3,5 - 5,0', {}), { low: { value: 3.5 }, high: { value: 5 }, text: '3,5 - 5,0' });
  assert.deepEqual(mapReferenceRange('4.3 to 6.2', {}), {
    low: { value: 4.3 },
    high: { value: 6.2 },
    text: '4.3 to 6.2',
  });
  assert.deepEqual(mapReferenceRange('-2--1', {}), { low: { value: -2 }, high: { value: -1 }, text: '-2--1' });
  assert.deepEqual(mapReferenceRange('<=5', {}), { high: { value: 5 }, text: '<=5' });
  assert.deepEqual(mapReferenceRange('>= 10', {}), { low: { value: 10 }, text: '>= 10' });
  assert.deepEqual(mapReferenceRange('Negative', {}), { text: 'Negative' });
  assert.equal(mapReferenceRange('', {}), undefined);
});

test('coding systems: LN, NPU (and its OID), SCT, UCUM, HL7 tables; everything else local', () => {
  const base = 'urn:dxhub:local:LAB:OUH';
  assert.deepEqual(resolveCodeSystem('LN', base), { system: 'http://loinc.org', local: false });
  assert.deepEqual(resolveCodeSystem('NPU', base), { system: 'http://npu-terminology.org', local: false });
  assert.deepEqual(resolveCodeSystem('urn:oid:1.2.208.176.2.1', base), {
    system: 'http://npu-terminology.org',
    local: false,
  });
  assert.deepEqual(resolveCodeSystem('HL70078', base), {
    system: 'http://terminology.hl7.org/CodeSystem/v2-0078',
    local: false,
  });
  assert.deepEqual(resolveCodeSystem('99USI', base), { system: 'urn:dxhub:local:LAB:OUH:99USI', local: true });
  assert.deepEqual(resolveCodeSystem(undefined, base), { system: base, local: true });
});
