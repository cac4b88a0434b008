import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, SignJWT } from 'jose';
import { buildTestApp, type TestApp, type TestUser } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { CPR_SYSTEM, observation, patient } from '../../test/support/factories.ts';
import { SOR_SYSTEM } from '../access/index.ts';
import { verifyAuditChain } from '../audit/index.ts';
import type { Resource } from '../store/repository.ts';

/**
 * Security over HTTP, on every dialect: authentication, SMART scopes, roles, the treatment
 * relation (§ 42 a), patient blocks, værdispring, the audit trail and the citizen's view of it.
 *
 * The region: hospital H with a medical department (MED), a lab (KBA) and, elsewhere, hospital O
 * with its own medical department (OMED). P1 is admitted to MED; P2 has no relation to MED but an
 * order to KBA; P3 is admitted to MED and has blocked data from KBA; P4 is admitted to MED and
 * to OMED and has blocked MED (recipient block).
 */

interface Outcome {
  resourceType: string;
  issue: { severity: string; code: string; diagnostics?: string }[];
}
interface Bundle {
  resourceType: 'Bundle';
  total?: number;
  entry?: { resource?: Resource & Record<string, unknown>; search?: { mode: string }; response?: { status: string } }[];
}

const org = (id: string, code: string, parent?: string): Resource => ({
  resourceType: 'Organization',
  id,
  identifier: [{ system: SOR_SYSTEM, value: code }],
  name: id,
  ...(parent ? { partOf: { reference: `Organization/${parent}` } } : {}),
});

const encounter = (id: string, pat: string, provider: string, status = 'in-progress'): Resource => ({
  resourceType: 'Encounter',
  id,
  status,
  class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
  subject: { reference: `Patient/${pat}` },
  serviceProvider: { reference: `Organization/${provider}` },
});

const obsFrom = (id: string, pat: string, performer: string, code = '718-7'): Resource => ({
  ...observation({ subject: `Patient/${pat}`, code }),
  id,
  performer: [{ reference: `Organization/${performer}` }],
});

const MED: TestUser = { user: 'dr-med', role: 'clinician', org: 'sor-med', fhirUser: 'Practitioner/dr-med' };
const OMED: TestUser = { user: 'dr-omed', role: 'clinician', org: 'sor-omed' };
const HOSPITAL: TestUser = { user: 'dr-h', role: 'clinician', org: 'sor-h' };
const LAB: TestUser = { user: 'bl-kba', role: 'lab-technologist', org: 'sor-kba' };

