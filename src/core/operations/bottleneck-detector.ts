/**
 * Bottleneck detection per stage and section (operations research note A8). The statistic is the
 * waiting time of the orders in the queue (their mean age W), smoothed with an EWMA
 * (NIST/SEMATECH e-Handbook 6.3.2.4: z_t = λx_t + (1−λ)z_{t−1}, limit μ + L·σ·√(λ/(2−λ))) against a
 * baseline that learns only while no alert is raised. Little's law (L = λW) ties the queue to
 * throughput: an alert also needs more orders waiting than the current throughput explains at
 * the normal wait (L > λ·W_normal·(1 + rise)), so a queue that grows because more work arrives
 * and is done does not alarm, while one that grows because work is not done does. The mean age
 * rather than L/λ drives the EWMA because λ (departures over the last hour) lags a morning rush.
 */
export interface DetectorSettings {
  /** EWMA weight λ (0.05–0.25 in the handbook). */
  readonly lambda: number;
  /** Control limit width L in σ (≈ 2.7–3). */
  readonly limitSigmas: number;
  /** Weight of each tick in the baseline mean and variance. */
  readonly baselineAlpha: number;
  /** Ticks before the baseline is trusted. */
  readonly warmupTicks: number;
  /** σ is at least this share of the mean (a perfectly steady baseline would alarm on noise). */
  readonly minRelativeSigma: number;
  /** An alert needs at least this many waiting orders... */
  readonly minQueue: number;
  /** ...and a wait at least this much above normal (1 = doubled). */
  readonly minRelativeRise: number;
  readonly source: string;
}

export const DEFAULT_DETECTOR: DetectorSettings = {
  lambda: 0.2,
  limitSigmas: 3,
  baselineAlpha: 0.02,
  warmupTicks: 12,
  minRelativeSigma: 0.1,
  minQueue: 10,
  minRelativeRise: 1,
  source: 'operations-and-ai.md A8: Little’s law; EWMA λ = 0.05–0.25, L ≈ 2.7–3 (NIST/SEMATECH 6.3.2.4)',
};

/** What one tick sees of a queue. */
export interface QueueReading {
  /** Orders waiting in the stage now (L). */
  readonly queue: number;
  /** Orders leaving the stage per hour over the last hour (λ). */
  readonly throughputPerHour: number;
  /** Mean time the waiting orders have waited so far (s). */
  readonly meanAgeSeconds: number;
}

/** The detector's state for one queue (stored between ticks). */
export interface DetectorState {
  readonly ticks: number;
  readonly mean: number;
  readonly variance: number;
  readonly ewma: number;
  readonly alerting: boolean;
}

export const initialDetector = (): DetectorState => ({ ticks: 0, mean: 0, variance: 0, ewma: 0, alerting: false });

/** Little's law: W = L/λ in seconds; with no throughput, the waiting orders' own mean age. */
export function littleWaitSeconds(r: QueueReading): number {
  return r.throughputPerHour > 0 ? (r.queue / r.throughputPerHour) * 3600 : r.meanAgeSeconds;
}

/** One tick: the new state, the wait seen, the limit, and whether an alert is raised or cleared. */
export function stepDetector(
  s: DetectorState,
  r: QueueReading,
  d: DetectorSettings = DEFAULT_DETECTOR,
): { state: DetectorState; wait: number; limit: number; signal?: 'raise' | 'clear' } {
  const x = r.meanAgeSeconds;
  const ewma = s.ticks === 0 ? x : d.lambda * x + (1 - d.lambda) * s.ewma;
  const sigma = Math.max(Math.sqrt(s.variance), d.minRelativeSigma * s.mean);
  const limit = s.mean + d.limitSigmas * sigma * Math.sqrt(d.lambda / (2 - d.lambda));
  const risen = s.ticks >= d.warmupTicks && ewma > limit && x >= s.mean * (1 + d.minRelativeRise);
  let signal: 'raise' | 'clear' | undefined;
  let alerting = s.alerting;
  // Little's law: orders the throughput would clear at the normal wait, plus the rise.
  const explained = (r.throughputPerHour / 3600) * s.mean * (1 + d.minRelativeRise);
  if (!alerting && risen && r.queue >= d.minQueue && r.queue > explained) {
    alerting = true;
    signal = 'raise';
  } else if (alerting && ewma <= limit && x < s.mean * (1 + d.minRelativeRise / 2)) {
    alerting = false;
    signal = 'clear';
  }
  // The baseline learns from normal ticks with orders waiting (an empty queue has no wait to learn),
  // as a running mean during warm-up.
  if (r.queue === 0) return { state: { ...s, ewma: s.ewma, alerting }, wait: x, limit, signal };
  let { mean, variance } = s;
  if (!alerting) {
    const a = s.ticks < d.warmupTicks ? 1 / (s.ticks + 1) : d.baselineAlpha;
    const delta = x - mean;
    mean += a * delta;
    variance = (1 - a) * (variance + a * delta * delta);
  }
  return { state: { ticks: s.ticks + 1, mean, variance, ewma, alerting }, wait: x, limit, signal };
}
