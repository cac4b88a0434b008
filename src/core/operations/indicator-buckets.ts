import { addToSketch, mergeSketch, newSketch, type Sketch } from './ddsketch.ts';

/**
 * Hour, day and month buckets (UTC; Danish local hours are whole-hour offsets, so hours roll up
 * to local days). Months serve the long windows: a year is 12 month rows plus the days at its
 * edges instead of 365 day rows.
 */
export type Grain = 'h' | 'd' | 'm';
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The start of the bucket of `grain` that holds `at`. */
export function bucketStart(grain: Grain, at: number): number {
  if (grain === 'h') return Math.floor(at / HOUR_MS) * HOUR_MS;
  if (grain === 'd') return Math.floor(at / DAY_MS) * DAY_MS;
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** The breakdowns an indicator is kept under (one row each per bucket, measure and section). */
export type DimKind = 'all' | 'analysis' | 'priority' | 'instrument' | 'department' | 'hour';
export const DIM_KINDS: readonly DimKind[] = ['all', 'analysis', 'priority', 'instrument', 'department', 'hour'];
/**
 * Hour buckets keep fewer breakdowns: they serve "live" and "today". Day and month buckets keep
 * every breakdown, including the hour of day (Danish time) for workload-by-hour charts.
 */
export const DIMS_BY_GRAIN: Readonly<Record<Grain, readonly DimKind[]>> = {
  h: ['all', 'analysis', 'priority'],
  d: DIM_KINDS,
  m: DIM_KINDS,
};

const HOUR_OF_DAY = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Copenhagen',
  hour: '2-digit',
  hourCycle: 'h23',
});
/** The hour of day (00–23) in Danish time. */
export const danishHour = (at: number): string => HOUR_OF_DAY.format(new Date(at));

/** The values of an order's breakdowns; `unknown` where no resource said. */
export type DimValues = Readonly<Record<Exclude<DimKind, 'all' | 'hour'>, string>>;

export interface BucketKey {
  readonly grain: Grain;
  readonly dim: DimKind;
  readonly section: string;
  readonly start: number;
  readonly measure: string;
  readonly value: string;
}

/** One bucket's figures: count, how many had a target and met it, total duration (s), sketch. */
export interface BucketCell {
  n: number;
  targeted: number;
  hits: number;
  total: number;
  sketch: Sketch;
}

export const emptyCell = (): BucketCell => ({ n: 0, targeted: 0, hits: 0, total: 0, sketch: newSketch() });

export const bucketKeyText = (k: BucketKey): string =>
  `${k.grain}\u0001${k.dim}\u0001${k.section}\u0001${k.start}\u0001${k.measure}\u0001${k.value}`;

/** One thing counted: at a time, in a section, under the order's breakdowns. */
export interface Observation {
  readonly measure: string;
  readonly at: number;
  readonly section: string;
  readonly dims: DimValues;
  /** A duration (s) for interval measures. */
  readonly seconds?: number;
  /** Whether a target applied, and whether it was met. */
  readonly target?: { readonly met: boolean };
  /** Counted as a hit without a target (e.g. autoverified among tagged results). */
  readonly hit?: boolean;
}

/** The bucket keys an observation lands in: each grain × breakdown. */
export function keysOf(o: Observation): BucketKey[] {
  const keys: BucketKey[] = [];
  const hour = danishHour(o.at);
  for (const grain of ['h', 'd', 'm'] as const) {
    const start = bucketStart(grain, o.at);
    for (const dim of DIMS_BY_GRAIN[grain]) {
      const value = dim === 'all' ? '' : dim === 'hour' ? hour : o.dims[dim];
      keys.push({ grain, dim, section: o.section, start, measure: o.measure, value });
    }
  }
  return keys;
}

/** Adds an observation to a cell. */
export function addToCell(c: BucketCell, o: Observation): void {
  c.n++;
  if (o.target) {
    c.targeted++;
    if (o.target.met) c.hits++;
  } else if (o.hit) c.hits++;
  if (o.seconds !== undefined) {
    c.total += o.seconds;
    addToSketch(c.sketch, o.seconds);
  }
}

/** Adds `from` into `into` (roll-up of buckets, sections, breakdowns). */
export function mergeCell(into: BucketCell, from: BucketCell): void {
  into.n += from.n;
  into.targeted += from.targeted;
  into.hits += from.hits;
  into.total += from.total;
  mergeSketch(into.sketch, from.sketch);
}
