import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp } from '../../test/support/app.ts';
import { freshRepo, testDialects } from '../../test/support/dialects.ts';
import {
  DEMO_PLACER_NAMESPACE,
  type DemoOrder,
  type DemoResource,
  faultWindow,
  type LiveEvent,
  liveArrivals,
  liveOrderEvent,
} from '../core/demo/index.ts';
import { AstmListener } from '../ingest/astm-listener.ts';
import { MllpListener } from '../ingest/mllp-listener.ts';
import type { OrderChannel } from './order-channel.ts';
import { patientBatch } from './seed-region.ts';
import { startSimulator } from './simulator.ts';

const START = Date.parse('2026-11-29T06:00:00Z');
const ORDERS = 120;
const RATE = 30;
const PATIENTS = 30;

/** The plan of a seed, computed from the pure generators: bad messages and results held by a silent analyzer. */
function plan(seed: number) {
  const arrivals = liveArrivals(seed, START, RATE);
  let bad = 0;
  let silent = 0;
  const recent: LiveEvent[] = [];
  for (let n = 0; n < ORDERS; n++) {
    const at = arrivals.next().value as number;
    const w = faultWindow(seed, at);
    const e = liveOrderEvent(
      seed,
      n,
      { patientCount: PATIENTS, at, runId: 'sim', delayMinutes: (s) => (w.slowSection === s ? w.slowMinutes : 0) },
      recent,
    );
    if (e.route === 'hl7' && e.badMessage) bad++;
    if (e.route === 'astm' && faultWindow(seed, e.order.issued).silentAnalyzer === e.analyzer) silent++;
  }
  return { bad, silent };
}

/** A recording order channel: the outside world the requisition API will replace. */
function recordingChannel(): OrderChannel & { placed: string[] } {
  const placed: string[] = [];
  return {
    name: 'recording',
    placed,
    async place(order: DemoOrder, resources: readonly DemoResource[]) {
      placed.push(resources.map((r) => `${r.resourceType}/${r.id}`).join(' '));
      return { placer: [order.id, DEMO_PLACER_NAMESPACE], serviceRequest: `${order.id}-sr` };
    },
  };
}

for (const dialect of await testDialects()) {
  describe(`live simulator against the real MLLP and ASTM listeners (${dialect})`, () => {
    it('sends every order, result and fault of the seeded plan; the hub accepts the results and refuses the broken messages', async () => {
      // A seed whose plan has both kinds of fault (found from the pure plan, so the test cannot pass vacuously).
      const seed = [...Array(200).keys()].find((s) => {
        const p = plan(s);
        return p.bad > 0 && p.silent > 0;
      });
      assert.ok(seed !== undefined, 'a seed with faults');
      const expected = plan(seed);
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
        await dx.repo.transaction(async (w) => {
          for (const r of patientBatch({ seed, asOf: START, years: 0.05 }, 0, PATIENTS).resources)
            await dx.repo.put(w, r);
        });
        const [m, a] = [await mllp.listen(), await astm.listen()];
        const run = async () => {
          const orders = recordingChannel();
          const sim = startSimulator({
            seed,
            patientCount: PATIENTS,
            orders,
            mllp: { host: '127.0.0.1', port: m.port },
            astm: { host: '127.0.0.1', port: a.port },
            ordersPerHour: RATE,
            speedUp: 200_000,
            start: START,
            capAtWallClock: false,
            runId: 'sim',
            maxOrders: ORDERS,
            tickMs: 5,
          });
          await sim.done;
          await sim.stop();
          return { stats: sim.stats, placed: orders.placed };
        };
        const first = await run();
        const s = first.stats;
        assert.equal(s.ordersPlaced, ORDERS);
        assert.equal(s.errors, 0);
        assert.equal(s.hl7Sent + s.astmSent, ORDERS);
        assert.equal(s.hl7Accepted, s.hl7Sent);
        assert.equal(s.astmAccepted, s.astmSent);
        assert.equal(s.badMessagesSent, expected.bad);
        assert.equal(s.badMessagesRefused, expected.bad);
        assert.ok(s.heldBySilentAnalyzer >= 1, 'results held while their analyzer was silent, then sent');
        // Everything accepted was processed: no result lost.
        assert.deepEqual(await dx.processor.runOnce(), { processed: s.hl7Sent, failed: 0, skipped: 0 });
        assert.deepEqual(await dx.astmProcessor.runOnce(), { processed: s.astmSent, failed: 0, skipped: 0 });
        assert.equal((await dx.inbox.deadLetters()).length, expected.bad);
        // The same seed replays the same stream (orders in the same order); the hub sees resends only.
        const second = await run();
        assert.deepEqual(second.placed, first.placed);
        assert.equal(second.stats.hl7Sent, s.hl7Sent);
      } finally {
        await mllp.close();
        await astm.close();
        await dx.close();
      }
    });
  });
}

describe('live simulator pacing (busyShare)', () => {
  /** An order channel whose every order takes `ms` and is withdrawn (so no result is sent). */
  function slowChannel(ms: number): OrderChannel & { starts: number[]; ends: number[] } {
    const starts: number[] = [];
    const ends: number[] = [];
    return {
      name: 'slow',
      starts,
      ends,
      async place() {
        starts.push(performance.now());
        await new Promise((r) => setTimeout(r, ms));
        ends.push(performance.now());
        return undefined;
      },
    };
  }
  const base = {
    seed: 1,
    patientCount: PATIENTS,
    mllp: { host: '127.0.0.1', port: 1 },
    astm: { host: '127.0.0.1', port: 1 },
    ordersPerHour: RATE,
    speedUp: 200_000,
    start: START,
    capAtWallClock: false,
    maxOrders: 6,
    faults: false,
    tickMs: 5,
  };

  it('pauses (1 − share)/share of the time each order took while catching up', async () => {
    const orders = slowChannel(20);
    const sim = startSimulator({ ...base, orders, busyShare: 0.25 });
    await sim.done;
    assert.equal(sim.stats.ordersPlaced, 6);
    assert.equal(sim.stats.ordersWithdrawn, 6);
    // Each order took d ≈ 20 ms, so the next one starts d + 3·d after it (≈ 80 ms; without the
    // pause, ≈ 20). Measured d, as timers may fire a little early by performance.now(): the
    // bound allows 2 ms for the two timers involved.
    for (let i = 1; i < orders.starts.length; i++) {
      const d = orders.ends[i - 1]! - orders.starts[i - 1]!;
      const gap = orders.starts[i]! - orders.starts[i - 1]!;
      assert.ok(
        gap >= 4 * d - 2 && gap >= 70,
        `order ${i} followed the previous one after ${gap.toFixed(1)} ms, expected ≥ 4 × ${d.toFixed(1)} ms`,
      );
    }
  });

  it('refuses a share outside (0, 1]', () => {
    for (const busyShare of [0, -0.5, 1.5, Number.NaN])
      assert.throws(() => startSimulator({ ...base, orders: slowChannel(0), busyShare }), /busyShare/);
  });
});
