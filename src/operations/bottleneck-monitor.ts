import {
  arrivalWindowMinutes,
  type DetectorState,
  expectedQueue,
  initialDetector,
  littleWaitSeconds,
  type QueueReading,
  stepDetector,
  WAIT_BINS,
} from '../core/operations/bottleneck-detector.ts';
import type { Stage } from '../core/operations/stages.ts';
import type { Dialect } from '../store/dialect/dialect.ts';
import type { OperationsConfig } from './operations-config.ts';
import { upsertRows } from './upsert-rows.ts';

/** A bottleneck alert (row of `ops_alert`). */
export interface BottleneckAlert {
  readonly id: number;
  readonly stage: string;
  readonly section: string;
  readonly raisedAt: string;
  readonly clearedAt: string | null;
  /** Orders waiting (L) when raised. */
  readonly queue: number;
  /** What raised it: the queue outgrowing its arrivals (Little's law), or the waiting time. */
  readonly cause: 'queue' | 'wait';
  /** Mean wait of the waiting orders when raised (s), and the normal (baseline) wait. */
  readonly waitSeconds: number;
  readonly normalWaitSeconds: number;
  readonly throughputPerHour: number;
  readonly message: string;
}

/** One queue at the last tick. */
export interface QueueView extends QueueReading {
  readonly stage: string;
  readonly section: string;
  /** W = L/λ (s): what Little's law makes of the queue and the last hour's throughput. */
  readonly littleWaitSeconds: number;
  /** The detector's baseline of the mean wait (s). */
  readonly normalWaitSeconds: number;
  /** The queue expected from the arrivals at the normal pace (once the wait distribution is learnt). */
  readonly expectedQueue?: number;
  readonly alerting: boolean;
}

const MINUTE = 60_000;
const qkey = (stage: string, section: string) => `${stage}\u0001${section}`;

/**
 * Watches every queue (orders waiting in a stage, per section) once per tick: L from the open
 * timelines, λ from the departures of the last hour (reported by the indicator state as orders
 * move on), W = L/λ into an EWMA detector per queue. Raises and clears alerts in `ops_alert`;
 * detector states are stored in `ops_detector` so a restart keeps the baselines.
 */
export class BottleneckMonitor {
  readonly #db: Dialect;
  readonly #config: () => OperationsConfig;
  /** queue → minute → arrivals and departures */
  readonly #flow = new Map<string, Map<number, { arrived: number; left: number }>>();
  /** queue → waits (minutes) of the orders that left it since the last tick */
  readonly #waits = new Map<string, number[]>();
  /** The first minute this monitor saw a move: arrivals before it are unknown (after a restart). */
  #since: number | undefined;
  #states: Map<string, DetectorState> | undefined;
  #latest = 0;
  /** The queues as seen at the last tick. */
  readings: QueueView[] = [];
  onAlert: ((a: BottleneckAlert, change: 'raised' | 'cleared') => void) | undefined;

  constructor(db: Dialect, config: () => OperationsConfig) {
    this.#db = db;
    this.#config = config;
  }

