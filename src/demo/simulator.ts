import { setTimeout as sleep } from 'node:timers/promises';
import {
  astmForOrder,
  brokenOru,
  faultWindow,
  type LiveEvent,
  liveArrivals,
  liveOrderEvent,
  oruForOrder,
  serviceRequestResource,
  specimenResource,
} from '../core/demo/index.ts';
import { ackCode, sendMllp } from '../delivery/mllp-client.ts';
import { AstmInstrumentClient } from '../ingest/astm-instrument-client.ts';
import type { OrderChannel, PlacedOrder } from './order-channel.ts';

/** Where and how fast the simulator sends. */
export interface SimulatorOptions {
  readonly seed: number | string;
  /** Patients of the seeded region (`dp-0` … `dp-<n-1>`). */
  readonly patientCount: number;
  readonly orders: OrderChannel;
  readonly mllp: { readonly host: string; readonly port: number };
  readonly astm: { readonly host: string; readonly port: number };
  /** Orders per simulated hour (default 300). */
  readonly ordersPerHour?: number;
  /** Simulated seconds per real second (default 60). */
  readonly speedUp?: number;
  /** Simulated start (default six hours ago: the backlog of the day is resulted while catching up). */
  readonly start?: number;
  /**
   * The simulated clock never passes the wall clock (default true): it runs `speedUp` times faster
   * from `start` until it has caught up, then in real time, so no timestamp lies in the future.
   */
  readonly capAtWallClock?: boolean;
  /** Namespace of order ids (default the start time in base 36). */
  readonly runId?: string;
  /** Stop after this many orders (default: run until stopped). */
  readonly maxOrders?: number;
  /** Inject faults (bad messages, slow sections, silent analyzers); default true. */
  readonly faults?: boolean;
  readonly onError?: (err: Error) => void;
  /** Real time between ticks (ms, default 200). */
  readonly tickMs?: number;
  /**
   * Share of real time the simulator may keep the hub busy while it is behind its schedule
   * (0 < share ≤ 1, default 1: back to back). After each order or result that took d ms it pauses
   * d·(1 − share)/share ms, so that a catch-up leaves the rest of the machine to the people using
   * the hub; on a fast machine the catch-up is still fast, on a slow one it takes longer.
   */
  readonly busyShare?: number;
}

/** Counters of a run. */
export interface SimulatorStats {
  ordersPlaced: number;
  /** Orders the simulated orderer withdrew (e.g. blocked by a rule it may not lift): no result follows. */
  ordersWithdrawn: number;
  /** Orders that repeat a recent order of the same patient (tagged over-order). */
  overOrders: number;
  hl7Sent: number;
  hl7Accepted: number;
  astmSent: number;
  astmAccepted: number;
  badMessagesSent: number;
  badMessagesRefused: number;
  heldBySilentAnalyzer: number;
  errors: number;
}

