import { type DemoAnalysis, demoAnalysis, demoPanel } from './analysis-catalogue.ts';
import type { DemoPatient } from './demo-patients.ts';
import type { DemoRandom } from './demo-random.ts';

/** One analysis result of an order. */
export interface DemoResult {
  readonly analysis: DemoAnalysis;
  readonly value: number;
  /** Outside the cited critical limits. */
  readonly critical: boolean;
  /** The first reported value when the result was later corrected. */
  readonly correctedFrom?: number;
}

/** Order priority; Sygehus Sønderjylland's Rutine / Fremskyndet (< 3 h) / Haste (< 1 h) (research note ordering-and-results §1.5). */
export type DemoPriority = 'routine' | 'urgent' | 'stat';

/** A generated order with its stage times (ms) and results: what the resource builders turn into FHIR. */
export interface DemoOrder {
  /** Base id; resources append `-sr`, `-sp`, `-dr`, `-o<n>`, `-is`. */
  readonly id: string;
  readonly patient: DemoPatient;
  readonly kind: 'lab' | 'imaging';
  /** Panel key (lab) or imaging procedure code. */
  readonly what: string;
  readonly requester: string;
  readonly performer: string;
  readonly priority: DemoPriority;
  readonly authored: number;
  /** Specimen collected (lab) or study started (imaging). */
  readonly collected: number;
  /** Specimen received in the lab (lab only; equals `collected` for imaging). */
  readonly received: number;
  readonly issued: number;
  readonly results: readonly DemoResult[];
  /** Report text for imaging. */
  readonly conclusion?: string;
  readonly encounter?: string;
  /** A repeat inside the minimum retest interval, for the ordering rules to catch. */
  readonly overOrder?: boolean;
}

/**
 * Turnaround SIMULATION PARAMETERS (minutes, log-normal median and sigma): collection → receipt
 * (GP samples travel by courier; hospital samples by tube post) and receipt → result per priority.
 * Chosen so that Haste/Fremskyndet mostly meet their < 1 h / < 3 h targets (research note
 * ordering-and-results §1.5); not measured figures.
 */
export const TURNAROUND = {
  transportGp: [180, 0.4],
  transportHospital: [20, 0.5],
  analysis: { stat: [35, 0.3], urgent: [70, 0.35], routine: [150, 0.45] },
  imagingStart: [120, 0.6],
  imagingReport: [180, 0.6],
} as const;

/** Share of results pushed past a critical limit, and of results corrected after release (simulation parameters). */
export const CRITICAL_SHARE = 0.004;
export const CORRECTION_SHARE = 0.003;

const MIN = 60_000;

/** Draws a result value for an analysis; `diseased` shifts it to the condition's median. */
export function drawResult(r: DemoRandom, a: DemoAnalysis, diseased: boolean): DemoResult {
  const v = a.values;
  let value = r.logNormal(diseased && v.diseaseMedian !== undefined ? v.diseaseMedian : v.median, v.sigma);
  const c = a.critical;
  if (c && r.chance(CRITICAL_SHARE)) {
    const goHigh = c.high !== undefined && (c.low === undefined || r.chance(0.6));
    value = goHigh ? c.high! * (1.02 + r.next() * 0.3) : c.low! * (0.98 - r.next() * 0.15);
  }
  const round = (x: number) => Number(x.toFixed(v.decimals));
  value = round(value);
  const critical =
    c !== undefined && ((c.high !== undefined && value > c.high) || (c.low !== undefined && value < c.low));
  if (r.chance(CORRECTION_SHARE)) {
    // The released value was wrong (e.g. a dilution factor) and is corrected: new version, status corrected.
    return { analysis: a, value: round(value * 0.8), critical, correctedFrom: value };
  }
  return { analysis: a, value, critical };
}

/** Which results a panel gives for the patient (diseased values where a condition applies). */
function panelResults(r: DemoRandom, panel: string, p: DemoPatient, acute: boolean): DemoResult[] {
  const diseaseOf: Record<string, boolean> = {
    hba1c: p.conditions.has('diabetes'),
    glucose: p.conditions.has('diabetes'),
    creatinine: p.conditions.has('ckd'),
    potassium: p.conditions.has('ckd'),
    hb: p.conditions.has('ckd') && r.chance(0.5),
    cholesterol: p.conditions.has('hyperlipidaemia'),
    ldl: p.conditions.has('hyperlipidaemia'),
    crp: acute && r.chance(0.5),
    leukocytes: acute && r.chance(0.4),
    troponin: acute && r.chance(0.25),
    ddimer: acute && r.chance(0.3),
  };
  return demoPanel(panel).analyses.map((k) => drawResult(r, demoAnalysis(k), diseaseOf[k] ?? false));
}

/** What an order needs besides the random source. */
export interface OrderSpec {
  readonly id: string;
  readonly patient: DemoPatient;
  readonly what: string;
  readonly kind: 'lab' | 'imaging';
  readonly requester: string;
  readonly performer: string;
  readonly priority: DemoPriority;
  readonly authored: number;
  readonly fromGp: boolean;
  readonly acute: boolean;
  readonly encounter?: string;
  readonly overOrder?: boolean;
  /** Extra minutes before the result (a slow section, in the live simulator). */
  readonly delayMinutes?: number;
}

/** Builds a lab order: stage times from the turnaround model, results from the value model. */
export function labOrder(r: DemoRandom, s: OrderSpec): DemoOrder {
  const collected = s.authored + (s.fromGp ? r.int(0, 20) : r.int(2, 25)) * MIN;
  const [tm, ts] = s.fromGp ? TURNAROUND.transportGp : TURNAROUND.transportHospital;
  const received = collected + Math.round(r.logNormal(tm, ts) * MIN);
  const [am, as] = TURNAROUND.analysis[s.priority];
  const issued = received + Math.round((r.logNormal(am, as) + (s.delayMinutes ?? 0)) * MIN);
  return {
    id: s.id,
    patient: s.patient,
    kind: 'lab',
    what: s.what,
    requester: s.requester,
    performer: s.performer,
    priority: s.priority,
    authored: s.authored,
    collected,
    received,
    issued,
    results: panelResults(r, s.what, s.patient, s.acute),
    ...(s.encounter ? { encounter: s.encounter } : {}),
    ...(s.overOrder ? { overOrder: true } : {}),
  };
}

/** Builds an imaging order: study start and report times, a normal report or a finding. */
export function imagingOrder(r: DemoRandom, s: OrderSpec, normal: string, findings: readonly string[]): DemoOrder {
  const started = s.authored + Math.round(r.logNormal(...TURNAROUND.imagingStart) * MIN);
  const issued = started + Math.round((r.logNormal(...TURNAROUND.imagingReport) + (s.delayMinutes ?? 0)) * MIN);
  return {
    id: s.id,
    patient: s.patient,
    kind: 'imaging',
    what: s.what,
    requester: s.requester,
    performer: s.performer,
    priority: s.priority,
    authored: s.authored,
    collected: started,
    received: started,
    issued,
    results: [],
    conclusion: r.chance(0.3) ? r.pick(findings) : normal,
    ...(s.encounter ? { encounter: s.encounter } : {}),
  };
}
