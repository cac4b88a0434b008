import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCpr, normalizeCpr, parseCpr } from './cpr.ts';

function ok(input: string) {
  const parsed = parseCpr(input);
  assert.ok(parsed.ok, `${input} should parse`);
  return parsed;
}

function refused(input: string) {
  const parsed = parseCpr(input);
  assert.ok(!parsed.ok, `${input} should be refused`);
  return parsed;
}

describe('parseCpr', () => {
  it('accepts the CPR office worked example 070761-4285, which passes modulus 11', () => {
    assert.deepEqual(ok('070761-4285'), {
      ok: true,
      cpr: '0707614285',
      birthDate: '1961-07-07',
      sexHint: 'male',
      mod11: true,
    });
  });

  it('accepts MedCom test CPRs that fail modulus 11: mod11 is information, never a refusal', () => {
    assert.deepEqual(ok('0201919990'), {
      ok: true,
      cpr: '0201919990',
      birthDate: '1991-01-02',
      sexHint: 'female',
      mod11: false,
    });
    assert.equal(ok('2509479989').birthDate, '1947-09-25');
    assert.equal(ok('0108589995').birthDate, '1958-08-01');
    assert.equal(ok('0201609995').mod11, false);
  });

  it('accepts a post-2007 style 1 January number without modulus 11', () => {
    const parsed = ok('010165-1234');
    assert.equal(parsed.mod11, false);
    assert.equal(parsed.birthDate, '1965-01-01');
  });

  it('gives the same result with and without hyphen, ignoring surrounding whitespace', () => {
    assert.deepEqual(ok('010190-1234'), ok('0101901234'));
    assert.deepEqual(ok('  0101901234\n'), ok('0101901234'));
  });

  it('reads the sex hint from the last digit (odd = male)', () => {
    assert.equal(ok('0101901233').sexHint, 'male');
    assert.equal(ok('0101901234').sexHint, 'female');
  });

  it('refuses other shapes with a shape reason', () => {
    for (const input of ['01019-1234', '01019012345', '010190 1234', '010190--1234', '0101-901234', 'abcdefghij']) {
      const problem = refused(input);
      assert.equal(problem.code, 'cpr-shape', input);
      assert.match(problem.reason, /10 digits/);
    }
    assert.equal(refused('   ').code, 'empty');
  });

  it('refuses dates that do not exist', () => {
    assert.equal(refused('310290-1234').code, 'cpr-date'); // 31 February
    assert.equal(refused('290201-1234').code, 'cpr-date'); // 1901 is not a leap year
    assert.equal(refused('290201-4234').code, 'cpr-date'); // 2001 is not a leap year
    assert.equal(refused('310490-1234').code, 'cpr-date'); // 31 April
    assert.equal(refused('001390-1234').code, 'cpr-date');
    assert.equal(refused('000190-1234').code, 'cpr-date');
  });

  it('applies the leap-year rule in the century chosen by digit 7', () => {
    assert.equal(refused('290200-0123').code, 'cpr-date'); // 1900: not a leap year
    assert.equal(ok('290200-4123').birthDate, '2000-02-29'); // 2000: leap year
    assert.equal(ok('290296-1234').birthDate, '1996-02-29');
  });

  it('explains a day + 60 replacement number from a non-health system', () => {
    assert.equal(refused('670761-4285').code, 'cpr-day-plus-six');
  });

  it('points replacement CPRs to the replacement parser', () => {
    assert.equal(refused('0203291WQ3').code, 'cpr-is-replacement');
  });
});

describe('normalizeCpr / isCpr', () => {
  it('gives the 10-digit search key or undefined', () => {
    assert.equal(normalizeCpr('010190-1234'), '0101901234');
    assert.equal(normalizeCpr('0101901234'), '0101901234');
    assert.equal(normalizeCpr('310290-1234'), undefined);
    assert.equal(isCpr('0201919990'), true);
    assert.equal(isCpr('0203291WQ3'), false);
  });
});
