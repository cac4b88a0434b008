import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Observation, Provenance } from '@medplum/fhirtypes';
import { buildCatalogue } from '../src/core/ordering/catalogue.ts';
import { draftsFromServiceRequests } from '../src/core/ordering/draft-orders.ts';
import { SEED_RULE_SET } from '../src/core/ordering/seed/rule-set.ts';
import {
  CARD_EXTENSION,
  type CdsCard,
  cardInfo,
  INDICATION_LABELS,
  indicationsFor,
  orderSelectRequest,
  overridable,
} from '../web/src/lib/cds.ts';
import { healthRows, type Indicator, throughputSeries } from '../web/src/lib/operations.ts';
import { formatCpr, patientQuery } from '../web/src/lib/patient.ts';
import { authorizeUrl, codeChallenge, codeVerifier, tokenRequestBody } from '../web/src/lib/pkce.ts';
import { cumulativeTable, isCritical, originIndex, timeline, trendPoints } from '../web/src/lib/results.ts';
import { screensFor, sessionFromToken, vaerdispringHeader } from '../web/src/lib/session.ts';

const NPU = 'urn:oid:1.2.208.176.2.1';
const obs = (
  code: string,
  at: string,
  value: number,
  flag?: string,
  performer = 'Organization/lab-a',
): Observation => ({
  resourceType: 'Observation',
  id: `${code}-${at}`,
  status: 'final',
  code: { coding: [{ system: NPU, code }], text: code },
  effectiveDateTime: at,
  performer: [{ reference: performer }],
  valueQuantity: { value, unit: 'mmol/L' },
  referenceRange: [{ low: { value: 3.5 }, high: { value: 4.4 } }],
  ...(flag ? { interpretation: [{ coding: [{ code: flag }] }] } : {}),
});

