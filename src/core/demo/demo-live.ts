import { DEMO_IMAGING } from './analysis-catalogue.ts';
import { ACUTE_HOURS, acuteUnitsFor, DEMO_UTC_OFFSET_MS } from './demo-history.ts';
import { type DemoOrder, imagingOrder, labOrder } from './demo-orders.ts';
import { demoPatient } from './demo-patients.ts';
import { demoRandom } from './demo-random.ts';
import { demoDevices } from './demo-staff.ts';
import { imagingSectionFor, labSectionFor } from './region-catalogue.ts';

/** How a live result reaches the hub: HL7 v2 from the LIS over MLLP, or ASTM from an analyzer. */
export type LiveRoute = 'hl7' | 'astm';

/** One event of the live stream. */
export interface LiveEvent {
  readonly n: number;
  readonly order: DemoOrder;
  readonly route: LiveRoute;
  /** The analyzer (ASTM H-5.1) of the performing section; the modality for imaging. */
  readonly analyzer: string;
  /** Fault injection: send a broken message (before the real one). */
  readonly badMessage: boolean;
}

/** Shares of the live stream, SIMULATION PARAMETERS. */
export const LIVE_MODEL = {
  acuteShare: 0.4,
  astmShare: 0.5,
  badMessageShare: 0.01,
  gpPanels: ['gp-basic', 'hba1c', 'kidney', 'lipids'],
  gpPanelWeights: [4, 3, 2, 1],
  acutePanels: ['acute-basic', 'troponin', 'ddimer'],
  acutePanelWeights: [5, 3, 1],
  /** Share of emergency orders that are imaging (reported by the RIS over HL7). */
  imagingShare: 0.15,
} as const;

/**
 * The `n`-th live order of a run, deterministic from `(seed, n)` and the time it is placed: a GP
 * or emergency order for one of the region's `patientCount` patients, routed to HL7 or ASTM.
 * `runId` namespaces ids so that a restarted simulator does not reuse order numbers.
 */
export function liveEvent(
  seed: number | string,
  n: number,
  opts: { patientCount: number; at: number; runId: string; delayMinutes?: (section: string) => number },
): LiveEvent {
  const r = demoRandom(seed, 'live', n);
  const p = demoPatient(seed, r.int(0, Math.max(0, opts.patientCount - 1)), opts.at);
  const acute = r.chance(LIVE_MODEL.acuteShare);
  const units = acuteUnitsFor(p.practice);
  const requester = acute ? units.emergency : p.practice;
  const id = `dl-${opts.runId}-${n}`;
  if (acute && r.chance(LIVE_MODEL.imagingShare)) {
    // Imaging: the RIS reports over HL7 (never ASTM); the modality is the "device".
    const proc = r.pick(DEMO_IMAGING);
    const performer = imagingSectionFor(requester).code;
    const order = imagingOrder(
      r,
      {
        id,
        patient: p,
        what: proc.code,
        kind: 'imaging',
        requester: requester.code,
        performer,
        priority: 'urgent',
        authored: opts.at,
        fromGp: false,
        acute,
        delayMinutes: opts.delayMinutes?.(performer) ?? 0,
      },
      proc.normal,
      proc.findings,
    );
    const modality = demoDevices().find((d) => d.section === performer && d.kind === 'modality')!.name;
    return { n, order, route: 'hl7', analyzer: modality, badMessage: r.chance(LIVE_MODEL.badMessageShare) };
  }
  const performer = labSectionFor(requester.site).code;
  const what = acute
    ? r.weighted(LIVE_MODEL.acutePanels, LIVE_MODEL.acutePanelWeights)
    : r.weighted(LIVE_MODEL.gpPanels, LIVE_MODEL.gpPanelWeights);
  const order = labOrder(r, {
    id,
    patient: p,
    what,
    kind: 'lab',
    requester: requester.code,
    performer,
    priority: acute ? 'stat' : 'routine',
    authored: opts.at,
    fromGp: !acute,
    acute,
    delayMinutes: opts.delayMinutes?.(performer) ?? 0,
  });
  const analyzer = demoDevices().find((d) => d.section === performer && d.kind === 'analyzer')!.name;
  return {
    n,
    order,
    route: r.chance(LIVE_MODEL.astmShare) ? 'astm' : 'hl7',
    analyzer,
    badMessage: r.chance(LIVE_MODEL.badMessageShare),
  };
}

/**
 * Arrival times (ms) of live orders from `start`: a Poisson process of `ordersPerHour` (simulated
 * time) shaped by the emergency diurnal curve, so nights are quiet. Deterministic from the seed.
 */
export function* liveArrivals(seed: number | string, start: number, ordersPerHour: number): Generator<number> {
  if (!(ordersPerHour > 0)) return;
  const r = demoRandom(seed, 'arrivals');
  const mean = ACUTE_HOURS.reduce((a, b) => a + b, 0) / ACUTE_HOURS.length;
  let t = start;
  for (;;) {
    const hour = new Date(t + DEMO_UTC_OFFSET_MS).getUTCHours();
    t += r.exponential(3_600_000 / (ordersPerHour * (ACUTE_HOURS[hour]! / mean)));
    yield Math.round(t);
  }
}

/** A fault window: a slow lab section and/or a silent analyzer during `[start, end)` (simulated time). */
export interface FaultWindow {
  readonly start: number;
  readonly end: number;
  readonly slowSection?: string;
  readonly slowMinutes: number;
  readonly silentAnalyzer?: string;
}

/** Fault plan SIMULATION PARAMETERS: 2-hour windows, each with a chance of a slow section or a silent analyzer. */
export const FAULT_MODEL = { windowMs: 2 * 3_600_000, slowShare: 0.3, slowMinutes: 90, silentShare: 0.3 } as const;

/** The fault window containing `t`, deterministic from the seed and the window's index. */
export function faultWindow(seed: number | string, t: number): FaultWindow {
  const index = Math.floor(t / FAULT_MODEL.windowMs);
  const r = demoRandom(seed, 'fault', index);
  const analyzers = demoDevices().filter((d) => d.kind === 'analyzer');
  const slow = r.chance(FAULT_MODEL.slowShare) ? r.pick(analyzers).section : undefined;
  const silent = r.chance(FAULT_MODEL.silentShare) ? r.pick(analyzers).name : undefined;
  return {
    start: index * FAULT_MODEL.windowMs,
    end: (index + 1) * FAULT_MODEL.windowMs,
    ...(slow ? { slowSection: slow } : {}),
    slowMinutes: FAULT_MODEL.slowMinutes,
    ...(silent ? { silentAnalyzer: silent } : {}),
  };
}
