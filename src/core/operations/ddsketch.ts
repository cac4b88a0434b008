/**
 * DDSketch (Masson, Rim, Lee: "DDSketch: a fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019): a value v > 0 falls in bin ⌈log_γ v⌉ with
 * γ = (1 + α)/(1 − α); any quantile is then returned within relative error α. Bins are counts, so
 * two sketches merge by adding bins, which is what per-bucket roll-ups need. Values are durations
 * in seconds; values ≤ 0 are counted in a zero bin.
 */
export interface Sketch {
  /** bin index → count */
  readonly bins: Map<number, number>;
  zero: number;
  count: number;
}

/** Relative accuracy of every quantile (1 %). */
export const SKETCH_ALPHA = 0.01;
const GAMMA = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
const LOG_GAMMA = Math.log(GAMMA);

export const newSketch = (): Sketch => ({ bins: new Map(), zero: 0, count: 0 });

/** Adds `n` observations of `value`. */
export function addToSketch(s: Sketch, value: number, n = 1): void {
  s.count += n;
  if (!(value > 0)) {
    s.zero += n;
    return;
  }
  const key = Math.ceil(Math.log(value) / LOG_GAMMA);
  s.bins.set(key, (s.bins.get(key) ?? 0) + n);
}

/** Adds every observation of `from` to `into`. */
export function mergeSketch(into: Sketch, from: Sketch): void {
  into.count += from.count;
  into.zero += from.zero;
  for (const [k, c] of from.bins) into.bins.set(k, (into.bins.get(k) ?? 0) + c);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) by the lower nearest rank ⌊q·(n − 1)⌋, or null for an empty sketch.
 * The value returned is the bin's midpoint 2γ^k/(γ + 1), within α of every value in the bin.
 */
export function sketchQuantile(s: Sketch, q: number): number | null {
  if (s.count === 0) return null;
  const rank = Math.floor(Math.min(1, Math.max(0, q)) * (s.count - 1));
  if (rank < s.zero) return 0;
  let seen = s.zero;
  for (const k of [...s.bins.keys()].sort((a, b) => a - b)) {
    seen += s.bins.get(k)!;
    if (seen > rank) return (2 * GAMMA ** k) / (GAMMA + 1);
  }
  return null;
}

/** Compact text form for storage: `zero;key:count,key:count`. */
export function encodeSketch(s: Sketch): string {
  const bins = [...s.bins].map(([k, c]) => `${k}:${c}`).join(',');
  return `${s.zero};${bins}`;
}

/** Reads {@link encodeSketch}'s form; throws on anything else. */
export function decodeSketch(text: string): Sketch {
  const [zeroText, binsText = ''] = text.split(';');
  const s = newSketch();
  s.zero = Number(zeroText);
  if (!Number.isInteger(s.zero) || s.zero < 0) throw new Error(`malformed sketch '${text.slice(0, 40)}'`);
  s.count = s.zero;
  for (const pair of binsText ? binsText.split(',') : []) {
    const [k, c] = pair.split(':').map(Number);
    if (!Number.isInteger(k) || !Number.isInteger(c) || c! <= 0) throw new Error(`malformed sketch bin '${pair}'`);
    s.bins.set(k!, c!);
    s.count += c!;
  }
  return s;
}
