import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import {
  decide,
  type LiveEvent,
  liveArrivals,
  liveOrderEvent,
  orderedAs,
  regionResources,
} from '../core/demo/index.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { AstmListener } from '../ingest/astm-listener.ts';
import { MllpListener } from '../ingest/mllp-listener.ts';
import { PLACER_SYSTEM } from '../ordering/ordering-service.ts';
import type { OrderChannel } from './order-channel.ts';
import { demoOrderChannel } from './requisition-channel.ts';
import { patientBatch } from './seed-region.ts';
import { startSimulator } from './simulator.ts';

const START = Date.parse('2026-11-29T06:00:00Z');
const ORDERS = 60;
const RATE = 60;
const PATIENTS = 8;

/** Over-orders in the seed's pure plan (so the test cannot pass on a stream without any). */
function overOrders(seed: number): number {
  const arrivals = liveArrivals(seed, START, RATE);
  const recent: LiveEvent[] = [];
  let n = 0;
  for (let i = 0; i < ORDERS; i++)
    if (
      liveOrderEvent(seed, i, { patientCount: PATIENTS, at: arrivals.next().value as number, runId: 'rq' }, recent)
        .order.overOrder
    )
      n++;
  return n;
}

describe('the simulated orderer (pure, seeded)', () => {
  it('withdraws on a block its role may not lift, overrides with a reason otherwise, and decides the same way for the same seed', () => {
    const block = [{ rule: 'retest-crp-24h', action: 'block', orderId: 'sr-1', overrideRoles: ['lab-physician'] }];
    assert.equal(decide(1, 'o-1', block, 'clinician').sign, false);
    const warning = [{ rule: 'duplicate-open-order', action: 'warning', orderId: 'sr-1' }];
    const outcomes = [...Array(40).keys()].map((i) => decide(7, `o-${i}`, warning, 'clinician'));
    assert.deepEqual(
      outcomes,
      [...Array(40).keys()].map((i) => decide(7, `o-${i}`, warning, 'clinician')),
    );
    const signed = outcomes.filter((d) => d.sign);
    assert.ok(signed.length > 0 && signed.length < 40, 'some warnings overridden, some heeded');
    for (const d of signed) assert.ok(d.sign && d.overrides[0]!.reason.length > 0);
    assert.deepEqual(decide(1, 'o-2', [{ rule: 'x', action: 'info', orderId: 'a' }], 'clinician'), {
      sign: true,
      overrides: [],
    });
  });
});

