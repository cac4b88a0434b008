import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type ServerProcess, startServer } from '../bench/server-process.ts';
import { ensureWebBuilt } from '../scripts/build-web.ts';
import { AstmInstrumentClient } from '../src/ingest/astm-instrument-client.ts';
import { MllpTestClient, msaOf } from './support/hl7-mllp.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', 'test-results');
/** A tablet in landscape (the ward's device); one screen is also checked in portrait. */
const TABLET = { width: 1024, height: 768 };

/**
 * The web app end to end: `dxhub serve --demo` as a child process on a fresh SQLite file (the
 * seeded demo region), the built UI, and Debian's Chromium. Each role signs in with the demo
 * sign-in and walks the screens it has; a screenshot of each goes to test-results/.
 */
describe('web app in a browser, every demo role', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install -y chromium)`,
}, () => {
  let dir: string;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    await ensureWebBuilt({ quiet: true });
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'dxhub-web-'));
    server = await startServer(`sqlite:${join(dir, 'dxhub.db')}`, [], { demo: true, mllp: true, astm: true });
    // Records an analyzer sent that are no E1394 message (no H record): an ASTM dead letter.
    const analyzer = await AstmInstrumentClient.connect({ host: '127.0.0.1', port: server.astmPort! });
    try {
      assert.equal(await analyzer.send(['X|not a header record', 'L|1|N']), true);
    } finally {
      analyzer.close();
    }
    // A message dxhub accepts but cannot map (MDM^T02): a dead letter for the administration screen.
    const client = await MllpTestClient.connect(server.mllpPort!);
    const ack = await client.send(
      readFileSync(join(import.meta.dirname, 'fixtures', 'hl7', 'mdm-t02-ms-01-report-text.hl7')),
    );
    client.socket.end();
    assert.equal(msaOf(ack).code, 'AA');
    // The processor runs in the background: wait until the message is a dead letter.
    const operator = server.bearer(['--user', 'web-test', '--role', 'integration', '--org', 'demo-ouh-kba']);
    for (let i = 0; ; i++) {
      const rows = (await (
        await fetch(`${server.url}/ops/hl7/inbox?state=failed`, { headers: { authorization: operator } })
      ).json()) as unknown[];
      if (rows.length > 0) break;
      if (i > 100) throw new Error('the MDM message did not become a dead letter');
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ locale: 'da-DK', viewport: TABLET, hasTouch: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // A refused request is shown on screen; the browser also logs it, which is expected.
      if (m.type() === 'error' && !/status of 40[013]/.test(m.text())) errors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `web-${name}.png`), fullPage: true });
  const signInAs = async (user: string) => {
    await page.goto(`${server.url}/`);
    if (await page.locator('#signout').count()) await page.click('#signout');
    await page.click(`button[data-user="${user}"]`);
    await page.waitForSelector('#whoami');
  };
  const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';

  it('shows the demo sign-in with one user per role, in Danish, and /app/ leads to it', async () => {
    await page.goto(`${server.url}/app/`);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.waitForSelector('#users button');
    assert.equal(await text('#signin h2'), 'Log ind');
    assert.equal(await page.locator('#users button').count(), 10);
    await shot('signin');
  });

  it('a clinician finds the admitted patient by CPR and sees the overview across organisations', async () => {
    await signInAs('demo-clinician');
    assert.match(await text('#whoami'), /clinician · demo-ouh-med/);
    await page.fill('#patient-q', '010180-1234');
    await page.press('#patient-q', 'Enter');
    await page.click('button[data-patient="demo-patient-1"]');
    await page.waitForSelector('#cumulative table');
    assert.match(await text('#patient-h'), /Anna Nielsen/);
    // Timeline: lab results from both hospitals' labs, the CT study and reports.
    await page.waitForSelector('#timeline tbody tr');
    const timeline = await text('#timeline tbody');
    assert.match(timeline, /demo-ouh-kba-akut/);
    assert.match(timeline, /demo-sve-kba-rutine/);
    assert.match(timeline, /CT/);
    // Provenance: where each value came from.
    assert.match(timeline, /LIMS demo-ouh-kba-akut \(demo\)/);
    // Cumulative table: three analyses × seven samplings, the critical potassium marked.
    assert.equal(await page.locator('#cumulative tbody tr').count(), 3);
    assert.equal(await page.locator('#cumulative thead th').count(), 2 + 7);
    assert.match(await text('#cumulative td.critical'), /6\.4\s*HH!/);
    assert.match((await page.getAttribute('#cumulative td.critical', 'title')) ?? '', /LIMS demo-ouh-kba-akut/);
    // Trend charts (uPlot canvases) with the critical marker counted.
    assert.equal(await page.locator('#trends figure canvas').count(), 3);
    assert.equal(await page.locator('#trends [data-critical="1"]').count(), 1);
    // Open orders: the active and the draft one; reports with their origin.
    await page.waitForSelector('#orders li');
    const orders = await text('#orders');
    assert.match(orders, /active/);
    assert.match(orders, /draft/);
    assert.ok((await page.locator('#reports details').count()) >= 8);
    await shot('clinician-overview');
    await page.screenshot({ path: join(SHOTS, 'web-clinician-overview-top.png') });
    // The same screen on a tablet in portrait.
    await page.setViewportSize({ width: 768, height: 1024 });
    await shot('clinician-overview-portrait');
    await page.setViewportSize(TABLET);
  });

  it('a slow query blocks nothing: the other sections show while one still loads, and leaving cancels it', async () => {
    await signInAs('demo-clinician');
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cancelled: string[] = [];
    const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) => {
      if (r.url().includes('/fhir/ImagingStudy')) cancelled.push(r.failure()?.errorText ?? '');
    };
    page.on('requestfailed', onFailed);
    // The imaging search hangs until released.
    const imaging = (url: URL) => url.pathname === '/fhir/ImagingStudy';
    await page.route(imaging, async (route) => {
      await held;
      await route.continue().catch(() => {});
    });
    try {
      await page.goto(`${server.url}/#/patients/demo-patient-1`);
      await page.waitForSelector('#cumulative table');
      await page.waitForSelector('#trends canvas');
      await page.waitForSelector('#orders li');
      assert.equal(await page.locator('#timeline[aria-busy="true"] [role="status"]').count(), 1);
      await page.click('a.back');
      await page.waitForSelector('#patient-q');
      for (let i = 0; i < 50 && cancelled.length === 0; i++) await page.waitForTimeout(100);
      assert.match(cancelled.join(), /ABORTED/);
    } finally {
      release();
      page.off('requestfailed', onFailed);
      await page.unroute(imaging);
    }
  });

  it('works from the keyboard alone: sign in, search, open the patient', async () => {
    await page.goto(`${server.url}/`);
    if (await page.locator('#signout').count()) await page.click('#signout');
    await page.waitForSelector('#users button');
    const tabTo = async (test: string) => {
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(test)) return;
      }
      throw new Error(`never reached by Tab: ${test}`);
    };
    await tabTo("document.activeElement?.dataset?.user === 'demo-clinician'");
    await page.keyboard.press('Enter');
    await page.waitForSelector('#whoami');
    await tabTo("document.activeElement?.id === 'patient-q'");
    await page.keyboard.type('0101801234');
    await page.keyboard.press('Enter');
    await page.waitForSelector('button[data-patient="demo-patient-1"]');
    await tabTo("document.activeElement?.dataset?.patient === 'demo-patient-1'");
    await page.keyboard.press('Enter');
    await page.waitForSelector('#cumulative table');
  });

  it('a clinician without a treatment relation gets the værdispring dialog and sees the data after giving a reason', async () => {
    await signInAs('demo-clinician');
    // Bo Jensen (demo-patient-2) lies in another hospital: found by CPR, withheld without a relation.
    await page.fill('#patient-q', '020191-9990');
    await page.click('#patient-search button[type="submit"]');
    await page.waitForSelector('#patients .notice');
    assert.equal(await page.locator('button[data-patient]').count(), 0);
    // Straight to the patient: refused (403), the dialog asks for a reason.
    await page.goto(`${server.url}/#/patients/demo-patient-2`);
    await page.waitForSelector('.refused');
    assert.match(await text('.refused'), /treatment relation/);
    await page.click('.refused button');
    await page.waitForSelector('dialog#vaerdispring[open]');
    // Too short a reason is refused in the dialog.
    await page.fill('#vd-reason', 'kort');
    await shot('vaerdispring-dialog');
    await page.click('dialog#vaerdispring button[type="submit"]');
    assert.equal(await page.locator('dialog#vaerdispring[open]').count(), 1);
    await page.fill('#vd-reason', 'Bevidstløs i akutmodtagelsen, behov for seneste kalium');
    await page.click('dialog#vaerdispring button[type="submit"]');
    await page.waitForSelector('#cumulative table');
    assert.match(await text('#patient-h'), /Bo Jensen/);
    assert.match(await text('.patient-header .badge'), /Værdispring/);
    assert.equal(await page.locator('#cumulative tbody tr').count(), 2);
    await shot('vaerdispring-overview');
  });

  it('the language is the user’s choice and is remembered', async () => {
    await page.click('#lang');
    assert.equal(await text('#timeline h3'), 'Timeline');
    await page.reload();
    await page.waitForSelector('#whoami');
    assert.match(await text('header nav'), /Patients/);
    await page.click('#lang');
    assert.match(await text('header nav'), /Patienter/);
  });

  for (const user of ['demo-lab-technologist', 'demo-lab-physician', 'demo-radiographer', 'demo-radiologist']) {
    it(`${user} opens the patient their unit has an order for`, async () => {
      await signInAs(user);
      await page.goto(`${server.url}/#/patients/demo-patient-1`);
      await page.waitForSelector('#timeline tbody tr');
      assert.equal(await page.locator('.refused').count(), 0);
      await shot(user.replace('demo-', ''));
    });
  }

  it('a session whose token the server refuses ends: back to the sign-in, saying why', async () => {
    await signInAs('demo-clinician');
    // The stored session keeps its expiry but carries a token the server no longer accepts
    // (as after a key rotation or revocation): the next call gets 401.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('dxhub.session')!);
      sessionStorage.setItem('dxhub.session', JSON.stringify({ ...s, token: `${s.token}x` }));
    });
    await page.goto(`${server.url}/#/patients/demo-patient-1`);
    await page.reload();
    await page.waitForSelector('#users button');
    assert.match(await text('#signin'), /session er udløbet/);
    assert.equal(await page.locator('#whoami').count(), 0);
    // Signing in again works, and the message is gone.
    await page.click('button[data-user="demo-clinician"]');
    await page.waitForSelector('#whoami');
  });

  it('a department manager sees counts only, and no patient screen', async () => {
    await signInAs('demo-department-manager');
    await page.waitForSelector('#count-0 output');
    // The simulator keeps adding results: a count, never a list.
    assert.match(await text('#count-0 output'), /^[1-9][\d.,\s]*$/);
    assert.doesNotMatch(await text('header nav'), /Patienter/);
    // Asking for a patient's page shows the counts again; the API refuses the record anyway.
    await page.goto(`${server.url}/#/patients/demo-patient-1`);
    await page.waitForSelector('#count-0 output');
    assert.equal(await page.locator('#timeline').count(), 0);
    await shot('department-manager');
  });

  it('the researcher sees counts', async () => {
    await signInAs('demo-researcher');
    await page.waitForSelector('#count-0 output');
    await shot('researcher');
  });

  it('an interface operator sees the dead letter and reprocesses it, and the interface health', async () => {
    await signInAs('demo-integration');
    await page.waitForSelector('#dead-letters tbody tr');
    assert.match(await text('#dead-letters tbody'), /MDM\^T02/);
    assert.match(await text('#interfaces tbody'), /\^/);
    await shot('integration-admin');
    await page.click('#dead-letters tbody tr button');
    await page.waitForSelector('#reprocess-outcome');
    // The message still has no mapping: it stays a dead letter, with one more attempt.
    assert.match(await text('#reprocess-outcome'), /failed/);
    assert.match(await text('#dead-letters tbody tr td:nth-child(6)'), /[1-9]/);
    // The analyzer's unparseable records: an ASTM dead letter with its reason; reprocessing keeps it failed.
    await page.waitForSelector('#astm-dead-letters tbody tr');
    assert.match(await text('#astm-dead-letters tbody'), /not a header \(H\) record/);
    await page.click('#astm-dead-letters tbody tr button');
    await page.waitForSelector('#astm-reprocess-outcome');
    assert.match(await text('#astm-reprocess-outcome'), /failed/);
    // The demo's simulated analyzers are listed in the interface health.
    // (The view refreshes every 10 s; the simulator's first ASTM results can take a while.)
    for (let i = 0; i < 60 && !(await text('#interfaces tbody')).includes('ASTM ·'); i++) {
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.match(await text('#interfaces tbody'), /ASTM · /);
  });

  it('an admin sees the værdispring to review, with the reason', async () => {
    await signInAs('demo-admin');
    await page.waitForSelector('#break-glass tbody tr');
    const log = await text('#break-glass tbody');
    assert.match(log, /demo-clinician/);
    assert.match(log, /Bevidstløs/);
    await shot('admin');
  });

  it('the citizen sees their own results and who looked at them', async () => {
    await signInAs('demo-citizen');
    await page.waitForSelector('#access-log tbody tr');
    assert.match(await text('#access-log tbody'), /demo-clinician/);
    await page.waitForSelector('#cumulative tbody tr');
    assert.equal(await page.locator('#cumulative tbody tr').count(), 3);
    await shot('citizen');
    assert.deepEqual(errors, []);
  });
});