for (const dialect of await testDialects()) {
  describe(`security over HTTP on ${dialect}`, () => {
    let dx: TestApp;
    const as = async (user: TestUser | undefined, method: string, url: string, body?: unknown, headers = {}) => {
      const r = await dx.app.inject({
        method: method as 'GET',
        url,
        headers: {
          authorization: user ? await dx.bearer(user) : await dx.bearer(),
          ...(body !== undefined ? { 'content-type': 'application/fhir+json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return {
        status: r.statusCode,
        headers: r.headers,
        json: <T = Resource>() => JSON.parse(r.body) as T,
        body: r.body,
      };
    };
    const ids = (b: Bundle, mode = 'match') =>
      (b.entry ?? [])
        .filter((e) => e.search?.mode === mode)
        .map((e) => `${e.resource!.resourceType}/${e.resource!.id}`)
        .sort();
    const auditRows = async () => {
      await dx.audit.flushed();
      return dx.repo.db.all<{
        action: string;
        patient: string | null;
        agent: string;
        purpose: string | null;
        event: string;
      }>('SELECT action, patient, agent, purpose, event FROM audit_log ORDER BY seq');
    };

    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
      const put = async (r: Resource) => {
        const res = await as(undefined, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r);
        assert.ok(res.status < 300, `${r.resourceType}/${r.id}: ${res.body}`);
      };
      for (const r of [
        org('region', 'sor-region'),
        org('h', 'sor-h', 'region'),
        org('med', 'sor-med', 'h'),
        org('kba', 'sor-kba', 'h'),
        org('o', 'sor-o', 'region'),
        org('omed', 'sor-omed', 'o'),
      ])
        await put(r);
      for (const [id, cpr] of [
        ['p1', '0101801234'],
        ['p2', '0202802345'],
        ['p3', '0303803456'],
        ['p4', '0404804567'],
      ] as const) {
        await put({ ...patient({ identifier: [{ system: CPR_SYSTEM, value: cpr }] }), id });
      }
      await put(encounter('e1', 'p1', 'med'));
      await put(encounter('e3', 'p3', 'med'));
      await put(encounter('e4', 'p4', 'med'));
      await put(encounter('e4b', 'p4', 'omed'));
      // A finished stay makes no relation.
      await put(encounter('e2', 'p2', 'med', 'finished'));
      await put({
        resourceType: 'ServiceRequest',
        id: 'sr2',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p2' },
        code: { text: 'Hæmoglobin' },
        performer: [{ reference: 'Organization/kba' }],
      });
      await put({
        resourceType: 'ServiceRequest',
        id: 'sr3',
        status: 'active',
        intent: 'order',
        subject: { reference: 'Patient/p3' },
        code: { text: 'Hæmoglobin' },
        performer: [{ reference: 'Organization/kba' }],
      });
      for (const [id, pat, perf] of [
        ['o1', 'p1', 'kba'],
        ['o2', 'p2', 'kba'],
        ['o3-kba', 'p3', 'kba'],
        ['o3-med', 'p3', 'med'],
        ['o4', 'p4', 'kba'],
      ] as const) {
        await put(obsFrom(id, pat, perf));
      }
      // P3 blocks data from the lab (KBA) for everyone else.
      await put({
        resourceType: 'Consent',
        id: 'c3',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: 'Patient/p3' },
        provision: {
          type: 'deny',
          actor: [
            {
              role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'CST' }] },
              reference: { reference: 'Organization/kba' },
            },
          ],
        },
      });
      // P4 blocks MED (and its sub-units) from the whole record.
      await put({
        resourceType: 'Consent',
        id: 'c4',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: 'Patient/p4' },
        provision: {
          type: 'deny',
          actor: [
            {
              role: {
                coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
              },
              reference: { reference: 'Organization/med' },
            },
          ],
        },
      });
    });
    after(async () => dx?.close());

    it('every route but the public discovery and health routes refuses a request without a valid token', async () => {
      const publicRoutes = dx.routes
        .filter((r) => r.public)
        .map((r) => `${r.method} ${r.url}`)
        .sort();
      assert.deepEqual(publicRoutes, [
        'GET /',
        'GET /.well-known/jwks.json',
        'GET /.well-known/openid-configuration',
        'GET /app',
        'GET /app/*',
        'GET /assets/:file',
        'GET /favicon.ico',
        'GET /fhir/.well-known/smart-configuration',
        'GET /fhir/metadata',
        'GET /healthz',
        'GET /readyz',
        'HEAD /',
        'HEAD /.well-known/jwks.json',
        'HEAD /.well-known/openid-configuration',
        'HEAD /app',
        'HEAD /app/*',
        'HEAD /assets/:file',
        'HEAD /favicon.ico',
        'HEAD /fhir/.well-known/smart-configuration',
        'HEAD /fhir/metadata',
        'HEAD /healthz',
        'HEAD /readyz',
      ]);
      const guarded = dx.routes.filter((r) => !r.public);
      assert.ok(guarded.length >= 15, `only ${guarded.length} routes`);
      for (const r of guarded) {
        const url = r.url.replace(':type', 'Observation').replace(':id', 'o1').replace(':vid', '1');
        for (const authorization of ['', 'Bearer not.a.token', 'Basic dXNlcjpwYXNz']) {
          const res = await dx.rawInject({
            method: r.method as 'GET',
            url,
            headers: { authorization, 'content-type': 'application/fhir+json' },
            ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { payload: '{}' }),
          });
          assert.equal(res.statusCode, 401, `${r.method} ${url} with '${authorization}' answered ${res.statusCode}`);
          if (r.method !== 'HEAD') {
            assert.equal(JSON.parse(res.body).resourceType, 'OperationOutcome');
            assert.doesNotMatch(res.body, /"resourceType":"Observation"/);
          }
          assert.match(String(res.headers['www-authenticate']), /^Bearer realm="dxhub"/);
        }
      }
      // Unknown paths are refused too: nothing answers an anonymous caller but the public routes.
      const unknown = await dx.rawInject({ method: 'GET', url: '/nothing/here', headers: { authorization: '' } });
      assert.equal(unknown.statusCode, 401);
    });

    it('refuses expired, not-yet-valid, wrong-audience, wrong-issuer, alg none and re-signed tokens, and audits each', async () => {
      const key = dx.auth.issuer!.keys.active();
      const now = Math.floor(Date.now() / 1000);
      const claims = { role: 'integration', org: 'test-org', scope: 'system/*.cruds' };
      const sign = (
        over: { iss?: string; aud?: string; iat?: number; exp?: number; nbf?: number },
        k = key.privateKey,
        kid = key.kid,
      ) =>
        new SignJWT({ ...claims, ...(over.nbf ? { nbf: over.nbf } : {}) })
          .setProtectedHeader({ alg: 'ES256', kid })
          .setIssuer(over.iss ?? dx.auth.issuerUrl)
          .setAudience(over.aud ?? dx.auth.audience)
          .setSubject('attacker')
          .setJti(crypto.randomUUID())
          .setIssuedAt(over.iat ?? now)
          .setExpirationTime(over.exp ?? now + 300)
          .sign(k);
      const other = await generateKeyPair('ES256');
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const cases: [string, string][] = [
        ['expired', await sign({ iat: now - 7200, exp: now - 3600 })],
        ['not yet valid', await sign({ nbf: now + 3600 })],
        ['wrong audience', await sign({ aud: 'https://elsewhere.example/fhir' })],
        ['wrong issuer', await sign({ iss: 'https://evil.example' })],
        ['re-signed with another key, same kid', await sign({}, other.privateKey)],
        [
          'alg none',
          `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: dx.auth.issuerUrl, aud: dx.auth.audience, sub: 'x', jti: 'j', iat: now, exp: now + 60 })}.`,
        ],
      ];
      const before = (await auditRows()).length;
      for (const [name, token] of cases) {
        const r = await dx.rawInject({
          method: 'GET',
          url: '/fhir/Observation/o1',
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(r.statusCode, 401, `${name}: ${r.body}`);
        assert.match(String(r.headers['www-authenticate']), /error="invalid_token"/, name);
        assert.doesNotMatch(r.body, /0101801234|"Observation"/, name);
      }
      // The valid control token works.
      const ok = await dx.rawInject({
        method: 'GET',
        url: '/fhir/Observation/o1',
        headers: { authorization: `Bearer ${await sign({})}` },
      });
      assert.equal(ok.statusCode, 200);
      const denied = (await auditRows()).slice(before).filter((r) => r.action === 'denied');
      assert.equal(denied.length, cases.length);
    });

    it('enforces SMART scopes per interaction; a token never holds more than its role', async () => {
      // A clinician asking for everything gets the clinician's list: no delete, no Organization writes.
      const greedy: TestUser = { ...MED, scope: 'user/*.cruds' };
      assert.equal((await as(greedy, 'GET', '/fhir/Observation/o1')).status, 200);
      assert.equal((await as(greedy, 'DELETE', '/fhir/Observation/o1')).status, 403);
      const orgWrite = await as(greedy, 'PUT', '/fhir/Organization/med', org('med', 'sor-med', 'h'));
      assert.equal(orgWrite.status, 403);
      assert.equal(orgWrite.json<Outcome>().issue[0]!.code, 'forbidden');
      // A narrowed token: Observations only.
      const narrow: TestUser = { ...MED, scope: 'user/Observation.rs' };
      assert.equal((await as(narrow, 'GET', '/fhir/Observation/o1')).status, 200);
      assert.equal((await as(narrow, 'GET', '/fhir/Patient/p1')).status, 403);
      assert.equal((await as(narrow, 'GET', '/fhir/Patient?_id=p1')).status, 403);
      // ... and no reaching Patients through _include either.
      const inc = await as(narrow, 'GET', '/fhir/Observation?_id=o1&_include=Observation:subject');
      assert.equal(inc.status, 200);
      assert.deepEqual(ids(inc.json<Bundle>(), 'include'), []);
      // Nobody writes the audit trail through the API.
      assert.equal((await as(undefined, 'POST', '/fhir/AuditEvent', { resourceType: 'AuditEvent' })).status, 403);
      // The identity operations need Patient update rights.
      assert.equal((await as(MED, 'POST', '/fhir/Patient/$merge', { resourceType: 'Parameters' })).status, 403);
    });

    it('a clinician reads a patient only in a current treatment relation (§ 42 a)', async () => {
      assert.equal((await as(MED, 'GET', '/fhir/Observation/o1')).status, 200);
      assert.equal((await as(MED, 'GET', '/fhir/Patient/p1')).status, 200);
      const no = await as(MED, 'GET', '/fhir/Observation/o2');
      assert.equal(no.status, 403);
      assert.match(no.json<Outcome>().issue[0]!.diagnostics!, /treatment relation/);
      assert.doesNotMatch(no.body, /0202802345|718-7/);
      assert.equal((await as(MED, 'GET', '/fhir/Patient/p2')).status, 403);
      // A unit above the treating department (the hospital) has the relation; another hospital has not.
      assert.equal((await as(HOSPITAL, 'GET', '/fhir/Observation/o1')).status, 200);
      assert.equal((await as(OMED, 'GET', '/fhir/Observation/o1')).status, 403);
      // The lab sees the patient its order is for.
      assert.equal((await as(LAB, 'GET', '/fhir/Observation/o2')).status, 200);
      // vread and instance history are guarded the same way.
      assert.equal((await as(MED, 'GET', '/fhir/Observation/o2/_history/1')).status, 403);
      const hist = await as(MED, 'GET', '/fhir/Observation/o2/_history');
      assert.equal(hist.status, 200);
      assert.equal(hist.json<Bundle>().entry?.length ?? 0, 0);
    });

    it('searches never return other patients: parameters, _include, _revinclude, chains, _has, _history, Provenance', async () => {
      const all = await as(MED, 'GET', '/fhir/Observation?code=718-7');
      assert.deepEqual(ids(all.json<Bundle>()), ['Observation/o1', 'Observation/o3-med']);
      // Withheld results are counted in an OperationOutcome, never shown, and no total is given.
      assert.equal(all.json<Bundle>().total, undefined);
      assert.match(all.body, /withheld/);
      assert.doesNotMatch(all.body, /"id":"o2"|0202802345/);
      const bySubject = await as(MED, 'GET', '/fhir/Observation?subject=Patient/p2');
      assert.deepEqual(ids(bySubject.json<Bundle>()), []);
      const chained = await as(MED, 'GET', `/fhir/Observation?subject.identifier=${CPR_SYSTEM}|0202802345`);
      assert.deepEqual(ids(chained.json<Bundle>()), []);
      const has = await as(MED, 'GET', '/fhir/Patient?_has:Observation:subject:code=718-7');
      assert.deepEqual(ids(has.json<Bundle>()), ['Patient/p1', 'Patient/p3', 'Patient/p4']);
      const rev = await as(MED, 'GET', '/fhir/Patient?_id=p1,p2&_revinclude=Observation:subject');
      assert.deepEqual(ids(rev.json<Bundle>()), ['Patient/p1']);
      assert.deepEqual(ids(rev.json<Bundle>(), 'include'), ['Observation/o1']);
      const inc = await as(MED, 'GET', '/fhir/Observation?_id=o1,o2&_include=Observation:subject');
      assert.deepEqual(ids(inc.json<Bundle>(), 'include'), ['Patient/p1']);
      const history = await as(MED, 'GET', '/fhir/Observation/_history');
      const seen = (history.json<Bundle>().entry ?? []).map((e) => e.resource?.id);
      assert.ok(seen.includes('o1') && !seen.includes('o2'), JSON.stringify(seen));
      // A count over every patient is management information.
      assert.equal((await as(MED, 'GET', '/fhir/Observation?_summary=count')).status, 403);
      const one = await as(MED, 'GET', '/fhir/Observation?subject=Patient/p1&_summary=count');
      assert.equal(one.json<Bundle>().total, 1);
    });

    it('batch and transaction entries are authorised one by one; conditional references cannot reach other patients', async () => {
      const batch = await as(MED, 'POST', '/fhir', {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Observation/o1' } },
          { request: { method: 'GET', url: 'Observation/o2' } },
          { request: { method: 'GET', url: 'Observation?subject=Patient/p2' } },
        ],
      });
      const statuses = batch.json<Bundle>().entry!.map((e) => e.response!.status);
      assert.deepEqual(statuses.slice(0, 2), ['200 OK', '403']);
      assert.doesNotMatch(batch.body, /"id":"o2"/);
      // A transaction writing for an unrelated patient fails whole.
      const tx = await as(MED, 'POST', '/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: {
              resourceType: 'ServiceRequest',
              status: 'active',
              intent: 'order',
              code: { text: 'Kreatinin' },
              subject: { reference: 'Patient/p2' },
            },
            request: { method: 'POST', url: 'ServiceRequest' },
          },
        ],
      });
      assert.equal(tx.status, 403, tx.body);
      const viaCondRef = await as(MED, 'POST', '/fhir', {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: {
              resourceType: 'ServiceRequest',
              status: 'active',
              intent: 'order',
              code: { text: 'Kreatinin' },
              subject: { reference: `Patient?identifier=${CPR_SYSTEM}|0202802345` },
            },
            request: { method: 'POST', url: 'ServiceRequest' },
          },
        ],
      });
      assert.equal(viaCondRef.status, 403, viaCondRef.body);
      const none = await as(undefined, 'GET', '/fhir/ServiceRequest?subject=Patient/p2');
      assert.deepEqual(ids(none.json<Bundle>()), ['ServiceRequest/sr2']);
      // The same order for the admitted patient is accepted, and audited in its own transaction.
      const okOrder = await as(MED, 'POST', '/fhir/ServiceRequest', {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        code: { text: 'Kreatinin' },
        subject: { reference: 'Patient/p1' },
      });
      assert.equal(okOrder.status, 201, okOrder.body);
      const rows = await auditRows();
      const created = rows.find((r) => r.action === 'create' && r.agent === 'Practitioner/dr-med');
      assert.equal(created?.patient, 'p1');
    });

    it('patient blocks (Consent deny) hide data from other organisations; the source keeps it', async () => {
      // P3 blocked data from KBA: MED (related) sees MED's result, not KBA's; KBA still sees its own.
      assert.equal((await as(MED, 'GET', '/fhir/Observation/o3-med')).status, 200);
      const blocked = await as(MED, 'GET', '/fhir/Observation/o3-kba');
      assert.equal(blocked.status, 403);
      assert.match(blocked.json<Outcome>().issue[0]!.diagnostics!, /blocked/);
      assert.equal((await as({ ...LAB, user: 'bl2' }, 'GET', '/fhir/Observation/o3-kba')).status, 200);
      // The demographics stay visible (a block covers health data).
      assert.equal((await as(MED, 'GET', '/fhir/Patient/p3')).status, 200);
      // P4 blocked MED: MED sees nothing of P4's results, OMED (also treating) does.
      assert.equal((await as(MED, 'GET', '/fhir/Observation/o4')).status, 403);
      assert.equal((await as(OMED, 'GET', '/fhir/Observation/o4')).status, 200);
    });

    it('værdispring lets a clinician through, is audited as such and listed for review', async () => {
      const bad = await as(MED, 'GET', '/fhir/Observation/o2', undefined, { 'x-vaerdispring': 'because' });
      assert.equal(bad.status, 400);
      const reason = encodeURIComponent('Bevidstløs patient i akutmodtagelsen');
      const r = await as(MED, 'GET', '/fhir/Observation/o2', undefined, {
        'x-vaerdispring': `vital-interest; ${reason}`,
      });
      assert.equal(r.status, 200, r.body);
      const blocked = await as(MED, 'GET', '/fhir/Observation/o4', undefined, {
        'x-vaerdispring': 'consent; patient agreed verbally',
      });
      assert.equal(blocked.status, 200);
      const rows = await auditRows();
      const bg = rows.filter((x) => x.action === 'break-glass');
      assert.deepEqual(bg.map((x) => x.patient).sort(), ['p2', 'p4']);
      assert.match(bg.find((x) => x.patient === 'p2')!.event, /Bevidstløs patient i akutmodtagelsen/);
      assert.equal(bg.find((x) => x.patient === 'p2')!.purpose, 'ETREAT');
      // The admin's follow-up list: every værdispring, newest first.
      const review = await as(
        { user: 'admin', role: 'admin', org: 'sor-region' },
        'GET',
        '/fhir/AuditEvent?subtype=110127',
      );
      assert.equal(review.status, 200);
      const events = review.json<Bundle>().entry!.map((e) => e.resource!);
      assert.equal(events.length, 2);
      assert.ok(events.every((e) => JSON.stringify(e).includes('110127')));
      // Roles without patient care cannot use it.
      const citizen: TestUser = { user: 'c1', role: 'citizen', patient: 'p1' };
      assert.equal(
        (await as(citizen, 'GET', '/fhir/Observation/o2', undefined, { 'x-vaerdispring': 'consent; xxxxxx' })).status,
        400,
      );
    });

    it('a citizen sees their own record and who looked at it, and nobody else’s', async () => {
      const citizen: TestUser = { user: 'anna', role: 'citizen', patient: 'p1', fhirUser: 'Patient/p1' };
      const own = await as(citizen, 'GET', '/fhir/Observation');
      assert.equal(own.status, 200);
      assert.deepEqual(ids(own.json<Bundle>()), ['Observation/o1']);
      assert.equal((await as(citizen, 'GET', '/fhir/Observation/o2')).status, 403);
      assert.deepEqual(ids((await as(citizen, 'GET', '/fhir/Observation?subject=Patient/p2')).json<Bundle>()), []);
      const pats = await as(citizen, 'GET', '/fhir/Patient');
      assert.deepEqual(ids(pats.json<Bundle>()), ['Patient/p1']);
      // Who looked: the clinician's reads of P1 are there, with organisation and purpose.
      const log = await as(citizen, 'GET', '/fhir/AuditEvent?patient=Patient/p1');
      assert.equal(log.status, 200);
      const events = log.json<Bundle>().entry!.map((e) => JSON.stringify(e.resource));
      assert.ok(events.some((e) => e.includes('Practitioner/dr-med') && e.includes('sor-med')));
      assert.ok(events.every((e) => e.includes('Patient/p1')));
      const mine = await as(citizen, 'GET', '/fhir/AuditEvent');
      assert.ok((mine.json<Bundle>().entry ?? []).length > 0);
      const other = await as(citizen, 'GET', '/fhir/AuditEvent?patient=p2');
      assert.equal(other.status, 403);
      // Entries by id: another patient's entry is not found for the citizen.
      await dx.audit.flushed();
      const rows = await dx.repo.db.all<{ seq: number }>("SELECT seq FROM audit_log WHERE patient = 'p2' LIMIT 1");
      assert.equal((await as(citizen, 'GET', `/fhir/AuditEvent/${rows[0]!.seq}`)).status, 404);
      // Provenance of another patient's data is out of reach as well.
      await as(undefined, 'PUT', '/fhir/Provenance/prov2', {
        resourceType: 'Provenance',
        id: 'prov2',
        target: [{ reference: 'Observation/o2' }],
        recorded: '2026-11-29T10:00:00Z',
        agent: [{ who: { reference: 'Organization/kba' } }],
      });
      const prov = await as({ ...MED, scope: undefined }, 'GET', '/fhir/Provenance?target=Observation/o2');
      assert.ok(prov.status === 403 || ids(prov.json<Bundle>()).length === 0);
    });

    it('aggregate, research and admin roles get what their role allows', async () => {
      const manager: TestUser = { user: 'boss', role: 'department-manager', org: 'sor-kba' };
      const count = await as(manager, 'GET', '/fhir/Observation?_summary=count');
      assert.equal(count.status, 200);
      assert.ok((count.json<Bundle>().total ?? 0) >= 5);
      assert.equal((await as(manager, 'GET', '/fhir/Observation')).status, 403);
      assert.equal((await as(manager, 'GET', '/fhir/Observation/o1')).status, 403);
      const researcher: TestUser = { user: 'ida', role: 'researcher', org: 'sor-region' };
      const res = await as(researcher, 'GET', '/fhir/Observation?_id=o1');
      const o = res.json<Bundle>().entry![0]!.resource!;
      assert.match(String((o.subject as { reference: string }).reference), /^Patient\/pseudo-[0-9a-f]{24}$/);
      assert.equal(o.text, undefined);
      assert.ok(JSON.stringify(o.meta).includes('PSEUDED'));
      assert.equal((await as(researcher, 'GET', '/fhir/Patient/p1')).status, 403);
      const admin: TestUser = { user: 'admin', role: 'admin', org: 'sor-region' };
      assert.equal((await as(admin, 'GET', '/fhir/Observation/o1')).status, 403);
      assert.equal((await as(admin, 'GET', '/fhir/AuditEvent?_count=5')).status, 200);
      assert.equal((await as(MED, 'GET', '/fhir/AuditEvent')).status, 403);
      assert.equal((await as(MED, 'GET', '/metrics')).status, 403);
      assert.equal((await as(admin, 'GET', '/metrics')).status, 200);
    });

    it('every access above is in the hash chain, with the searched patients and the logins', async () => {
      const o1 = (await as(undefined, 'GET', '/fhir/Observation/o1')).json();
      assert.equal((await as(undefined, 'PUT', '/fhir/Observation/o1', { ...o1, status: 'amended' })).status, 200);
      await dx.audit.flushed();
      const rows = await auditRows();
      const actions = new Set(rows.map((r) => r.action));
      for (const a of ['read', 'search', 'create', 'update', 'denied', 'break-glass', 'login']) {
        assert.ok(actions.has(a), `no ${a} entry`);
      }
      const searchPatients = rows
        .filter((r) => r.action === 'search' && r.agent === 'Practitioner/dr-med')
        .map((r) => r.patient);
      assert.ok(searchPatients.includes('p1') && searchPatients.includes('p3'));
      assert.ok(!rows.some((r) => /0101801234|0202802345/.test(r.event)), 'a CPR number in the audit log');
      assert.equal((await verifyAuditChain(dx.repo.db)).ok, true);
    });
  });
}