for (const dialect of await testDialects()) {
  describe(`simulator through the requisition API and CDS Hooks (${dialect})`, () => {
    it('places orders as requisitions, over-orders meet the rules, results link to the requisition', async () => {
      const seed = [...Array(100).keys()].find((s) => overOrders(s) >= 3);
      assert.ok(seed !== undefined);
      const dx = await buildTestApp({}, { repo: await freshRepo(dialect) });
      const mllp = new MllpListener({
        inbox: { accept: (raw, peer) => dx.inbox.accept(raw, peer) },
        host: '127.0.0.1',
        port: 0,
      });
      const astm = new AstmListener({
        inbox: { accept: (raw, peer) => dx.astmInbox.accept(raw, peer) },
        host: '127.0.0.1',
        port: 0,
      });
      try {
        // The region's organisations (SOR tree: where a treatment relation is read from) and its patients.
        await dx.repo.transaction(async (w) => {
          for (const r of regionResources()) await dx.repo.put(w, r);
          for (const r of patientBatch({ seed, asOf: START, years: 0.05 }, 0, PATIENTS).resources)
            await dx.repo.put(w, r);
        });
        await dx.app.listen({ host: '127.0.0.1', port: 0 });
        const addr = dx.app.server.address() as { port: number };
        const [m, a] = [await mllp.listen(), await astm.listen()];
        const inner = demoOrderChannel('requisition', `http://127.0.0.1:${addr.port}`, dx.auth.issuer!, seed);
        const flags = async (patient: string, test: string) =>
          Number(
            (
              await dx.repo.db.all<{ n: number }>(
                `SELECT COUNT(*) AS n FROM order_event WHERE channel = 'requisition' AND patient = ? AND test = ? AND kind IN ('warning', 'block')`,
                [patient, test],
              )
            )[0]!.n,
          );
        // Over-orders whose earlier order was signed (so it is still open or resulted), and whether the rules flagged them.
        const open = new Set<string>();
        const over: { key: string; flagged: boolean }[] = [];
        const outcomes: string[] = [];
        const channel: OrderChannel = {
          name: inner.name,
          async place(order, resources) {
            const key = `${order.patient.id} ${orderedAs(order)}`;
            const before = await flags(order.patient.id, orderedAs(order));
            const placed = await inner.place(order, resources);
            outcomes.push(placed ? 'signed' : 'withdrawn');
            if (order.overOrder && open.has(key))
              over.push({ key, flagged: (await flags(order.patient.id, orderedAs(order))) > before });
            if (placed) open.add(key);
            return placed;
          },
        };
        const sim = startSimulator({
          seed,
          patientCount: PATIENTS,
          orders: channel,
          mllp: { host: '127.0.0.1', port: m.port },
          astm: { host: '127.0.0.1', port: a.port },
          ordersPerHour: RATE,
          speedUp: 200_000,
          start: START,
          capAtWallClock: false,
          runId: 'rq',
          maxOrders: ORDERS,
          faults: false,
          tickMs: 5,
        });
        await sim.done;
        await sim.stop();
        const s = sim.stats;
        assert.equal(s.errors, 0);
        assert.equal(s.ordersPlaced, ORDERS);
        assert.ok(s.overOrders >= over.length);
        assert.ok(over.length >= 2, 'over-orders of signed orders');
        const withdrawn = outcomes.filter((o) => o === 'withdrawn').length;
        assert.equal(s.ordersWithdrawn, withdrawn);
        assert.equal(s.hl7Sent + s.astmSent, ORDERS - withdrawn);
        // Every order is an order event of the requisition API: a proposal, then a sign or a cancel.
        await dx.ordering.events.flush();
        const count = async (where: string) =>
          Number((await dx.repo.db.all<{ n: number }>(`SELECT COUNT(*) AS n FROM order_event WHERE ${where}`))[0]!.n);
        assert.equal(await count(`channel = 'requisition' AND kind = 'proposal'`), ORDERS);
        assert.equal(await count(`channel = 'cds-hooks' AND kind = 'proposal'`), ORDERS);
        assert.equal(await count(`kind = 'sign'`), ORDERS - withdrawn);
        assert.equal(await count(`kind = 'cancel'`), withdrawn);
        const overrides = await count(`kind = 'override'`);
        // Each signed order with a warning carries exactly one override with a reason.
        assert.equal(overrides, await count(`kind = 'override' AND reason IS NOT NULL AND reason <> ''`));
        // Over-orders are caught: each has a warning or block on its patient and test in the requisition channel.
        for (const o of over) assert.ok(o.flagged, `over-order ${o.key} was not flagged`);
        assert.ok(overrides + withdrawn > 0, 'the orderer acted on findings');
        // Results link: ingest creates no ServiceRequest of its own; every report is based on a requisition's order.
        assert.deepEqual(await dx.processor.runOnce(), { processed: s.hl7Sent, failed: 0, skipped: 0 });
        assert.deepEqual(await dx.astmProcessor.runOnce(), { processed: s.astmSent, failed: 0, skipped: 0 });
        // The live stream's resources (the seeded history's ids start with `do-`).
        const all = async (type: string) =>
          (await dx.repo.search(parseSearchRequest(type, [['_count', '1000']]))).matches
            .map(
              (x) =>
                JSON.parse(x.json) as {
                  id: string;
                  status?: string;
                  identifier?: { system: string }[];
                  basedOn?: { reference: string }[];
                },
            )
            .filter((r) => !String(r.id).startsWith('do-'));
        const srs = await all('ServiceRequest');
        assert.equal(srs.length, ORDERS);
        for (const sr of srs) assert.equal(sr.identifier?.[0]?.system, PLACER_SYSTEM);
        const srIds = new Set(srs.filter((sr) => sr.status === 'active').map((sr) => `ServiceRequest/${sr.id}`));
        const reports = await all('DiagnosticReport');
        assert.equal(reports.length, s.hl7Sent);
        for (const r of reports) assert.ok(srIds.has(r.basedOn?.[0]?.reference ?? ''), `report ${r.id} not linked`);
        const obs = await all('Observation');
        assert.ok(obs.length > 0);
        for (const o of obs) assert.ok(srIds.has(o.basedOn?.[0]?.reference ?? ''), `observation ${o.id} not linked`);
      } finally {
        await mllp.close();
        await astm.close();
        await dx.close();
      }
    });
  });
}
