import { type LiveEvent, liveEvent } from './demo-live.ts';
import type { DemoOrder } from './demo-orders.ts';
import { demoRandom } from './demo-random.ts';

/**
 * How the simulated orderer (a clinician in the EPJ) uses dxhub's requisition API. The demo panels
 * are ordered as the ordering catalogue's test that leads the panel (one test, one ServiceRequest
 * per requisition, so that the result's placer number names exactly one order). Catalogue ids
 * only (src/core/ordering/seed/catalogue.ts): no code is introduced here.
 */
export const ORDERED_AS: Readonly<Record<string, string>> = Object.freeze({
  hba1c: 'hba1c',
  kidney: 'creatinine',
  lipids: 'ldl',
  'gp-basic': 'hb',
  'acute-basic': 'crp',
  troponin: 'troponin-t',
  ddimer: 'd-dimer',
  'RTG-THORAX': 'xray-chest',
  'CT-THORAX-LE': 'ct-chest-contrast',
  'CT-CEREBRUM': 'ct-head',
});

/** The catalogue test a demo order is placed as; throws for a panel without one. */
export function orderedAs(o: DemoOrder): string {
  const test = ORDERED_AS[o.what];
  if (!test) throw new RangeError(`demo order ${o.id}: no catalogue test for '${o.what}'`);
  return test;
}

/**
 * Orderer behaviour, SIMULATION PARAMETERS (not measured): the share of live orders that repeat
 * a recent order of the same patient (the over-ordering the history generator tags), how often a
 * warning is overridden with a reason rather than the order withdrawn, and the reasons given.
 * Blocks are never overridden by the simulated clinician unless the rule names the clinician role.
 */
export const ORDERER_MODEL = {
  repeatShare: 0.08,
  /** How far back (orders) a repeat looks for the order it repeats. */
  repeatWindow: 12,
  warningOverrideShare: 0.6,
  blockOverrideShare: 0.3,
  reasons: [
    'Klinisk forværring / clinical deterioration',
    'Svar fra anden enhed ikke tilgængeligt / result from another unit not available',
    'Kontrol efter behandlingsændring / follow-up after change of treatment',
  ],
} as const;

/**
 * Whether live order `n` repeats one of the `recent` orders (deterministic from seed and n), and
 * which: the same patient, test and requester, tagged `over-order`.
 */
export function repeatOf(seed: number | string, n: number, recent: readonly DemoOrder[]): DemoOrder | undefined {
  const r = demoRandom(seed, 'repeat', n);
  if (recent.length === 0 || !r.chance(ORDERER_MODEL.repeatShare)) return undefined;
  return r.pick(recent.slice(-ORDERER_MODEL.repeatWindow));
}

/**
 * Order `again` placed anew as order `id` at `at`: same patient, test, requester and results,
 * stage times shifted, tagged as an over-order.
 */
export function repeatedOrder(again: DemoOrder, id: string, at: number): DemoOrder {
  const shift = at - again.authored;
  return {
    ...again,
    id,
    authored: at,
    collected: again.collected + shift,
    received: again.received + shift,
    issued: again.issued + shift,
    overOrder: true,
  };
}

/** A finding as the requisition API returns it (the fields the orderer reads). */
export interface SeenFinding {
  readonly rule: string;
  readonly action: string;
  readonly orderId: string;
  readonly overrideRoles?: readonly string[];
}

export type OrdererDecision =
  | { readonly sign: true; readonly overrides: { rule: string; reason: string; orderId: string }[] }
  | { readonly sign: false; readonly reason: string };

/**
 * What the clinician does with the findings of order `orderKey`: withdraws the order on an
 * unliftable block (or, some of the time, on a warning); otherwise signs with a reason for each
 * warning and each block the role may lift. Deterministic from seed and order.
 */
export function decide(
  seed: number | string,
  orderKey: string,
  findings: readonly SeenFinding[],
  role: string,
): OrdererDecision {
  const r = demoRandom(seed, 'decide', orderKey);
  const reason = r.pick(ORDERER_MODEL.reasons);
  const overrides: { rule: string; reason: string; orderId: string }[] = [];
  for (const f of findings) {
    if (f.action === 'block') {
      const may = f.overrideRoles?.includes(role) ?? false;
      if (!may || !r.chance(ORDERER_MODEL.blockOverrideShare))
        return { sign: false, reason: `Blokeret af ${f.rule} / blocked by ${f.rule}` };
      overrides.push({ rule: f.rule, reason, orderId: f.orderId });
    } else if (f.action === 'warning') {
      if (!r.chance(ORDERER_MODEL.warningOverrideShare))
        return { sign: false, reason: `Trukket tilbage efter ${f.rule} / withdrawn after ${f.rule}` };
      overrides.push({ rule: f.rule, reason, orderId: f.orderId });
    }
  }
  return { sign: true, overrides };
}

/**
 * Live event `n` with repeats: the fresh event, or (see `repeatOf`) a repeat of one of the
 * `recent` events with the fresh event's id, time and fault flag. Pushes the result to `recent`
 * (kept to the repeat window), so that a caller replays the same stream from the same seed.
 */
export function liveOrderEvent(
  seed: number | string,
  n: number,
  opts: Parameters<typeof liveEvent>[2],
  recent: LiveEvent[],
): LiveEvent {
  const fresh = liveEvent(seed, n, opts);
  const again = repeatOf(
    seed,
    n,
    recent.map((r) => r.order),
  );
  const prior = again && recent.find((r) => r.order === again);
  const e = prior
    ? { ...prior, n, badMessage: fresh.badMessage, order: repeatedOrder(prior.order, fresh.order.id, opts.at) }
    : fresh;
  recent.push(e);
  if (recent.length > ORDERER_MODEL.repeatWindow) recent.shift();
  return e;
}
