import { DEMO_IMAGING } from './analysis-catalogue.ts';
import { type DemoOrder, type DemoPriority, imagingOrder, labOrder, type OrderSpec } from './demo-orders.ts';
import type { DemoPatient } from './demo-patients.ts';
import { type DemoRandom, demoRandom } from './demo-random.ts';
import { type DemoOrganisation, imagingSectionFor, labSectionFor, REGION_ORGANISATIONS } from './region-catalogue.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Danish standard time; the demo ignores summer time (times are stored with their offset). */
export const DEMO_UTC_OFFSET_MS = HOUR;

/**
 * Diurnal workload, SIMULATION PARAMETERS: relative arrivals per local hour 0–23. Emergency
 * arrivals peak late morning to evening; GP samples are drawn on weekday mornings.
 */
export const ACUTE_HOURS = [2, 1.5, 1, 1, 1, 1.2, 2, 3.5, 5.5, 7, 7.5, 7.5, 7, 7, 7, 7, 6.5, 6.5, 6, 5.5, 5, 4, 3, 2.5];
export const GP_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 8, 7, 5, 5, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0];
const HOUR_INDEX = Array.from({ length: 24 }, (_, i) => i);

/** A hospital stay (or emergency visit) that owns the acute orders. */
export interface DemoEncounter {
  readonly id: string;
  readonly patient: DemoPatient;
  readonly serviceProvider: string;
  readonly inpatient: boolean;
  readonly start: number;
  readonly end: number;
}

/** Everything generated for one patient over the history span. */
export interface DemoHistory {
  readonly encounters: readonly DemoEncounter[];
  readonly orders: readonly DemoOrder[];
}

/** Rates and intervals of the history, SIMULATION PARAMETERS except where a source is given. */
export const HISTORY_MODEL = {
  /** GP "basic panel" visits per patient-year. */
  gpVisitsPerYear: 0.5,
  /** HbA1c every 2–6 months in type 2 diabetes (RCPath G147 B-E19, NICE NG28; research note §1.2). */
  hba1cIntervalDays: [90, 180],
  /** Share of HbA1c orders repeated inside the 2-month minimum retest interval (Vælg Klogt): over-ordering. */
  hba1cOverOrderShare: 0.08,
  hba1cOverOrderDays: [14, 50],
  kidneyIntervalDays: [60, 120],
  /** Lipids yearly when higher risk or stable on treatment (G147 B-LP2). */
  lipidIntervalDays: [300, 420],
  /** Emergency visits per patient-year by age band. */
  acutePerYear: (age: number) => (age < 40 ? 0.03 : age < 65 ? 0.06 : 0.15),
  /** Share of emergency visits admitted to a ward, and their stay in days. */
  admittedShare: 0.45,
  stayDays: [1, 6],
  chestPainShare: 0.35,
  /** Second troponin 1–3 h after the first (high-sensitivity algorithms, G147 B-C1). */
  troponinRepeatHours: [1, 3],
  suspectedPeShare: 0.2,
  imagingShare: 0.35,
  /** Share of admitted stays with a duplicate same-day panel (inside the 24 h CRP interval). */
  duplicatePanelShare: 0.1,
} as const;

/** A time on the local day containing `t`, at an hour drawn from `hours`. */
function atLocalHour(r: DemoRandom, t: number, hours: readonly number[]): number {
  const localMidnight = Math.floor((t + DEMO_UTC_OFFSET_MS) / DAY) * DAY - DEMO_UTC_OFFSET_MS;
  return localMidnight + r.weighted(HOUR_INDEX, hours) * HOUR + r.int(0, 59) * MIN;
}

/** Moves a GP sample to the next weekday morning when it falls on a weekend. */
function onWeekday(r: DemoRandom, t: number): number {
  let day = t;
  while ([0, 6].includes(new Date(day + DEMO_UTC_OFFSET_MS).getUTCDay())) day += DAY;
  return atLocalHour(r, day, GP_HOURS);
}

const byCode = new Map(REGION_ORGANISATIONS.map((u) => [u.code, u]));
const hospitalOf = (code: string) => code.split('-').slice(0, 2).join('-');

/** The emergency department and ward of the hospital that serves a GP practice's area. */
export function acuteUnitsFor(practice: DemoOrganisation): { emergency: DemoOrganisation; ward: DemoOrganisation } {
  const hospital = hospitalOf(labSectionFor(practice.site).code);
  const find = (role: DemoOrganisation['role']) =>
    REGION_ORGANISATIONS.find((u) => u.role === role && hospitalOf(u.code) === hospital)!;
  return { emergency: find('emergency'), ward: find('ward') };
}

/**
 * The history of one patient in `[start, end)`: chronic monitoring (HbA1c, kidney panel, lipids),
 * GP visits and emergency visits/admissions with troponin, D-dimer, CRP and imaging. Deterministic
 * from `(seed, patient.index)`; orders are sorted by authoring time and all resulted before `end`.
 */
