import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';

test('demo mode: SMART discovery, JWKS, sign-in per demo user, and what each demo user may see', async () => {
  const dx = await buildTestApp({ db: 'sqlite::memory:', demo: true });
  try {
    const anon = (method: 'GET' | 'POST', url: string, payload?: string) =>
      dx.rawInject({
        method,
        url,
        headers: { authorization: '', ...(payload ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(payload ? { payload } : {}),
      });
    const smart = await anon('GET', '/fhir/.well-known/smart-configuration');
    assert.equal(smart.statusCode, 200);
    const doc = smart.json();
    for (const field of ['issuer', 'jwks_uri', 'token_endpoint', 'capabilities', 'grant_types_supported']) {
      assert.ok(doc[field] !== undefined, `smart-configuration lacks ${field}`);
    }
    assert.ok(doc.capabilities.includes('permission-v2'));
    const jwks = await anon('GET', '/.well-known/jwks.json');
    assert.equal(jwks.json().keys[0].kty, 'EC');
    assert.equal(jwks.json().keys[0].d, undefined, 'private key material in the JWKS');

    const users = (await anon('GET', '/auth/demo-users')).json() as { id: string; role: string }[];
    assert.equal(new Set(users.map((u) => u.role)).size, 10);
    const signIn = async (id: string) => {
      const r = await anon('POST', '/auth/token', `grant_type=password&username=${id}`);
      assert.equal(r.statusCode, 200, r.body);
      return `Bearer ${r.json().access_token}`;
    };
    const clinician = await signIn('demo-clinician');
    const citizen = await signIn('demo-citizen');
    const unknown = await anon('POST', '/auth/token', 'username=mallory');
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().error, 'invalid_grant');
    // The demo clinician's department treats the demo patient: the record opens.
    const read = await dx.rawInject({
      method: 'GET',
      url: '/fhir/Patient/demo-patient-1',
      headers: { authorization: clinician },
    });
    assert.equal(read.statusCode, 200, read.body);
    // The demo citizen sees that look-up in their access log.
    await dx.audit.flushed();
    const log = await dx.rawInject({ method: 'GET', url: '/fhir/AuditEvent', headers: { authorization: citizen } });
    assert.equal(log.statusCode, 200);
    assert.match(log.body, /Practitioner\/demo-clinician/);
  } finally {
    await dx.close();
  }
});

test('without demo mode there is no sign-in endpoint', async () => {
  const dx = await buildTestApp({ db: 'sqlite::memory:' });
  try {
    const r = await dx.rawInject({
      method: 'POST',
      url: '/auth/token',
      headers: { authorization: '' },
      payload: 'username=demo-admin',
    });
    assert.equal(r.statusCode, 401);
  } finally {
    await dx.close();
  }
});
