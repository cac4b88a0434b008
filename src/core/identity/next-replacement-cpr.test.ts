import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPersonIdentifier } from './classify-person-identifier.ts';
import {
  type NextReplacementCprOptions,
  nextReplacementCpr,
  replacementCprCandidates,
} from './next-replacement-cpr.ts';
import { parseReplacementCpr } from './replacement-cpr.ts';

const none = () => false;

function issue(options: NextReplacementCprOptions): string {
  const result = nextReplacementCpr(options);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  return result.value;
}

describe('nextReplacementCpr', () => {
  it('builds from the real birth date and sex when known', () => {
    const result = nextReplacementCpr({
      kind: 'd-ecpr',
      birthDate: '1955-06-12',
      sex: 'male',
      createdOn: '2024-03-05',
      taken: none,
    });
    assert.deepEqual(result, { ok: true, value: '1206550AA1', dateBasis: 'birth-date' });
    assert.equal(
      issue({ kind: 'd-ecpr', birthDate: '1955-06-12', sex: 'female', createdOn: '2024-03-05', taken: none }),
      '1206550AA0',
    );
  });

  it('uses the creation date when the birth date is unknown (century 6 for the 2000s)', () => {
    assert.deepEqual(nextReplacementCpr({ kind: 'd-ecpr', createdOn: '2024-03-05', taken: none }), {
      ok: true,
      value: '0503246AA0',
      dateBasis: 'creation-date',
    });
  });

  it('uses century 5 for births before 1900', () => {
    assert.equal(
      issue({ kind: 'd-ecpr', birthDate: '1899-12-31', sex: 'female', createdOn: '2024-03-05', taken: none }),
      '3112995AA0',
    );
  });

  it('skips taken candidates deterministically', () => {
    const taken = new Set(['1206550AA1', '1206550AA3']);
    const options = { kind: 'd-ecpr', birthDate: '1955-06-12', sex: 'male', createdOn: '2024-03-05' } as const;
    assert.equal(issue({ ...options, taken: (c) => taken.has(c) }), '1206550AA5');
    assert.equal(issue({ ...options, taken: (c) => c.slice(7, 9) === 'AA' }), '1206550AB1');
  });

  it('issues unique, valid D-eCPRs under growing collisions', () => {
    const issued = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const value = issue({
        kind: 'd-ecpr',
        birthDate: '2001-02-28',
        sex: 'female',
        createdOn: '2024-03-05',
        taken: (c) => issued.has(c),
      });
      assert.ok(!issued.has(value));
      issued.add(value);
      const parsed = parseReplacementCpr(value);
      assert.ok(parsed.ok && parsed.kind === 'd-ecpr');
      assert.equal(parsed.birthOrCreationDate, '2001-02-28');
      assert.equal(parsed.sexHint, 'female');
      assert.equal(classifyPersonIdentifier(value).kind, 'd-ecpr'); // never mistaken for a CPR
    }
    assert.equal(issued.size, 500);
  });

  it('reports exhaustion after trying all 676 × 5 candidates', () => {
    let calls = 0;
    const result = nextReplacementCpr({
      kind: 'd-ecpr',
      birthDate: '1955-06-12',
      sex: 'male',
      createdOn: '2024-03-05',
      taken: () => {
        calls++;
        return true;
      },
    });
    assert.ok(!result.ok);
    assert.equal(result.code, 'exhausted');
    assert.equal(calls, 676 * 5);
  });

  it('refuses bad options with a reason', () => {
    const code = (options: NextReplacementCprOptions) => {
      const result = nextReplacementCpr(options);
      return result.ok ? 'ok' : result.code;
    };
    assert.equal(code({ kind: 'd-ecpr', createdOn: '2024-02-30', taken: none }), 'bad-option');
    assert.equal(code({ kind: 'd-ecpr', birthDate: '1955', createdOn: '2024-03-05', taken: none }), 'bad-option');
    assert.equal(code({ kind: 'd-ecpr', birthDate: '2024-03-06', createdOn: '2024-03-05', taken: none }), 'bad-option');
    assert.equal(
      code({ kind: 'd-ecpr', birthDate: '1799-12-31', createdOn: '2024-03-05', taken: none }),
      'year-out-of-range',
    );
  });
});

describe('replacementCprCandidates', () => {
  it('offers all ten digits per letter pair when sex is unknown', () => {
    const plan = replacementCprCandidates({ kind: 'd-ecpr', createdOn: '2024-03-05' });
    assert.ok(plan.ok);
    const all = [...plan.candidates];
    assert.equal(all.length, 6760);
    assert.equal(new Set(all).size, 6760);
    assert.deepEqual(all.slice(9, 11), ['0503246AA9', '0503246AB0']);
    assert.equal(all.at(-1), '0503246ZZ9');
  });
});
