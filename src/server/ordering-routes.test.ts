import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { seedOrderingPatient } from '../../test/support/ordering.ts';
import { SEED_RULE_SET } from '../core/ordering/seed/rule-set.ts';

for (const dialect of await testDialects()) {
  describe(`order entry over HTTP (${dialect})`, async () => {
    const dx = await buildTestApp({ db: freshDbUrl(dialect) });
    const { patientId, tshOrder } = await seedOrderingPatient(dx);
    const as = async (
      role: 'clinician' | 'lab-physician' | 'admin' | 'department-manager' | 'lab-technologist',
      org = '111111111111',
    ) => ({ authorization: await dx.bearer({ role, org, user: `${role}-1` }) });
    const post = async (url: string, payload: unknown, headers: Record<string, string>) =>
      dx.app.inject({ method: 'POST', url, payload: payload as object, headers });

    it('searches the catalogue in Danish and English and returns FHIR definitions', async () => {
      const h = await as('clinician');
      const da = await dx.app.inject({ url: '/ordering/catalogue?q=langtidsblodsukker', headers: h });
      assert.equal(da.json().results[0].id, 'hba1c');
      assert.equal(da.json().results[0].title, 'Hæmoglobin A1c (IFCC)');
      const en = await dx.app.inject({ url: '/ordering/catalogue?q=spine%20MRI&lang=en', headers: h });
      assert.deepEqual([en.json().results[0].id, en.json().results[0].title], ['mr-lumbar', 'MRI of the lumbar spine']);
      const ct = await dx.app.inject({ url: '/ordering/catalogue?q=UXCA00&lang=en', headers: h });
      assert.deepEqual(
        [ct.json().results[0].id, ct.json().results[0].modality, ct.json().results[0].effectiveDoseMSv],
        ['ct-head', 'CT', 2],
      );
      const fhir = await dx.app.inject({ url: '/ordering/catalogue/fhir', headers: h });
      const types = new Set(
        fhir.json().entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType),
      );
      assert.deepEqual([...types].sort(), [
        'ActivityDefinition',
        'ObservationDefinition',
        'PlanDefinition',
        'SpecimenDefinition',
      ]);
      assert.equal((await dx.app.inject({ url: '/ordering/catalogue?lang=fr', headers: h })).statusCode, 400);
    });

    it('the summary shows open orders from every organisation and the latest result per test with its age', async () => {
      const r = await dx.app.inject({ url: `/ordering/patients/${patientId}/summary`, headers: await as('clinician') });
      assert.equal(r.statusCode, 200);
      const s = r.json();
      assert.deepEqual(
        s.openOrders.map((o: { serviceRequest: string; organisation: string }) => [o.serviceRequest, o.organisation]),
        [[`ServiceRequest/${tshOrder}`, '999999999999']],
      );
      const crp = s.latestResults.find((x: { test: string }) => x.test === 'crp');
      assert.equal(crp.value, 40);
      assert.ok(crp.ageDays > 0.4 && crp.ageDays < 0.6, String(crp.ageDays));
      assert.equal(
        (await dx.app.inject({ url: '/ordering/patients/nobody/summary', headers: await as('clinician') })).statusCode,
        404,
      );
    });

    it('check: findings for the proposed orders; unknown codes and patients are errors, not silence', async () => {
      const h = await as('clinician');
      const r = await post('/ordering/check', { patientId, orders: [{ test: 'crp' }, { test: 'tsh' }] }, h);
      assert.equal(r.statusCode, 200);
      assert.deepEqual(
        r
          .json()
          .findings.map((f: { rule: string }) => f.rule)
          .sort(),
        ['duplicate-open-order', 'retest-crp-24h'],
      );
      const unknown = await post(
        '/ordering/check',
        { patientId, orders: [{ code: { system: 'http://npu-terminology.org', code: 'NPU00000' } }] },
        h,
      );
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().resourceType, 'OperationOutcome');
      assert.match(unknown.json().issue[0].diagnostics, /unknown code http:\/\/npu-terminology.org\|NPU00000/);
      const nobody = await post('/ordering/check', { patientId: 'nobody', orders: [{ test: 'crp' }] }, h);
      assert.equal(nobody.statusCode, 404);
      assert.equal((await post('/ordering/check', { orders: [{ test: 'crp' }] }, h)).statusCode, 400);
      assert.equal(
        (await post('/ordering/check', { patientId, orders: [{ test: 'crp' }] }, await as('lab-technologist')))
          .statusCode,
        403,
      );
    });

    it('requisition: draft → sign enforces blocks (named role + reason) → active → completed', async () => {
      const clin = await as('clinician');
      const created = await post(
        '/ordering/requisitions',
        { patientId, priority: 'urgent', indications: ['clinical-change'], orders: [{ test: 'crp' }] },
        clin,
      );
      assert.equal(created.statusCode, 201, created.body);
      const { requisition, orders, findings } = created.json();
      assert.equal(orders[0].status, 'draft');
      assert.equal(orders[0].priority, 'urgent');
      assert.equal(orders[0].extension[0].valueIdentifier.value, '111111111111');
      assert.match(orders[0].note[0].text, /Lithium/);
      assert.deepEqual(
        findings.map((f: { rule: string; action: string }) => `${f.rule}:${f.action}`),
        ['retest-crp-24h:block'],
      );
      // A clinician cannot lift the block, even with a reason: 409 naming the rule and who may.
      const refused = await post(
        `/ordering/requisitions/${requisition}/sign`,
        { overrides: [{ rule: 'retest-crp-24h', reason: 'sepsis' }] },
        clin,
      );
      assert.equal(refused.statusCode, 409);
      assert.match(refused.json().issue[0].diagnostics, /retest-crp-24h \(block\).*only lab-physician may override/);
      const noReason = await post(
        `/ordering/requisitions/${requisition}/sign`,
        { overrides: [{ rule: 'retest-crp-24h', reason: '' }] },
        await as('lab-physician'),
      );
      assert.equal(noReason.statusCode, 409);
      const signed = await post(
        `/ordering/requisitions/${requisition}/sign`,
        { overrides: [{ rule: 'retest-crp-24h', reason: 'suspected sepsis, agreed with lab' }] },
        await as('lab-physician'),
      );
      assert.equal(signed.statusCode, 200, signed.body);
      assert.equal(signed.json().orders[0].status, 'active');
      assert.match(signed.json().orders[0].note.at(-1).text, /Override retest-crp-24h v1 by lab-physician-1/);
      assert.equal((await post(`/ordering/requisitions/${requisition}/sign`, {}, clin)).statusCode, 409);
      const done = await post(`/ordering/requisitions/${requisition}/complete`, {}, await as('lab-technologist'));
      assert.equal(done.json().orders[0].status, 'completed');
    });

    it('a warning is signed only with a reason; a revoked requisition cannot be completed', async () => {
      const clin = await as('clinician');
      const created = await post('/ordering/requisitions', { patientId, orders: [{ test: 'vitamin-d' }] }, clin);
      const { requisition } = created.json();
      const r422 = await post(`/ordering/requisitions/${requisition}/sign`, {}, clin);
      assert.equal(r422.statusCode, 422);
      assert.match(r422.json().issue[0].diagnostics, /vitamin-d-screening \(warning\)/);
      const ok = await post(
        `/ordering/requisitions/${requisition}/sign`,
        { overrides: [{ rule: 'vitamin-d-screening', reason: 'fatigue, dark skin' }] },
        clin,
      );
      assert.equal(ok.statusCode, 200);
      const revoked = await post(`/ordering/requisitions/${requisition}/revoke`, { reason: 'ordered in error' }, clin);
      assert.equal(revoked.json().orders[0].status, 'revoked');
      assert.equal(
        (await post(`/ordering/requisitions/${requisition}/complete`, {}, await as('lab-technologist'))).statusCode,
        409,
      );
      assert.equal(
        (await post('/ordering/requisitions', { patientId, orders: [{ test: 'crp' }] }, await as('lab-technologist')))
          .statusCode,
        403,
      );
    });

    it('rule sets: a bad set is refused with the reason and the previous stays active; dry run compares', async () => {
      const admin = await as('admin');
      const before = (await dx.app.inject({ url: '/ordering/rulesets', headers: admin })).json();
      const bad = { ...SEED_RULE_SET, rules: [{ ...SEED_RULE_SET.rules[0], interval: 'soon' }] };
      const refused = await dx.app.inject({ method: 'PUT', url: '/ordering/rulesets', payload: bad, headers: admin });
      assert.equal(refused.statusCode, 422);
      assert.match(refused.json().issue[0].diagnostics, /rule set refused: .*retest-crp-24h.*interval/);
      const after = (await dx.app.inject({ url: '/ordering/rulesets', headers: admin })).json();
      assert.equal(after.active, before.active);
      // Candidate: CRP interval 6 h instead of 24 h — the CRP signed above (12 h after the last) would no longer fire.
      const candidate = {
        ...SEED_RULE_SET,
        rules: SEED_RULE_SET.rules.map((r) => (r.id === 'retest-crp-24h' ? { ...r, version: 2, interval: 'PT6H' } : r)),
      };
      const dry = await post('/ordering/rulesets/dry-run', { ruleSet: candidate, days: 30 }, admin);
      assert.equal(dry.statusCode, 200, dry.body);
      const crp = dry.json().byRule.find((x: { rule: string }) => x.rule === 'retest-crp-24h');
      assert.ok(crp.current >= 1 && crp.candidate === 0, JSON.stringify(dry.json()));
      assert.ok(dry.json().changed.some((c: { test: string }) => c.test === 'crp'));
      assert.equal(
        (
          await dx.app.inject({
            method: 'PUT',
            url: '/ordering/rulesets',
            payload: candidate,
            headers: await as('clinician'),
          })
        ).statusCode,
        403,
      );
      const put = await dx.app.inject({ method: 'PUT', url: '/ordering/rulesets', payload: candidate, headers: admin });
      assert.equal(put.json().active, before.active + 1);
      const check = await post('/ordering/check', { patientId, orders: [{ test: 'crp' }] }, await as('clinician'));
      assert.deepEqual(check.json().findings, []);
      assert.equal(check.json().ruleSetVersion, before.active + 1);
    });

    it('patterns: aggregates per department, orderer and test with funnel limits; managers only', async () => {
      const mgr = await as('department-manager');
      const r = await dx.app.inject({ url: '/ordering/patterns?by=test', headers: mgr });
      assert.equal(r.statusCode, 200);
      const crp = r.json().rows.find((x: { key: string }) => x.key === 'crp');
      assert.ok(
        crp.proposals >= 2 && crp.blocks >= 1 && crp.overrides >= 1 && crp.repeatsInsideInterval >= 1,
        JSON.stringify(crp),
      );
      assert.ok(crp.funnel.upper998 >= crp.funnel.upper95 && 'position' in crp.funnel);
      assert.ok(r.json().trend.length >= 1);
      assert.ok(!r.body.includes(patientId), 'no patient ids in aggregates');
      const byOrg = await dx.app.inject({ url: '/ordering/patterns?by=organisation', headers: mgr });
      assert.ok(byOrg.json().rows.some((x: { key: string }) => x.key === '111111111111'));
      assert.equal(
        (await dx.app.inject({ url: '/ordering/patterns', headers: await as('clinician') })).statusCode,
        403,
      );
      assert.equal((await dx.app.inject({ url: '/ordering/patterns?by=patient', headers: mgr })).statusCode, 400);
    });

    it('a duplicate blood test on open order is blocked, lifted only by the lab physician; the performer is kept', async () => {
      const clin = await as('clinician');
      const sign = async (created: {
        json(): { requisition: string; findings: { rule: string; action: string }[] };
      }) => {
        const { requisition, findings } = created.json();
        const overrides = findings
          .filter((f) => f.action === 'warning')
          .map((f) => ({ rule: f.rule, reason: 'follow-up' }));
        return post(`/ordering/requisitions/${requisition}/sign`, { overrides }, clin);
      };
      const first = await post(
        '/ordering/requisitions',
        { patientId, orders: [{ test: 'ferritin', performer: '111111111112' }] },
        clin,
      );
      assert.equal(first.statusCode, 201, first.body);
      assert.deepEqual(first.json().orders[0].performer[0].identifier, {
        system: 'urn:oid:1.2.208.176.1.1',
        value: '111111111112',
      });
      assert.equal((await sign(first)).statusCode, 200);
      const second = await post('/ordering/requisitions', { patientId, orders: [{ test: 'ferritin' }] }, clin);
      const dup = second.json().findings.find((f: { rule: string }) => f.rule === 'duplicate-open-order');
      assert.equal(dup?.action, 'block');
      assert.deepEqual(dup?.overrideRoles, ['lab-physician']);
      const { requisition } = second.json();
      const refused = await post(
        `/ordering/requisitions/${requisition}/sign`,
        { overrides: [{ rule: 'duplicate-open-order', reason: 'lost sample' }] },
        clin,
      );
      assert.equal(refused.statusCode, 409);
      assert.match(
        refused.json().issue[0].diagnostics,
        /duplicate-open-order \(block\).*only lab-physician may override/,
      );
      const lifted = await post(
        `/ordering/requisitions/${requisition}/sign`,
        {
          overrides: second
            .json()
            .findings.filter((f: { action: string }) => f.action !== 'info')
            .map((f: { rule: string }) => ({ rule: f.rule, reason: 'first sample haemolysed' })),
        },
        await as('lab-physician'),
      );
      assert.equal(lifted.statusCode, 200, lifted.body);
      const bad = await post('/ordering/requisitions', { patientId, orders: [{ test: 'tsh', performer: 42 }] }, clin);
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /performer/);
    });

    it('closes', async () => {
      await dx.close();
    });
  });
}
