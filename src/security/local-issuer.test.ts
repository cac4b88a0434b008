import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { calculateJwkThumbprint, decodeProtectedHeader } from 'jose';
import { isWithin, ROLES } from '../core/security/roles.ts';
import { DEMO_ORGANISATIONS, demoParentOf, demoUsers } from './demo-users.ts';
import { type IssuedToken, type IssueRefusal, type LocalIssuer, openLocalIssuer } from './local-issuer.ts';
import { createTokenVerifier, type TokenVerifier } from './token-verifier.ts';

const ISSUER = 'http://localhost:8080';
const AUDIENCE = 'http://localhost:8080/fhir';
const NOW = new Date('2030-01-01T00:00:00Z');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'dxhub-issuer-'));
});
after(() => rm(root, { recursive: true, force: true }));

async function open(dir: string): Promise<LocalIssuer> {
  return openLocalIssuer({ keyDir: dir, issuer: ISSUER, audience: AUDIENCE, now: () => NOW });
}

function verifierFor(issuer: LocalIssuer, at: Date = NOW): TokenVerifier {
  return createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { kind: 'local', jwks: () => issuer.jwks() },
    now: () => at,
  });
}

function issued(r: IssuedToken | IssueRefusal): IssuedToken {
  assert.ok(r.ok, r.ok ? '' : `${r.error}: ${r.message}`);
  return r;
}

const clinician = { user: 'demo-clinician', role: 'clinician', org: 'demo-ouh-med' } as const;

describe('local issuer: keys on disk', () => {
  test('first use creates a 0600 ES256 key with an RFC 7638 kid; later starts load it', async () => {
    const dir = join(root, 'first', 'keys');
    const issuer = await open(dir);
    const files = await readdir(dir);
    assert.equal(files.length, 1);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, files[0]!))).mode & 0o777, 0o600);
    const kid = issuer.keys.active().kid;
    assert.ok(files[0]!.startsWith(kid));
    const [published] = issuer.jwks().keys;
    assert.equal(published?.kid, kid);
    assert.equal(published?.alg, 'ES256');
    assert.equal(published?.d, undefined, 'the JWKS holds no private part');
    const { kty, crv, x, y } = published!;
    assert.equal(await calculateJwkThumbprint({ kty, crv, x, y }), kid);
    assert.match(await readFile(join(dir, files[0]!), 'utf8'), /"d":/);

    const again = await open(dir);
    assert.equal(again.keys.active().kid, kid);
    assert.equal((await readdir(dir)).length, 1);
  });

  test('key files readable by others are refused', async () => {
    const dir = join(root, 'loose');
    const issuer = await open(dir);
    await chmod(join(dir, (await readdir(dir))[0]!), 0o644);
    await assert.rejects(open(dir), /chmod 600/);
    assert.ok(issuer.keys.active());
  });

  test('rotation: new key signs, old tokens verify while published, not after removal', async () => {
    const dir = join(root, 'rotate');
    const issuer = await open(dir);
    const verifier = verifierFor(issuer);
    const oldKid = issuer.keys.active().kid;
    const oldToken = issued(await issuer.issueToken(clinician)).accessToken;

    const newKid = await issuer.rotate();
    assert.notEqual(newKid, oldKid);
    assert.deepEqual(
      issuer.jwks().keys.map((k) => k.kid),
      [newKid, oldKid],
    );
    const newToken = issued(await issuer.issueToken(clinician)).accessToken;
    assert.equal(decodeProtectedHeader(newToken).kid, newKid);
    assert.ok((await verifier.verify(oldToken)).ok, 'old key still in the JWKS');
    assert.ok((await verifier.verify(newToken)).ok);

    assert.equal((await open(dir)).keys.active().kid, newKid, 'the newest key stays active after a restart');
    await assert.rejects(issuer.removeKey(newKid), /active/);
    await issuer.removeKey(oldKid);
    assert.deepEqual(
      issuer.jwks().keys.map((k) => k.kid),
      [newKid],
    );
    const r = await verifier.verify(oldToken);
    assert.ok(!r.ok && r.reason === 'bad-signature');
    assert.ok((await verifier.verify(newToken)).ok);
    assert.equal((await readdir(dir)).length, 1);
    assert.equal((await open(dir)).jwks().keys.length, 1);
  });
});

