import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dEcprSystem, personIdentifierKindOfSystem } from './identifier-systems.ts';
import { cprIdentifier, replacementCprIdentifier } from './person-identifier.ts';

describe('cprIdentifier', () => {
  it('builds the DK-core CPR identifier with the 10-digit value', () => {
    assert.deepEqual(cprIdentifier('020191-9990'), {
      use: 'official',
      system: 'urn:oid:1.2.208.176.1.2',
      value: '0201919990',
    });
  });

  it('throws with the parse reason for an invalid CPR', () => {
    assert.throws(() => cprIdentifier('310290-1234'), { name: 'RangeError', message: /real calendar date/ });
  });
});

describe('replacementCprIdentifier', () => {
  it('uses the X-eCPR system for C = 1/7', () => {
    assert.deepEqual(replacementCprIdentifier('0203291WQ3'), {
      use: 'temp',
      system: 'urn:oid:1.2.208.176.1.6.1.1',
      value: '0203291WQ3',
    });
  });

  it('uses the D-eCPR system, with the region child OID when given', () => {
    assert.deepEqual(replacementCprIdentifier('280456-0PJ2'), {
      use: 'temp',
      system: 'urn:oid:1.2.208.176.1.6.1.3',
      value: '2804560PJ2',
    });
    assert.equal(
      replacementCprIdentifier('1206550VK9', { region: 'syddanmark' }).system,
      'urn:oid:1.2.208.176.1.6.1.3.183',
    );
  });

  it('refuses a region for an X-eCPR and a non-replacement value', () => {
    assert.throws(() => replacementCprIdentifier('0203291WQ3', { region: 'syddanmark' }), RangeError);
    assert.throws(() => replacementCprIdentifier('0201919990'), RangeError);
  });
});

describe('identifier systems', () => {
  it('maps systems back to kinds', () => {
    assert.equal(personIdentifierKindOfSystem('urn:oid:1.2.208.176.1.2'), 'cpr');
    assert.equal(personIdentifierKindOfSystem('urn:oid:1.2.208.176.1.6.1.1'), 'x-ecpr');
    assert.equal(personIdentifierKindOfSystem(dEcprSystem()), 'd-ecpr');
    assert.equal(personIdentifierKindOfSystem(dEcprSystem('syddanmark')), 'd-ecpr');
    assert.equal(personIdentifierKindOfSystem('urn:oid:1.2.208.176.1.6.1.3.999'), undefined);
    assert.equal(personIdentifierKindOfSystem('urn:oid:1.2.208.176.1.1'), undefined);
  });
});
