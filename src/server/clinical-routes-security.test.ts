import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, type TestApp, type TestUser } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { patient } from '../../test/support/factories.ts';
import { SOR_SYSTEM } from '../access/index.ts';
import { verifyAuditChain } from '../audit/index.ts';
import { CODES } from '../core/results/index.ts';
import { incidentalTask } from '../results/incidental-findings.ts';
import type { Resource } from '../store/repository.ts';

/**
 * The ordering, CDS Hooks, result-processing and management-information routes under the access
 * rules (docs/security.md), on every dialect: treatment relation (§ 42 a), blocks, værdispring,
 * one audit entry per patient looked up, aggregates only for department managers.
 *
 * Hospital H has a medical department (MED) and a laboratory (KBA); hospital O has OMED and its
 * own laboratory (OLAB). P1 is admitted to MED; P2 is treated by OMED only; P3 is admitted to MED
 * and blocks MED (recipient). Each has a critical potassium (7.2 mmol/L) analysed by KBA.
 */

const MED: TestUser = { user: 'dr-med', role: 'clinician', org: 'sor-med', fhirUser: 'Practitioner/dr-med' };
const KBA_PHYSICIAN: TestUser = { user: 'kba-md', role: 'lab-physician', org: 'sor-kba' };
const OLAB_PHYSICIAN: TestUser = { user: 'olab-md', role: 'lab-physician', org: 'sor-olab' };
const MANAGER: TestUser = { user: 'chief', role: 'department-manager', org: 'sor-h' };
const VITAL = { 'x-vaerdispring': `vital-interest; ${encodeURIComponent('Bevidstløs i akutmodtagelsen')}` };
const RELATION = /no current treatment relation/;

type Row = { action: string; patient: string | null; agent: string; purpose: string | null; event: string };

const org = (id: string, code: string, parent?: string): Resource => ({
  resourceType: 'Organization',
  id,
  identifier: [{ system: SOR_SYSTEM, value: code }],
  name: id,
  ...(parent ? { partOf: { reference: `Organization/${parent}` } } : {}),
});

