import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { SOR_SYSTEM } from '../access/index.ts';
import { CODES } from '../core/results/index.ts';

/** The ordering emergency department and the performing laboratory: their users have the relation (§ 42 a). */
const CLINICIAN = { role: 'clinician', org: 'sor-akut' } as const;
const TECHNOLOGIST = { role: 'lab-technologist', org: 'sor-kba' } as const;
const PHYSICIAN = { role: 'lab-physician', org: 'sor-kba' } as const;

for (const dialect of await testDialects()) {
  describe(`results routes (${dialect})`, () => {
    let dx: TestApp;
    const as = async (role: Parameters<TestApp['bearer']>[0]) => ({ authorization: await dx.bearer(role) });
    const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
      dx.app.inject({
        method: 'POST',
        url,
        payload: payload as object,
        headers: { 'content-type': 'application/json', ...headers },
      });
    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
      const fhir = (type: string, body: object) =>
        post(`/fhir/${type}`, body, { 'content-type': 'application/fhir+json' });
      const p = await fhir('Patient', { resourceType: 'Patient', gender: 'male', birthDate: '1970-01-01' });
      const patient = `Patient/${p.json().id}`;
      const org = await fhir('Organization', {
        resourceType: 'Organization',
        identifier: [{ system: SOR_SYSTEM, value: 'sor-akut' }],
        name: 'Akutmodtagelsen',
      });
      const lab = await fhir('Organization', {
        resourceType: 'Organization',
        identifier: [{ system: SOR_SYSTEM, value: 'sor-kba' }],
        name: 'Klinisk Biokemisk Afdeling',
      });
      const sr = await fhir('ServiceRequest', {
        resourceType: 'ServiceRequest',
        status: 'active',
        intent: 'order',
        subject: { reference: patient },
        requester: { reference: `Organization/${org.json().id}` },
        performer: [{ reference: `Organization/${lab.json().id}` }],
      });
      for (const [id, value] of [
        ['a', 4.0],
        ['b', 7.2],
      ] as const) {
        const r = await dx.app.inject({
          method: 'PUT',
          url: `/fhir/Observation/k-${id}`,
          headers: { 'content-type': 'application/fhir+json' },
          payload: {
            resourceType: 'Observation',
            id: `k-${id}`,
            status: 'preliminary',
            code: { coding: [CODES.potassium] },
            subject: { reference: patient },
            specimen: { reference: 'Specimen/x1' },
            basedOn: [{ reference: `ServiceRequest/${sr.json().id}` }],
            effectiveDateTime: '2026-11-29T10:00:00Z',
            valueQuantity: { value, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
          },
        });
        assert.equal(r.statusCode, 201, r.body);
      }
      await dx.results.drain();
    });
    after(() => dx.close());

    it('review worklist: lab roles only; held result with reasons and history', async () => {
      assert.equal((await dx.app.inject({ url: '/results/review', headers: await as(CLINICIAN) })).statusCode, 403);
      const r = await dx.app.inject({ url: '/results/review', headers: await as(TECHNOLOGIST) });
      assert.equal(r.statusCode, 200);
      const items = r.json() as { task: string; reasons: string[]; observation: { id: string } }[];
      assert.deepEqual(
        items.map((i) => i.observation.id),
        ['k-b'],
      );
      assert.match(items[0]!.reasons.join(), /critical value 7\.2/);
    });

    it('release is for a laboratory physician; reject needs a reason', async () => {
      const url = '/results/review/rp-review-k-b/release';
      assert.equal((await post(url, {}, await as(TECHNOLOGIST))).statusCode, 403);
      const bad = await post('/results/review/rp-review-k-b/reject', {}, await as(PHYSICIAN));
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().resourceType, 'OperationOutcome');
      const ok = await post(url, {}, await as(PHYSICIAN));
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().status, 'final');
      assert.equal((await post(url, {}, await as(PHYSICIAN))).statusCode, 400, 'already decided');
    });

    it('critical value loop over HTTP with time to notification', async () => {
      const base = '/results/critical-values/rp-crit-k-b';
      assert.equal((await post(`${base}/notification`, {}, await as(TECHNOLOGIST))).statusCode, 200);
      assert.equal(
        (await post(`${base}/read-back`, {}, await as(CLINICIAN))).statusCode,
        400,
        'read-back needs its text',
      );
      assert.equal((await post(`${base}/read-back`, { text: 'K 7.2' }, await as(CLINICIAN))).statusCode, 200);
      assert.equal((await post(`${base}/acknowledgement`, {}, await as(CLINICIAN))).statusCode, 200);
      assert.equal((await post(`${base}/escalation`, {}, await as(CLINICIAN))).statusCode, 400);
      const list = await dx.app.inject({
        url: '/results/critical-values?since=2020-01-01T00:00:00Z',
        headers: await as(CLINICIAN),
      });
      const item = list.json().items.find((i: { request: string }) => i.request === 'CommunicationRequest/rp-crit-k-b');
      assert.ok(item.acknowledgedAt && item.notifiedAt);
      assert.equal(typeof item.minutesToNotification, 'number');
      assert.equal(list.json().unacknowledged, 0);
    });

    it('autoverification rate per section and analysis; rule set view', async () => {
      const r = await dx.app.inject({
        url: '/results/autoverification-rate',
        headers: await as({ role: 'department-manager' }),
      });
      assert.equal(r.statusCode, 200, r.body);
      const k = r
        .json()
        .analyses.find((a: { analysis: string }) => a.analysis === 'http://npu-terminology.org|NPU03230');
      assert.deepEqual(
        { total: k.total, autoverified: k.autoverified, released: k.released, rate: k.rate },
        { total: 2, autoverified: 1, released: 1, rate: 0.5 },
      );
      assert.equal(r.json().sections[0].section, 'clinical-biochemistry');
      assert.equal(
        (
          await dx.app.inject({
            url: '/results/autoverification-rate?from=yesterday',
            headers: await as({ role: 'admin' }),
          })
        ).statusCode,
        400,
      );
      const rs = await dx.app.inject({ url: '/results/rule-set', headers: await as(PHYSICIAN) });
      assert.equal(rs.json().version, '2026.11.1');
    });
  });
}
