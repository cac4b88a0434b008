import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { buildTestApp } from './support/app.ts';
import { observation } from './support/factories.ts';

const CHROMIUM = '/usr/bin/chromium';

test('web app: demo sign-in per role, a clinician looks up the demo patient, the citizen sees who looked', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install -y chromium)`,
}, async () => {
  const dx = await buildTestApp({ db: 'sqlite::memory:', demo: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    await dx.app.inject({
      method: 'PUT',
      url: '/fhir/Observation/demo-hb',
      headers: { 'content-type': 'application/fhir+json' },
      payload: JSON.stringify({
        ...observation({ subject: 'Patient/demo-patient-1', code: '718-7', value: 8.4 }),
        id: 'demo-hb',
      }),
    });
    await dx.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(dx.app.server.address() as AddressInfo).port}/`;
    const page = await (await browser.newContext({ locale: 'da-DK' })).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('#users button');
    assert.equal(await page.textContent('h2'), 'Log ind');
    assert.equal(await page.locator('#users button').count(), 10);

    // The clinician of the department the demo patient is admitted to.
    await page.click('button[data-user="demo-clinician"]');
    await page.waitForSelector('#whoami-role');
    assert.equal(await page.textContent('#whoami-role'), 'clinician');
    await page.fill('#patient', 'demo-patient-1');
    await page.click('#lookup button[type="submit"]');
    await page.waitForSelector('#results tbody tr');
    assert.match((await page.textContent('#results tbody')) ?? '', /8\.4/);
    // English on request.
    await page.click('#lang');
    assert.equal(await page.textContent('#session h2'), 'Signed in as');

    // The demo citizen (the patient) sees the clinician's look-up in the access log.
    await page.click('#signout');
    await page.click('button[data-user="demo-citizen"]');
    await page.waitForSelector('#log tbody tr');
    const log = (await page.textContent('#log tbody')) ?? '';
    assert.match(log, /Practitioner\/demo-clinician/);
    assert.match(log, /demo-ouh-med/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await dx.close();
  }
});
