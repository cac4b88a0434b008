import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PrimitiveKind } from './element-tree.ts';
import { checkPrimitive } from './primitive-checks.ts';

/** Valid and invalid JSON values per R4 primitive type (FHIR §2.24.0.1 regexes and JSON types). */
const CASES: Record<PrimitiveKind, { valid: unknown[]; invalid: unknown[] }> = {
  boolean: { valid: [true, false], invalid: ['true', 1, null] },
  integer: { valid: [0, -5, 2147483647, -2147483648], invalid: [1.5, 2147483648, -2147483649, '1', Number.NaN] },
  positiveInt: { valid: [1, 2147483647], invalid: [0, -1, 1.2, '3'] },
  unsignedInt: { valid: [0, 12], invalid: [-1, 0.5, '0'] },
  decimal: { valid: [0, -1.5, 1e-7, 3], invalid: ['1.0', Number.POSITIVE_INFINITY, Number.NaN, null] },
  string: { valid: ['a', ' spaced ', 'line\nbreak\ttab', 'Nørre\u00a0Allé'], invalid: ['', 5, {}] },
  markdown: { valid: ['**bold**'], invalid: [''] },
  code: { valid: ['final', 'a b', 'mm[Hg]'], invalid: ['', ' final', 'final ', 'a  b', 'a\nb', 3] },
  id: { valid: ['abc', 'A-1.b', 'x'.repeat(64)], invalid: ['a_b', 'x'.repeat(65), '', 'a b'] },
  uri: { valid: ['urn:oid:1.2', 'http://loinc.org', '#p1'], invalid: ['', 'has space', 7] },
  url: { valid: ['https://dxhub.example/fhir'], invalid: ['a b'] },
  canonical: { valid: ['http://hl7.org/fhir/ValueSet/x|4.0.1'], invalid: [''] },
  oid: { valid: ['urn:oid:1.2.208.176.1.2', 'urn:oid:2.16.840'], invalid: ['1.2.3', 'urn:oid:3.1', 'urn:oid:1.02'] },
  uuid: {
    valid: ['urn:uuid:2f1e8f3c-1d5a-4b7e-9c1a-2b3c4d5e6f70'],
    invalid: ['2f1e8f3c-1d5a-4b7e-9c1a-2b3c4d5e6f70', 'urn:uuid:2F1E8F3C-1D5A-4B7E-9C1A-2B3C4D5E6F70'],
  },
  base64Binary: { valid: ['JVBERi0xLjQK', 'YQ==', 'YWJj\nZGVm'], invalid: ['', 'abc', 'a$cd', 'YQ='] },
  time: { valid: ['08:30:00', '23:59:60', '10:00:00.123'], invalid: ['24:00:00', '8:30:00', '08:30'] },
  date: {
    valid: ['2024', '2024-02', '2024-02-29', '2000-02-29', '0001-01-01'],
    invalid: [
      '2023-02-29',
      '1900-02-29',
      '2023-02-30',
      '2024-04-31',
      '2024-13',
      '2024-1-1',
      '0000',
      '2024-03-01T10:00:00Z',
    ],
  },
  dateTime: {
    valid: [
      '2024',
      '2024-03',
      '2024-03-01',
      '2024-03-01T08:30:00+01:00',
      '2024-03-01T08:30:00.123Z',
      '2024-03-01T08:30:00-14:00',
    ],
    invalid: [
      '2024-03-01T08:30:00',
      '2024-03-01T08:30Z',
      '2023-02-29T00:00:00Z',
      '2024-03-01 08:30:00Z',
      '2024-03-01T08:30:00+15:00',
    ],
  },
  instant: {
    valid: ['2024-03-01T08:30:00Z', '2024-03-01T08:30:00.5+01:00'],
    invalid: ['2024-03-01', '2024-03-01T08:30:00', '2024-06-31T08:30:00Z'],
  },
  xhtml: { valid: ['<div xmlns="http://www.w3.org/1999/xhtml">x</div>'], invalid: ['<p>x</p>', 'plain', ''] },
};

describe('checkPrimitive', () => {
  for (const [kind, { valid, invalid }] of Object.entries(CASES) as [PrimitiveKind, (typeof CASES)[PrimitiveKind]][]) {
    test(kind, () => {
      for (const value of valid)
        assert.equal(checkPrimitive(kind, value), undefined, `${kind} ${JSON.stringify(value)}`);
      for (const value of invalid) {
        assert.equal(
          checkPrimitive(kind, value)?.severity,
          'error',
          `${kind} ${JSON.stringify(value)} should be invalid`,
        );
      }
    });
  }

  test('strings with C0 control characters are a warning (SHOULD not), not an error', () => {
    assert.equal(checkPrimitive('string', 'bell\u0007')?.severity, 'warning');
  });

  test('diagnostics name the problem', () => {
    assert.match(checkPrimitive('date', '2023-02-30')?.diagnostics ?? '', /not a real calendar date/);
    assert.match(checkPrimitive('code', '')?.diagnostics ?? '', /empty string/);
    assert.match(checkPrimitive('integer', 2 ** 31)?.diagnostics ?? '', /out of range/);
  });
});
