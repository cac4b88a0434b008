import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCprModulus11 } from './cpr-modulus11.ts';

describe('hasCprModulus11', () => {
  it('accepts 0707614285: weighted sum 154 = 14 × 11 (CPR office 2006 example)', () => {
    assert.equal(hasCprModulus11('0707614285'), true);
  });

  it('only one of 070761-4280…4289 passes', () => {
    const passing = Array.from({ length: 10 }, (_, d) => `070761428${d}`).filter(hasCprModulus11);
    assert.deepEqual(passing, ['0707614285']);
  });

  it('fails the MedCom test numbers and anything that is not 10 digits', () => {
    for (const cpr of ['0201919990', '2509479989', '0108589995', '0201609995'])
      assert.equal(hasCprModulus11(cpr), false);
    assert.equal(hasCprModulus11('070761-4285'), false);
  });
});
