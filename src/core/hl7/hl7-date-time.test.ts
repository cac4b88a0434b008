import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHl7Date, parseHl7DateTime } from './hl7-date-time.ts';

function fhir(value: string, timeZone?: string) {
  const r = parseHl7DateTime(value, timeZone ? { timeZone } : {});
  if (!r.ok) assert.fail(`${value}: ${r.error.message}`);
  return r.value;
}

test('precision is preserved; FHIR needs seconds, so shorter times are padded', () => {
  assert.deepEqual(fhir('2024'), { fhir: '2024', precision: 'year', offsetAssumed: false });
  assert.equal(fhir('202403').fhir, '2024-03');
  assert.equal(fhir('20240301').fhir, '2024-03-01');
  assert.deepEqual(fhir('2024030110+0100'), {
    fhir: '2024-03-01T10:00:00+01:00',
    precision: 'hour',
    offsetAssumed: false,
  });
  assert.equal(fhir('202403011015-0500').fhir, '2024-03-01T10:15:00-05:00');
  assert.equal(fhir('20141006064500+0700').fhir, '2014-10-06T06:45:00+07:00');
  assert.deepEqual(fhir('20210622131413.8343-0400'), {
    fhir: '2021-06-22T13:14:13.8343-04:00',
    precision: 'fraction',
    offsetAssumed: false,
  });
});

test('offsets on date-only values are dropped (FHIR dates carry none)', () => {
  assert.equal(fhir('20240301+0100').fhir, '2024-03-01');
});

test('a time without offset needs a time zone; Europe/Copenhagen gives +01:00 in winter, +02:00 in summer', () => {
  const r = parseHl7DateTime('20240224134009');
  assert.ok(!r.ok && r.error.code === 'missing-time-zone');
  assert.deepEqual(fhir('20240224134009', 'Europe/Copenhagen'), {
    fhir: '2024-02-24T13:40:09+01:00',
    precision: 'second',
    offsetAssumed: true,
  });
  assert.equal(fhir('20240715080000', 'Europe/Copenhagen').fhir, '2024-07-15T08:00:00+02:00');
  const bad = parseHl7DateTime('20240715080000', { timeZone: 'Nowhere/Atlantis' });
  assert.ok(!bad.ok && bad.error.code === 'missing-time-zone');
});

test('invalid values are typed errors: format, calendar, offset range', () => {
  for (const v of [
    'February 2 2024',
    '',
    '2024-03-01',
    '20240230',
    '20230229',
    '20241301',
    '2024030125',
    '202403011060',
    '20240301101500+1500',
    '00000101',
    '2024030110.5',
    '20240301101500.12345',
  ]) {
    const r = parseHl7DateTime(v, { timeZone: 'UTC' });
    assert.ok(!r.ok, v);
    if (!r.ok) assert.equal(r.error.code, 'invalid-date-time', v);
  }
  assert.ok(fhir('20240229').fhir === '2024-02-29');
  assert.ok(fhir('20000229').fhir === '2000-02-29');
});

test('DT accepts dates only', () => {
  assert.deepEqual(parseHl7Date('19241010'), { ok: true, value: '1924-10-10' });
  assert.equal(parseHl7Date('202402210152-0500').ok, false);
});
