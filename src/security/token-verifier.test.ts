import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from 'jose';
import { createTokenVerifier, type TokenVerifier } from './token-verifier.ts';

const ISSUER = 'https://idp.example';
const AUDIENCE = 'https://dxhub.example/fhir';
const NOW = new Date('2030-01-01T00:00:00Z');
const T = NOW.getTime() / 1000;

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;
let es: Pair;
let rs: Pair;
let es2: Pair;
let attacker: Pair;
let attackerRsa: Pair;
let esPublic: JWK;
let jwks: JSONWebKeySet;
let verifier: TokenVerifier;

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => {
  const c: Record<string, unknown> = {
    iss: ISSUER,
    sub: 'demo-clinician',
    aud: AUDIENCE,
    iat: T - 10,
    exp: T + 300,
    jti: 'token-1',
    role: 'clinician',
    org: 'demo-ouh-med',
    scope: 'openid fhirUser user/Observation.rs',
    fhirUser: 'Practitioner/demo-clinician',
    ...over,
  };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
};

async function sign(
  over: Record<string, unknown> = {},
  header: Record<string, unknown> = { alg: 'ES256', kid: 'es-1' },
  key: CryptoKey | Uint8Array = es.privateKey,
): Promise<string> {
  // SignJWT.sign only uses the protected header; claims are set verbatim.
  return new SignJWT(claims(over)).setProtectedHeader(header as { alg: string }).sign(key);
}

async function reason(token: string | undefined, v: TokenVerifier = verifier): Promise<string> {
  const r = await v.verify(token);
  return r.ok ? 'ok' : r.reason;
}

before(async () => {
  es = await generateKeyPair('ES256', { extractable: true });
  es2 = await generateKeyPair('ES256');
  rs = await generateKeyPair('RS256', { extractable: true });
  attacker = await generateKeyPair('ES256');
  attackerRsa = await generateKeyPair('RS256');
  esPublic = { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
  jwks = {
    keys: [
      esPublic,
      { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(es2.publicKey)), kid: 'es-2', alg: 'ES256', use: 'sig' },
    ],
  };
  verifier = createTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: { kind: 'local', jwks: () => jwks },
    now: () => NOW,
  });
});

describe('token verifier: accepted tokens', () => {
  test('ES256 and RS256 tokens give a typed principal', async () => {
    const r = await verifier.verify(await sign());
    assert.ok(r.ok, r.ok ? '' : `${r.reason} ${r.detail}`);
    assert.equal(r.principal.subject, 'demo-clinician');
    assert.equal(r.principal.role.kind, 'clinician');
    assert.equal(r.principal.organisation, 'demo-ouh-med');
    assert.equal(r.principal.fhirUser, 'Practitioner/demo-clinician');
    assert.equal(r.principal.tokenId, 'token-1');
    assert.equal(r.principal.issuer, ISSUER);
    assert.equal(r.principal.scopes.length, 3);
    assert.equal(await reason(await sign({}, { alg: 'RS256', kid: 'rs-1' }, rs.privateKey)), 'ok');
  });

  test('audience may be a list; the Authorization header is parsed per RFC 6750 §2.1', async () => {
    const token = await sign({ aud: ['https://other.example', AUDIENCE] });
    assert.equal(await reason(token), 'ok');
    assert.ok((await verifier.verifyAuthorizationHeader(`Bearer ${token}`)).ok);
    assert.ok((await verifier.verifyAuthorizationHeader(`bearer  ${token} `)).ok);
  });

  test('a token without kid is tried against every matching key', async () => {
    assert.equal(await reason(await sign({}, { alg: 'ES256' }, es2.privateKey)), 'ok');
    assert.equal(await reason(await sign({}, { alg: 'ES256' }, attacker.privateKey)), 'bad-signature');
  });
});

