import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { effectiveScopes, isWithin, ROLES, type RoleKind, roleOf, roleScopes, scopesBeyondRole } from './roles.ts';
import { formatScopes, parseScopes, type Scope } from './smart-scopes.ts';

const KINDS: readonly RoleKind[] = [
  'clinician',
  'lab-technologist',
  'lab-physician',
  'radiographer',
  'radiologist',
  'department-manager',
  'integration',
  'researcher',
  'admin',
  'citizen',
];

function scopes(text: string): readonly Scope[] {
  const r = parseScopes(text);
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.scopes;
}
const text = (list: readonly Scope[]) => formatScopes(list).split(' ').filter(Boolean).sort();

describe('role table', () => {
  test('every role is data: kind matches its key, scopes parse, objects are frozen', () => {
    assert.deepEqual(Object.keys(ROLES).sort(), [...KINDS].sort());
    for (const kind of KINDS) {
      const role = ROLES[kind];
      assert.equal(role.kind, kind);
      assert.ok(role.description.length > 10);
      assert.ok(parseScopes(role.defaultScopes).ok, kind);
      assert.ok(roleScopes(role).length > 0, kind);
      assert.ok(Object.isFrozen(role) && Object.isFrozen(role.defaultScopes));
    }
    assert.ok(Object.isFrozen(ROLES));
  });

  test('flags follow the access rules each role stands for', () => {
    const flagged = (flag: 'releasesResults' | 'aggregatesOnly' | 'pseudonymisedOnly' | 'ownDataOnly') =>
      KINDS.filter((k) => ROLES[k][flag]);
    assert.deepEqual(flagged('releasesResults'), ['lab-physician', 'radiologist', 'integration']);
    assert.deepEqual(flagged('aggregatesOnly'), ['department-manager']);
    assert.deepEqual(flagged('pseudonymisedOnly'), ['researcher']);
    assert.deepEqual(flagged('ownDataOnly'), ['citizen']);
    assert.deepEqual(
      KINDS.filter((k) => !ROLES[k].clinicalData),
      ['department-manager', 'admin'],
    );
    assert.ok(ROLES.clinician.treatmentRelationRequired);
    // Only citizens hold patient/ scopes, only integrations system/ scopes.
    for (const kind of KINDS) {
      const contexts = new Set(roleScopes(ROLES[kind]).map((s) => s.context));
      const expected = kind === 'citizen' ? 'patient' : kind === 'integration' ? 'system' : 'user';
      assert.equal(ROLES[kind].context, expected);
      assert.deepEqual([...contexts], [expected], kind);
    }
  });

  test('roleOf accepts only known role names', () => {
    assert.equal(roleOf('radiologist'), ROLES.radiologist);
    for (const bad of ['Radiologist', 'toString', '__proto__', 'hasOwnProperty', '', 42, undefined, null, ['admin']]) {
      assert.equal(roleOf(bad), undefined, String(bad));
    }
  });
});

describe('effectiveScopes: a token never grants more than its role', () => {
  test('a wildcard request narrows to the role list', () => {
    const got = effectiveScopes(ROLES.clinician, scopes('openid fhirUser user/*.cruds'));
    assert.deepEqual(text(got), [...ROLES.clinician.defaultScopes].sort());
  });

  test('a broad role and a narrow request give the request; permissions intersect', () => {
    assert.deepEqual(text(effectiveScopes(ROLES.clinician, scopes('user/Observation.cruds'))), ['user/Observation.rs']);
    assert.deepEqual(text(effectiveScopes(ROLES['lab-physician'], scopes('user/Observation.write'))), [
      'user/Observation.cu',
    ]);
  });

  test('nothing in common gives nothing; contexts never mix', () => {
    assert.deepEqual(effectiveScopes(ROLES.admin, scopes('user/Observation.rs')), []);
    assert.deepEqual(effectiveScopes(ROLES.clinician, scopes('patient/Observation.rs system/*.rs')), []);
    assert.deepEqual(effectiveScopes(ROLES['department-manager'], scopes('user/Observation.r')), []);
  });

  test('v1 request for a citizen', () => {
    assert.deepEqual(
      text(effectiveScopes(ROLES.citizen, scopes('launch/patient patient/*.read'))),
      [...ROLES.citizen.defaultScopes.filter((s) => s.startsWith('patient/') || s === 'launch/patient')].sort(),
    );
  });

  test('restrictions are kept (AND); duplicates and covered scopes are dropped', () => {
    assert.deepEqual(text(effectiveScopes(ROLES.clinician, scopes('user/Observation.rs?category=laboratory'))), [
      'user/Observation.rs?category=laboratory',
    ]);
    assert.deepEqual(
      text(effectiveScopes(ROLES.clinician, scopes('user/Observation.rs user/*.r user/Observation.r openid openid'))),
      [
        'openid',
        'user/DiagnosticReport.r',
        'user/ImagingStudy.r',
        'user/Observation.rs',
        'user/Organization.r',
        'user/Patient.r',
        'user/Practitioner.r',
        'user/Provenance.r',
        'user/ServiceRequest.r',
        'user/Specimen.r',
      ],
    );
  });

  test('the result is always within the role', () => {
    for (const kind of KINDS) {
      for (const asked of ['user/*.cruds', 'patient/*.cruds', 'system/*.cruds', 'user/Observation.rs?code=x']) {
        const got = effectiveScopes(ROLES[kind], scopes(asked));
        assert.deepEqual(scopesBeyondRole(ROLES[kind], got), [], `${kind} ${asked}`);
      }
    }
  });
});

describe('scopesBeyondRole', () => {
  test('lists each scope needing a permission, type, context or fewer restrictions than the role has', () => {
    const beyond = (kind: RoleKind, asked: string) => scopesBeyondRole(ROLES[kind], scopes(asked)).map((s) => s.text);
    assert.deepEqual(beyond('clinician', 'openid user/Observation.rs user/Patient.r'), []);
    assert.deepEqual(beyond('clinician', 'user/Observation.rs?category=laboratory'), []);
    assert.deepEqual(beyond('clinician', 'user/Observation.cruds'), ['user/Observation.cruds']);
    assert.deepEqual(beyond('clinician', 'user/*.r'), ['user/*.r']);
    assert.deepEqual(beyond('clinician', 'system/Observation.r'), ['system/Observation.r']);
    assert.deepEqual(beyond('citizen', 'patient/Observation.rs user/Observation.rs'), ['user/Observation.rs']);
    assert.deepEqual(beyond('admin', 'user/AuditEvent.read user/AuditEvent.write'), ['user/AuditEvent.write']);
  });
});

describe('isWithin: SOR hierarchy', () => {
  const parents: Record<string, string> = {
    dept: 'hosp',
    section: 'dept',
    hosp: 'region',
    loopA: 'loopB',
    loopB: 'loopA',
  };
  const parentOf = (c: string) => parents[c];
  test('self and every ancestor; not siblings, descendants or strangers', () => {
    assert.equal(isWithin('section', 'section', parentOf), true);
    assert.equal(isWithin('section', 'dept', parentOf), true);
    assert.equal(isWithin('section', 'region', parentOf), true);
    assert.equal(isWithin('region', 'section', parentOf), false);
    assert.equal(isWithin('section', 'other', parentOf), false);
    assert.equal(isWithin('unknown', 'region', parentOf), false);
  });
  test('a cycle in bad data ends the walk', () => {
    assert.equal(isWithin('loopA', 'region', parentOf), false);
    assert.equal(isWithin('loopA', 'loopB', parentOf), true);
  });
});
