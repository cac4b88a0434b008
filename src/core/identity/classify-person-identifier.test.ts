import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPersonIdentifier } from './classify-person-identifier.ts';

describe('classifyPersonIdentifier', () => {
  it('classifies CPR, X-eCPR and D-eCPR', () => {
    assert.equal(classifyPersonIdentifier('0201919990').kind, 'cpr');
    assert.equal(classifyPersonIdentifier('070761-4285').kind, 'cpr');
    assert.equal(classifyPersonIdentifier('0203291WQ3').kind, 'x-ecpr');
    assert.equal(classifyPersonIdentifier('3101057JC9').kind, 'x-ecpr');
    assert.equal(classifyPersonIdentifier('1206550VK9').kind, 'd-ecpr');
    assert.equal(classifyPersonIdentifier('280456-0PJ2').kind, 'd-ecpr');
  });

  it('carries the parsed details', () => {
    const cpr = classifyPersonIdentifier('010190-1234');
    assert.ok(cpr.kind === 'cpr');
    assert.equal(cpr.cpr.cpr, '0101901234');
    const ecpr = classifyPersonIdentifier('1206550VK9');
    assert.ok(ecpr.kind === 'd-ecpr');
    assert.equal(ecpr.replacement.birthOrCreationDate, '1955-06-12');
  });

  it('gives the reason of the format the input most resembles', () => {
    const expectations: ReadonlyArray<readonly [string, string]> = [
      ['', 'empty'],
      ['12345', 'cpr-shape'],
      ['310290-1234', 'cpr-date'],
      ['670761-4285', 'cpr-day-plus-six'],
      ['0101902AB1', 'replacement-century'],
      ['0203291wq3', 'replacement-lowercase'],
      ['3102291WQ3', 'replacement-date'],
    ];
    for (const [input, code] of expectations) {
      const result = classifyPersonIdentifier(input);
      assert.ok(result.kind === 'invalid', input);
      assert.equal(result.code, code, input);
      assert.ok(result.reason.length > 0);
    }
  });
});