describe('token verifier: attack matrix', () => {
  test('missing', async () => {
    assert.equal(await reason(undefined), 'missing');
    assert.equal(await reason(''), 'missing');
    assert.equal(await reason('   '), 'missing');
    for (const h of [undefined, '', '  ']) {
      const r = await verifier.verifyAuthorizationHeader(h);
      assert.ok(!r.ok && r.reason === 'missing');
    }
  });

  test('malformed', async () => {
    const valid = await sign();
    const [h, p] = valid.split('.');
    const notJson = await new CompactSign(new TextEncoder().encode('not json'))
      .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
      .sign(es.privateKey);
    for (const token of [
      'abc',
      'a.b',
      'a.b.c',
      `${b64('{"alg":')}.${p}.sig`,
      `${h}.${p}`,
      `${h}.${p}.sig.extra.parts`,
      `${h}.!!!.${valid.split('.')[2]}`,
      notJson,
      await sign({ exp: undefined }),
      await sign({ jti: undefined }),
      await sign({ sub: undefined }),
      await sign({ iat: undefined }),
      await sign({ exp: 'tomorrow' }),
      await sign({ scope: 'user/Observation.sr' }),
      await sign({ org: undefined }),
    ]) {
      assert.equal(await reason(token), 'malformed', token);
    }
    for (const header of ['Basic dXNlcjpwYXNz', `Token ${valid}`, 'Bearer', `Bearer ${valid} extra`]) {
      const r = await verifier.verifyAuthorizationHeader(header);
      assert.ok(!r.ok && r.reason === 'malformed', header);
    }
  });

  test('expired, not yet valid', async () => {
    assert.equal(await reason(await sign({ exp: T - 3600 })), 'expired');
    assert.equal(await reason(await sign({ nbf: T + 3600 })), 'not-yet-valid');
    assert.equal(await reason(await sign({ iat: T + 3600 })), 'not-yet-valid');
  });

  test('wrong audience, wrong issuer', async () => {
    assert.equal(await reason(await sign({ aud: 'https://other.example/fhir' })), 'wrong-audience');
    assert.equal(await reason(await sign({ aud: ['https://a.example', 'https://b.example'] })), 'wrong-audience');
    assert.equal(await reason(await sign({ aud: undefined })), 'wrong-audience');
    assert.equal(await reason(await sign({ iss: 'https://evil.example' })), 'wrong-issuer');
    assert.equal(await reason(await sign({ iss: `${ISSUER}/` })), 'wrong-issuer');
    assert.equal(await reason(await sign({ iss: undefined })), 'wrong-issuer');
  });

  test('alg none (hand-built, any spelling) is refused before any key lookup', async () => {
    for (const alg of ['none', 'None', 'NONE', '']) {
      const token = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`;
      assert.equal(await reason(token), 'unsupported-alg', alg);
    }
    assert.equal(await reason(`${b64({ typ: 'JWT' })}.${b64(claims())}.`), 'unsupported-alg');
  });

  test('HS256 signed with the public key bytes (key-confusion attack)', async () => {
    const secrets = [
      new TextEncoder().encode(await exportSPKI(es.publicKey)),
      new TextEncoder().encode(await exportSPKI(rs.publicKey)),
      new TextEncoder().encode(JSON.stringify(esPublic)),
    ];
    for (const secret of secrets) {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const token = await sign({}, { alg, kid: 'es-1' }, secret);
        assert.equal(await reason(token), 'unsupported-alg', alg);
      }
    }
  });

  test('other asymmetric algorithms are refused too', async () => {
    const p384 = await generateKeyPair('ES384');
    assert.equal(await reason(await sign({}, { alg: 'ES384', kid: 'es-1' }, p384.privateKey)), 'unsupported-alg');
    const ps = await generateKeyPair('PS256');
    assert.equal(await reason(await sign({}, { alg: 'PS256', kid: 'rs-1' }, ps.privateKey)), 'unsupported-alg');
    const ed = await generateKeyPair('EdDSA');
    assert.equal(await reason(await sign({}, { alg: 'EdDSA', kid: 'es-1' }, ed.privateKey)), 'unsupported-alg');
  });

  test('re-signed with another key: unknown kid, same kid, embedded jwk, wrong key type', async () => {
    assert.equal(await reason(await sign({}, { alg: 'ES256', kid: 'attacker' }, attacker.privateKey)), 'bad-signature');
    assert.equal(await reason(await sign({}, { alg: 'ES256', kid: 'es-1' }, attacker.privateKey)), 'bad-signature');
    const embedded = { alg: 'ES256', kid: 'attacker', jwk: await exportJWK(attacker.publicKey) };
    assert.equal(await reason(await sign({}, embedded, attacker.privateKey)), 'bad-signature');
    // RS256 under the kid of the EC key: no key of that type and alg exists.
    assert.equal(await reason(await sign({}, { alg: 'RS256', kid: 'es-1' }, attackerRsa.privateKey)), 'bad-signature');
    assert.equal(await reason(await sign({}, { alg: 'RS256', kid: 'rs-1' }, attackerRsa.privateKey)), 'bad-signature');
  });

  test('a payload swapped under a valid signature', async () => {
    const [h, , s] = (await sign()).split('.');
    const forged = `${h}.${b64(claims({ role: 'admin', scope: 'user/Organization.cruds' }))}.${s}`;
    assert.equal(await reason(forged), 'bad-signature');
  });

  test('a correctly signed token whose scopes exceed its role, or with an unknown role', async () => {
    assert.equal(await reason(await sign({ scope: 'user/*.cruds' })), 'scope-exceeds-role');
    assert.equal(await reason(await sign({ scope: 'user/Observation.rs system/*.rs' })), 'scope-exceeds-role');
    assert.equal(
      await reason(await sign({ role: 'citizen', patient: 'p1', scope: 'user/Observation.rs' })),
      'scope-exceeds-role',
    );
    assert.equal(await reason(await sign({ role: 'root' })), 'unknown-role');
    assert.equal(await reason(await sign({ role: undefined })), 'unknown-role');
  });
});

describe('token verifier: clock skew edges (default 60 s)', () => {
  test('exp', async () => {
    assert.equal(await reason(await sign({ exp: T - 59 })), 'ok');
    assert.equal(await reason(await sign({ exp: T - 60 })), 'expired');
  });
  test('nbf and iat', async () => {
    assert.equal(await reason(await sign({ nbf: T + 60 })), 'ok');
    assert.equal(await reason(await sign({ nbf: T + 61 })), 'not-yet-valid');
    assert.equal(await reason(await sign({ iat: T + 60 })), 'ok');
    assert.equal(await reason(await sign({ iat: T + 61 })), 'not-yet-valid');
  });
  test('a configured skew of 0', async () => {
    const strict = createTokenVerifier({
      issuer: ISSUER,
      audience: [AUDIENCE],
      keys: { kind: 'local', jwks: () => jwks },
      now: () => NOW,
      clockSkewSeconds: 0,
    });
    assert.equal(await reason(await sign({ exp: T + 1 }), strict), 'ok');
    assert.equal(await reason(await sign({ exp: T }), strict), 'expired');
    assert.equal(await reason(await sign({ nbf: T + 1 }), strict), 'not-yet-valid');
    assert.equal(await reason(await sign({ iat: T + 1 }), strict), 'not-yet-valid');
  });
});