describe('local issuer: tokens', () => {
  let issuer: LocalIssuer;
  before(async () => {
    issuer = await open(join(root, 'tokens'));
  });

  test('a token carries the documented claims and verifies into a principal', async () => {
    const t = issued(
      await issuer.issueToken({ ...clinician, fhirUser: 'Practitioner/demo-clinician', clientId: 'cli' }),
    );
    assert.equal(t.tokenType, 'Bearer');
    assert.equal(t.expiresIn, 3600);
    assert.equal(t.scope, ROLES.clinician.defaultScopes.join(' '));
    assert.deepEqual(decodeProtectedHeader(t.accessToken), {
      alg: 'ES256',
      kid: issuer.keys.active().kid,
      typ: 'at+jwt',
    });
    const r = await verifierFor(issuer).verify(t.accessToken);
    assert.ok(r.ok, r.ok ? '' : `${r.reason} ${r.detail}`);
    assert.equal(r.principal.subject, 'demo-clinician');
    assert.equal(r.principal.role, ROLES.clinician);
    assert.equal(r.principal.organisation, 'demo-ouh-med');
    assert.equal(r.principal.fhirUser, 'Practitioner/demo-clinician');
    assert.equal(r.principal.clientId, 'cli');
    assert.equal(r.principal.tokenId, t.tokenId);
    assert.equal(r.principal.expiresAt.getTime(), NOW.getTime() + 3600_000);
  });

  test('requested scopes are narrowed to the role (RFC 6749 §3.3)', async () => {
    const t = issued(await issuer.issueToken({ ...clinician, scope: 'openid user/*.cruds' }));
    assert.deepEqual(t.scope.split(' ').sort(), ROLES.clinician.defaultScopes.filter((s) => s !== 'fhirUser').sort());
    const narrow = issued(await issuer.issueToken({ ...clinician, scope: ['user/Observation.read'] }));
    assert.equal(narrow.scope, 'user/Observation.rs');
  });

  test('refusals', async () => {
    const cases: [Parameters<LocalIssuer['issueToken']>[0], string, RegExp][] = [
      [{ ...clinician, scope: 'user/Observation.sr' }, 'invalid_scope', /user\/Observation\.sr/],
      [{ user: 'a', role: 'admin', org: 'demo-rsd', scope: 'user/Observation.rs' }, 'invalid_scope', /admin/],
      [{ user: 'a', role: 'clinician' }, 'invalid_request', /org/],
      [{ user: 'a', role: 'citizen' }, 'invalid_request', /patient/],
      [{ ...clinician, ttlSeconds: 0 }, 'invalid_request', /ttl/],
      [{ ...clinician, ttlSeconds: 86_401 }, 'invalid_request', /ttl/],
      [{ ...clinician, role: 'root' as 'admin' }, 'invalid_request', /root/],
    ];
    for (const [request, error, message] of cases) {
      const r = await issuer.issueToken(request);
      assert.ok(!r.ok, JSON.stringify(request));
      assert.equal(r.error, error);
      assert.match(r.message, message);
    }
  });

  test('tokens expire after their ttl (clock skew included)', async () => {
    const t = issued(await issuer.issueToken({ ...clinician, ttlSeconds: 60 }));
    assert.ok((await verifierFor(issuer, new Date(NOW.getTime() + 119_000)).verify(t.accessToken)).ok);
    const r = await verifierFor(issuer, new Date(NOW.getTime() + 120_000)).verify(t.accessToken);
    assert.ok(!r.ok && r.reason === 'expired');
  });

  test('one demo user per role, each in the synthetic SOR tree, each token verifying', async () => {
    const users = demoUsers();
    assert.deepEqual(users.map((u) => u.role).sort(), Object.keys(ROLES).sort());
    const codes = new Set(DEMO_ORGANISATIONS.map((o) => o.code));
    for (const u of users) {
      if (u.role === 'citizen') assert.equal(u.org, undefined);
      else {
        assert.ok(u.org && codes.has(u.org), u.id);
        assert.ok(isWithin(u.org, 'demo-rsd', demoParentOf), u.id);
      }
      const t = issued(await issuer.issueToken({ user: u.id, ...u }));
      const r = await verifierFor(issuer).verify(t.accessToken);
      assert.ok(r.ok, `${u.id}: ${r.ok ? '' : r.detail}`);
      assert.equal(r.principal.role.kind, u.role);
      assert.equal(r.principal.patient, u.patient);
      assert.equal(r.principal.fhirUser, u.fhirUser);
    }
    assert.ok(isWithin('demo-ouh-kba-akut', 'demo-ouh', demoParentOf));
    assert.ok(!isWithin('demo-ouh-kba-akut', 'demo-sve', demoParentOf));
    for (const o of DEMO_ORGANISATIONS) assert.ok(o.parent === undefined || codes.has(o.parent), o.code);
  });
});

describe('local issuer: discovery documents', () => {
  test('openid-configuration and smart-configuration advertise only what exists', async () => {
    const dir = join(root, 'docs');
    const plain = await open(dir);
    const oidc = plain.openidConfiguration();
    assert.equal(oidc.issuer, ISSUER);
    assert.equal(oidc.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
    assert.equal(oidc.token_endpoint, undefined);
    const smart = plain.smartConfiguration();
    assert.deepEqual(smart.capabilities, ['permission-v1', 'permission-v2', 'permission-patient', 'permission-user']);
    assert.deepEqual(smart.grant_types_supported, []);
    assert.ok((smart.scopes_supported as string[]).includes('patient/Observation.rs'));
    assert.ok((smart.scopes_supported as string[]).includes('openid'));

    const full = await openLocalIssuer({
      keyDir: dir,
      issuer: ISSUER,
      audience: AUDIENCE,
      tokenEndpoint: `${ISSUER}/auth/token`,
      authorizationEndpoint: `${ISSUER}/auth/authorize`,
    });
    const doc = full.smartConfiguration();
    assert.equal(doc.token_endpoint, `${ISSUER}/auth/token`);
    assert.equal(doc.authorization_endpoint, `${ISSUER}/auth/authorize`);
    assert.deepEqual(doc.grant_types_supported, ['authorization_code', 'client_credentials']);
    for (const c of ['permission-v2', 'client-confidential-asymmetric', 'launch-standalone']) {
      assert.ok((doc.capabilities as string[]).includes(c), c);
    }
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
  });
});
