import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../bench/server-process.ts';
import { ensureWebBuilt } from '../scripts/build-web.ts';
import { startFakeIssuer } from './support/fake-oidc-issuer.ts';

const CHROMIUM = '/usr/bin/chromium';

test('web app: sign-in through the configured OpenID Connect issuer (authorization code + PKCE)', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install -y chromium)`,
}, async () => {
  await ensureWebBuilt({ quiet: true });
  const audience = 'urn:dxhub:web-oidc-test';
  const issuer = await startFakeIssuer({
    audience,
    claims: {
      sub: 'oidc-clinician',
      role: 'clinician',
      org: 'demo-ouh-med',
      scope: 'openid fhirUser user/Patient.rs user/Observation.rs',
      fhirUser: 'Practitioner/oidc-clinician',
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-oidc-'));
  const server = await startServer(`sqlite:${join(dir, 'dxhub.db')}`, [], {
    env: { DXHUB_OIDC_ISSUER: issuer.url, DXHUB_OIDC_AUDIENCE: audience },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ locale: 'en-GB' });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text())) errors.push(m.text());
    });
    // The sign-in page asks for demo users; without --demo that route does not exist (401, like
    // every unknown path). No other request may be refused.
    const refused = new Set<string>();
    page.on('response', (r) => {
      if (r.status() === 401) refused.add(new URL(r.url()).pathname);
    });
    await page.goto(`${server.url}/`);
    // No demo users without --demo: only the region's login.
    await page.waitForSelector('#oidc-signin');
    assert.equal(await page.locator('#users').count(), 0);
    await page.click('#oidc-signin');
    await page.waitForSelector('#whoami');
    assert.match((await page.textContent('#whoami')) ?? '', /oidc-clinician · clinician · demo-ouh-med/);
    // The code left the address bar; the request carried PKCE S256 and the FHIR audience.
    assert.equal(new URL(page.url()).search, '');
    const asked = issuer.log.authorize[0]!;
    assert.equal(asked.get('code_challenge_method'), 'S256');
    assert.equal(asked.get('redirect_uri'), `${server.url}/`);
    assert.match(issuer.log.token[0]!.get('code_verifier') ?? '', /^[\w-]{43}$/);
    // dxhub accepts the issuer's token: a search answers (an empty store: no patients).
    await page.fill('#patient-q', 'Nielsen');
    await page.press('#patient-q', 'Enter');
    await page.waitForSelector('#patients p:not(.loading)');
    assert.equal(await page.textContent('#patients p:not(.loading)'), 'No patients found.');
    assert.deepEqual(errors, []);
    assert.deepEqual([...refused], ['/auth/demo-users']);
  } finally {
    await browser.close();
    await server.stop();
    await issuer.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
