import { addToSketch, mergeSketch, newSketch, type Sketch } from './ddsketch.ts';

/** Hour and day buckets (UTC; Danish local hours are whole-hour offsets, so hours roll up to local days). */
export type Grain = 'h' | 'd';
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const grainMs = (g: Grain): number => (g === 'h' ? HOUR_MS : DAY_MS);

/** The breakdowns an indicator is kept under (one row each per bucket, measure and section). */
export type DimKind = 'all' | 'analysis' | 'priority' | 'instrument' | 'department';
export const DIM_KINDS: readonly DimKind[] = ['all', 'analysis', 'priority', 'instrument', 'department'];
/** Hour buckets keep fewer breakdowns: they serve "live" and "today", and hour-of-day charts. */
export const DIMS_BY_GRAIN: Readonly<Record<Grain, readonly DimKind[]>> = {
  h: ['all', 'analysis', 'priority'],
  d: DIM_KINDS,
};

/** The values of an order's breakdowns; `unknown` where no resource said. */
export type DimValues = Readonly<Record<Exclude<DimKind, 'all'>, string>>;

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
  for (const grain of ['h', 'd'] as const) {
    const start = Math.floor(o.at / grainMs(grain)) * grainMs(grain);
    for (const dim of DIMS_BY_GRAIN[grain]) {
      keys.push({ grain, dim, section: o.section, start, measure: o.measure, value: dim === 'all' ? '' : o.dims[dim] });
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
