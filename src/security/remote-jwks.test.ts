import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { createTokenVerifier, type TokenVerifierOptions } from './token-verifier.ts';

/**
 * An external OpenID provider on 127.0.0.1 (port 0): discovery document + JWKS, with keys the test
 * adds and removes to rotate on the server side.
 */
let server: Server;
let issuer: string;
let published: JWK[] = [];
let discoveryIssuer: string | undefined;
let jwksRequests = 0;
const AUDIENCE = 'https://dxhub.example/fhir';

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;
const keys = new Map<string, Pair>();

async function addKey(kid: string): Promise<void> {
  const pair = await generateKeyPair('ES256');
  keys.set(kid, pair);
  published = [...published, { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }];
}

function removeKey(kid: string): void {
  published = published.filter((k) => k.kid !== kid);
}

async function token(kid: string, over: Record<string, unknown> = {}, signer = keys.get(kid)!): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer,
    sub: 'lims',
    aud: AUDIENCE,
    iat: now,
    exp: now + 300,
    jti: `jti-${kid}`,
    role: 'integration',
    org: 'demo-ouh-kba',
    scope: 'system/Observation.crus',
    ...over,
  };
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(signer.privateKey);
}

const remote = (over: Partial<TokenVerifierOptions> = {}) =>
  createTokenVerifier({ issuer, audience: AUDIENCE, keys: { kind: 'remote', cooldownMs: 0 }, ...over });

const reason = async (v: ReturnType<typeof remote>, t: string) => {
  const r = await v.verify(t);
  return r.ok ? 'ok' : r.reason;
};

before(async () => {
  server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/realm/.well-known/openid-configuration') {
      json(200, { issuer: discoveryIssuer ?? issuer, jwks_uri: `${issuer}/keys.json` });
    } else if (req.url === '/realm/keys.json') {
      jwksRequests++;
      json(200, { keys: published });
    } else json(404, {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realm`;
  await addKey('k1');
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('remote JWKS via OpenID discovery', () => {
  test('discovers jwks_uri, verifies, and caches the key set', async () => {
    const v = remote();
    const before = jwksRequests;
    const r = await v.verify(await token('k1'));
    assert.ok(r.ok, r.ok ? '' : `${r.reason} ${r.detail}`);
    assert.equal(r.principal.role.kind, 'integration');
    assert.equal(await reason(v, await token('k1')), 'ok');
    assert.equal(jwksRequests - before, 1, 'the second token is verified from the cache');
  });

  test('server-side rotation: a new kid is fetched on sight; a removed key stops verifying', async () => {
    // cacheMaxAgeMs 0: every verification refetches, so removal is seen at once (default: 10 min).
    const v = remote({ keys: { kind: 'remote', cooldownMs: 0, cacheMaxAgeMs: 0 } });
    const old = await token('k1');
    assert.equal(await reason(v, old), 'ok');
    await addKey('k2');
    const fresh = await token('k2');
    assert.equal(await reason(v, fresh), 'ok', 'new key picked up');
    assert.equal(await reason(v, old), 'ok', 'old key still published');
    removeKey('k1');
    assert.equal(await reason(v, old), 'bad-signature', 'old key removed');
    assert.equal(await reason(v, fresh), 'ok');
    // Restore for the other tests.
    removeKey('k2');
    await addKey('k1');
  });

  test('with the default cache, an unknown kid triggers one refetch (jose cooldown)', async () => {
    const v = remote();
    assert.equal(await reason(v, await token('k1')), 'ok');
    await addKey('k3');
    const before = jwksRequests;
    assert.equal(await reason(v, await token('k3')), 'ok');
    assert.equal(jwksRequests - before, 1);
    removeKey('k3');
  });

  test('a forged kid or a foreign key is a bad signature, not an outage', async () => {
    const v = remote();
    const attacker = await generateKeyPair('ES256');
    const before = jwksRequests;
    assert.equal(await reason(v, await token('k1', {}, attacker)), 'bad-signature', 'same kid');
    assert.equal(await reason(v, await token('k-evil', {}, attacker)), 'bad-signature', 'unknown kid');
    assert.ok(jwksRequests - before <= 2, 'an unknown kid costs at most one refetch');
  });

  test('discovery naming another issuer, an unreachable issuer, or plain http off loopback: keys-unavailable', async () => {
    discoveryIssuer = 'https://evil.example';
    try {
      const r = await remote().verify(await token('k1'));
      assert.ok(!r.ok && r.reason === 'keys-unavailable');
      assert.match(r.detail ?? '', /evil\.example/);
    } finally {
      discoveryIssuer = undefined;
    }
    // A later request retries discovery instead of caching the failure.
    const v = remote();
    discoveryIssuer = 'https://evil.example';
    assert.equal(await reason(v, await token('k1')), 'keys-unavailable');
    discoveryIssuer = undefined;
    assert.equal(await reason(v, await token('k1')), 'ok');

    const closed = createTokenVerifier({
      issuer: 'http://127.0.0.1:1/none',
      audience: AUDIENCE,
      keys: { kind: 'remote', timeoutMs: 2000 },
    });
    assert.equal(await reason(closed, await token('k1', { iss: 'http://127.0.0.1:1/none' })), 'keys-unavailable');
    const insecure = createTokenVerifier({
      issuer: 'http://idp.example',
      audience: AUDIENCE,
      keys: { kind: 'remote', jwksUri: 'http://idp.example/jwks' },
    });
    const r = await insecure.verify(await token('k1', { iss: 'http://idp.example' }));
    assert.ok(!r.ok && r.reason === 'keys-unavailable');
    assert.match(r.detail ?? '', /https/);
  });
});
