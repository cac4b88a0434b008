import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FHIR_INTERACTIONS, type FhirInteraction, type ScopePermission } from './fhir-interaction.ts';
import {
  type AccessRequest,
  decide,
  formatScope,
  formatScopes,
  parseScope,
  parseScopes,
  permits,
  type Scope,
} from './smart-scopes.ts';

function scopes(text: string): readonly Scope[] {
  const r = parseScopes(text);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.scopes;
}

describe('parseScope: SMART v2 resource scopes', () => {
  test('context, type, permissions in cruds order', () => {
    const r = parseScope('patient/Observation.rs');
    assert.ok(r.ok);
    assert.deepEqual(r.scope, {
      kind: 'resource',
      context: 'patient',
      resourceType: 'Observation',
      permissions: ['r', 's'],
      restrictions: [],
      text: 'patient/Observation.rs',
    });
    assert.deepEqual(scopes('user/*.cruds system/*.rs').map(formatScope), ['user/*.cruds', 'system/*.rs']);
  });

  test('v1 scopes translate to their v2 equivalents ("Scope equivalence with SMART v1")', () => {
    for (const [v1, v2] of [
      ['patient/*.read', 'patient/*.rs'],
      ['user/Observation.write', 'user/Observation.cud'],
      ['user/Patient.*', 'user/Patient.cruds'],
      ['system/DiagnosticReport.read', 'system/DiagnosticReport.rs'],
    ] as const) {
      const r = parseScope(v1);
      assert.ok(r.ok, v1);
      assert.equal(formatScope(r.scope), v2);
      assert.equal(r.scope.text, v1, 'the original text is kept');
    }
  });

  test('search restrictions are kept and round-trip', () => {
    const text =
      'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    const r = parseScope(text);
    assert.ok(r.ok && r.scope.kind === 'resource');
    assert.deepEqual(r.scope.restrictions, [
      { name: 'category', value: 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory' },
    ]);
    assert.equal(formatScope(r.scope), text);
    const two = parseScope('user/Observation.rs?category=laboratory&status=final%26amended');
    assert.ok(two.ok && two.scope.kind === 'resource');
    assert.deepEqual(two.scope.restrictions.at(1), { name: 'status', value: 'final&amended' });
    assert.equal(formatScope(two.scope), 'user/Observation.rs?category=laboratory&status=final%26amended');
  });

  test('launch, identity and refresh scopes are recognised and grant nothing', () => {
    const list = scopes('launch launch/patient launch/encounter openid fhirUser profile offline_access online_access');
    assert.equal(list.length, 8);
    assert.ok(list.every((s) => s.kind === 'non-resource'));
    for (const interaction of FHIR_INTERACTIONS) {
      assert.equal(permits(list, { context: 'user', resourceType: '*', interaction }), false);
    }
  });

  test('errors name the bad scope', () => {
    const cases: [string, string][] = [
      ['', 'empty'],
      ['email', 'unknown-scope'],
      ['user/Observation', 'unknown-scope'],
      ['user/Observation.', 'unknown-scope'],
      ['doctor/Observation.rs', 'bad-context'],
      ['user/observation.rs', 'bad-resource-type'],
      ['user/Observation.sr', 'bad-permissions'],
      ['user/Observation.rr', 'bad-permissions'],
      ['user/Observation.x', 'bad-permissions'],
      ['user/Observation.readwrite', 'bad-permissions'],
      ['user/Observation.toString', 'bad-permissions'],
      ['user/Observation.constructor', 'bad-permissions'],
      ['patient/*.read?category=laboratory', 'bad-permissions'],
      ['user/Observation.rs?category', 'bad-restriction'],
      ['user/Observation.rs?=x', 'bad-restriction'],
      ['user/Observation.rs?category=%E0', 'bad-restriction'],
    ];
    for (const [text, code] of cases) {
      const r = parseScope(text);
      assert.ok(!r.ok, text);
      assert.equal(r.code, code, text);
      assert.equal(r.scope, text);
      assert.match(r.reason, new RegExp(`in '${text.replace(/[.*?|]/g, '\\$&')}'`));
    }
  });

  test('parseScopes: space-separated, first bad scope reported, unknown scopes optionally ignored', () => {
    assert.equal(formatScopes(scopes('  openid   user/Observation.rs ')), 'openid user/Observation.rs');
    const bad = parseScopes('openid user/Observation.rs email user/Observation.sr');
    assert.ok(!bad.ok);
    assert.equal(bad.scope, 'email');
    const lenient = parseScopes('openid email user/Observation.rs', { unknown: 'ignore' });
    assert.ok(lenient.ok);
    assert.equal(formatScopes(lenient.scopes), 'openid user/Observation.rs');
    const stillStrict = parseScopes('email user/Observation.sr', { unknown: 'ignore' });
    assert.ok(!stillStrict.ok);
    assert.equal(stillStrict.code, 'bad-permissions');
  });
});

describe('permits: interaction → permission (SMART v2 "Scopes for requesting FHIR Resources")', () => {
  // The spec's table, written out independently of permissionFor.
  const NEEDS: Readonly<Record<FhirInteraction, ScopePermission>> = {
    create: 'c',
    read: 'r',
    vread: 'r',
    'history-instance': 'r',
    update: 'u',
    patch: 'u',
    delete: 'd',
    'search-type': 's',
    'history-type': 's',
    'search-system': 's',
    'history-system': 's',
  };
  const LETTERS: readonly ScopePermission[] = ['c', 'r', 'u', 'd', 's'];

  for (const interaction of FHIR_INTERACTIONS) {
    test(`${interaction} needs '${NEEDS[interaction]}'`, () => {
      const type = interaction.endsWith('-system') ? '*' : 'Observation';
      for (const letter of LETTERS) {
        const granted = scopes(`user/${type}.${letter}`);
        const req: AccessRequest = { context: 'user', resourceType: type, interaction };
        assert.equal(permits(granted, req), letter === NEEDS[interaction], `user/${type}.${letter}`);
      }
      assert.equal(permits(scopes(`user/${type}.cruds`), { context: 'user', resourceType: type, interaction }), true);
    });
  }

  test('context must match; wildcard covers every type; other types never', () => {
    const granted = scopes('patient/Observation.rs user/*.r');
    assert.equal(
      permits(granted, { context: 'patient', resourceType: 'Observation', interaction: 'search-type' }),
      true,
    );
    assert.equal(permits(granted, { context: 'system', resourceType: 'Observation', interaction: 'read' }), false);
    assert.equal(permits(granted, { context: 'patient', resourceType: 'Patient', interaction: 'read' }), false);
    assert.equal(permits(granted, { context: 'user', resourceType: 'Patient', interaction: 'read' }), true);
    assert.equal(permits(granted, { context: 'user', resourceType: 'Patient', interaction: 'search-type' }), false);
  });

  test('system-level interactions need a wildcard scope', () => {
    const req = { context: 'system', resourceType: '*', interaction: 'search-system' } as const;
    assert.equal(permits(scopes('system/Observation.s'), req), false);
    assert.equal(permits(scopes('system/*.s'), req), true);
  });

  test('v1 scopes grant what their v2 equivalents grant', () => {
    const read = scopes('patient/*.read');
    assert.equal(permits(read, { context: 'patient', resourceType: 'Observation', interaction: 'search-type' }), true);
    assert.equal(permits(read, { context: 'patient', resourceType: 'Observation', interaction: 'create' }), false);
    const write = scopes('user/Observation.write');
    assert.equal(permits(write, { context: 'user', resourceType: 'Observation', interaction: 'patch' }), true);
    assert.equal(permits(write, { context: 'user', resourceType: 'Observation', interaction: 'read' }), false);
  });

  test('restricted scopes only allow with filters, and never through permits', () => {
    const req = { context: 'patient', resourceType: 'Observation', interaction: 'search-type' } as const;
    const restricted = scopes('patient/Observation.rs?category=laboratory patient/Observation.s?category=vital-signs');
    assert.equal(permits(restricted, req), false);
    assert.deepEqual(decide(restricted, req), {
      kind: 'allow-filtered',
      anyOf: [[{ name: 'category', value: 'laboratory' }], [{ name: 'category', value: 'vital-signs' }]],
    });
    assert.deepEqual(decide(restricted, { ...req, interaction: 'create' }), { kind: 'deny' });
    const plus = [...restricted, ...scopes('patient/Observation.s')];
    assert.deepEqual(decide(plus, req), { kind: 'allow' });
  });
});
