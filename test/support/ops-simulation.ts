import type { OpsInput } from '../../src/operations/indicator-state.ts';
import { prng } from './prng.ts';

/** A slowdown of the analysis step in one section from a time on. */
export interface Slowdown {
  readonly section: string;
  readonly from: number;
  /** Multiplies the mean wait for analysis. */
  readonly factor: number;
}

export interface SimulationOptions {
  readonly seed: number;
  readonly start: number;
  readonly hours: number;
  readonly sections: readonly string[];
  /** Orders per hour per section at a given hour of day (default: 20 at night, 60 by day). */
  readonly ordersPerHour?: (hourOfDay: number) => number;
  readonly slowdown?: Slowdown;
  /** Results (final Observations) per order (default 1). */
  readonly resultsPerOrder?: number;
  readonly analyses?: readonly string[];
  readonly departments?: readonly string[];
}

const MIN = 60_000;
/** Whole milliseconds, as FHIR instants give. */
const ms = (t: number) => Math.round(t);

/**
 * Synthetic lab order timelines as indicator inputs, in time order: Poisson arrivals by hour,
 * collection 5–20 min after the order, receipt 10–25 min later, an exponential wait for analysis
 * (mean 15 min, times the slowdown factor), verification 5–10 min and report 1–3 min after.
 */
export function simulateOrders(o: SimulationOptions): OpsInput[] {
  const rnd = prng(o.seed);
  const u = (a: number, b: number) => a + (b - a) * rnd();
  const exp = (mean: number) => -mean * Math.log(1 - rnd());
  const rate = o.ordersPerHour ?? ((h: number) => (h >= 7 && h < 18 ? 60 : 20));
  const analyses = o.analyses ?? ['NPU27501', 'NPU03230', 'NPU02319', 'NPU19748'];
  const departments = o.departments ?? ['dept-ed', 'dept-med'];
  const out: OpsInput[] = [];
  let n = 0;
  for (const section of o.sections) {
    let t = o.start;
    const end = o.start + o.hours * 60 * MIN;
    for (;;) {
      const hour = new Date(t).getUTCHours();
      t += exp(60 / rate(hour)) * MIN;
      if (t >= end) break;
      const key = `ServiceRequest/sim-${o.seed}-${n++}`;
      const dims = {
        analysis: analyses[Math.floor(rnd() * analyses.length)]!,
        priority: rnd() < 0.3 ? 'stat' : 'routine',
        section,
        department: departments[Math.floor(rnd() * departments.length)]!,
      };
      const ordered = ms(t);
      const collected = ms(ordered + u(5, 20) * MIN);
      const received = ms(collected + u(10, 25) * MIN);
      const slow = o.slowdown && o.slowdown.section === section && received >= o.slowdown.from ? o.slowdown.factor : 1;
      const analysed = ms(received + exp(15 * slow) * MIN);
      const verified = ms(analysed + u(5, 10) * MIN);
      const reported = ms(verified + u(1, 3) * MIN);
      const stage = (s: 'ordered' | 'collected' | 'received' | 'in-analysis' | 'verified' | 'reported', at: number) =>
        out.push({
          kind: 'stage',
          id: `${s}:${key}`,
          key,
          timeline: 'lab',
          stage: s,
          at,
          dims: s === 'ordered' ? dims : {},
        });
      stage('ordered', ordered);
      stage('collected', collected);
      out.push({ kind: 'specimen', id: `specimen:${key}`, key, at: received, dims: {} });
      stage('received', received);
      stage('in-analysis', analysed);
      stage('verified', verified);
      const instrument = `${section}-analyzer-${1 + Math.floor(rnd() * 2)}`;
      for (let r = 0; r < (o.resultsPerOrder ?? 1); r++) {
        out.push({ kind: 'result', id: `result:${key}:${r}`, key, at: verified, dims: { instrument } });
        out.push({
          kind: 'verification',
          id: `verification:${key}:${r}`,
          key,
          at: verified,
          dims: { instrument },
          code: rnd() < 0.7 ? 'autoverified' : 'released',
        });
      }
      stage('reported', reported);
    }
  }
  return out.sort((a, b) => a.at - b.at);
}
