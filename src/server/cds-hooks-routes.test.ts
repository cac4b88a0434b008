import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { freshDbUrl, testDialects } from '../../test/support/dialects.ts';
import { seedOrderingPatient } from '../../test/support/ordering.ts';

type Obj = Record<string, unknown>;

/**
 * CDS Hooks 2.0 field rules (https://cds-hooks.hl7.org/2.0/): discovery `services[]` with hook,
 * description and id required; Card with summary (< 140 characters), indicator (info, warning,
 * critical) and source.label required; suggestions need a label and, when present, the card a
 * selectionBehavior (at-most-one | any); an action's type is create/update/delete, a delete names
 * resourceId, a create carries a resource; overrideReasons are Codings with a display.
 */
function cardProblems(card: Obj): string[] {
  const p: string[] = [];
  if (typeof card.summary !== 'string' || card.summary.length >= 140) p.push('summary');
  if (!['info', 'warning', 'critical'].includes(card.indicator as string)) p.push('indicator');
  const src = card.source as Obj | undefined;
  if (typeof src?.label !== 'string' || src.label === '') p.push('source.label');
  if (card.uuid !== undefined && typeof card.uuid !== 'string') p.push('uuid');
  const sugg = card.suggestions as Obj[] | undefined;
  if (sugg !== undefined) {
    if (!['at-most-one', 'any'].includes(card.selectionBehavior as string)) p.push('selectionBehavior');
    for (const s of sugg) {
      if (typeof s.label !== 'string') p.push('suggestion.label');
      for (const a of (s.actions ?? []) as Obj[]) {
        if (!['create', 'update', 'delete'].includes(a.type as string)) p.push('action.type');
        if (typeof a.description !== 'string') p.push('action.description');
        if (a.type === 'delete' && typeof a.resourceId !== 'string') p.push('delete.resourceId');
        if (a.type === 'create' && typeof (a.resource as Obj | undefined)?.resourceType !== 'string')
          p.push('create.resource');
      }
    }
  }
  for (const r of (card.overrideReasons ?? []) as Obj[])
    if (typeof r.code !== 'string' || typeof r.display !== 'string') p.push('overrideReasons');
  return p;
}

function serviceProblems(s: Obj): string[] {
  return ['hook', 'description', 'id'].filter((k) => typeof s[k] !== 'string' || s[k] === '');
}

describe('the CDS Hooks field checker', () => {
  it('accepts the shapes of the specification examples and rejects broken ones', () => {
    // Shaped as the 2.0 discovery example (an order-select service with prefetch templates).
    assert.deepEqual(
      serviceProblems({
        hook: 'order-select',
        title: 'Order Echo CDS Service',
        description: 'echoes',
        id: 'order-echo',
        prefetch: { patient: 'Patient/{{context.patientId}}' },
      }),
      [],
    );
    assert.deepEqual(serviceProblems({ hook: 'order-select', id: 'x' }), ['description']);
    // Shaped as the 2.0 card example: info card, source with label/url, one suggestion with a create action.
    const example = {
      uuid: randomUUID(),
      summary: 'Example Card',
      indicator: 'info',
      detail: 'This is an example card.',
      source: { label: 'Static CDS Service Example', url: 'https://example.com' },
      suggestions: [
        {
          label: 'Take 2',
          uuid: randomUUID(),
          isRecommended: true,
          actions: [
            { type: 'create', description: 'Create a prescription', resource: { resourceType: 'MedicationRequest' } },
          ],
        },
      ],
      selectionBehavior: 'at-most-one',
    };
    assert.deepEqual(cardProblems(example), []);
    assert.deepEqual(
      cardProblems({
        ...example,
        indicator: 'hard-stop',
        selectionBehavior: undefined,
        summary: 'x'.repeat(140),
      }).sort(),
      ['indicator', 'selectionBehavior', 'summary'],
    );
  });
});

