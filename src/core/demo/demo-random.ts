/** A deterministic random source (mulberry32) with the draws the demo generators need. */
export interface DemoRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T;
  /** One element, with the given relative weights (same length as `items`). */
  weighted<T>(items: readonly T[], weights: readonly number[]): T;
  /** Normal draw (Box–Muller). */
  normal(mean: number, sd: number): number;
  /** Log-normal draw given the median and the geometric standard deviation's log (`sigma`). */
  logNormal(median: number, sigma: number): number;
  /** Exponential draw with the given mean (inter-arrival times of a Poisson process). */
  exponential(mean: number): number;
}

/** 32-bit FNV-1a of a string: derives independent sub-seeds (`seed`, `"patient"`, index). */
export function hashSeed(...parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A {@link DemoRandom} seeded from `parts`. Each patient, episode and live event gets its own
 * stream (`demoRandom(seed, 'patient', i)`), so a region of any size is generated lazily, in any
 * order, and the same seed always gives the same data.
 */
export function demoRandom(...parts: readonly (string | number)[]): DemoRandom {
  let s = hashSeed(...parts);
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (mean: number, sd: number) => {
    const u = 1 - next();
    const v = next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted: (items, weights) => {
      const total = weights.reduce((a, b) => a + b, 0);
      let x = next() * total;
      for (let i = 0; i < items.length; i++) {
        x -= weights[i]!;
        if (x < 0) return items[i]!;
      }
      return items[items.length - 1]!;
    },
    normal,
    logNormal: (median, sigma) => median * Math.exp(normal(0, sigma)),
    exponential: (mean) => -mean * Math.log(1 - next()),
  };
}
