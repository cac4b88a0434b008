import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import { SOR_SYSTEM } from '../access/access-control.ts';
import type { OrderEvent } from '../ordering/order-events.ts';

/**
 * Hand-computed order events. Department 2001 (orderer u1): 4 proposals (CRP ×2, HbA1c ×2), a
 * retest-interval warning on CRP (overridden with a reason) and a retest-interval block on HbA1c
 * (cancelled), 3 signed. Department 2002 (orderer u2): 2 CRP proposals, both signed.
 * Overall: 6 proposals, 1 block → block rate 1/6; 2 flagged, 1 override → override rate 0.5;
 * 2 repeats inside the interval. Funnel for 2001 (n = 4, p0 = 1/6): SE = √(1/6·5/6/4) = 0.18634,
 * upper 95 % = 0.16667 + 1.96·0.18634 = 0.53189, lower clamped to 0; its 0.25 is within.
 */
function events(now: number): OrderEvent[] {
  const at = (min: number) => now - min * 60_000;
  const a = { channel: 'requisition' as const, patient: 'p-secret', orderer: 'u1', organisation: '2001' };
  const b = { channel: 'requisition' as const, patient: 'p-other', orderer: 'u2', organisation: '2002' };
  return [
    { ...a, at: at(10), kind: 'proposal', test: 'crp', requisition: 'r1' },
    { ...a, at: at(10), kind: 'proposal', test: 'hba1c', requisition: 'r1' },
    { ...a, at: at(10), kind: 'warning', test: 'crp', rule: 'retest-crp', ruleKind: 'retest-interval' },
    { ...a, at: at(10), kind: 'block', test: 'hba1c', rule: 'vk-hba1c', ruleKind: 'retest-interval' },
    { ...a, at: at(9), kind: 'override', test: 'crp', rule: 'retest-crp', reason: 'clinical change' },
    { ...a, at: at(9), kind: 'sign', test: 'crp' },
    { ...a, at: at(9), kind: 'cancel', test: 'hba1c' },
    { ...a, at: at(8), kind: 'proposal', test: 'crp' },
    { ...a, at: at(8), kind: 'proposal', test: 'hba1c' },
    { ...a, at: at(8), kind: 'sign', test: 'crp' },
    { ...a, at: at(8), kind: 'sign', test: 'hba1c' },
    { ...b, at: at(5), kind: 'proposal', test: 'crp' },
    { ...b, at: at(5), kind: 'proposal', test: 'crp' },
    { ...b, at: at(5), kind: 'sign', test: 'crp' },
    { ...b, at: at(5), kind: 'sign', test: 'crp' },
  ];
}

const org = (id: string, code: string, parent?: string) => ({
  resourceType: 'Organization',
  id,
  identifier: [{ system: SOR_SYSTEM, value: code }],
  ...(parent ? { partOf: { reference: `Organization/${parent}` } } : {}),
});

for (const dialect of await testDialects()) {
  describe(`/mi/requisitions: requisition patterns from the ordering service (${dialect})`, () => {
    let dx: TestApp;
    before(async () => {
      dx = await buildTestApp({}, { repo: await freshRepo(dialect) });
      await dx.repo.transaction(async (w) => {
        for (const o of [org('h', '2000'), org('a', '2001', 'h'), org('b', '2002', 'h')]) await dx.repo.put(w, o);
      });
      await dx.ordering.events.recordNow(events(dx.operations.now()));
    });
    after(() => dx.close());
    const get = async (url: string, user?: Parameters<TestApp['bearer']>[0]) =>
      dx.app.inject({ url, headers: user ? { authorization: await dx.bearer(user) } : {} });

    test('counts, rates, trend and funnel limits match the hand computation', async () => {
      const res = await get('/mi/requisitions?window=7d', { role: 'admin', org: '2000' });
      assert.equal(res.statusCode, 200, res.body);
      const body = JSON.parse(res.body);
      assert.equal(body.by, 'organisation');
      assert.deepEqual(body.overall, {
        proposals: 6,
        signed: 5,
        cancelled: 1,
        warnings: 1,
        blocks: 1,
        overrides: 1,
        repeatsInsideInterval: 2,
        blockRate: 1 / 6,
        overrideRate: 0.5,
      });
      const [a, b] = body.rows;
      assert.deepEqual(
        [a.key, a.proposals, a.signed, a.cancelled, a.blocks, a.blockRate, a.overrideRate],
        ['2001', 4, 3, 1, 1, 0.25, 0.5],
      );
      assert.deepEqual([b.key, b.proposals, b.blockRate, b.overrideRate], ['2002', 2, 0, 0]);
      assert.ok(Math.abs(a.funnel.upper95 - 0.53189) < 1e-4);
      assert.equal(a.funnel.lower95, 0);
      assert.equal(a.funnel.position, 'within');
      const sum = (k: string) => body.trend.reduce((s: number, t: Record<string, number>) => s + t[k]!, 0);
      assert.deepEqual([sum('proposals'), sum('blocks'), sum('overrides')], [6, 1, 1]);
      // Aggregates only: no patient or requisition ids.
      assert.doesNotMatch(res.body, /p-secret|p-other|"r1"/);
    });

    test('by test, drill-down and bounded department managers', async () => {
      const byTest = JSON.parse((await get('/mi/requisitions?window=7d&by=test')).body);
      assert.deepEqual(
        byTest.rows.map((r: { key: string; proposals: number; repeatsInsideInterval: number }) => [
          r.key,
          r.proposals,
          r.repeatsInsideInterval,
        ]),
        [
          ['crp', 4, 1],
          ['hba1c', 2, 1],
        ],
      );
      const manager = { role: 'department-manager' as const, org: '2001' };
      const own = JSON.parse((await get('/mi/requisitions?window=7d', manager)).body);
      assert.deepEqual(own.organisations, ['2001']);
      assert.deepEqual(
        own.rows.map((r: { key: string }) => r.key),
        ['2001'],
      );
      assert.equal(own.overall.proposals, 4);
      assert.equal((await get('/mi/requisitions?window=7d&org=2002', manager)).statusCode, 403);
      const drill = JSON.parse((await get('/mi/requisitions?window=7d&org=2002')).body);
      assert.equal(drill.overall.proposals, 2);
      assert.equal((await get('/mi/requisitions', { role: 'clinician', org: '2001' })).statusCode, 403);
      const badBy = await get('/mi/requisitions?by=section');
      assert.equal(badBy.statusCode, 400);
      assert.match(JSON.parse(badBy.body).issue[0].diagnostics, /by must be one of organisation, orderer, test/);
    });

    test('CSV export and the OpenAPI document', async () => {
      const csv = await get('/mi/requisitions?window=7d&by=orderer&format=csv');
      assert.match(String(csv.headers['content-type']), /text\/csv/);
      const lines = csv.body.trim().split('\r\n');
      assert.equal(lines.length, 3);
      const cols = lines[0]!.split(',');
      const u1 = Object.fromEntries(cols.map((c, i) => [c, lines[1]!.split(',')[i]]));
      assert.deepEqual(
        [u1.orderer, u1.proposals, u1.blocks, u1.overrideRate, u1.funnelPosition],
        ['u1', '4', '1', '0.5', 'within'],
      );
      const api = JSON.parse((await get('/mi/openapi.json')).body);
      const params = api.paths['/mi/requisitions'].get.parameters.map((p: { name: string }) => p.name);
      assert.deepEqual(params.sort(), ['by', 'format', 'org', 'window']);
    });
  });
}
