import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type ServerProcess, startServer } from '../bench/server-process.ts';
import { ensureWebBuilt } from '../scripts/build-web.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', 'test-results');
const TABLET = { width: 1024, height: 768 };
const PATIENT = 'demo-patient-1';

/**
 * The second-pass screens end to end: requisition with live decision support, the laboratory's
 * review worklist, the live operations dashboard and the rule-set administration, against
 * `dxhub serve --demo` (seeded region, live simulator) on a fresh SQLite file, in Chromium.
 */
describe('web app second pass: ordering, review, dashboards, rules', {
  skip: existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (apt-get install -y chromium)`,
}, () => {
  let dir: string;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  let integration: string;
  let clinician: string;

  const api = async <T>(method: string, path: string, auth: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  /** A lab result for the demo patient, posted as the LIS would (integration role). */
  const observation = (code: { system: string; code: string }, status: string, value: number, unit: string) =>
    api<{ id: string }>('POST', '/fhir/Observation', integration, {
      resourceType: 'Observation',
      status,
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] },
      ],
      code: { coding: [code], text: code.code },
      subject: { reference: `Patient/${PATIENT}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
    });

  before(async () => {
    await ensureWebBuilt({ quiet: true });
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'dxhub-web2-'));
    server = await startServer(`sqlite:${join(dir, 'dxhub.db')}`, [], { demo: true });
    integration = server.bearer(['--user', 'web-test', '--role', 'integration', '--org', 'demo-ouh-kba']);
    clinician = server.bearer(['--user', 'demo-clinician', '--role', 'clinician', '--org', 'demo-ouh-med']);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const context = await browser.newContext({ locale: 'da-DK', viewport: TABLET, hasTouch: true });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // Refusals (403/409/422) are shown on screen; the browser also logs them, which is expected.
      if (m.type() === 'error' && !/status of (40[0349]|422)/.test(m.text())) errors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `web-${name}.png`), fullPage: true });
  const signInAs = async (user: string, hash: string) => {
    await page.goto(`${server.url}/`);
    if (await page.locator('#signout').count()) await page.click('#signout');
    await page.click(`button[data-user="${user}"]`);
    await page.waitForSelector('#whoami');
    await page.goto(`${server.url}/${hash}`);
  };
  const text = async (selector: string) => (await page.locator(selector).first().textContent()) ?? '';
  const addTest = async (q: string, id: string) => {
    await page.fill('#order-q', q);
    await page.click(`button[data-add="${id}"]`);
    await page.waitForSelector(`#basket li[data-test="${id}"]`);
  };

  it('a repeated CRP inside 24 hours: the block card shows, and signing is refused with the server’s reason', async () => {
    await observation({ system: 'http://npu-terminology.org', code: 'NPU19748' }, 'final', 42, 'mg/L');
    await signInAs('demo-clinician', `#/order/${PATIENT}`);
    await page.waitForSelector('#requisition');
    await addTest('CRP', 'crp');
    const card = page.locator('#cards article[data-rule="retest-crp-24h"]');
    // The first card of a fresh demo server: its event loop is still busy with the simulator's
    // catch-up and the outbox consumers' first pass, so this answer may take long on a busy machine.
    await card.waitFor({ timeout: 120_000 });
    assert.equal(await card.getAttribute('data-action'), 'block');
    // The clinician may not lift it (lab-physician only): no reason field on the card.
    assert.equal(await card.locator('input').count(), 0);
    assert.match((await card.textContent()) ?? '', /24 timer/);
    await shot('requisition-block');
    await page.click('#sign');
    await page.waitForSelector('#requisition [role="alert"]');
    const refusal = await text('#requisition [role="alert"]');
    assert.match(refusal, /409/);
    assert.match(refusal, /retest-crp-24h/);
    assert.equal(await page.locator('#signed').count(), 0);
  });

  /** An open order of `test` for the demo patient, signed through the API (reasons for any warnings). */
  const openOrder = async (test: string) => {
    const created = await api<{ requisition: string; findings: { rule: string; orderId: string; action: string }[] }>(
      'POST',
      '/ordering/requisitions',
      clinician,
      { patientId: PATIENT, orders: [{ test }] },
    );
    const overrides = created.findings
      .filter((f) => f.action === 'warning')
      .map((f) => ({ rule: f.rule, orderId: f.orderId, reason: 'set-up of the test' }));
    await api('POST', `/ordering/requisitions/${created.requisition}/sign`, clinician, { overrides });
  };

  it('a duplicate blood test on open order is blocked: the card shows the open order and signing is refused', async () => {
    await openOrder('ferritin');
    await signInAs('demo-clinician', `#/order/${PATIENT}`);
    // The live cards come from the CDS Hooks order-select service, with the basket as draft orders.
    const hook = page.waitForRequest(
      (r) => r.url().endsWith('/cds-services/dxhub-order-select') && r.method() === 'POST',
    );
    await addTest('ferritin', 'ferritin');
    const sent = (await hook).postDataJSON() as {
      hook: string;
      context: { patientId: string; selections: string[]; draftOrders: { entry: { resource: { id: string } }[] } };
    };
    assert.equal(sent.hook, 'order-select');
    assert.equal(sent.context.patientId, PATIENT);
    assert.deepEqual(sent.context.selections, ['ServiceRequest/draft-ferritin']);
    assert.deepEqual(
      sent.context.draftOrders.entry.map((e) => e.resource.id),
      ['draft-ferritin'],
    );
    // The open order is shown against the test, and the rules block the duplicate.
    await page.waitForSelector('#basket li[data-test="ferritin"] .badge');
    const card = page.locator('#cards article[data-rule="duplicate-open-order"]');
    await card.waitFor();
    assert.equal(await card.getAttribute('data-action'), 'block');
    assert.equal(await card.getAttribute('data-indicator'), 'critical');
    // Only the laboratory physician may lift it: no reason field for the clinician.
    assert.equal(await card.locator('input, select').count(), 0);
    assert.match((await card.textContent()) ?? '', /Vælg Klogt/);
    await shot('requisition-duplicate-block');
    await page.click('#sign');
    await page.waitForSelector('#requisition [role="alert"]');
    const refusal = await text('#requisition [role="alert"]');
    assert.match(refusal, /409/);
    assert.match(refusal, /duplicate-open-order/);
    assert.equal(await page.locator('#signed').count(), 0);
    // The refused draft was withdrawn: the patient still has exactly one open ferritin order.
    const summary = await api<{ openOrders: { test: string }[] }>(
      'GET',
      `/ordering/patients/${PATIENT}/summary`,
      clinician,
    );
    assert.equal(summary.openOrders.filter((o) => o.test === 'ferritin').length, 1);
    // The card's suggestion removes the duplicate from the basket, and is reported as accepted.
    const feedback = page.waitForRequest((r) => r.url().endsWith('/cds-services/dxhub-order-select/feedback'));
    await card.locator('button.suggestion').click();
    await page.locator('#basket li[data-test="ferritin"]').waitFor({ state: 'detached' });
    const fb = (await feedback).postDataJSON() as { feedback: { outcome: string; acceptedSuggestions: unknown[] }[] };
    assert.equal(fb.feedback[0]!.outcome, 'accepted');
    assert.equal(fb.feedback[0]!.acceptedSuggestions.length, 1);
  });

  it('a warning (a second troponin on open order) is refused without a reason and signed with one', async () => {
    await openOrder('troponin-t');
    await signInAs('demo-clinician', `#/order/${PATIENT}`);
    await addTest('troponin', 'troponin-t');
    await page.waitForSelector('#basket li[data-test="troponin-t"] .badge');
    const card = page.locator('#cards article[data-rule="duplicate-open-order-other"]');
    await card.waitFor();
    assert.equal(await card.getAttribute('data-action'), 'warning');
    // Without a reason the server refuses (422).
    await page.click('#sign');
    await page.waitForSelector('#requisition [role="alert"]');
    assert.match(await text('#requisition [role="alert"]'), /422/);
    // With a reason for every warning: signed.
    for (const input of await page.locator('#cards .override-reason').all())
      await input.fill('Seriel troponin: 3-timers prøve efter første måling');
    // The card's coded override reasons (CDS Hooks overrideReasons) are offered as well.
    assert.ok((await card.locator('select.override-code option').count()) > 1);
    await card.locator('select.override-code').selectOption('clinically-indicated');
    const overridden = page.waitForRequest((r) => r.url().endsWith('/cds-services/dxhub-order-select/feedback'));
    await shot('requisition-override');
    await page.click('#sign');
    await page.waitForSelector('#signed');
    const signed = (await text('#signed')).split(': ')[1]!.trim();
    const { orders } = await api<{ orders: { status: string; note?: { text: string }[] }[] }>(
      'GET',
      `/ordering/requisitions/${signed}`,
      clinician,
    );
    assert.deepEqual(
      orders.map((o) => o.status),
      ['active'],
    );
    assert.match(JSON.stringify(orders[0]!.note), /Seriel troponin/);
    assert.match(JSON.stringify(orders[0]!.note), /Klinisk indiceret/);
    const fb = (await overridden).postDataJSON() as {
      feedback: { outcome: string; overrideReason: { reason?: { code: string }; userComment: string } }[];
    };
    assert.equal(fb.feedback[0]!.outcome, 'overridden');
    assert.equal(fb.feedback[0]!.overrideReason.reason?.code, 'clinically-indicated');
  });

  it('order entry names the patient: from the overview found by CPR, and by a CPR typed into the order screen', async () => {
    const patient = await api<{
      name: { given?: string[]; family?: string; text?: string }[];
      identifier: { system: string; value: string }[];
    }>('GET', `/fhir/Patient/${PATIENT}`, clinician);
    const cpr = patient.identifier.find((i) => i.system === 'urn:oid:1.2.208.176.1.2')!.value;
    const name = patient.name[0]!.text ?? [...(patient.name[0]!.given ?? []), patient.name[0]!.family].join(' ');
    await signInAs('demo-clinician', '#/patients');
    await page.fill('#patient-q', `${cpr.slice(0, 6)}-${cpr.slice(6)}`);
    await page.press('#patient-q', 'Enter');
    await page.click(`button[data-patient="${PATIENT}"]`);
    await page.click('#order-for-patient');
    await page.waitForSelector('#requisition');
    await page.locator('#order-for strong').filter({ hasText: name }).waitFor();
    assert.match(await text('#order-for'), new RegExp(`${cpr.slice(0, 6)}-${cpr.slice(6)}`));
    // Typed into the order screen: the CPR is looked up; an unknown one is named as such.
    await page.goto(`${server.url}/#/order`);
    await page.waitForSelector('#requisition');
    await page.fill('#order-patient', '3112999999');
    await page.press('#order-patient', 'Enter');
    await page.waitForSelector('#order-for .error');
    assert.match(await text('#order-for'), /Ingen patienter/);
    assert.equal(await page.locator('#sign').isDisabled(), true);
    await page.fill('#order-patient', cpr);
    await page.press('#order-patient', 'Enter');
    await page.locator('#order-for strong').filter({ hasText: name }).waitFor();
    await shot('requisition-patient');
  });

  it('clinical details reach the rules: an indication lifts the vitamin D screening warning and is signed into the order', async () => {
    await signInAs('demo-clinician', `#/order/${PATIENT}`);
    await page.waitForSelector('#requisition');
    await addTest('D-vitamin', 'vitamin-d');
    const card = page.locator('#cards article[data-rule="vitamin-d-screening"]');
    await card.waitFor();
    assert.equal(await card.getAttribute('data-action'), 'warning');
    // Only the indications the active rules of the basket read are offered.
    const offered = await page
      .locator('#order-indications input[data-indication]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-indication')));
    assert.ok(offered.includes('osteoporosis'), `offered: ${offered.join(', ')}`);
    assert.ok(!offered.includes('wells-likely'), 'an indication no rule of the basket reads is not offered');
    await page.selectOption('#order-priority', 'urgent');
    const hook = page.waitForRequest(
      (r) => r.url().endsWith('/cds-services/dxhub-order-select') && r.method() === 'POST',
    );
    await page.check('#order-indications input[data-indication="osteoporosis"]');
    const sent = (await hook).postDataJSON() as {
      context: {
        draftOrders: { entry: { resource: { priority?: string; reasonCode?: { coding: { code: string }[] }[] } }[] };
      };
    };
    const draft = sent.context.draftOrders.entry[0]!.resource;
    assert.equal(draft.priority, 'urgent');
    assert.deepEqual(
      draft.reasonCode?.map((c) => c.coding[0]!.code),
      ['osteoporosis'],
    );
    await card.waitFor({ state: 'detached' });
    await shot('requisition-indication');
    for (const input of await page.locator('#cards .override-reason').all())
      await input.fill('Kontrol efter behandling');
    await page.click('#sign');
    await page.waitForSelector('#signed');
    const signed = (await text('#signed')).split(': ')[1]!.trim();
    const { orders } = await api<{ orders: { priority?: string; reasonCode?: { coding: { code: string }[] }[] }[] }>(
      'GET',
      `/ordering/requisitions/${signed}`,
      clinician,
    );
    assert.equal(orders[0]!.priority, 'urgent');
    assert.deepEqual(
      orders[0]!.reasonCode?.map((c) => c.coding[0]!.code),
      ['osteoporosis'],
    );
  });

  it('a held result is released from the worklist and becomes final', async () => {
    const lab = server.bearer(['--user', 'demo-lab-physician', '--role', 'lab-physician', '--org', 'demo-ouh-kba']);
    // A preliminary result of an analysis the result rules do not know: held, never autoverified.
    const { id } = await observation(
      { system: 'urn:dxhub:local:analysis', code: 'W10-UNKNOWN' },
      'preliminary',
      7,
      'mmol/L',
    );
    for (let i = 0; ; i++) {
      const held = await api<{ observation?: { id: string } }[]>('GET', '/results/review?count=500', lab);
      if (held.some((h) => h.observation?.id === id)) break;
      if (i > 150) throw new Error('the result was never held');
      await new Promise((r) => setTimeout(r, 200));
    }
    await signInAs('demo-lab-physician', '#/review');
    const row = page.locator(`#held tr[data-observation="${id}"]`);
    await row.waitFor();
    assert.ok(((await row.locator('li').allTextContents()).join(' ').length ?? 0) > 0, 'the reasons are shown');
    await shot('review-worklist');
    await row.locator('button.release').click();
    await row.waitFor({ state: 'detached' });
    const obs = await api<{ status: string; meta?: { tag?: { code: string }[] } }>(
      'GET',
      `/fhir/Observation/${id}`,
      integration,
    );
    assert.equal(obs.status, 'final');
    assert.ok(obs.meta?.tag?.some((t) => t.code === 'released'));
    await page.waitForSelector('#critical[aria-busy="false"]');
  });

  it('the lab technologist sees the worklist read-only', async () => {
    await signInAs('demo-lab-technologist', '#/review');
    await page.waitForSelector('#held[aria-busy="false"]');
    assert.equal(await page.locator('#held button.release').count(), 0);
    assert.match(await text('#review .notice'), /laboratorielæge/);
  });

  it('the operations dashboard: throughput, utilisation and interface health render with data and update while results arrive', async () => {
    await signInAs('demo-admin', '#/dashboard');
    await page.waitForSelector('#tat-section[aria-busy="false"]');
    const num = async (selector: string) => Number(await text(selector));
    const messages = async () =>
      (await page.locator('#health-table td.messages').allTextContents()).reduce((a, v) => a + Number(v), 0);
    const until = async (what: string, ok: () => Promise<boolean>, ms = 90_000) => {
      for (const end = Date.now() + ms; !(await ok()); ) {
        if (Date.now() > end) throw new Error(`${what} within ${ms / 1000} s`);
        await page.waitForTimeout(250);
      }
    };
    // Today's figures start at Danish midnight, and the simulator resends the last six hours first
    // (60× faster): the last seven days always hold results, whatever the hour the test runs.
    await page.waitForSelector('#throughput-chart canvas');
    await page.selectOption('#mi-period', '7d');
    await page.waitForSelector('#throughput[aria-busy="false"]');
    // Each panel renders a chart with data: results per hour, utilisation per section against the
    // configured capacity, HL7 senders and ASTM analyzers with their messages.
    await until('results in the throughput figures', async () => (await num('#thr-results')) > 0);
    await until('utilisation rows', async () => (await page.locator('#utilisation-table tbody tr').count()) > 0);
    await page.waitForSelector('#utilisation-chart canvas');
    // The simulator's first HL7 and ASTM results can take minutes on a loaded machine.
    await until(
      'an HL7 sender and an ASTM analyzer',
      async () => {
        const kinds = await page.locator('#health-table tbody td:nth-child(2)').allTextContents();
        return kinds.includes('HL7 v2') && kinds.includes('ASTM');
      },
      240_000,
    );
    await page.waitForSelector('#health-chart canvas');
    assert.ok((await messages()) > 0, 'the interfaces have messages');
    for (const cell of await page.locator('#utilisation-table tbody td:nth-child(4)').allTextContents())
      assert.ok(Number(cell) >= 0, `utilisation ${cell}`);
    // Live: without reloading the page, the figures grow while the simulator sends results.
    const before = {
      live: await num('#live-events'),
      results: await num('#thr-results'),
      messages: await messages(),
      label: await page.getAttribute('#throughput-chart', 'aria-label'),
    };
    await until('the live counter to grow', async () => (await num('#live-events')) > before.live);
    await until('the throughput results to grow', async () => (await num('#thr-results')) > before.results);
    await until('the interface messages to grow', async () => (await messages()) > before.messages);
    assert.notEqual(await page.getAttribute('#throughput-chart', 'aria-label'), before.label);
    await page.waitForSelector('#tat-chart canvas');
    assert.ok((await page.locator('#tat-section-table tbody tr').count()) > 0);
    // One interval at a time: the table shows the chosen one only.
    const interval = await page.inputValue('#mi-interval');
    assert.deepEqual(
      [...new Set(await page.locator('#tat-section-table tbody td:nth-child(2)').allTextContents())],
      [interval],
    );
    await shot('dashboard');
    // Drill-down to one lab section: every panel asks for its part only, and shows only it.
    const units = await page
      .locator('#utilisation-table tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-unit')!));
    const lab = units.find((u) => u.includes('-kba-')) ?? units[0]!;
    const asked = ['/mi/throughput?window=7d&by=hour', '/mi/throughput?window=7d&by=section', '/mi/interfaces'].map(
      (path) =>
        page.waitForRequest((r) => r.url().includes(path) && r.url().includes(`org=${encodeURIComponent(lab)}`)),
    );
    await page.selectOption('#mi-org', lab);
    await Promise.all(asked);
    await until('the section’s utilisation only', async () => {
      const shown = await page
        .locator('#utilisation-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-unit')));
      return shown.length === 1 && shown[0] === lab;
    });
    await until('the section’s analyzer only', async () => {
      const names = await page
        .locator('#health-table tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-sender') ?? ''));
      const expected = `CHEM-${lab.replace(/^demo-/, '').toUpperCase()}`;
      return names.length === 1 && names[0] === expected;
    });
    await shot('dashboard-section');
    // Back to today: asked again for today's hours.
    const today = page.waitForRequest((r) => r.url().includes('/mi/throughput?window=today&by=hour'));
    await page.selectOption('#mi-period', 'today');
    await today;
    await page.waitForSelector('#throughput[aria-busy="false"]');
  });

  it('the department manager sees the dashboard and the requisition patterns', async () => {
    await signInAs('demo-department-manager', '#/dashboard');
    await page.waitForSelector('#patterns table');
    assert.ok((await page.locator('#patterns tbody tr').count()) > 0);
    await page.waitForSelector('#funnel-chart canvas');
    await shot('dashboard-manager');
  });

  it('an admin sees the rule set, dry-runs it, a broken set is refused and a valid one activated', async () => {
    await signInAs('demo-admin', '#/rules');
    await page.waitForSelector('#active-version');
    const before = await text('#active-version');
    assert.ok((await page.locator('#rule-table tbody tr').count()) > 10);
    await page.click('#dry-run');
    await page.waitForSelector('#dry-run-result tr');
    await page.waitForSelector('#unmapped[aria-busy="false"]');
    await page.waitForSelector('#concept-maps[aria-busy="false"]');
    await shot('rules');
    const valid = await page.inputValue('#ruleset-json');
    await page.fill('#ruleset-json', JSON.stringify({ name: 'broken', rules: [{ id: 'x' }] }));
    await page.click('#activate');
    const refusal = page.locator('#ruleset-outcome [role="alert"]');
    await refusal.waitFor();
    assert.match((await refusal.textContent()) ?? '', /422/);
    assert.equal(await text('#active-version'), before);
    await page.fill('#ruleset-json', valid);
    await page.click('#activate');
    await page.waitForSelector('#activated');
    assert.match(await text('#activated'), /\d/);
    // The screen reloads the rule set: the new version is the active one.
    const activated = (await text('#activated')).split(': ')[1]!.trim();
    for (let i = 0; i < 100 && (await text('#active-version')) !== activated; i++) await page.waitForTimeout(100);
    assert.equal(await text('#active-version'), activated);
    assert.notEqual(activated, before);
    assert.deepEqual(errors, []);
  });
});