describe('web app: result views (pure)', () => {
  const k1 = obs('NPU03230', '2026-11-20T07:00:00Z', 4.1);
  const k2 = obs('NPU03230', '2026-11-22T07:00:00Z', 6.4, 'HH', 'Organization/lab-b');
  const na2 = obs('NPU03429', '2026-11-22T07:00:00Z', 134, 'L');

  it('builds the cumulative table: analyses as rows in first-seen order, times newest first', () => {
    const t = cumulativeTable([k1, k2, na2]);
    assert.deepEqual(
      t.analyses.map((a) => a.key),
      [`${NPU}|NPU03230`, `${NPU}|NPU03429`],
    );
    assert.deepEqual(t.times, ['2026-11-22T07:00:00Z', '2026-11-20T07:00:00Z']);
    assert.equal(t.cells.size, 3);
  });

  it('trend points are oldest first with the lab’s reference interval; only LL/HH/AA are critical', () => {
    const p = trendPoints([k2, na2, k1], `${NPU}|NPU03230`);
    assert.deepEqual(
      p.map((x) => [x.value, x.low, x.high, x.critical]),
      [
        [4.1, 3.5, 4.4, false],
        [6.4, 3.5, 4.4, true],
      ],
    );
    assert.deepEqual(['LL', 'HH', 'AA', 'H', 'L', 'A', 'N', undefined].map(isCritical), [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('puts results of every organisation and imaging studies on one timeline, newest first', () => {
    const entries = timeline(
      [k1, k2],
      [{ resourceType: 'ImagingStudy', status: 'available', subject: {}, started: '2026-11-21T11:00:00Z' }],
      [],
    );
    assert.deepEqual(
      entries.map((e) => [e.kind, e.org]),
      [
        ['lab', 'Organization/lab-b'],
        ['imaging', undefined],
        ['lab', 'Organization/lab-a'],
      ],
    );
  });

  it('indexes Provenance by target: the latest record names the sender and the source message', () => {
    const p = (recorded: string, source: string): Provenance => ({
      resourceType: 'Provenance',
      recorded,
      target: [{ reference: 'Observation/x' }],
      agent: [{ who: { display: 'LAB^HOSP' } }],
      entity: [{ role: 'source', what: { reference: source } }],
    });
    const index = originIndex([p('2026-11-23T00:00:00Z', 'Binary/new'), p('2026-11-22T00:00:00Z', 'Binary/old')]);
    assert.deepEqual(index.get('Observation/x'), {
      agents: ['LAB^HOSP'],
      recorded: '2026-11-23T00:00:00Z',
      source: 'Binary/new',
    });
  });
});

describe('web app: sign-in (pure)', () => {
  it('computes the PKCE S256 challenge of RFC 7636 appendix B', async () => {
    assert.equal(
      await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
    const v = codeVerifier();
    assert.match(v, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(v, codeVerifier());
  });

  it('builds the authorization request from the discovery document, and refuses one without endpoints', () => {
    const url = authorizeUrl(
      { authorization_endpoint: 'https://idp.example/auth', token_endpoint: 'https://idp.example/token' },
      {
        clientId: 'c',
        redirectUri: 'https://dx/',
        scope: 'openid',
        state: 's',
        challenge: 'ch',
        audience: 'https://dx/fhir',
      },
    );
    assert.equal(url.origin + url.pathname, 'https://idp.example/auth');
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('aud'), 'https://dx/fhir');
    assert.throws(
      () =>
        authorizeUrl({}, { clientId: 'c', redirectUri: 'r', scope: 's', state: 's', challenge: 'c', audience: 'a' }),
      /authorization_endpoint/,
    );
    assert.throws(
      () =>
        authorizeUrl(
          {
            authorization_endpoint: 'https://a/',
            token_endpoint: 'https://t/',
            code_challenge_methods_supported: ['plain'],
          },
          { clientId: 'c', redirectUri: 'r', scope: 's', state: 's', challenge: 'c', audience: 'a' },
        ),
      /S256/,
    );
    assert.match(
      tokenRequestBody('abc', 'ver', 'c', 'https://dx/'),
      /grant_type=authorization_code&code=abc&code_verifier=ver/,
    );
  });

  it('reads the session from the token claims and offers each role its screens', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'u1', role: 'clinician', org: 'x', exp: 2 })).toString(
      'base64url',
    );
    const s = sessionFromToken(`e30.${payload}.sig`, 'Karen');
    assert.deepEqual(s, {
      token: `e30.${payload}.sig`,
      user: 'u1',
      role: 'clinician',
      exp: 2,
      name: 'Karen',
      org: 'x',
    });
    assert.throws(() => sessionFromToken('nojwt'), /not a JWT/);
    assert.deepEqual(screensFor('clinician'), ['patients', 'order']);
    assert.deepEqual(screensFor('lab-physician'), ['patients', 'order', 'review', 'dashboard']);
    assert.deepEqual(screensFor('lab-technologist'), ['patients', 'review', 'dashboard']);
    assert.deepEqual(screensFor('department-manager'), ['counts', 'dashboard']);
    assert.deepEqual(screensFor('admin'), ['admin', 'review', 'dashboard', 'rules']);
    assert.deepEqual(screensFor('researcher'), ['counts']);
    assert.deepEqual(screensFor('citizen'), ['mine']);
  });

  it('builds the værdispring header with the reason percent-encoded, and refuses a reason out of 5–500', () => {
    assert.equal(
      vaerdispringHeader('vital-interest', ' Bevidstløs patient '),
      'vital-interest; Bevidstl%C3%B8s%20patient',
    );
    assert.throws(() => vaerdispringHeader('consent', 'kort'), /5–500/);
  });
});

describe('web app: patient look-up and layering', () => {
  it('searches by CPR (with or without the dash) or by name', () => {
    assert.equal(
      patientQuery('010180-1234'),
      '/fhir/Patient?identifier=urn%3Aoid%3A1.2.208.176.1.2%7C0101801234&_count=20',
    );
    assert.equal(patientQuery(' Nielsen '), '/fhir/Patient?name=Nielsen&_count=20');
    assert.equal(patientQuery('01018012'), '/fhir/Patient?name=01018012&_count=20');
    assert.equal(
      formatCpr({ resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.208.176.1.2', value: '0101801234' }] }),
      '010180-1234',
    );
  });

  it('talks to the server over HTTP only: nothing under web/src imports server code', () => {
    const root = join(import.meta.dirname, '..', 'web', 'src');
    const offenders = globSync('**/*.{ts,tsx}', { cwd: root }).filter((f) =>
      /from ['"](\.\.\/)+(src|bench|scripts|test)\//.test(readFileSync(join(root, f), 'utf8')),
    );
    assert.deepEqual(offenders, []);
  });
});

describe('order entry as a CDS Hooks client (lib/cds.ts)', () => {
  it('builds an order-select request: every basket test a draft ServiceRequest, all selected', () => {
    const req = orderSelectRequest(
      'demo-clinician',
      'p1',
      [
        { id: 'crp', code: { system: 'http://npu-terminology.org', code: 'NPU19748' } },
        { id: 'esr', code: { system: 'urn:dxhub:local:analysis', code: 'ESR' } },
      ],
      '0b6f3c4e-1d2a-4b5c-8d9e-0f1a2b3c4d5e',
    );
    assert.equal(req.hook, 'order-select');
    assert.equal(req.context.userId, 'Practitioner/demo-clinician');
    assert.deepEqual(req.context.selections, ['ServiceRequest/draft-crp', 'ServiceRequest/draft-esr']);
    const first = req.context.draftOrders.entry[0]!.resource;
    assert.equal(first.id, 'draft-crp');
    assert.equal(first.status, 'draft');
    assert.deepEqual(first.code.coding, [{ system: 'http://npu-terminology.org', code: 'NPU19748' }]);
    assert.equal(first.subject.reference, 'Patient/p1');
  });
  it('carries priority, indications and symptom onset on every draft, as the server maps them', () => {
    const req = orderSelectRequest(
      'u',
      'p1',
      [{ id: 'vitamin-d', code: { system: 'http://npu-terminology.org', code: 'NPU10267' } }],
      'h',
      { priority: 'urgent', indications: ['osteoporosis', 'ckd'], onset: '2026-11-20' },
    );
    const draft = req.context.draftOrders.entry[0]!.resource;
    assert.equal(draft.priority, 'urgent');
    assert.deepEqual(draft.reasonCode, [
      { coding: [{ system: 'urn:dxhub:local:indication', code: 'osteoporosis' }] },
      { coding: [{ system: 'urn:dxhub:local:indication', code: 'ckd' }] },
    ]);
    assert.deepEqual(draft.extension, [{ url: 'urn:dxhub:ordering:symptom-onset', valueDate: '2026-11-20' }]);
    const mapped = draftsFromServiceRequests([draft], buildCatalogue());
    assert.ok(mapped.ok, JSON.stringify(mapped));
    assert.deepEqual(mapped.drafts[0], {
      id: 'draft-vitamin-d',
      test: 'vitamin-d',
      priority: 'urgent',
      indications: ['osteoporosis', 'ckd'],
      onset: Date.parse('2026-11-20'),
    });
    // Without details: no priority, reasonCode or extension (the server's defaults apply).
    const bare = orderSelectRequest('u', 'p1', [{ id: 'crp', code: { system: 's', code: 'c' } }], 'h').context
      .draftOrders.entry[0]!.resource;
    assert.deepEqual(Object.keys(bare).sort(), ['code', 'id', 'intent', 'resourceType', 'status', 'subject']);
  });
  it('offers the indication codes the active rules of the basket read, and only those', () => {
    const rules = SEED_RULE_SET.rules;
    assert.deepEqual(indicationsFor(rules, []), []);
    const vitd = indicationsFor(rules, ['vitamin-d']);
    assert.deepEqual(vitd, ['ckd', 'malabsorption', 'osteoporosis', 'symptoms', 'vitd-risk']);
    assert.ok(!indicationsFor(rules, ['crp']).includes('osteoporosis'));
    // A rule for every test ('*') offers its codes for any basket.
    assert.deepEqual(indicationsFor([{ tests: ['*'], when: [{ kind: 'indication', codes: ['x'] }] }], ['crp']), ['x']);
    // Every seed indication has a Danish and an English label.
    const all = indicationsFor(
      rules,
      rules.flatMap((r) => r.tests),
    );
    assert.deepEqual(
      all.filter((c) => !INDICATION_LABELS[c]?.da || !INDICATION_LABELS[c]?.en),
      [],
    );
  });
  it('reads rule, action, test and override roles from dxhub’s card extension, else from the card itself', () => {
    const card: CdsCard = {
      uuid: 'u1',
      summary: 's',
      indicator: 'critical',
      source: { label: 'x', topic: { system: 'urn:dxhub:ordering:rule', code: 'duplicate-open-order' } },
      suggestions: [
        { uuid: 's1', label: 'remove', actions: [{ type: 'delete', resourceId: 'ServiceRequest/draft-tsh' }] },
      ],
    };
    assert.deepEqual(cardInfo(card), {
      rule: 'duplicate-open-order',
      action: 'block',
      orderId: 'draft-tsh',
      test: 'tsh',
    });
    const ext = {
      ...card,
      extension: {
        [CARD_EXTENSION]: {
          rule: 'duplicate-open-order',
          action: 'block',
          orderId: 'draft-tsh',
          test: 'tsh',
          overrideRoles: ['lab-physician'],
        },
      },
    };
    const info = cardInfo(ext);
    assert.deepEqual(info.overrideRoles, ['lab-physician']);
    assert.equal(overridable(info, 'clinician'), false);
    assert.equal(overridable(info, 'lab-physician'), true);
    assert.equal(overridable({ action: 'warning' }, 'clinician'), true);
  });
});

describe('dashboard views (lib/operations.ts)', () => {
  const row = (measure: string, group: string, n: number): Indicator => ({
    measure,
    group,
    n,
    perHour: 0,
    withinTargetPercent: null,
  });
  it('throughput per hour: today up to the latest hour with counts; 7 days as the mean per hour of day', () => {
    const rows = [row('results', '00', 4), row('results', '02', 10), row('orders', '02', 3)];
    const today = throughputSeries(rows, 'today');
    assert.deepEqual(today.hours, ['00', '01', '02']);
    assert.deepEqual(today.series.results, [4, 0, 10]);
    assert.deepEqual(today.series.orders, [0, 0, 3]);
    assert.deepEqual(today.series.completed, [0, 0, 0]);
    const week = throughputSeries(rows, '7d');
    assert.equal(week.hours.length, 24);
    assert.equal(week.series.results![2], 1.4);
  });
  it('interface health: HL7 senders with dead letters and negative ACKs as errors, analyzers with failures', () => {
    const rows = healthRows({
      windowHours: 24,
      hl7Senders: [{ sender: 'LIS^F', lastContact: null, messagesInWindow: 5, silentMinutes: 40, silent: true }],
      analyzers: [
        {
          analyzer: 'CHEM-1',
          lastContact: null,
          messagesInWindow: 2,
          silentMinutes: 0,
          silent: false,
          queueDepth: 1,
          failed: 3,
        },
      ],
      ingest: {
        senders: [
          {
            sender: 'LIS^F',
            inbox: { queueDepth: 7, deadLetters: 2, processingFailures: 0 },
            listeners: { mllp: { acks: { AA: 5, AE: 1, AR: 1 } } },
          },
        ],
      },
    });
    assert.deepEqual(
      rows.map((r) => [r.name, r.kind, r.messagesInWindow, r.errors, r.queueDepth, r.silent]),
      [
        ['LIS^F', 'HL7 v2', 5, 4, 7, true],
        ['CHEM-1', 'ASTM', 2, 3, 1, false],
      ],
    );
  });
});
