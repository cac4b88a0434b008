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
  const s = newSketch();
  mergeEncodedSketch(s, text);
  return s;
}

/**
 * A sketch whose bins are a dense array (keys −1024…1023, i.e. ~1e-9 s to ~5e8 s, clamped at
 * the ends): what queries roll stored sketches up into, as adding to an array index is several
 * times cheaper than a Map update.
 */
export interface DenseSketch {
  zero: number;
  count: number;
  readonly bins: Float64Array;
}
const DENSE_OFFSET = 1024;
const DENSE_SIZE = 2048;

export const newDenseSketch = (): DenseSketch => ({ zero: 0, count: 0, bins: new Float64Array(DENSE_SIZE) });

/** Adds an encoded sketch to a Map-based or dense sketch. */
export function mergeEncodedSketch(into: Sketch | DenseSketch, text: string): void {
  const dense = into.bins instanceof Float64Array ? into.bins : undefined;
  const map = dense ? undefined : (into.bins as Map<number, number>);
  const bad = () => new Error(`malformed sketch '${text.slice(0, 40)}'`);
  let i = 0;
  const int = (signed: boolean): number => {
    let neg = false;
    if (signed && text.charCodeAt(i) === 45) {
      neg = true;
      i++;
    }
    const start = i;
    let v = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) v = v * 10 + (c - 48);
    if (i === start) throw bad();
    return neg ? -v : v;
  };
  const zero = int(false);
  if (text.charCodeAt(i++) !== 59) throw bad();
  into.zero += zero;
  into.count += zero;
  while (i < text.length) {
    const k = int(true);
    if (text.charCodeAt(i++) !== 58) throw bad();
    const c = int(false);
    if (c <= 0) throw bad();
    if (dense) dense[Math.min(DENSE_SIZE - 1, Math.max(0, k + DENSE_OFFSET))]! += c;
    else map!.set(k, (map!.get(k) ?? 0) + c);
    into.count += c;
    if (i < text.length && text.charCodeAt(i++) !== 44) throw bad();
  }
}

/** {@link encodeSketch}'s form of a dense sketch (its non-empty bins). */
export function encodeDenseSketch(s: DenseSketch): string {
  const bins: string[] = [];
  for (let i = 0; i < DENSE_SIZE; i++) if (s.bins[i]! > 0) bins.push(`${i - DENSE_OFFSET}:${s.bins[i]}`);
  return `${s.zero};${bins.join(',')}`;
}

/** {@link sketchQuantile} of a dense sketch. */
export function denseQuantile(s: DenseSketch, q: number): number | null {
  if (s.count === 0) return null;
  const rank = Math.floor(Math.min(1, Math.max(0, q)) * (s.count - 1));
  if (rank < s.zero) return 0;
  let seen = s.zero;
  for (let i = 0; i < DENSE_SIZE; i++) {
    seen += s.bins[i]!;
    if (seen > rank) return (2 * GAMMA ** (i - DENSE_OFFSET)) / (GAMMA + 1);
  }
  return null;
}
