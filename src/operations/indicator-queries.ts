import {
  type DenseSketch,
  denseQuantile,
  encodeDenseSketch,
  mergeEncodedSketch,
  newDenseSketch,
} from '../core/operations/ddsketch.ts';
import {
  bucketStart,
  DAY_MS,
  DIMS_BY_GRAIN,
  type DimKind,
  danishHour,
  type Grain,
  HOUR_MS,
} from '../core/operations/indicator-buckets.ts';
import { INTERVALS } from '../core/operations/stages.ts';
import { targetFor } from '../core/operations/tat-targets.ts';
import type { Dialect } from '../store/dialect/dialect.ts';
import type { OperationsConfig } from './operations-config.ts';

/** Time windows of the API. */
export const WINDOWS = ['live', 'today', '7d', '30d', '365d'] as const;
export type TimeWindow = (typeof WINDOWS)[number];
/** Breakdowns of the API: a stored breakdown, or by section, or by hour of day (Danish time). */
export type GroupBy = DimKind | 'section' | 'hour';
export const GROUP_BY: readonly GroupBy[] = [
  'all',
  'analysis',
  'priority',
  'instrument',
  'department',
  'section',
  'hour',
];

const TZ = 'Europe/Copenhagen';
/** Local (Danish) midnight before `now`, as epoch ms. */
function localMidnight(now: number): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const sinceMidnight = (part('hour') * 60 + part('minute')) * 60_000;
  return Math.floor((now - sinceMidnight) / 60_000) * 60_000;
}

/** Where a window starts: the previous hour (`live`), Danish midnight (`today`), or N UTC days including today. */
export function windowStart(w: TimeWindow, now: number): number {
  if (w === 'live') return bucketStart('h', now) - HOUR_MS;
  if (w === 'today') return bucketStart('h', localMidnight(now));
  return bucketStart('d', now) - ((w === '7d' ? 7 : w === '30d' ? 30 : 365) - 1) * DAY_MS;
}

/** A range of bucket starts (inclusive) of one grain. */
export interface Segment {
  readonly grain: Grain;
  readonly from: number;
  readonly to: number;
}

/**
 * The buckets a window reads: `live` = the current and previous hour, `today` = hours since
 * Danish midnight, `7d`/`30d` = days (UTC) including today, `365d` = whole months plus the days
 * at both edges. Breakdowns that hour buckets do not keep (instrument, department) come from the
 * day buckets of today for `live` and `today`.
 */
export function windowSegments(w: TimeWindow, now: number, by: GroupBy): { segments: Segment[]; hours: number } {
  const hourFloor = bucketStart('h', now);
  const dayFloor = bucketStart('d', now);
  if (w === 'live' || w === 'today') {
    const from = windowStart(w, now);
    const hours = Math.max(1 / 60, (now - from) / HOUR_MS);
    if (by !== 'section' && by !== 'hour' && !DIMS_BY_GRAIN.h.includes(by)) {
      return { segments: [{ grain: 'd', from: bucketStart('d', from), to: dayFloor }], hours };
    }
    return { segments: [{ grain: 'h', from, to: hourFloor }], hours };
  }
  const from = windowStart(w, now);
  const hours = (now - from) / HOUR_MS;
  const month = bucketStart('m', from);
  const firstFull = month === from ? from : bucketStart('m', month + 32 * DAY_MS);
  const current = bucketStart('m', now);
  if (firstFull >= current) return { segments: [{ grain: 'd', from, to: dayFloor }], hours };
  const segments: Segment[] = [];
  if (firstFull > from) segments.push({ grain: 'd', from, to: firstFull - DAY_MS });
  segments.push({ grain: 'm', from: firstFull, to: current - 1 });
  segments.push({ grain: 'd', from: current, to: dayFloor });
  return { segments, hours };
}

/** One row of an indicator answer. */
export interface IndicatorRow {
  readonly measure: string;
  /** The breakdown value ('' for `all`). */
  readonly group: string;
  readonly n: number;
  readonly perHour: number;
  readonly medianMinutes?: number | null;
  readonly p90Minutes?: number | null;
  readonly meanMinutes?: number | null;
  /** Orders with a configured target, the share (%) within it, and the target(s) applied. */
  readonly targeted: number;
  readonly withinTargetPercent: number | null;
  readonly hits: number;
}

