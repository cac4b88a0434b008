import { type DenseSketch, denseQuantile, mergeEncodedSketch, newDenseSketch } from '../core/operations/ddsketch.ts';
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

/**
 * Reads the buckets of a window and rolls them up by the breakdown, merging sketches: median,
 * P90 and mean for intervals, counts and per-hour rates for everything. The cost is the number
 * of buckets in the window (at most 365 per section and breakdown value), never the number of results.
 */
export async function queryIndicators(db: Dialect, q: IndicatorQuery): Promise<IndicatorRow[]> {
  if (q.sections && q.sections.length === 0) return [];
  const { segments, hours } = windowSegments(q.window, q.now, q.by);
  const hourly = segments[0]!.grain === 'h';
  // Hour of day: from the hour buckets' own start (live, today), else the stored `hour` breakdown.
  const dim: DimKind = q.by === 'section' || (q.by === 'hour' && hourly) ? 'all' : q.by;
  const params: unknown[] = [dim];
  let sql = `SELECT section, start, measure, value, n, targeted, hits, total, sketch FROM ops_bucket WHERE dim = ? AND (${segments
    .map(() => '(grain = ? AND start >= ? AND start <= ?)')
    .join(' OR ')})`;
  for (const g of segments) params.push(g.grain, g.from, g.to);
  if (q.measures?.length) {
    sql += ` AND measure IN (${q.measures.map(() => '?').join(',')})`;
    params.push(...q.measures);
  }
  if (q.sections) {
    sql += ` AND section IN (${q.sections.map(() => '?').join(',')})`;
    params.push(...q.sections);
  }
  const rows = await db.all<{
    section: string;
    start: number | string;
    measure: string;
    value: string;
    n: number | string;
    targeted: number | string;
    hits: number | string;
    total: number | string;
    sketch: string;
  }>(sql, params);
  type Group = { n: number; targeted: number; hits: number; total: number; sketch: DenseSketch };
  const groups = new Map<string, { measure: string; group: string; cell: Group }>();
  for (const r of rows) {
    const group = q.by === 'section' ? r.section : q.by === 'hour' && hourly ? danishHour(Number(r.start)) : r.value;
    const k = `${r.measure}\u0001${group}`;
    let g = groups.get(k);
    if (!g) {
      g = { measure: r.measure, group, cell: { n: 0, targeted: 0, hits: 0, total: 0, sketch: newDenseSketch() } };
      groups.set(k, g);
    }
    const c = g.cell;
    c.n += Number(r.n);
    c.targeted += Number(r.targeted);
    c.hits += Number(r.hits);
    c.total += Number(r.total);
    if (r.sketch !== '0;') mergeEncodedSketch(c.sketch, r.sketch);
  }
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
