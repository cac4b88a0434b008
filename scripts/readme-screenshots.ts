/**
 * Regenerates the README's screenshots (`npm run screenshots`): `dxhub serve --demo` on a fresh
 * SQLite file (seeded region, live simulator), Chromium at 1280×800, the same paths the browser
 * tests walk (test/web-app.test.ts, test/web-screens.test.ts), one PNG per view in
 * docs/screenshots/. Needs /usr/bin/chromium (`.ci/run` installs it).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startServer } from '../bench/server-process.ts';
import { ensureWebBuilt } from './build-web.ts';

const OUT = join(import.meta.dirname, '..', 'docs', 'screenshots');
const PATIENT = 'demo-patient-1';
/** Bo Jensen: admitted elsewhere, no treatment relation to the demo clinician (the værdispring case). */
const UNRELATED = 'demo-patient-2';

await ensureWebBuilt({ quiet: true });
mkdirSync(OUT, { recursive: true });
const dir = mkdtempSync(join(tmpdir(), 'dxhub-shots-'));
const server = await startServer(`sqlite:${join(dir, 'dxhub.db')}`, [], { demo: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await (await browser.newContext({ locale: 'da-DK', viewport: { width: 1280, height: 800 } })).newPage();
  const shot = async (name: string) => {
    await page.waitForTimeout(500); // charts finish their entry animation
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    process.stdout.write(`docs/screenshots/${name}.png\n`);
  };
  const signInAs = async (user: string, hash: string) => {
    await page.goto(`${server.url}/`);
    if (await page.locator('#signout').count()) await page.click('#signout');
    await page.click(`button[data-user="${user}"]`);
    await page.waitForSelector('#whoami');
    await page.goto(`${server.url}/${hash}`);
  };

  // Patient overview: cumulative table, trends with reference bands, timeline.
  await signInAs('demo-clinician', `#/patients/${PATIENT}`);
  await page.waitForSelector('#cumulative table');
  await page.waitForFunction("document.querySelectorAll('#trends canvas').length >= 3");
  await shot('patient-overview');

  // Værdispring: a patient without a treatment relation.
  await page.goto(`${server.url}/#/patients/${UNRELATED}`);
  await page.waitForSelector('.refused');
  await page.click('.refused button');
  await page.waitForSelector('dialog#vaerdispring[open]');
  await page.fill('#vd-reason', 'Akut indlagt, bevidstløs; behandlingsansvarlig læge');
  await shot('vaerdispring-dialog');

  // Requisition: a duplicate blood test on open order, blocked (the CDS Hooks card).
  const clinician = server.bearer(['--user', 'demo-clinician', '--role', 'clinician', '--org', 'demo-ouh-med']);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: clinician, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { requisition: string; findings: { rule: string; orderId: string; action: string }[] };
  };
  const first = await post('/ordering/requisitions', { patientId: PATIENT, orders: [{ test: 'ferritin' }] });
  await post(`/ordering/requisitions/${first.requisition}/sign`, {
    overrides: first.findings
      .filter((f) => f.action === 'warning')
      .map((f) => ({ rule: f.rule, orderId: f.orderId, reason: 'screenshot set-up' })),
  });
  await signInAs('demo-clinician', `#/order/${PATIENT}`);
  await addTest(page, 'ferritin', 'ferritin');
  await page.waitForSelector('#cards article[data-rule="duplicate-open-order"]');
  await page.locator('#cards').scrollIntoViewIfNeeded();
  await shot('requisition-block');

  // Operations dashboard: throughput, utilisation and interface health, last 7 days.
  await signInAs('demo-admin', '#/dashboard');
  await page.selectOption('#mi-period', '7d');
  await page.waitForSelector('#utilisation-chart canvas', { timeout: 120_000 });
  await page.waitForSelector('#health-chart canvas', { timeout: 120_000 });
  await page.evaluate("document.getElementById('mi-period').scrollIntoView({ block: 'start' })");
  await shot('dashboard');

  // Administration: dead letters and interface health.
  await signInAs('demo-integration', '#/admin');
  await page.waitForSelector('#interfaces[aria-busy="false"]');
  await shot('administration');
} finally {
  await browser.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function addTest(page: Page, q: string, id: string) {
  await page.fill('#order-q', q);
  await page.click(`button[data-add="${id}"]`);
  await page.waitForSelector(`#basket li[data-test="${id}"]`);
}
