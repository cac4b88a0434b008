import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CodeSystemJson, ValueSetJson } from './definitions.ts';
import { createValueSetExpander } from './value-set-expander.ts';

const SYSTEM = 'http://example.org/cs/status';

const codeSystems: CodeSystemJson[] = [
  {
    resourceType: 'CodeSystem',
    url: SYSTEM,
    content: 'complete',
    concept: [
      { code: 'open', concept: [{ code: 'open-waiting', concept: [{ code: 'open-waiting-long' }] }] },
      { code: 'closed' },
    ],
  },
  { resourceType: 'CodeSystem', url: 'http://example.org/cs/fragment', content: 'fragment', concept: [{ code: 'a' }] },
];

const vs = (url: string, compose: ValueSetJson['compose']): ValueSetJson => ({
  resourceType: 'ValueSet',
  url,
  compose,
});

const valueSets: ValueSetJson[] = [
  vs('http://example.org/vs/whole', { include: [{ system: SYSTEM }] }),
  vs('http://example.org/vs/listed', {
    include: [{ system: 'http://example.org/other', concept: [{ code: 'x' }, { code: 'y' }] }],
  }),
  vs('http://example.org/vs/excluding', {
    include: [{ system: SYSTEM }],
    exclude: [{ system: SYSTEM, concept: [{ code: 'closed' }] }],
  }),
  vs('http://example.org/vs/nested', { include: [{ valueSet: ['http://example.org/vs/listed|1.0'] }] }),
  vs('http://example.org/vs/filtered', {
    include: [{ system: SYSTEM, filter: [{ property: 'concept', op: 'is-a', value: 'open' }] }],
  }),
  vs('http://example.org/vs/external', { include: [{ system: 'http://snomed.info/sct' }] }),
  vs('http://example.org/vs/fragment', { include: [{ system: 'http://example.org/cs/fragment' }] }),
  vs('http://example.org/vs/cycle-a', { include: [{ valueSet: ['http://example.org/vs/cycle-b'] }] }),
  vs('http://example.org/vs/cycle-b', { include: [{ valueSet: ['http://example.org/vs/cycle-a'] }] }),
  {
    resourceType: 'ValueSet',
    url: 'http://example.org/vs/expanded',
    expansion: { contains: [{ system: SYSTEM, code: 'open', contains: [{ system: SYSTEM, code: 'closed' }] }] },
  },
];

const expander = createValueSetExpander(valueSets, codeSystems);

function codes(url: string): string[] | null {
  const expansion = expander.expand(url);
  return expansion === null ? null : [...expansion.codes].sort();
}

describe('createValueSetExpander', () => {
  test('a whole code system, with nested concepts, ignoring a |version suffix', () => {
    assert.deepEqual(codes('http://example.org/vs/whole|4.0.1'), [
      'closed',
      'open',
      'open-waiting',
      'open-waiting-long',
    ]);
    assert.equal(expander.expand('http://example.org/vs/whole')?.bySystem.get(SYSTEM)?.has('open-waiting-long'), true);
  });

  test('concept lists, exclusions, included value sets and stored expansions', () => {
    assert.deepEqual(codes('http://example.org/vs/listed'), ['x', 'y']);
    assert.deepEqual(codes('http://example.org/vs/excluding'), ['open', 'open-waiting', 'open-waiting-long']);
    assert.deepEqual(codes('http://example.org/vs/nested'), ['x', 'y']);
    assert.deepEqual(codes('http://example.org/vs/expanded'), ['closed', 'open']);
  });

  test('what cannot be expanded exactly yields null (the binding is then skipped)', () => {
    for (const name of ['filtered', 'external', 'fragment', 'cycle-a', 'missing']) {
      assert.equal(expander.expand(`http://example.org/vs/${name}`), null, name);
    }
  });
});
