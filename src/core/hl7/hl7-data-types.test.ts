import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCe, parseCwe } from './hl7-coded.ts';
import { parseCx } from './hl7-cx.ts';
import { parseHl7Numeric } from './hl7-numeric.ts';
import { parseSn } from './hl7-sn.ts';
import { parseStructuredXad, parseXad } from './hl7-xad.ts';
import { parseXpn } from './hl7-xpn.ts';
import { parseHl7 } from './parse-hl7.ts';

function field(segment: string, n: number, repetition = 1) {
  const r = parseHl7(`MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5.1\r${segment}`);
  if (!r.ok) assert.fail(r.error.message);
  return r.value.segments[1]!.field(n, repetition);
}

test('NM: sign, digits, decimal point; precision kept; no exponent or separators', () => {
  assert.deepEqual(parseHl7Numeric('+04.10'), { ok: true, value: { value: 4.1, decimal: '4.10' } });
  assert.deepEqual(parseHl7Numeric('-0.5'), { ok: true, value: { value: -0.5, decimal: '-0.5' } });
  assert.deepEqual(parseHl7Numeric('.5'), { ok: true, value: { value: 0.5, decimal: '0.5' } });
  assert.deepEqual(parseHl7Numeric('12.'), { ok: true, value: { value: 12, decimal: '12' } });
  assert.deepEqual(parseHl7Numeric(' 7 '), { ok: true, value: { value: 7, decimal: '7' } });
  assert.deepEqual(parseHl7Numeric('-0'), { ok: true, value: { value: 0, decimal: '0' } });
  for (const bad of ['NOVALUE', '', '.', '+', '1e3', '1,5', '1 000', '--1', '<5', '0x10']) {
    const r = parseHl7Numeric(bad);
    assert.ok(!r.ok && r.error.code === 'invalid-numeric', bad);
  }
});

test('CWE and CE become plain objects without empty parts', () => {
  assert.deepEqual(parseCwe(field('OBX|1|CWE|8339-4^BIRTH WEIGHT^LN^BW^Birth wt^L^2.76^^Weight at birth', 3)), {
    code: '8339-4',
    display: 'BIRTH WEIGHT',
    system: 'LN',
    altCode: 'BW',
    altDisplay: 'Birth wt',
    altSystem: 'L',
    systemVersion: '2.76',
    originalText: 'Weight at birth',
  });
  assert.deepEqual(parseCe(field('OBX|1|CE|A^B^C^D^E^F^G', 3)), {
    code: 'A',
    display: 'B',
    system: 'C',
    altCode: 'D',
    altDisplay: 'E',
    altSystem: 'F',
  });
  assert.deepEqual(parseCwe(field('OBX|1|CWE|mmol\\S\\L^^UCUM', 3)), { code: 'mmol^L', system: 'UCUM' });
});

test('CX keeps the assigning authority HD from subcomponents', () => {
  assert.deepEqual(parseCx(field('PID|1||0101011234^^^CPR&1.2.208.176.1.2&ISO^NNDNK^RH&&', 3)), {
    id: '0101011234',
    assigningAuthority: { namespaceId: 'CPR', universalId: '1.2.208.176.1.2', universalIdType: 'ISO' },
    typeCode: 'NNDNK',
    assigningFacility: { namespaceId: 'RH' },
  });
});

test('XPN and XAD', () => {
  assert.deepEqual(parseXpn(field('PID|1||X||Dijk&van^Anna^B^Jr^Dr^PhD^L', 5)), {
    family: 'Dijk',
    familyPrefix: 'van',
    given: 'Anna',
    middle: 'B',
    suffix: 'Jr',
    prefix: 'Dr',
    degree: 'PhD',
    typeCode: 'L',
  });
  assert.deepEqual(
    parseXad(field('PID|1||X||||||||Nørrebrogade 1&Nørrebrogade&1^3. tv^København N^^2200^DK^H^^101', 11)),
    {
      street: 'Nørrebrogade 1',
      streetName: 'Nørrebrogade',
      dwellingNumber: '1',
      otherDesignation: '3. tv',
      city: 'København N',
      postalCode: '2200',
      country: 'DK',
      addressType: 'H',
      countyCode: '101',
    },
  );
  const crammed = parseStructuredXad(field('OBX|1|XAD|X||1234 GPCS WAY MONTGOMERY Alabama 36117', 5));
  assert.ok(!crammed.ok && crammed.error.code === 'unstructured-address');
  assert.ok(parseStructuredXad(field('OBX|1|XAD|X||1234 Main St^Ste. 200^Austin^TX^78758', 5)).ok);
});

test('SN: comparator, numbers, separator (ch. 2A SN)', () => {
  assert.deepEqual(parseSn(field('OBX|1|SN|X||^182', 5)), { ok: true, value: { num1: '182' } });
  assert.deepEqual(parseSn(field('OBX|1|SN|X||>^100', 5)), { ok: true, value: { comparator: '>', num1: '100' } });
  assert.deepEqual(parseSn(field('OBX|1|SN|X||<=^0.5', 5)), { ok: true, value: { comparator: '<=', num1: '0.5' } });
  assert.deepEqual(parseSn(field('OBX|1|SN|X||^1^:^128', 5)), {
    ok: true,
    value: { num1: '1', separator: ':', num2: '128' },
  });
  assert.deepEqual(parseSn(field('OBX|1|SN|X||^10^-^20', 5)), {
    ok: true,
    value: { num1: '10', separator: '-', num2: '20' },
  });
  for (const bad of ['=>^5', '^abc', '^1^*^2', '^^', '^1^^2']) {
    const r = parseSn(field(`OBX|1|SN|X||${bad}`, 5));
    assert.ok(!r.ok && r.error.code === 'invalid-structured-numeric', bad);
  }
});