export interface IndicatorQuery {
  readonly window: TimeWindow;
  readonly by: GroupBy;
  /** Sections to include (null: all). */
  readonly sections: readonly string[] | null;
  readonly measures?: readonly string[];
  readonly now: number;
}

const INTERVAL_NAMES = new Set(INTERVALS.map((i) => i.name));
const round = (v: number | null, d = 1): number | null => (v === null ? null : Math.round(v * 10 ** d) / 10 ** d);

/** A stored `ops_bucket` row as read back (BIGINT columns arrive as strings from PostgreSQL). */
export type BucketRow = {
  section: string;
  start: number | string;
  measure: string;
  value: string;
  n: number | string;
  targeted: number | string;
  hits: number | string;
  total: number | string;
  sketch: string;
};
type Cell = { n: number; targeted: number; hits: number; total: number; sketch: DenseSketch };
type Groups = Map<string, { measure: string; group: string; cell: Cell }>;
/** A rolled-up group kept by the cache: its sums and its merged sketch in stored form. */
interface CachedGroup {
  readonly measure: string;
  readonly group: string;
  readonly n: number;
  readonly targeted: number;
  readonly hits: number;
  readonly total: number;
  readonly sketch: string;
}

/** The `ops_meta` row that counts writes to buckets of days (and months) that have ended. */
export const CLOSED_GENERATION_KEY = 'closed-buckets';

/**
 * Roll-ups of the ended days and months of a window, per query shape, so that a dashboard asking
 * again reads only today's buckets. Every entry carries the generation of `ops_meta` at the time
 * it was computed; the indicator state bumps that generation in the same transaction as any write
 * to a bucket of an ended day or month (a late event, a rebuild), so an entry is never used after
 * its buckets changed, also when another process wrote them. Least recently used entries go first.
 */
export class IndicatorCache {
  readonly #entries = new Map<string, { generation: number; groups: readonly CachedGroup[] }>();
  readonly #max: number;
  hits = 0;
  misses = 0;

  constructor(maxEntries = 512) {
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string, generation: number): readonly CachedGroup[] | undefined {
    const e = this.#entries.get(key);
    if (!e || e.generation !== generation) {
      this.misses++;
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, e);
    this.hits++;
    return e.groups;
  }

