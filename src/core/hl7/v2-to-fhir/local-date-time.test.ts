import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toFhirDateTime } from './local-date-time.ts';

const fhir = (v: string, zone?: string) => {
  const r = toFhirDateTime(v, zone);
  if (!r.ok) assert.fail(r.error.reason);
  return r.value;
};

test('precision is kept: year, month, day without zone; minute and second padded to seconds', () => {
  assert.equal(fhir('2026').fhir, '2026');
  assert.equal(fhir('202603').fhir, '2026-03');
  assert.equal(fhir('20260315').fhir, '2026-03-15');
  assert.equal(fhir('202603151230').fhir, '2026-03-15T12:30:00+01:00');
  assert.equal(fhir('202603151230').precision, 'minute');
  assert.equal(fhir('20260315123045.12').fhir, '2026-03-15T12:30:45.12+01:00');
});

test('no offset: Europe/Copenhagen winter +01:00, summer +02:00', () => {
  assert.equal(fhir('20260115103000').fhir, '2026-01-15T10:30:00+01:00');
  assert.equal(fhir('20260715103000').fhir, '2026-07-15T10:30:00+02:00');
  assert.equal(fhir('20260715103000').offsetAssumed, true);
});

test('an offset in the value is kept as given', () => {
  const v = fhir('20260715103000-0500');
  assert.equal(v.fhir, '2026-07-15T10:30:00-05:00');
  assert.equal(v.offsetAssumed, false);
});

test('spring gap: 2026-03-29 02:30 does not exist and moves forward to 03:30+02:00 (same instant as 02:30+01:00)', () => {
  const v = fhir('20260329023000');
  assert.equal(v.localTime, 'nonexistent');
  assert.equal(v.fhir, '2026-03-29T03:30:00+02:00');
  assert.equal(Date.parse(v.fhir), Date.parse('2026-03-29T02:30:00+01:00'));
  assert.equal(fhir('20260329015959').fhir, '2026-03-29T01:59:59+01:00');
  assert.equal(fhir('20260329030000').fhir, '2026-03-29T03:00:00+02:00');
});

test('autumn overlap: 2026-10-25 02:30 occurs twice and is read as the first occurrence (+02:00)', () => {
  const v = fhir('20261025023000');
  assert.equal(v.localTime, 'ambiguous');
  assert.equal(v.fhir, '2026-10-25T02:30:00+02:00');
  assert.equal(fhir('20261025030000').fhir, '2026-10-25T03:00:00+01:00');
  assert.equal(fhir('20261025015959').localTime, 'unique');
});

test('other zones and bad values', () => {
  assert.equal(fhir('20260715103000', 'America/New_York').fhir, '2026-07-15T10:30:00-04:00');
  assert.equal(toFhirDateTime('20260715103000', 'Mars/Olympus').ok, false);
  assert.equal(toFhirDateTime('20261315').ok, false);
  assert.equal(toFhirDateTime('February 2 2024').ok, false);
});
