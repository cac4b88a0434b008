import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CPR_LIKE, maskCpr } from './mask-cpr.ts';

test('masks CPR numbers with and without hyphen, keeping the birth date', () => {
  assert.equal(maskCpr('patient 010203-1234 called'), 'patient 010203-XXXX called');
  assert.equal(maskCpr('cpr=0102031234'), 'cpr=010203-XXXX');
  assert.equal(
    maskCpr('Patient?identifier=urn:oid:1.2.208.176.1.2|2911261234'),
    'Patient?identifier=urn:oid:1.2.208.176.1.2|291126-XXXX',
  );
});

test('masks a URL-encoded identifier search and several numbers', () => {
  assert.equal(maskCpr('identifier=x%7C0101001234&b=311299-9999'), 'identifier=x%7C010100-XXXX&b=311299-XXXX');
});

test('masks replacement CPRs (D-eCPR DDMMYY-CAAG, as Region Nordjylland writes them)', () => {
  assert.equal(maskCpr('280456-0PJ2 and 0101905AB1'), '280456-XXXX and 010190-XXXX');
});

test('leaves other numbers alone: longer runs, non-dates, SOR codes, epoch seconds', () => {
  for (const text of ['12345678901', '1764374400', 'SOR 1234567890123', '3213001234', '0113001234', 'abc 123']) {
    assert.equal(maskCpr(text), text);
  }
});

test('maskCpr gives what the expression alone gives, also for text it need not run on', () => {
  // Digits, separators and letters in random runs: with and without six digits in a row.
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const alphabet = '0123456789012345678901234567890123-AB x|%7C';
  for (let i = 0; i < 20_000; i++) {
    const length = next() % 24;
    let text = '';
    for (let k = 0; k < length; k++) text += alphabet[next() % alphabet.length];
    assert.equal(maskCpr(text), text.replace(CPR_LIKE, '$1-XXXX'), JSON.stringify(text));
  }
});