  set(key: string, generation: number, groups: readonly CachedGroup[]): void {
    this.#entries.delete(key);
    this.#entries.set(key, { generation, groups });
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  clear(): void {
    this.#entries.clear();
  }
}

async function closedGeneration(db: Dialect): Promise<number> {
  const [row] = await db.all<{ value: number | string }>('SELECT value FROM ops_meta WHERE key = ?', [
    CLOSED_GENERATION_KEY,
  ]);
  return Number(row?.value ?? 0);
}

async function fetchBuckets(
  db: Dialect,
  dim: DimKind,
  segments: readonly Segment[],
  q: IndicatorQuery,
): Promise<BucketRow[]> {
  const rows: BucketRow[] = [];
  for (const g of segments) {
    // One range of the (grain, dim, start, …) key per segment.
    const params: unknown[] = [g.grain, dim, g.from, g.to];
    let sql =
      'SELECT section, start, measure, value, n, targeted, hits, total, sketch FROM ops_bucket WHERE grain = ? AND dim = ? AND start >= ? AND start <= ?';
    if (q.measures?.length) {
      sql += ` AND measure IN (${q.measures.map(() => '?').join(',')})`;
      params.push(...q.measures);
    }
    if (q.sections) {
      sql += ` AND section IN (${q.sections.map(() => '?').join(',')})`;
      params.push(...q.sections);
    }
    rows.push(...(await db.all<BucketRow>(sql, params)));
  }
  return rows;
}

function groupOf(groups: Groups, measure: string, group: string): Cell {
  const k = `${measure}\u0001${group}`;
  let g = groups.get(k);
  if (!g) {
    g = { measure, group, cell: { n: 0, targeted: 0, hits: 0, total: 0, sketch: newDenseSketch() } };
    groups.set(k, g);
  }
  return g.cell;
}

function rollUp(groups: Groups, rows: readonly BucketRow[], by: GroupBy, hourly: boolean): void {
  for (const r of rows) {
    const group = by === 'section' ? r.section : by === 'hour' && hourly ? danishHour(Number(r.start)) : r.value;
    const c = groupOf(groups, r.measure, group);
    c.n += Number(r.n);
    c.targeted += Number(r.targeted);
    c.hits += Number(r.hits);
    c.total += Number(r.total);
    if (r.sketch !== '0;') mergeEncodedSketch(c.sketch, r.sketch);
  }
}

/**
 * Splits day and month segments into the buckets that have ended before `closedBefore` (a day
 * start) and the rest (today's).
 */
function splitClosed(segments: readonly Segment[], closedBefore: number): { closed: Segment[]; open: Segment[] } {
  const closed: Segment[] = [];
  const open: Segment[] = [];
  for (const g of segments) {
    if (g.grain === 'm') {
      // Closed when the month of its last bucket has ended.
      (bucketStart('m', bucketStart('m', g.to) + 32 * DAY_MS) <= closedBefore ? closed : open).push(g);
    } else if (g.grain === 'd') {
      if (g.from < closedBefore) closed.push({ ...g, to: Math.min(g.to, closedBefore - DAY_MS) });
      if (g.to >= closedBefore) open.push({ ...g, from: Math.max(g.from, closedBefore) });
    } else open.push(g);
  }
  return { closed, open };
}

/**
 * Reads the buckets of a window and rolls them up by the breakdown, merging sketches: median,
 * P90 and mean for intervals, counts and per-hour rates for everything. The cost is the number
 * of buckets in the window (at most 365 per section and breakdown value), never the number of
 * results; with a cache, the ended days and months of a 7/30/365-day window are rolled up once
 * (until a late event changes them) and a repeated query reads only today's buckets.
 */
export async function queryIndicators(db: Dialect, q: IndicatorQuery, cache?: IndicatorCache): Promise<IndicatorRow[]> {
  if (q.sections && q.sections.length === 0) return [];
  const { segments, hours } = windowSegments(q.window, q.now, q.by);
  const hourly = segments[0]!.grain === 'h';
  // Hour of day: from the hour buckets' own start (live, today), else the stored `hour` breakdown.
  const dim: DimKind = q.by === 'section' || (q.by === 'hour' && hourly) ? 'all' : q.by;
  const groups: Groups = new Map();
  let rest: readonly Segment[] = segments;
  if (cache && !hourly && q.window !== 'live' && q.window !== 'today') {
    // Ended: before today by the query's clock and by this machine's (the writer bumps by the latter).
    const closedBefore = Math.min(bucketStart('d', q.now), bucketStart('d', Date.now()));
    const { closed, open } = splitClosed(segments, closedBefore);
    if (closed.length) {
      const generation = await closedGeneration(db);
      const key = JSON.stringify([dim, q.by, closed, q.measures ?? null, q.sections ?? null]);
      let cached = cache.get(key, generation);
      if (!cached) {
        const closedGroups: Groups = new Map();
        rollUp(closedGroups, await fetchBuckets(db, dim, closed, q), q.by, false);
        cached = [...closedGroups.values()].map(({ measure, group, cell }) => ({
          measure,
          group,
          n: cell.n,
          targeted: cell.targeted,
          hits: cell.hits,
          total: cell.total,
          sketch: encodeDenseSketch(cell.sketch),
        }));
        cache.set(key, generation, cached);
      }
      for (const g of cached) {
        const c = groupOf(groups, g.measure, g.group);
        c.n += g.n;
        c.targeted += g.targeted;
        c.hits += g.hits;
        c.total += g.total;
        if (g.sketch !== '0;') mergeEncodedSketch(c.sketch, g.sketch);
      }
      rest = open;
    }
  }
  if (rest.length) rollUp(groups, await fetchBuckets(db, dim, rest, q), q.by, hourly);
  const out: IndicatorRow[] = [];
  for (const g of groups.values()) {
    const c = g.cell;
    const interval = INTERVAL_NAMES.has(g.measure);
    const q50 = interval ? denseQuantile(c.sketch, 0.5) : null;
    const q90 = interval ? denseQuantile(c.sketch, 0.9) : null;
    out.push({
      measure: g.measure,
      group: g.group,
      n: c.n,
      perHour: round(c.n / hours, 2)!,
      ...(interval
        ? {
            medianMinutes: round(q50 === null ? null : q50 / 60),
            p90Minutes: round(q90 === null ? null : q90 / 60),
            meanMinutes: round(c.n > 0 ? c.total / c.n / 60 : null),
          }
        : {}),
      targeted: c.targeted,
      withinTargetPercent: c.targeted > 0 ? round((100 * c.hits) / c.targeted) : null,
      hits: c.hits,
    });
  }
  return out.sort((a, b) => a.measure.localeCompare(b.measure) || a.group.localeCompare(b.group));
}

/** An open order past (overdue) or near (at risk) a target's deadline. */
export interface LateOrder {
  /** `ServiceRequest/…` (left out for roles that see aggregates only). */
  readonly order?: string;
  readonly analysis: string;
  readonly priority: string;
  readonly section: string;
  readonly stage: string;
  readonly interval: string;
  readonly elapsedMinutes: number;
  readonly targetMinutes: number;
}

/** Work in progress: open orders per section and stage, and the overdue and at-risk lists. */
export async function workInProgress(
  db: Dialect,
  q: { sections: readonly string[] | null; now: number; config: OperationsConfig; withOrders: boolean; limit?: number },
): Promise<{
  byStage: { section: string; stage: string; count: number; oldestMinutes: number }[];
  overdue: LateOrder[];
  atRisk: LateOrder[];
}> {
  if (q.sections && q.sections.length === 0) return { byStage: [], overdue: [], atRisk: [] };
  const since = q.now - q.config.staleAfterMs;
  const inSections = q.sections ? ` AND section IN (${q.sections.map(() => '?').join(',')})` : '';
  const sp = q.sections ?? [];
  const grouped = await db.all<{ section: string; stage: string; n: number | string; oldest: number | string }>(
    `SELECT section, stage, COUNT(*) AS n, MIN(stage_at) AS oldest FROM ops_timeline WHERE open = 1 AND started_at >= ?${inSections} GROUP BY section, stage ORDER BY section, stage`,
    [since, ...sp],
  );
  const open = await db.all<{
    key: string;
    kind: string;
    analysis: string;
    priority: string;
    section: string;
    stage: string;
    stages: string;
  }>(
    `SELECT key, kind, analysis, priority, section, stage, stages FROM ops_timeline WHERE open = 1 AND started_at >= ?${inSections} ORDER BY started_at LIMIT ?`,
    [since, ...sp, q.limit ?? 5000],
  );
  const overdue: LateOrder[] = [];
  const atRisk: LateOrder[] = [];
  for (const o of open) {
    const stages = JSON.parse(o.stages) as Record<string, number>;
    for (const iv of INTERVALS) {
      if (iv.kind !== o.kind || stages[iv.from] === undefined || stages[iv.to] !== undefined) continue;
      const t = targetFor(q.config.targets, o.analysis, o.priority, iv.name);
      if (!t) continue;
      const elapsed = (q.now - stages[iv.from]!) / 60_000;
      const late: LateOrder = {
        ...(q.withOrders ? { order: o.key } : {}),
        analysis: o.analysis,
        priority: o.priority,
        section: o.section,
        stage: o.stage,
        interval: iv.name,
        elapsedMinutes: Math.round(elapsed),
        targetMinutes: t.minutes,
      };
      if (elapsed > t.minutes) overdue.push(late);
      else if (elapsed > t.minutes * q.config.atRiskShare) atRisk.push(late);
    }
  }
  return {
    byStage: grouped.map((g) => ({
      section: g.section,
      stage: g.stage,
      count: Number(g.n),
      oldestMinutes: Math.round((q.now - Number(g.oldest)) / 60_000),
    })),
    overdue,
    atRisk,
  };
}
