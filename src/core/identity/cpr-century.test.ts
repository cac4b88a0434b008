import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpr } from './cpr.ts';
import { cprBirthYear } from './cpr-century.ts';

describe('cprBirthYear (CPR office century table)', () => {
  it('digits 0-3: always 1900s', () => {
    for (const digit of [0, 1, 2, 3]) {
      assert.equal(cprBirthYear(0, digit), 1900);
      assert.equal(cprBirthYear(36, digit), 1936);
      assert.equal(cprBirthYear(37, digit), 1937);
      assert.equal(cprBirthYear(99, digit), 1999);
    }
  });

  it('digits 4 and 9: 2000s for 00-36, 1900s for 37-99', () => {
    for (const digit of [4, 9]) {
      assert.equal(cprBirthYear(0, digit), 2000);
      assert.equal(cprBirthYear(36, digit), 2036);
      assert.equal(cprBirthYear(37, digit), 1937);
      assert.equal(cprBirthYear(99, digit), 1999);
    }
  });

  it('digits 5-8: 2000s for 00-57, 1800s for 58-99', () => {
    for (const digit of [5, 6, 7, 8]) {
      assert.equal(cprBirthYear(0, digit), 2000);
      assert.equal(cprBirthYear(57, digit), 2057);
      assert.equal(cprBirthYear(58, digit), 1858);
      assert.equal(cprBirthYear(99, digit), 1899);
    }
  });

  it('drives parseCpr at the boundaries', () => {
    const birthDate = (s: string) => {
      const parsed = parseCpr(s);
      assert.ok(parsed.ok, s);
      return parsed.birthDate;
    };
    assert.equal(birthDate('010136-4000'), '2036-01-01');
    assert.equal(birthDate('010137-4000'), '1937-01-01');
    assert.equal(birthDate('010136-9000'), '2036-01-01');
    assert.equal(birthDate('010137-9000'), '1937-01-01');
    assert.equal(birthDate('010157-5000'), '2057-01-01');
    assert.equal(birthDate('010158-8000'), '1858-01-01');
    assert.equal(birthDate('010100-3000'), '1900-01-01');
  });

  it('has no century for a non-digit', () => {
    assert.equal(cprBirthYear(50, 10), undefined);
  });
});
