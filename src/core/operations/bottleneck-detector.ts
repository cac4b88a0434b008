/**
 * Bottleneck detection per stage and section (operations research note A8), with two statistics:
 *
 * 1. **Queue against arrivals (Little's law, CUSUM).** Each order that arrived in a stage a minutes
 *    ago is still waiting with probability S(a), the survival function of the stage's normal wait
 *    (learnt from the waits of the orders that left it). So, given the arrivals of the last hours,
 *    the queue expected if the stage works as normal is E[L] = Σ S(a), with variance
 *    Σ S(a)(1 − S(a)) (a sum of Bernoulli trials; the infinite-server queue behind Little's
 *    L = λW). A CUSUM (Page 1954; NIST/SEMATECH e-Handbook 6.3.2.3) of the standardised excess
 *    z = (L − E[L])/σ signals as soon as orders stop leaving as they normally would: within about
 *    one normal wait of a slowdown, long before the waiting orders' mean age has doubled. A queue
 *    that grows because more work arrives (a morning rush) raises E[L] with it and does not alarm.
 * 2. **Waiting time (EWMA).** The mean age of the waiting orders W, smoothed with an EWMA
 *    (NIST/SEMATECH e-Handbook 6.3.2.4: z_t = λx_t + (1−λ)z_{t−1}, limit μ + L·σ·√(λ/(2−λ))), with
 *    the Little's-law condition that more orders wait than the throughput explains at the normal
 *    wait (L > λ·W_normal·(1 + rise)). It catches slow drifts.
 *
 * Baselines learn only while no alert is raised. An alert also needs a minimum queue.
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
  /** CUSUM reference k and decision interval h, in σ of the expected queue. */
  readonly cusumK: number;
  readonly cusumH: number;
  /** The queue must also be this much above the expected queue (0.5 = half again) to alarm. */
  readonly minQueueRise: number;
  /** Relative error allowed for the expected queue (the learnt wait distribution is an estimate). */
  readonly modelError: number;
  /** Completed waits seen before the wait distribution is trusted. */
  readonly minWaits: number;
  /** Weight lost by the wait distribution per tick (its memory: 1/decay ticks). */
  readonly waitDecay: number;
  readonly source: string;
}

export const DEFAULT_DETECTOR: DetectorSettings = {
  lambda: 0.2,
  limitSigmas: 3,
  baselineAlpha: 0.02,
  warmupTicks: 36,
  minRelativeSigma: 0.1,
  minQueue: 10,
  minRelativeRise: 1,
  cusumK: 1.5,
  cusumH: 8,
  minQueueRise: 0.5,
  modelError: 0.15,
  minWaits: 300,
  waitDecay: 0.01,
  source:
    'operations-and-ai.md A8: Little’s law; EWMA λ = 0.05–0.25, L ≈ 2.7–3 (NIST/SEMATECH 6.3.2.4); CUSUM k = 1.5σ, h = 8σ (NIST/SEMATECH 6.3.2.3; h above the usual 4–5σ because 5-minute readings of a queue are strongly autocorrelated)',
};

/** What one tick sees of a queue. */
export interface QueueReading {
  /** Orders waiting in the stage now (L). */
  readonly queue: number;
  /** Orders leaving the stage per hour over the last hour (λ). */
  readonly throughputPerHour: number;
  /** Mean time the waiting orders have waited so far (s). */
  readonly meanAgeSeconds: number;
  /**
   * Orders that arrived in the stage per minute of age (index 0 = the last minute), over the
   * window the wait distribution needs, when this monitor has watched that long.
   */
  readonly arrivalsByAge?: readonly number[];
  /** Waits (whole minutes) of the orders that left the stage since the last tick. */
  readonly completedWaitMinutes?: readonly number[];
}

/** The detector's state for one queue (stored between ticks). */
export interface DetectorState {
  readonly ticks: number;
  readonly mean: number;
  readonly variance: number;
  readonly ewma: number;
  readonly alerting: boolean;
  /** The normal wait's distribution: decayed counts of completed waits per minute (last bin: longer). */
  readonly waits?: number[];
  /** Completed waits seen in all (the warm-up of the wait distribution). */
  readonly waitsSeen?: number;
  /** CUSUM of the queue's standardised excess over the expected queue. */
  readonly cusum?: number;
}

/** Minutes of wait the distribution distinguishes (and of arrivals a tick looks back at most). */
export const WAIT_BINS = 180;

export const initialDetector = (): DetectorState => ({ ticks: 0, mean: 0, variance: 0, ewma: 0, alerting: false });

/** The survival function S(a) = P(wait > a minutes) of a wait distribution (mid-bin). */
export function waitSurvival(waits: readonly number[]): number[] {
  const total = waits.reduce((a, b) => a + b, 0);
  const out: number[] = new Array(waits.length).fill(0);
  let above = total;
  for (let a = 0; a < waits.length; a++) {
    above -= waits[a]!;
    out[a] = total > 0 ? (above + waits[a]! / 2) / total : 0;
  }
  return out;
}

