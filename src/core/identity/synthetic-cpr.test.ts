import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpr } from './cpr.ts';
import { SYNTHETIC_DATE_COUNT, syntheticCpr } from './synthetic-cpr.ts';

function parsed(cpr: string) {
  const result = parseCpr(cpr);
  assert.ok(result.ok, cpr);
  return result;
}

describe('syntheticCpr', () => {
  it('is deterministic', () => {
    assert.equal(syntheticCpr(0), '0201303999');
    assert.equal(syntheticCpr(1), '2909519999');
    assert.equal(syntheticCpr(0, { birthDate: '1980-05-17', sex: 'female' }), '1705809998');
  });

  it('makes unique valid CPRs that fail modulus 11 and are not born on 1 January', () => {
    const seen = new Set<string>();
    for (let seq = 0; seq < 3000; seq++) {
      const cpr = syntheticCpr(seq);
      const p = parsed(cpr);
      assert.equal(p.mod11, false, cpr);
      assert.ok(!p.birthDate.endsWith('-01-01'), cpr);
      assert.ok(p.birthDate >= '1930-01-02' && p.birthDate <= '2019-12-31', cpr);
      seen.add(cpr);
    }
    assert.equal(seen.size, 3000);
  });

  it('keeps seq unique past one lap of the default dates', () => {
    const a = syntheticCpr(5);
    const b = syntheticCpr(5 + SYNTHETIC_DATE_COUNT);
    assert.notEqual(a, b);
    assert.equal(a.slice(0, 6), b.slice(0, 6));
  });

  it('spreads default dates bijectively (7919 is prime and does not divide the count)', () => {
    assert.equal(SYNTHETIC_DATE_COUNT, 90 * 364 + 22);
    assert.notEqual(SYNTHETIC_DATE_COUNT % 7919, 0);
  });

  it('honours birth date and sex', () => {
    const seen = new Set<string>();
    for (let seq = 0; seq < 300; seq++) {
      const p = parsed(syntheticCpr(seq, { birthDate: '2000-02-29', sex: 'male' }));
      assert.equal(p.birthDate, '2000-02-29');
      assert.equal(p.sexHint, 'male');
      assert.equal(p.mod11, false);
      seen.add(p.cpr);
    }
    assert.equal(seen.size, 300);
    assert.equal(parsed(syntheticCpr(0, { birthDate: '1860-06-01' })).birthDate, '1860-06-01');
  });

  it('refuses 1 January, impossible dates, out-of-range years and bad seq', () => {
    assert.throws(() => syntheticCpr(0, { birthDate: '1980-01-01' }), RangeError);
    assert.throws(() => syntheticCpr(0, { birthDate: '1981-02-29' }), RangeError);
    assert.throws(() => syntheticCpr(0, { birthDate: '1850-06-01' }), { message: /year cannot be expressed/ });
    assert.throws(() => syntheticCpr(-1), RangeError);
    assert.throws(() => syntheticCpr(1.5), RangeError);
    assert.throws(() => syntheticCpr(100_000, { birthDate: '1980-05-17', sex: 'male' }), { message: /taken/ });
  });
});
