import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReplacementCpr, isReplacementCpr, parseReplacementCpr } from './replacement-cpr.ts';

function ok(input: string) {
  const parsed = parseReplacementCpr(input);
  assert.ok(parsed.ok, `${input} should parse`);
  return parsed;
}

function refusedCode(input: string): string {
  const parsed = parseReplacementCpr(input);
  assert.ok(!parsed.ok, `${input} should be refused`);
  return parsed.code;
}

describe('parseReplacementCpr', () => {
  it('reads the NSP X-eCPR examples (C = 1: 1900s, C = 7: 2000s)', () => {
    assert.deepEqual(ok('0203291WQ3'), {
      ok: true,
      kind: 'x-ecpr',
      value: '0203291WQ3',
      birthOrCreationDate: '1929-03-02',
      letters: 'WQ',
      sexHint: 'male',
    });
    assert.equal(ok('1308781OS6').birthOrCreationDate, '1978-08-13');
    assert.equal(ok('1308781OS6').sexHint, 'female');
    assert.equal(ok('3101057JC9').birthOrCreationDate, '2005-01-31');
  });

  it('reads D-eCPR examples: Region Nordjylland with hyphen, DK-core without', () => {
    const nordjylland = ok('280456-0PJ2');
    assert.equal(nordjylland.kind, 'd-ecpr');
    assert.equal(nordjylland.value, '2804560PJ2');
    assert.equal(nordjylland.birthOrCreationDate, '1956-04-28');
    assert.equal(nordjylland.sexHint, 'female');
    const dkCore = ok('1206550VK9');
    assert.equal(dkCore.birthOrCreationDate, '1955-06-12');
    assert.equal(dkCore.sexHint, 'male');
  });

  it('reads D-eCPR C = 5 as 1800s and C = 6 as 2000s', () => {
    assert.equal(ok('0101505AB1').birthOrCreationDate, '1850-01-01');
    assert.equal(ok('0101106AB1').birthOrCreationDate, '2010-01-01');
  });

  it('refuses century characters outside {1, 7} and {0, 5, 6}', () => {
    for (const c of ['2', '3', '4', '8', '9']) assert.equal(refusedCode(`010190${c}AB1`), 'replacement-century', c);
  });

  it('refuses lower-case letters, Æ/Ø/Å, CPR numbers and bad dates', () => {
    assert.equal(refusedCode('0203291wq3'), 'replacement-lowercase');
    assert.equal(refusedCode('0203290ÆB3'), 'replacement-shape');
    assert.equal(refusedCode('0101901234'), 'replacement-shape');
    assert.equal(refusedCode(''), 'empty');
    assert.equal(refusedCode('3102291WQ3'), 'replacement-date');
    assert.equal(refusedCode('2902001AB1'), 'replacement-date'); // 1900 is not a leap year
    assert.equal(ok('2902007AB1').birthOrCreationDate, '2000-02-29');
  });

  it('isReplacementCpr tells replacement numbers from CPR numbers', () => {
    assert.equal(isReplacementCpr('1206550VK9'), true);
    assert.equal(isReplacementCpr('1206559999'), false);
  });
});

describe('formatReplacementCpr', () => {
  it('builds the canonical form and round-trips', () => {
    const value = formatReplacementCpr({ kind: 'd-ecpr', date: '1955-06-12', letters: 'VK', sexDigit: 9 });
    assert.equal(value, '1206550VK9');
    assert.equal(
      formatReplacementCpr({ kind: 'x-ecpr', date: '2005-01-31', letters: 'JC', sexDigit: 9 }),
      '3101057JC9',
    );
    assert.equal(ok(value).value, value);
  });

  it('throws for parts the format cannot hold', () => {
    assert.throws(() => formatReplacementCpr({ kind: 'x-ecpr', date: '1850-01-01', letters: 'AB', sexDigit: 1 }), {
      name: 'RangeError',
      message: /year cannot be expressed/,
    });
    assert.throws(
      () => formatReplacementCpr({ kind: 'd-ecpr', date: '2100-01-01', letters: 'AB', sexDigit: 1 }),
      RangeError,
    );
    assert.throws(
      () => formatReplacementCpr({ kind: 'd-ecpr', date: '1990-02-30', letters: 'AB', sexDigit: 1 }),
      RangeError,
    );
    assert.throws(
      () => formatReplacementCpr({ kind: 'd-ecpr', date: '1990-01-01', letters: 'ab', sexDigit: 1 }),
      RangeError,
    );
    assert.throws(
      () => formatReplacementCpr({ kind: 'd-ecpr', date: '1990-01-01', letters: 'AB', sexDigit: 10 }),
      RangeError,
    );
  });
});
