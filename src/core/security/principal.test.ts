import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authChallenge, authFailure } from './auth-failure.ts';
import { principalFromClaims } from './principal.ts';
import { ROLES } from './roles.ts';
import { formatScopes } from './smart-scopes.ts';

const base = {
  iss: 'https://idp.example',
  sub: 'u1',
  jti: 't1',
  exp: 1_900_000_000,
  role: 'clinician',
  org: 'demo-ouh-med',
  scope: 'openid user/Observation.rs',
};

test('claims become a principal', () => {
  const r = principalFromClaims({ ...base, fhirUser: 'Practitioner/u1', client_id: 'app' });
  assert.ok(r.ok);
  assert.equal(r.principal.role, ROLES.clinician);
  assert.equal(r.principal.organisation, 'demo-ouh-med');
  assert.equal(formatScopes(r.principal.scopes), 'openid user/Observation.rs');
  assert.equal(r.principal.fhirUser, 'Practitioner/u1');
  assert.equal(r.principal.clientId, 'app');
  assert.equal(r.principal.tokenId, 't1');
  assert.equal(r.principal.expiresAt.toISOString(), '2030-03-17T17:46:40.000Z');
  assert.equal(r.principal.patient, undefined);
  const none = principalFromClaims({ ...base, scope: undefined });
  assert.ok(none.ok);
  assert.deepEqual(none.principal.scopes, []);
});

test('refusals carry the catalogue reason, and the detail names the problem', () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...base, role: undefined }, 'unknown-role', /absent/],
    [{ ...base, role: 'superuser' }, 'unknown-role', /superuser/],
    [{ ...base, scope: 'user/Observation.cruds' }, 'scope-exceeds-role', /user\/Observation\.cruds/],
    [{ ...base, scope: 'user/Observation.sr' }, 'malformed', /user\/Observation\.sr/],
    [{ ...base, scope: ['user/Observation.rs'] }, 'malformed', /space-separated/],
    [{ ...base, org: undefined }, 'malformed', /org/],
    [{ ...base, org: '' }, 'malformed', /org/],
    [{ ...base, sub: '' }, 'malformed', /sub/],
    [{ ...base, jti: undefined }, 'malformed', /jti/],
    [{ ...base, role: 'citizen', org: undefined, scope: 'patient/Observation.rs' }, 'malformed', /patient/],
  ];
  for (const [claims, reason, detail] of cases) {
    const r = principalFromClaims(claims);
    assert.ok(!r.ok, JSON.stringify(claims));
    assert.equal(r.reason, reason, JSON.stringify(claims));
    assert.match(r.detail ?? '', detail);
    assert.ok(!r.message.includes(String(claims.scope)), 'client message comes from the catalogue');
  }
});

test('citizens need no org but a patient; unknown scopes can be ignored', () => {
  const citizen = principalFromClaims({
    ...base,
    role: 'citizen',
    org: undefined,
    patient: 'p1',
    scope: 'launch/patient patient/Observation.rs',
  });
  assert.ok(citizen.ok);
  assert.equal(citizen.principal.patient, 'p1');
  assert.equal(citizen.principal.organisation, undefined);
  assert.ok(!principalFromClaims({ ...base, scope: 'openid email' }).ok);
  assert.ok(principalFromClaims({ ...base, scope: 'openid email' }, { unknownScopes: 'ignore' }).ok);
});

test('authChallenge answers per RFC 6750 §3', () => {
  assert.deepEqual(authChallenge(authFailure('missing')), { status: 401, wwwAuthenticate: 'Bearer realm="dxhub"' });
  assert.deepEqual(authChallenge(authFailure('expired', 'exp 123')), {
    status: 401,
    wwwAuthenticate: 'Bearer realm="dxhub", error="invalid_token", error_description="the token has expired"',
  });
  assert.deepEqual(authChallenge(authFailure('keys-unavailable', 'ECONNREFUSED')), { status: 503 });
});