for (const dialect of await testDialects()) {
  describe(`CDS Hooks 2.0 (${dialect})`, async () => {
    const dx = await buildTestApp({ db: freshDbUrl(dialect) });
    const { patientId } = await seedOrderingPatient(dx);
    const h = { authorization: await dx.bearer({ role: 'integration', org: '222222222222' }) };
    const sr = (id: string, system: string, code: string, extra: Obj = {}) => ({
      resourceType: 'ServiceRequest',
      id,
      status: 'draft',
      intent: 'order',
      code: { coding: [{ system, code }] },
      subject: { reference: `Patient/${patientId}` },
      ...extra,
    });
    const call = (hook: string, orders: Obj[], extra: Obj = {}, ctx: Obj = {}) => ({
      hook,
      hookInstance: randomUUID(),
      context: {
        userId: 'Practitioner/dr-1',
        patientId,
        draftOrders: { resourceType: 'Bundle', type: 'collection', entry: orders.map((resource) => ({ resource })) },
        ...(hook === 'order-select' ? { selections: orders.map((o) => `ServiceRequest/${o.id}`) } : {}),
        ...ctx,
      },
      ...extra,
    });
    const post = (url: string, payload: unknown, headers: Obj = h) =>
      dx.app.inject({ method: 'POST', url, payload: payload as object, headers: headers as Record<string, string> });

    it('discovery lists order-select and order-sign with prefetch templates (token required)', async () => {
      const r = await dx.app.inject({ url: '/cds-services', headers: h });
      assert.equal(r.statusCode, 200);
      const services = r.json().services as Obj[];
      assert.deepEqual(
        services.map((s) => s.hook),
        ['order-select', 'order-sign'],
      );
      for (const s of services) {
        assert.deepEqual(serviceProblems(s), []);
        assert.match((s.prefetch as Obj).patient as string, /\{\{context.patientId\}\}/);
      }
      assert.equal((await dx.rawInject({ url: '/cds-services' })).statusCode, 401);
    });

    it('order-sign: a blocked CRP and a contrast CT with eGFR 25 come back critical with a delete suggestion', async () => {
      const crp = sr('d-crp', 'urn:oid:1.2.208.176.2.1', 'NPU19748');
      const ct = sr('d-ct', 'urn:dxhub:local:imaging', 'ct-abdomen-contrast');
      const r = await post('/cds-services/dxhub-order-sign', call('order-sign', [crp, ct]), {
        ...h,
        'accept-language': 'en',
      });
      assert.equal(r.statusCode, 200, r.body);
      const cards = r.json().cards as Obj[];
      for (const c of cards) assert.deepEqual(cardProblems(c), [], JSON.stringify(c));
      const byRule = new Map(cards.map((c) => [((c.source as Obj).topic as Obj).code, c]));
      assert.deepEqual([...byRule.keys()].sort(), ['contrast-egfr-below-30', 'retest-crp-24h']);
      const block = byRule.get('retest-crp-24h')!;
      assert.equal(block.indicator, 'critical');
      assert.match(block.summary as string, /CRP repeated within 24 hours \(last result 12 h ago\)/);
      assert.match((block.source as Obj).label as string, /G147/);
      const del = ((block.suggestions as Obj[])[0]!.actions as Obj[])[0]!;
      assert.deepEqual([del.type, del.resourceId], ['delete', 'ServiceRequest/d-crp']);
      assert.ok((block.overrideReasons as Obj[]).length >= 3);
      assert.match(byRule.get('contrast-egfr-below-30')!.detail as string, /egfr: 25/);
    });

    it('order-select evaluates only the selections, in Danish by default; a suggestion replaces the test', async () => {
      const dd = sr('d-dd', 'urn:dxhub:local:analysis', 'd-dimer', {
        reasonCode: [{ coding: [{ system: 'urn:dxhub:local:indication', code: 'wells-likely' }] }],
      });
      const esr = sr('d-esr', 'urn:dxhub:local:analysis', 'esr');
      const crp = sr('d-crp', 'urn:oid:1.2.208.176.2.1', 'NPU19748');
      const body = call(
        'order-select',
        [dd, esr, crp],
        {},
        { selections: ['ServiceRequest/d-dd', 'ServiceRequest/d-esr'] },
      );
      const r = await post('/cds-services/dxhub-order-select', body);
      assert.equal(r.statusCode, 200, r.body);
      const cards = r.json().cards as Obj[];
      const rules = cards.map((c) => ((c.source as Obj).topic as Obj).code).sort();
      assert.deepEqual(rules, ['d-dimer-wells-likely', 'esr-with-crp']);
      const esrCard = cards.find((c) => ((c.source as Obj).topic as Obj).code === 'esr-with-crp')!;
      assert.match(esrCard.summary as string, /Sænkningsreaktion/);
      const swap = cards.find((c) => ((c.source as Obj).topic as Obj).code === 'd-dimer-wells-likely')!;
      const actions = (swap.suggestions as Obj[])[0]!.actions as Obj[];
      assert.deepEqual(
        actions.map((a) => a.type),
        ['delete', 'create'],
      );
      assert.equal(((actions[1]!.resource as Obj).code as { coding: Obj[] }).coding[0]!.code, 'ct-chest-contrast');
    });

    it('a patient whose context is cached is not read again by the guard; once deleted, the next call is a 400 (unknown patient)', async () => {
      const other = await dx.repo.transaction(async (w) =>
        dx.repo.put(w, { resourceType: 'Patient', birthDate: '1980-05-05', gender: 'male' }),
      );
      const crp = {
        ...sr('d-crp', 'urn:oid:1.2.208.176.2.1', 'NPU19748'),
        subject: { reference: `Patient/${other.id}` },
      };
      const body = () => call('order-sign', [crp], {}, { patientId: other.id });
      assert.equal((await post('/cds-services/dxhub-order-sign', body())).statusCode, 200);
      assert.equal(dx.ordering.knowsPatient(other.id), true);
      // The guard's own read of the Patient is spared while the snapshot is held.
      const reads: string[] = [];
      const read = dx.repo.read.bind(dx.repo);
      dx.repo.read = (type, id, tx) => {
        reads.push(`${type}/${id}`);
        return read(type, id, tx);
      };
      try {
        assert.equal((await post('/cds-services/dxhub-order-sign', body())).statusCode, 200);
      } finally {
        dx.repo.read = read;
      }
      assert.deepEqual(
        reads.filter((r) => r === `Patient/${other.id}`),
        [],
      );
      // Deleting the Patient drops the snapshot at commit: the next call reads, and finds no patient.
      await dx.repo.transaction(async (w) => dx.repo.delete(w, 'Patient', other.id));
      assert.equal(dx.ordering.knowsPatient(other.id), false);
      const gone = await post('/cds-services/dxhub-order-sign', body());
      assert.equal(gone.statusCode, 400, gone.body);
      assert.match(gone.json().issue[0].diagnostics, new RegExp(`unknown Patient/${other.id} not found`));
    });

    it('malformed requests, unknown codes and patients get HTTP 400 with a message; a foreign FHIR server without prefetch gets 412', async () => {
      const crp = sr('d-crp', 'urn:oid:1.2.208.176.2.1', 'NPU19748');
      const cases: [Obj, RegExp][] = [
        [{ ...call('order-sign', [crp]), hookInstance: undefined }, /hookInstance must be a UUID/],
        [{ ...call('order-sign', [crp]), hook: 'patient-view' }, /hook must be 'order-sign'/],
        [call('order-sign', [crp], {}, { patientId: undefined }), /context.patientId is required/],
        [call('order-sign', [crp], {}, { draftOrders: { resourceType: 'List' } }), /draftOrders must be a FHIR Bundle/],
        [
          call('order-sign', [crp], { fhirAuthorization: { access_token: 'x', token_type: 'Bearer' } }),
          /fhirServer is required/,
        ],
        [
          call('order-sign', [crp], { prefetch: { patient: 'nope' } }),
          /prefetch.patient must be a FHIR resource or null/,
        ],
        [
          call('order-sign', [sr('d-x', 'http://npu-terminology.org', 'NPU00000')]),
          /unknown order code http:\/\/npu-terminology.org\|NPU00000/,
        ],
        [call('order-sign', [crp], {}, { patientId: 'nobody' }), /unknown Patient\/nobody not found/],
      ];
      for (const [body, msg] of cases) {
        const r = await post('/cds-services/dxhub-order-sign', body);
        assert.equal(r.statusCode, 400, `${msg}: ${r.body}`);
        assert.match(r.json().issue[0].diagnostics, msg);
      }
      const select = call('order-select', [crp], {}, { selections: undefined });
      assert.equal((await post('/cds-services/dxhub-order-select', select)).statusCode, 400);
      const foreign = await post(
        '/cds-services/dxhub-order-sign',
        call('order-sign', [crp], { fhirServer: 'https://other.example/fhir' }),
      );
      assert.equal(foreign.statusCode, 412);
      assert.match(foreign.json().issue[0].diagnostics, /prefetch lacks patient/);
      const withPrefetch = call('order-sign', [crp], {
        fhirServer: 'https://other.example/fhir',
        prefetch: { patient: { resourceType: 'Patient', id: patientId }, openOrders: null, conditions: null },
      });
      assert.equal((await post('/cds-services/dxhub-order-sign', withPrefetch)).statusCode, 200);
      const citizen = { authorization: await dx.bearer({ role: 'citizen', patient: patientId }) };
      assert.equal((await post('/cds-services/dxhub-order-sign', call('order-sign', [crp]), citizen)).statusCode, 403);
    });

    it('feedback records accepted and overridden cards with reasons; they count in the patterns', async () => {
      const crp = sr('d-crp', 'urn:oid:1.2.208.176.2.1', 'NPU19748');
      const vd = sr('d-vd', 'http://npu-terminology.org', 'NPU10267');
      const r = await post('/cds-services/dxhub-order-sign', call('order-sign', [crp, vd]));
      const cards = r.json().cards as Obj[];
      const block = cards.find((c) => c.indicator === 'critical')!;
      const warn = cards.find((c) => c.indicator === 'warning')!;
      const now = new Date().toISOString();
      const fb = await post('/cds-services/dxhub-order-sign/feedback', {
        feedback: [
          {
            card: block.uuid,
            outcome: 'accepted',
            acceptedSuggestions: [{ id: (block.suggestions as Obj[])[0]!.uuid }],
            outcomeTimestamp: now,
          },
          {
            card: warn.uuid,
            outcome: 'overridden',
            overrideReason: { reason: (warn.overrideReasons as Obj[])[0], userComment: 'osteomalacia suspected' },
            outcomeTimestamp: now,
          },
        ],
      });
      assert.equal(fb.statusCode, 200, fb.body);
      const bad = [
        { feedback: [] },
        { feedback: [{ card: warn.uuid, outcome: 'accepted', outcomeTimestamp: now }] },
        { feedback: [{ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: now }] },
        { feedback: [{ card: warn.uuid, outcome: 'ignored', outcomeTimestamp: now }] },
      ];
      for (const b of bad)
        assert.equal((await post('/cds-services/dxhub-order-sign/feedback', b)).statusCode, 400, JSON.stringify(b));
      const mgr = { authorization: await dx.bearer({ role: 'department-manager', org: '222222222222' }) };
      const p = await dx.app.inject({ url: '/ordering/patterns?by=test', headers: mgr });
      const vdRow = p.json().rows.find((x: { key: string }) => x.key === 'vitamin-d');
      assert.ok(vdRow.overrides >= 1 && vdRow.warnings >= 1, JSON.stringify(vdRow));
    });

    it('closes', async () => {
      await dx.close();
    });
  });
}
