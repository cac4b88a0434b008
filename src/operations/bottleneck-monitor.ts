import {
  type DetectorState,
  initialDetector,
  littleWaitSeconds,
  type QueueReading,
  stepDetector,
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
  /** queue → minute → departures */
  readonly #departures = new Map<string, Map<number, number>>();
  #states: Map<string, DetectorState> | undefined;
  #latestDeparture = 0;
  /** The queues as seen at the last tick. */
  readings: QueueView[] = [];
  onAlert: ((a: BottleneckAlert, change: 'raised' | 'cleared') => void) | undefined;

  constructor(db: Dialect, config: () => OperationsConfig) {
    this.#db = db;
    this.#config = config;
  }

  /** An order left `stage` in `section` at `at`. */
  departure(stage: Stage, section: string, at: number): void {
    const k = qkey(stage, section);
    let m = this.#departures.get(k);
    if (!m) {
      m = new Map();
      this.#departures.set(k, m);
    }
    const minute = Math.floor(at / MINUTE);
    m.set(minute, (m.get(minute) ?? 0) + 1);
    if (at > this.#latestDeparture) {
      this.#latestDeparture = at;
      // Keep two hours: enough for "the last hour" of any tick not far behind the events.
      const oldest = minute - 120;
      for (const per of this.#departures.values()) for (const t of per.keys()) if (t < oldest) per.delete(t);
    }
  }

  #throughput(stage: string, section: string, now: number): number {
    const per = this.#departures.get(qkey(stage, section));
    if (!per) return 0;
    const to = Math.floor(now / MINUTE);
    let n = 0;
    for (const [minute, c] of per) if (minute > to - 60 && minute <= to) n += c;
    return n;
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
      const reading: QueueReading = {
        queue,
        throughputPerHour: this.#throughput(r.stage, r.section, now),
        meanAgeSeconds: queue > 0 ? Math.max(0, (now - Number(r.s) / queue) / 1000) : 0,
      };
      const before = states.get(k) ?? initialDetector();
      const step = stepDetector(before, reading, config.detector);
      states.set(k, step.state);
      updates.push([k, JSON.stringify(step.state), now]);
      readings.push({
        stage: r.stage,
        section: r.section,
        ...reading,
        littleWaitSeconds: littleWaitSeconds(reading),
        normalWaitSeconds: before.mean,
        alerting: step.state.alerting,
      });
      if (step.signal === 'raise') raised.push(await this.#raise(r.stage, r.section, reading, before.mean, now));
      if (step.signal === 'clear') cleared.push(...(await this.#clear(r.stage, r.section, now)));
    }
    await upsertRows(this.#db, 'ops_detector', ['key', 'state', 'updated_at'], 1, updates);
    this.readings = readings;
    for (const a of raised) this.onAlert?.(a, 'raised');
    for (const a of cleared) this.onAlert?.(a, 'cleared');
    return { raised, cleared };
  }

  async #raise(stage: string, section: string, r: QueueReading, normal: number, now: number): Promise<BottleneckAlert> {
    const wait = r.meanAgeSeconds;
    const little = littleWaitSeconds(r);
    const message =
      `Bottleneck: ${r.queue} orders waiting at stage '${stage}' in section ${section}; ` +
      `waiting ${Math.round(wait / 60)} min on average (normal ${Math.round(normal / 60)} min); ` +
      `throughput ${r.throughputPerHour}/h, so by Little's law W = L/λ = ${Math.round(little / 60)} min`;
    await this.#db.run(
      'INSERT INTO ops_alert (stage, section, raised_at, queue, wait_seconds, normal_wait_seconds, throughput_per_hour, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [stage, section, now, r.queue, wait, normal, r.throughputPerHour, message],
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
    }));
  }

  /** Forgets detector states and departures (after a rebuild). */
  reset(): void {
    this.#states = undefined;
    this.#departures.clear();
    this.readings = [];
  }
}