/** Minutes of arrivals a queue's expected size depends on: until S falls below 0.1 %. */
export function arrivalWindowMinutes(s: DetectorState): number {
  if (!s.waits) return WAIT_BINS;
  const surv = waitSurvival(s.waits);
  const i = surv.findIndex((p) => p < 0.001);
  return i < 0 ? WAIT_BINS : Math.max(5, i + 1);
}

/** The queue expected from the arrivals if every order waits as normal: mean and variance. */
export function expectedQueue(s: DetectorState, arrivalsByAge: readonly number[]): { mean: number; variance: number } {
  const surv = waitSurvival(s.waits ?? []);
  let mean = 0;
  let variance = 0;
  for (let a = 0; a < arrivalsByAge.length && a < surv.length; a++) {
    const n = arrivalsByAge[a]!;
    if (n === 0) continue;
    mean += n * surv[a]!;
    variance += n * surv[a]! * (1 - surv[a]!);
  }
  return { mean, variance };
}

/** Little's law: W = L/λ in seconds; with no throughput, the waiting orders' own mean age. */
export function littleWaitSeconds(r: QueueReading): number {
  return r.throughputPerHour > 0 ? (r.queue / r.throughputPerHour) * 3600 : r.meanAgeSeconds;
}

/** One tick: the new state, the wait seen, the limit, and whether an alert is raised or cleared. */
export function stepDetector(
  s: DetectorState,
  r: QueueReading,
  d: DetectorSettings = DEFAULT_DETECTOR,
): {
  state: DetectorState;
  wait: number;
  limit: number;
  signal?: 'raise' | 'clear';
  /** What raised the alert: the queue outgrowing its arrivals, or the waiting time. */
  cause?: 'queue' | 'wait';
} {
  const x = r.meanAgeSeconds;
  const ewma = s.ticks === 0 ? x : d.lambda * x + (1 - d.lambda) * s.ewma;
  const sigma = Math.max(Math.sqrt(s.variance), d.minRelativeSigma * s.mean);
  const limit = s.mean + d.limitSigmas * sigma * Math.sqrt(d.lambda / (2 - d.lambda));
  const risen = s.ticks >= d.warmupTicks && ewma > limit && x >= s.mean * (1 + d.minRelativeRise);
  // Little's law: orders the throughput would clear at the normal wait, plus the rise.
  const explained = (r.throughputPerHour / 3600) * s.mean * (1 + d.minRelativeRise);
  const waitTrigger = risen && r.queue >= d.minQueue && r.queue > explained;

  // The queue against its arrivals: CUSUM of the standardised excess once the waits are learnt.
  const expected = r.arrivalsByAge && (s.waitsSeen ?? 0) >= d.minWaits ? expectedQueue(s, r.arrivalsByAge) : undefined;
  let cusum = s.cusum ?? 0;
  let queueTrigger = false;
  if (expected) {
    // σ also allows for the model (the learnt distribution is an estimate) and at least one order.
    const sd = Math.sqrt(expected.variance + (d.modelError * expected.mean) ** 2 + 1);
    cusum = Math.max(0, cusum + (r.queue - expected.mean) / sd - d.cusumK);
    queueTrigger = cusum >= d.cusumH && r.queue >= d.minQueue && r.queue >= expected.mean * (1 + d.minQueueRise);
  }

  let signal: 'raise' | 'clear' | undefined;
  let cause: 'queue' | 'wait' | undefined;
  let alerting = s.alerting;
  if (!alerting && (queueTrigger || waitTrigger)) {
    alerting = true;
    signal = 'raise';
    cause = queueTrigger ? 'queue' : 'wait';
  } else if (
    alerting &&
    ewma <= limit &&
    x < s.mean * (1 + d.minRelativeRise / 2) &&
    (!expected || r.queue < expected.mean * (1 + d.minQueueRise / 2))
  ) {
    alerting = false;
    signal = 'clear';
    cusum = 0;
  }
  // The baselines learn from normal ticks with orders waiting (an empty queue has no wait to
  // learn), as running means during warm-up.
  let { mean, variance } = s;
  let waits = s.waits;
  let waitsSeen = s.waitsSeen ?? 0;
  if (!alerting && r.completedWaitMinutes?.length) {
    waitsSeen += r.completedWaitMinutes.length;
    // Three decimals are plenty for counts and keep the stored state small.
    waits = (waits ?? new Array(WAIT_BINS).fill(0)).map((c) => Math.round(c * (1 - d.waitDecay) * 1000) / 1000);
    for (const m of r.completedWaitMinutes) waits[Math.min(WAIT_BINS - 1, Math.max(0, Math.floor(m)))]! += 1;
  }
  const common = { ewma, alerting, waits, waitsSeen, cusum };
  if (r.queue === 0) return { state: { ...s, ...common, ewma: s.ewma }, wait: x, limit, signal, cause };
  if (!alerting) {
    const a = s.ticks < d.warmupTicks ? 1 / (s.ticks + 1) : d.baselineAlpha;
    const delta = x - mean;
    mean += a * delta;
    variance = (1 - a) * (variance + a * delta * delta);
  }
  return { state: { ticks: s.ticks + 1, mean, variance, ...common }, wait: x, limit, signal, cause };
}