export function patientHistory(seed: number | string, p: DemoPatient, start: number, end: number): DemoHistory {
  const r = demoRandom(seed, 'history', p.index);
  const m = HISTORY_MODEL;
  const orders: DemoOrder[] = [];
  const encounters: DemoEncounter[] = [];
  let k = 0;
  const nextId = () => `do-${p.index}-${k++}`;
  const lab = labSectionFor(p.practice.site).code;
  const gpOrder = (what: string, t: number, overOrder = false) => {
    const spec: OrderSpec = {
      id: nextId(),
      patient: p,
      what,
      kind: 'lab',
      requester: p.practice.code,
      performer: lab,
      priority: 'routine',
      authored: onWeekday(r, t),
      fromGp: true,
      acute: false,
      ...(overOrder ? { overOrder } : {}),
    };
    orders.push(labOrder(r, spec));
  };
  const every = (days: readonly [number, number], fn: (t: number, n: number) => void) => {
    let n = 0;
    for (let t = start + r.next() * days[1] * DAY; t < end; t += r.int(days[0], days[1]) * DAY) fn(t, n++);
  };
  if (p.conditions.has('diabetes')) {
    every(m.hba1cIntervalDays, (t, n) => {
      gpOrder('hba1c', t);
      if (n % 2 === 0) gpOrder('kidney', t);
      if (n % 3 === 0) gpOrder('lipids', t);
      if (r.chance(m.hba1cOverOrderShare)) gpOrder('hba1c', t + r.int(...m.hba1cOverOrderDays) * DAY, true);
    });
  }
  if (p.conditions.has('ckd')) every(m.kidneyIntervalDays, (t) => gpOrder('kidney', t));
  if (p.conditions.has('hyperlipidaemia')) every(m.lipidIntervalDays, (t) => gpOrder('lipids', t));
  const years = (end - start) / (365.25 * DAY);
  const poisson = (rate: number, fn: (t: number) => void) => {
    if (rate <= 0) return;
    for (let t = start + r.exponential((DAY * 365.25) / rate); t < end; t += r.exponential((DAY * 365.25) / rate))
      fn(t);
  };
  if (years > 0) poisson(m.gpVisitsPerYear, (t) => gpOrder('gp-basic', t));
  const age = (end - Date.parse(p.birthDate)) / (365.25 * DAY);
  poisson(m.acutePerYear(age), (t) => {
    const { emergency, ward } = acuteUnitsFor(p.practice);
    const arrival = atLocalHour(r, t, ACUTE_HOURS);
    const inpatient = r.chance(m.admittedShare);
    const leave = inpatient ? arrival + r.int(m.stayDays[0], m.stayDays[1]) * DAY : arrival + r.int(3, 10) * HOUR;
    const enc: DemoEncounter = {
      id: `de-${p.index}-${encounters.length}`,
      patient: p,
      serviceProvider: inpatient ? ward.code : emergency.code,
      inpatient,
      start: arrival,
      end: leave,
    };
    encounters.push(enc);
    orders.push(...acuteOrders(r, p, enc, emergency, nextId));
  });
  const done = orders.filter((o) => o.issued < end).sort((a, b) => a.authored - b.authored);
  return { encounters: encounters.filter((e) => e.start < end), orders: done };
}

/** The orders of one emergency visit or admission. */
export function acuteOrders(
  r: DemoRandom,
  p: DemoPatient,
  enc: DemoEncounter,
  emergency: DemoOrganisation,
  nextId: () => string,
  delayMinutes = 0,
): DemoOrder[] {
  const m = HISTORY_MODEL;
  const lab = labSectionFor(emergency.site).code;
  const out: DemoOrder[] = [];
  const order = (what: string, t: number, priority: DemoPriority, requester = emergency.code, overOrder = false) =>
    out.push(
      labOrder(r, {
        id: nextId(),
        patient: p,
        what,
        kind: 'lab',
        requester,
        performer: lab,
        priority,
        authored: t,
        fromGp: false,
        acute: true,
        encounter: enc.id,
        delayMinutes,
        ...(overOrder ? { overOrder } : {}),
      }),
    );
  const t0 = enc.start + r.int(5, 20) * MIN;
  order('acute-basic', t0, 'stat');
  const chestPain = r.chance(m.chestPainShare);
  if (chestPain) {
    order('troponin', t0, 'stat');
    order('troponin', t0 + r.int(m.troponinRepeatHours[0] * 60, m.troponinRepeatHours[1] * 60) * MIN, 'stat');
  }
  const pe = r.chance(m.suspectedPeShare);
  if (pe) order('ddimer', t0, 'urgent');
  if (r.chance(m.imagingShare)) {
    const proc = pe ? DEMO_IMAGING[1]! : chestPain ? DEMO_IMAGING[0]! : r.pick(DEMO_IMAGING);
    out.push(
      imagingOrder(
        r,
        {
          id: nextId(),
          patient: p,
          what: proc.code,
          kind: 'imaging',
          requester: emergency.code,
          performer: imagingSectionFor(byCode.get(emergency.code)!).code,
          priority: 'urgent',
          authored: t0 + r.int(10, 60) * MIN,
          fromGp: false,
          acute: true,
          encounter: enc.id,
          delayMinutes,
        },
        proc.normal,
        proc.findings,
      ),
    );
  }
  if (enc.inpatient) {
    // Daily morning panels on the ward; some stays get a duplicate same-day panel (over-ordering).
    for (let day = enc.start + DAY; day < enc.end; day += DAY) {
      const t = atLocalHour(r, day, GP_HOURS);
      order('acute-basic', t, 'routine', enc.serviceProvider);
      if (r.chance(m.duplicatePanelShare))
        order('acute-basic', t + r.int(2, 8) * HOUR, 'routine', enc.serviceProvider, true);
    }
  }
  return out;
}