for (const dialect of await testDialects()) {
  describe(`clinical routes under the access rules (${dialect})`, () => {
    let dx: TestApp;
    const as = async (user: TestUser, method: string, url: string, body?: unknown, headers = {}) => {
      const r = await dx.app.inject({
        method: method as 'GET',
        url,
        headers: {
          authorization: await dx.bearer(user),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: r.statusCode, body: r.body, json: () => JSON.parse(r.body) };
    };
    /** The audit rows written since `from` (a sequence number). */
    const auditSince = async (from: number) => {
      await dx.audit.flushed();
      return dx.repo.db.all<Row>(
        'SELECT action, patient, agent, purpose, event FROM audit_log WHERE seq > ? ORDER BY seq',
        [from],
      );
    };
    const lastSeq = async () => {
      await dx.audit.flushed();
      const [r] = await dx.repo.db.all<{ s: number | string | null }>('SELECT MAX(seq) AS s FROM audit_log');
      return Number(r?.s ?? 0);
    };

    before(async () => {
      dx = await buildTestApp({ db: freshDbUrl(dialect) });
      const put = async (r: Resource) => {
        const res = await dx.app.inject({
          method: 'PUT',
          url: `/fhir/${r.resourceType}/${r.id}`,
          headers: { 'content-type': 'application/fhir+json' },
          payload: JSON.stringify(r),
        });
        assert.ok(res.statusCode < 300, `${r.resourceType}/${r.id}: ${res.body}`);
      };
      for (const r of [
        org('region', 'sor-region'),
        org('h', 'sor-h', 'region'),
        org('med', 'sor-med', 'h'),
        org('kba', 'sor-kba', 'h'),
        org('o', 'sor-o', 'region'),
        org('omed', 'sor-omed', 'o'),
        org('olab', 'sor-olab', 'o'),
      ])
        await put(r);
      const wards = { p1: 'med', p2: 'omed', p3: 'med' } as const;
      for (const [id, ward] of Object.entries(wards)) {
        await put({ ...patient({ birthDate: '1960-05-01' }), id });
        await put({
          resourceType: 'Encounter',
          id: `e-${id}`,
          status: 'in-progress',
          class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
          subject: { reference: `Patient/${id}` },
          serviceProvider: { reference: `Organization/${ward}` },
        });
        await put({
          resourceType: 'ServiceRequest',
          id: `sr-${id}`,
          status: 'active',
          intent: 'order',
          subject: { reference: `Patient/${id}` },
          requester: { reference: `Organization/${ward}` },
          performer: [{ reference: 'Organization/kba' }],
        });
        await put({
          resourceType: 'Observation',
          id: `k-${id}`,
          status: 'preliminary',
          code: { coding: [CODES.potassium] },
          subject: { reference: `Patient/${id}` },
          basedOn: [{ reference: `ServiceRequest/sr-${id}` }],
          effectiveDateTime: '2026-11-29T10:00:00Z',
          valueQuantity: { value: 7.2, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        });
      }
      // P3 blocks MED (and its sub-units) from the whole record.
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
              role: {
                coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }],
              },
              reference: { reference: 'Organization/med' },
            },
          ],
        },
      });
      await dx.results.drain();
    });
    after(async () => dx?.close());

    it('ordering: summary and requisitions only in a relation; værdispring passes, audited; blocks respected', async () => {
      const seq = await lastSeq();
      const refused = await as(MED, 'GET', '/ordering/patients/p2/summary');
      assert.equal(refused.status, 403);
      assert.match(refused.json().issue[0].diagnostics, RELATION);
      const blocked = await as(MED, 'GET', '/ordering/patients/p3/summary');
      assert.equal(blocked.status, 403);
      assert.match(blocked.json().issue[0].diagnostics, /spærring/);
      assert.equal((await as(MED, 'GET', '/ordering/patients/p1/summary')).status, 200);
      assert.equal((await as(MED, 'GET', '/ordering/patients/p2/summary', undefined, VITAL)).status, 200);
      const rows = await auditSince(seq);
      assert.deepEqual(
        rows.filter((r) => r.action === 'denied').map((r) => r.patient),
        ['p2', 'p3'],
      );
      assert.ok(rows.some((r) => r.action === 'read' && r.patient === 'p1' && r.agent === 'Practitioner/dr-med'));
      const bg = rows.filter((r) => r.action === 'break-glass');
      assert.deepEqual(
        bg.map((r) => [r.patient, r.purpose]),
        [['p2', 'ETREAT']],
      );
      assert.match(bg[0]!.event, /Bevidstløs i akutmodtagelsen/);

      // A requisition for a patient outside the relation is refused and nothing is written.
      const order = (patientId: string) => ({ patientId, orders: [{ test: 'crp' }] });
      const orders = async () =>
        Number(
          (
            await dx.repo.db.all<{ n: number | string }>(
              "SELECT COUNT(*) AS n FROM resource WHERE type = 'ServiceRequest'",
            )
          )[0]?.n,
        );
      const before = await orders();
      assert.equal((await as(MED, 'POST', '/ordering/requisitions', order('p2'))).status, 403);
      assert.equal((await as(MED, 'POST', '/ordering/check', order('p2'))).status, 403);
      assert.equal(await orders(), before);
      const seq2 = await lastSeq();
      const created = await as(MED, 'POST', '/ordering/requisitions', order('p1'));
      assert.equal(created.status, 201, created.body);
      const { requisition } = created.json();
      const writes = await auditSince(seq2);
      assert.ok(
        writes.some((r) => r.action === 'create' && r.patient === 'p1'),
        JSON.stringify(writes),
      );
      // Reading and revoking it: the requisition's patient decides.
      assert.equal((await as(MED, 'GET', `/ordering/requisitions/${requisition}`)).status, 200);
      const other = { user: 'dr-omed', role: 'clinician', org: 'sor-omed' } as const;
      assert.equal((await as(other, 'GET', `/ordering/requisitions/${requisition}`)).status, 403);
      assert.equal((await as(other, 'POST', `/ordering/requisitions/${requisition}/revoke`, {})).status, 403);
      const seq3 = await lastSeq();
      assert.equal((await as(MED, 'POST', `/ordering/requisitions/${requisition}/revoke`, {})).status, 200);
      assert.ok((await auditSince(seq3)).some((r) => r.action === 'update' && r.patient === 'p1'));
    });

    it('CDS Hooks: the patient in context is looked up under the same rules', async () => {
      const call = (patientId: string) => ({
        hook: 'order-select',
        hookInstance: randomUUID(),
        context: {
          userId: 'Practitioner/dr-med',
          patientId,
          draftOrders: {
            resourceType: 'Bundle',
            type: 'collection',
            entry: [
              {
                resource: {
                  resourceType: 'ServiceRequest',
                  id: 'd-crp',
                  status: 'draft',
                  intent: 'order',
                  code: { coding: [{ system: 'urn:oid:1.2.208.176.2.1', code: 'NPU19748' }] },
                  subject: { reference: `Patient/${patientId}` },
                },
              },
            ],
          },
          selections: ['ServiceRequest/d-crp'],
        },
      });
      const seq = await lastSeq();
      const no = await as(MED, 'POST', '/cds-services/dxhub-order-select', call('p2'));
      assert.equal(no.status, 403);
      assert.match(no.json().issue[0].diagnostics, RELATION);
      assert.equal((await as(MED, 'POST', '/cds-services/dxhub-order-select', call('p2'), VITAL)).status, 200);
      assert.equal((await as(MED, 'POST', '/cds-services/dxhub-order-select', call('p1'))).status, 200);
      const rows = await auditSince(seq);
      assert.deepEqual(
        rows.filter((r) => ['denied', 'break-glass', 'read'].includes(r.action)).map((r) => [r.action, r.patient]),
        [
          ['denied', 'p2'],
          ['break-glass', 'p2'],
          ['read', 'p2'],
          ['read', 'p1'],
        ],
      );
    });

    it("results: the lab physician works her section's worklist; others see only their patients", async () => {
      const seq = await lastSeq();
      const mine = await as(KBA_PHYSICIAN, 'GET', '/results/review');
      assert.equal(mine.status, 200, mine.body);
      const listed = (mine.json() as { observation: { id: string } }[]).map((i) => i.observation.id).sort();
      assert.deepEqual(listed, ['k-p1', 'k-p2', 'k-p3']);
      const rows = await auditSince(seq);
      assert.deepEqual(
        rows
          .filter((r) => r.action === 'search')
          .map((r) => r.patient)
          .sort(),
        ['p1', 'p2', 'p3'],
      );
      // Another hospital's laboratory has no relation: nothing listed, the withholding audited.
      const seq2 = await lastSeq();
      const theirs = await as(OLAB_PHYSICIAN, 'GET', '/results/review');
      assert.equal(theirs.status, 200);
      assert.deepEqual(theirs.json(), []);
      assert.ok((await auditSince(seq2)).some((r) => r.action === 'denied' && /3 search result/.test(r.event)));
      assert.equal((await as(OLAB_PHYSICIAN, 'POST', '/results/review/rp-review-k-p1/release', {})).status, 403);
      // The release is written with its audit in the transaction.
      const seq3 = await lastSeq();
      const ok = await as(KBA_PHYSICIAN, 'POST', '/results/review/rp-review-k-p1/release', {});
      assert.equal(ok.status, 200, ok.body);
      const release = await auditSince(seq3);
      assert.ok(release.some((r) => r.action === 'update' && r.patient === 'p1' && r.agent === 'kba-md'));
    });

    it('results: critical values list and acknowledgement follow the relation; værdispring audited', async () => {
      const seq = await lastSeq();
      const list = await as(MED, 'GET', '/results/critical-values?since=2020-01-01T00:00:00Z');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list
          .json()
          .items.map((i: { patient: string }) => i.patient)
          .sort(),
        ['p1'],
      );
      assert.equal(list.json().withheld, 2);
      const ack = '/results/critical-values/rp-crit-k-p2/acknowledgement';
      const refused = await as(MED, 'POST', ack, {});
      assert.equal(refused.status, 403);
      assert.match(refused.json().issue[0].diagnostics, RELATION);
      assert.equal((await as(MED, 'POST', ack, {}, VITAL)).status, 200);
      assert.equal((await as(MED, 'POST', '/results/critical-values/rp-crit-k-p1/acknowledgement', {})).status, 200);
      const rows = await auditSince(seq);
      assert.deepEqual(
        rows.filter((r) => r.action === 'search').map((r) => r.patient),
        ['p1'],
      );
      assert.ok(rows.some((r) => r.action === 'denied' && r.patient === 'p2'));
      assert.ok(rows.some((r) => r.action === 'break-glass' && r.patient === 'p2'));
      assert.ok(rows.some((r) => r.action === 'create' && r.patient === 'p1' && r.agent === 'Practitioner/dr-med'));
      assert.equal((await verifyAuditChain(dx.repo.db)).ok, true);
    });

    it('results: incidental findings listed and acknowledged only in a relation', async () => {
      for (const id of ['p1', 'p2']) {
        const task = incidentalTask(
          { resourceType: 'Observation', id: `k-${id}`, subject: { reference: `Patient/${id}` } },
          undefined,
          { reference: `Organization/${id === 'p1' ? 'med' : 'omed'}` },
          Date.now(),
        );
        await dx.repo.transaction((w) => dx.repo.put(w, task as unknown as Resource));
      }
      const seq = await lastSeq();
      const list = await as(MED, 'GET', '/results/incidental-findings');
      assert.equal(list.status, 200);
      assert.deepEqual(
        (list.json() as { for: { reference: string } }[]).map((t) => t.for.reference),
        ['Patient/p1'],
      );
      const ack = (id: string) =>
        as(MED, 'POST', `/results/incidental-findings/rp-incidental-k-${id}/acknowledge`, {
          plan: 'Kontrol om 3 mdr.',
        });
      const refused = await ack('p2');
      assert.equal(refused.status, 403);
      assert.match(refused.json().issue[0].diagnostics, RELATION);
      assert.equal((await ack('p1')).status, 200);
      const rows = await auditSince(seq);
      assert.deepEqual(
        rows.filter((r) => r.action === 'search').map((r) => r.patient),
        ['p1'],
      );
      assert.ok(rows.some((r) => r.action === 'denied' && r.patient === 'p2'));
      assert.ok(rows.some((r) => r.action === 'update' && r.patient === 'p1' && r.agent === 'Practitioner/dr-med'));
    });

    it('a department manager gets aggregates only, never patients', async () => {
      assert.equal((await as(MANAGER, 'GET', '/ordering/patients/p1/summary')).status, 403);
      const crit = await as(MANAGER, 'GET', '/results/critical-values?since=2020-01-01T00:00:00Z');
      assert.equal(crit.status, 200);
      assert.equal(crit.json().count, 3);
      assert.equal(crit.json().items, undefined);
      const inc = await as(MANAGER, 'GET', '/results/incidental-findings');
      assert.equal(inc.status, 200);
      assert.equal(typeof inc.json().count, 'number');
      for (const url of ['/ordering/patterns', '/mi/wip', '/mi/tat', '/mi/throughput', '/mi/requisitions']) {
        const r = await as(MANAGER, 'GET', url);
        assert.ok(r.status === 200 || r.status === 501, `${url}: ${r.status} ${r.body}`);
        assert.doesNotMatch(r.body, /Patient\/|"p[123]"|"patient"|"order":/, url);
      }
    });
  });
}