/** A running simulator. */
export interface Simulator {
  readonly stats: SimulatorStats;
  /** Simulated now. */
  now(): number;
  /** Resolves when every placed order's results were sent (only with `maxOrders`). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The live simulator: places orders on the {@link OrderChannel} at their (simulated) authoring
 * time, and when a result is due sends it as HL7 v2 ORU^R01 over MLLP (the simulated LIS) or as
 * ASTM from the section's analyzer. Faults: ~1 % broken HL7 messages (must be refused), a slow
 * section per fault window (results 90 min later) and a silent analyzer (its results are held and
 * sent when the window ends). The stream is deterministic from the seed; only pacing is real time.
 */
export function startSimulator(options: SimulatorOptions): Simulator {
  const speedUp = options.speedUp ?? 60;
  const start = options.start ?? Date.now() - 6 * 3_600_000;
  const cap = options.capAtWallClock ?? true;
  const realStart = performance.now();
  const runId = options.runId ?? start.toString(36);
  const faults = options.faults ?? true;
  const busyShare = options.busyShare ?? 1;
  if (!(busyShare > 0 && busyShare <= 1)) throw new RangeError('busyShare must be > 0 and ≤ 1');
  const now = () => {
    const t = start + (performance.now() - realStart) * speedUp;
    return cap ? Math.min(t, Date.now()) : t;
  };
  const stats: SimulatorStats = {
    ordersPlaced: 0,
    ordersWithdrawn: 0,
    overOrders: 0,
    hl7Sent: 0,
    hl7Accepted: 0,
    astmSent: 0,
    astmAccepted: 0,
    badMessagesSent: 0,
    badMessagesRefused: 0,
    heldBySilentAnalyzer: 0,
    errors: 0,
  };
  const arrivals = liveArrivals(options.seed, start, options.ordersPerHour ?? 300);
  let nextAt = arrivals.next().value as number;
  let n = 0;
  type Pending = LiveEvent & { readonly placed: PlacedOrder };
  const pending: Pending[] = [];
  const recent: LiveEvent[] = [];
  const clients = new Map<string, Promise<AstmInstrumentClient>>();
  let stopped = false;
  const fail = (e: unknown) => {
    stats.errors++;
    options.onError?.(e as Error);
  };

  const astmClient = (analyzer: string) => {
    let c = clients.get(analyzer);
    if (!c) {
      c = AstmInstrumentClient.connect({ host: options.astm.host, port: options.astm.port });
      c.catch(() => clients.delete(analyzer));
      clients.set(analyzer, c);
    }
    return c;
  };

  const sendResult = async (e: Pending) => {
    if (e.route === 'hl7') {
      if (faults && e.badMessage) {
        stats.badMessagesSent++;
        const ack = await sendMllp(options.mllp.host, options.mllp.port, brokenOru(`BAD-${runId}-${e.n}`));
        if (ackCode(ack) !== 'AA' && ackCode(ack) !== 'CA') stats.badMessagesRefused++;
      }
      stats.hl7Sent++;
      const ack = await sendMllp(
        options.mllp.host,
        options.mllp.port,
        oruForOrder(e.order, `SIM-${runId}-${e.n}`, e.placed.placer),
      );
      const code = ackCode(ack);
      if (code === 'AA' || code === 'CA') stats.hl7Accepted++;
      else throw new Error(`ORU ${e.order.id} answered ${code ?? 'without MSA'}`);
    } else {
      stats.astmSent++;
      const client = await astmClient(e.analyzer);
      if (await client.send(astmForOrder(e.order, e.analyzer))) stats.astmAccepted++;
      else {
        clients.delete(e.analyzer);
        client.close();
        throw new Error(`ASTM message of ${e.order.id} from ${e.analyzer} was not accepted`);
      }
    }
  };

  const placeNext = async () => {
    const window = faults ? faultWindow(options.seed, nextAt) : undefined;
    // Some orders repeat a recent order of the same patient: the over-ordering the rules should catch.
    const e = liveOrderEvent(
      options.seed,
      n++,
      {
        patientCount: options.patientCount,
        at: nextAt,
        runId,
        delayMinutes: (section) => (window?.slowSection === section ? window.slowMinutes : 0),
      },
      recent,
    );
    if (e.order.overOrder) stats.overOrders++;
    nextAt = arrivals.next().value as number;
    try {
      const placed = await options.orders.place(
        e.order,
        e.order.kind === 'lab'
          ? [serviceRequestResource(e.order, 'active'), specimenResource(e.order)]
          : [serviceRequestResource(e.order, 'active')],
      );
      stats.ordersPlaced++;
      if (placed) {
        pending.push({ ...e, placed });
        pending.sort((a, b) => a.order.issued - b.order.issued);
      } else stats.ordersWithdrawn++;
    } catch (err) {
      fail(err);
    }
  };

  /** Sends the earliest pending result, unless its analyzer is silent now (held until the window ends). */
  const sendNext = async () => {
    const e = pending.shift()!;
    // Decided at the result's due time (not the tick's), so the stream does not depend on pacing.
    const silence = faults && e.route === 'astm' ? faultWindow(options.seed, e.order.issued) : undefined;
    if (silence?.silentAnalyzer === e.analyzer) {
      stats.heldBySilentAnalyzer++;
      pending.push({ ...e, order: { ...e.order, issued: silence.end } });
      pending.sort((a, b) => a.order.issued - b.order.issued);
      return;
    }
    try {
      await sendResult(e);
    } catch (err) {
      fail(err);
    }
  };

  // Orders and results up to now, in simulated-time order: a slow order channel delays the
  // stream but never starves results that were due before the next order.
  const tick = async () => {
    const t = now();
    while (!stopped) {
      const orderDue = nextAt <= t && (options.maxOrders === undefined || n < options.maxOrders);
      const resultAt = pending[0]?.order.issued;
      const resultDue = resultAt !== undefined && resultAt <= t;
      const began = performance.now();
      if (orderDue && (!resultDue || nextAt <= resultAt)) await placeNext();
      else if (resultDue) await sendNext();
      else break;
      if (busyShare < 1) await sleep(((performance.now() - began) * (1 - busyShare)) / busyShare);
    }
  };

  const finished = () => options.maxOrders !== undefined && n >= options.maxOrders && pending.length === 0;
  const done = (async () => {
    while (!stopped && !finished()) {
      await tick();
      await sleep(options.tickMs ?? 200);
    }
  })();
  return {
    stats,
    now,
    done,
    async stop() {
      stopped = true;
      await done;
      for (const c of clients.values()) (await c.catch(() => undefined))?.close();
    },
  };
}