  #cell(stage: string, section: string, minute: number) {
    const k = qkey(stage, section);
    let m = this.#flow.get(k);
    if (!m) {
      m = new Map();
      this.#flow.set(k, m);
    }
    let c = m.get(minute);
    if (!c) {
      c = { arrived: 0, left: 0 };
      m.set(minute, c);
    }
    return c;
  }

  /** An order moved on (from the indicator state): a departure from `from`, an arrival in `to`. */
  move(m: { from?: Stage; enteredAt?: number; to: Stage; section: string; at: number }): void {
    const minute = Math.floor(m.at / MINUTE);
    this.#since = Math.min(this.#since ?? minute, minute);
    if (m.from) {
      const c = this.#cell(m.from, m.section, minute);
      c.left++;
      if (m.enteredAt !== undefined) {
        const k = qkey(m.from, m.section);
        const w = this.#waits.get(k) ?? [];
        if (w.length < 10_000) w.push(Math.max(0, (m.at - m.enteredAt) / MINUTE));
        this.#waits.set(k, w);
      }
    }
    this.#cell(m.to, m.section, minute).arrived++;
    if (m.at > this.#latest) {
      this.#latest = m.at;
      // Keep the longest arrivals window (WAIT_BINS minutes) plus an hour: enough for any tick not
      // far behind the events.
      const oldest = minute - WAIT_BINS - 60;
      for (const per of this.#flow.values()) for (const t of per.keys()) if (t < oldest) per.delete(t);
    }
  }

  /** Departures over the minutes (to − 60, to] of one queue. */
  #departures(stage: string, section: string, now: number): number {
    const per = this.#flow.get(qkey(stage, section));
    if (!per) return 0;
    const to = Math.floor(now / MINUTE);
    let n = 0;
    for (const [minute, c] of per) if (minute > to - 60 && minute <= to) n += c.left;
    return n;
  }

  /** Arrivals per minute of age (0 = the minute of `now`) over `minutes`. */
  #arrivalsByAge(stage: string, section: string, now: number, minutes: number): number[] {
    const out: number[] = new Array(minutes).fill(0);
    const per = this.#flow.get(qkey(stage, section));
    if (!per) return out;
    const to = Math.floor(now / MINUTE);
    for (const [minute, c] of per) {
      const age = to - minute;
      if (age >= 0 && age < minutes) out[age]! += c.arrived;
    }
    return out;
  }

  async #loadStates(): Promise<Map<string, DetectorState>> {
    if (!this.#states) {
      const rows = await this.#db.all<{ key: string; state: string }>('SELECT key, state FROM ops_detector');
      this.#states = new Map(rows.map((r) => [r.key, JSON.parse(r.state) as DetectorState]));
    }
    return this.#states;
  }

  /** One tick at clock time `now`: readings, detector steps, alerts raised or cleared. */
  async tick(now: number): Promise<{ raised: BottleneckAlert[]; cleared: BottleneckAlert[] }> {
    const config = this.#config();
    const states = await this.#loadStates();
    const rows = await this.#db.all<{ section: string; stage: string; n: number | string; s: number | string }>(
      'SELECT section, stage, COUNT(*) AS n, SUM(stage_at) AS s FROM ops_timeline WHERE open = 1 AND started_at >= ? GROUP BY section, stage',
      [now - config.staleAfterMs],
    );
    const seen = new Map(rows.map((r) => [qkey(r.stage, r.section), r]));
    // Queues that emptied still tick (with L = 0), so their baselines see quiet periods too.
    for (const k of states.keys())
      if (!seen.has(k)) {
        const [stage, section] = k.split('\u0001') as [string, string];
        seen.set(k, { stage, section, n: 0, s: 0 });
      }
    const raised: BottleneckAlert[] = [];
    const cleared: BottleneckAlert[] = [];
    const readings: QueueView[] = [];
    const updates: [string, string, number][] = [];
    for (const [k, r] of seen) {
      const queue = Number(r.n);
      const before = states.get(k) ?? initialDetector();
      const window = arrivalWindowMinutes(before);
      // Arrivals are known for the whole window only when this monitor has watched that long.
      const known = this.#since !== undefined && Math.floor(now / MINUTE) - window >= this.#since;
      const completed = this.#waits.get(k);
      this.#waits.delete(k);
      const reading: QueueReading = {
        queue,
        throughputPerHour: this.#departures(r.stage, r.section, now),
        meanAgeSeconds: queue > 0 ? Math.max(0, (now - Number(r.s) / queue) / 1000) : 0,
        ...(known ? { arrivalsByAge: this.#arrivalsByAge(r.stage, r.section, now, window) } : {}),
        ...(completed?.length ? { completedWaitMinutes: completed } : {}),
      };
      const step = stepDetector(before, reading, config.detector);
      states.set(k, step.state);
      updates.push([k, JSON.stringify(step.state), now]);
      readings.push({
        stage: r.stage,
        section: r.section,
        ...reading,
        littleWaitSeconds: littleWaitSeconds(reading),
        normalWaitSeconds: before.mean,
        ...(reading.arrivalsByAge && (before.waitsSeen ?? 0) >= config.detector.minWaits
          ? { expectedQueue: Math.round(expectedQueue(before, reading.arrivalsByAge).mean * 10) / 10 }
          : {}),
        alerting: step.state.alerting,
      });
      if (step.signal === 'raise')
        raised.push(await this.#raise(r.stage, r.section, reading, before, step.cause ?? 'wait', now));
      if (step.signal === 'clear') cleared.push(...(await this.#clear(r.stage, r.section, now)));
    }
    await upsertRows(this.#db, 'ops_detector', ['key', 'state', 'updated_at'], 1, updates);
    this.readings = readings;
    for (const a of raised) this.onAlert?.(a, 'raised');
    for (const a of cleared) this.onAlert?.(a, 'cleared');
    return { raised, cleared };
  }

  async #raise(
    stage: string,
    section: string,
    r: QueueReading,
    before: DetectorState,
    cause: 'queue' | 'wait',
    now: number,
  ): Promise<BottleneckAlert> {
    const wait = r.meanAgeSeconds;
    const normal = before.mean;
    const little = littleWaitSeconds(r);
    const min = (s: number) => Math.round(s / 60);
    const expected = r.arrivalsByAge ? expectedQueue(before, r.arrivalsByAge).mean : undefined;
    const why =
      cause === 'queue' && expected !== undefined
        ? `about ${Math.round(expected)} would wait at the normal pace for the orders that arrived (Little's law), ` +
          `${(r.queue / Math.max(1, expected)).toFixed(1)}× that`
        : `waiting ${min(wait)} min on average (normal ${min(normal)} min)`;
    const message =
      `Bottleneck: ${r.queue} orders waiting at stage '${stage}' in section ${section}; ${why}; ` +
      `throughput ${r.throughputPerHour}/h, so by Little's law W = L/λ = ${min(little)} min`;
    await this.#db.run(
      'INSERT INTO ops_alert (stage, section, raised_at, queue, wait_seconds, normal_wait_seconds, throughput_per_hour, message, cause) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [stage, section, now, r.queue, wait, normal, r.throughputPerHour, message, cause],
    );
    const [a] = await this.alerts({ active: true, stage, section });
    return a!;
  }

  async #clear(stage: string, section: string, now: number): Promise<BottleneckAlert[]> {
    const open = await this.alerts({ active: true, stage, section });
    await this.#db.run('UPDATE ops_alert SET cleared_at = ? WHERE stage = ? AND section = ? AND cleared_at IS NULL', [
      now,
      stage,
      section,
    ]);
    return open.map((a) => ({ ...a, clearedAt: new Date(now).toISOString() }));
  }

  /** Alerts, newest first: active ones only, or all raised since a time. */
  async alerts(q: {
    active?: boolean;
    since?: number;
    stage?: string;
    section?: string;
    limit?: number;
  }): Promise<BottleneckAlert[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.active) where.push('cleared_at IS NULL');
    const add = (clause: string, value: unknown) => {
      where.push(clause);
      params.push(value);
    };
    if (q.since !== undefined) add('raised_at >= ?', q.since);
    if (q.stage) add('stage = ?', q.stage);
    if (q.section) add('section = ?', q.section);
    const rows = await this.#db.all<{
      id: number | string;
      stage: string;
      section: string;
      raised_at: number | string;
      cleared_at: number | string | null;
      queue: number | string;
      wait_seconds: number | string;
      normal_wait_seconds: number | string;
      throughput_per_hour: number | string;
      message: string;
      cause: string | null;
    }>(
      `SELECT * FROM ops_alert ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY raised_at DESC, id DESC LIMIT ?`,
      [...params, q.limit ?? 500],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      stage: r.stage,
      section: r.section,
      raisedAt: new Date(Number(r.raised_at)).toISOString(),
      clearedAt: r.cleared_at === null ? null : new Date(Number(r.cleared_at)).toISOString(),
      queue: Number(r.queue),
      waitSeconds: Number(r.wait_seconds),
      normalWaitSeconds: Number(r.normal_wait_seconds),
      throughputPerHour: Number(r.throughput_per_hour),
      message: r.message,
      cause: r.cause === 'queue' ? 'queue' : 'wait',
    }));
  }

  /** Forgets detector states and departures (after a rebuild). */
  reset(): void {
    this.#states = undefined;
    this.#flow.clear();
    this.#waits.clear();
    this.#since = undefined;
    this.readings = [];
  }
}
