import { decodeSketch, encodeSketch } from '../core/operations/ddsketch.ts';
import {
  addToCell,
  type BucketCell,
  type BucketKey,
  bucketKeyText,
  bucketStart,
  type DimValues,
  emptyCell,
  type Grain,
  HOUR_MS,
  keysOf,
  mergeCell,
  type Observation,
} from '../core/operations/indicator-buckets.ts';
import type { OpsFact, OrderDims } from '../core/operations/stage-facts.ts';
import { completedIntervals, currentStage, type Stage, type TimelineKind } from '../core/operations/stages.ts';
import { targetFor } from '../core/operations/tat-targets.ts';
import type { Dialect, SqlExecutor } from '../store/dialect/dialect.ts';
import type { OutboxConsumer } from '../store/outbox.ts';
import { type BucketRow, CLOSED_GENERATION_KEY } from './indicator-queries.ts';
import type { OperationsConfig } from './operations-config.ts';
import { upsertRows } from './upsert-rows.ts';

/** Breakdown values with organisations resolved to SOR codes. */
export type Dims = { readonly [K in keyof OrderDims]?: string };
type Resolved<F> = F extends { dims: OrderDims } ? Omit<F, 'dims'> & { readonly dims: Dims } : never;
/** A fact with its organisations resolved: what the indicator state takes in. */
export type OpsInput = Resolved<OpsFact>;

/** One order's (or critical value's) timeline as stored in `ops_timeline`. */
export interface Timeline {
  readonly key: string;
  readonly kind: TimelineKind;
  analysis: string;
  priority: string;
  section: string;
  department: string;
  instrument: string;
  stages: Partial<Record<Stage, number>>;
  stage: Stage;
  stageAt: number;
  startedAt: number;
  open: boolean;
}

export const UNKNOWN = 'unknown';
const TIMELINE_COLUMNS = [
  'key',
  'kind',
  'analysis',
  'priority',
  'section',
  'department',
  'instrument',
  'stages',
  'stage',
  'stage_at',
  'started_at',
  'open',
] as const;
const BUCKET_KEY = ['grain', 'dim', 'section', 'start', 'measure', 'value'] as const;
const BUCKET_COLUMNS = [...BUCKET_KEY, 'n', 'targeted', 'hits', 'total', 'sketch'] as const;

interface TimelineRow {
  key: string;
  kind: string;
  analysis: string;
  priority: string;
  section: string;
  department: string;
  instrument: string;
  stages: string;
  stage: string;
  stage_at: number | string;
  started_at: number | string;
  open: number | string;
}

const fromRow = (r: TimelineRow): Timeline => ({
  key: r.key,
  kind: r.kind as TimelineKind,
  analysis: r.analysis,
  priority: r.priority,
  section: r.section,
  department: r.department,
  instrument: r.instrument,
  stages: JSON.parse(r.stages),
  stage: r.stage as Stage,
  stageAt: Number(r.stage_at),
  startedAt: Number(r.started_at),
  open: Number(r.open) === 1,
});

const dimValues = (t: Timeline | undefined, d: Dims): DimValues => ({
  analysis: d.analysis ?? t?.analysis ?? UNKNOWN,
  priority: d.priority ?? t?.priority ?? UNKNOWN,
  instrument: d.instrument ?? t?.instrument ?? UNKNOWN,
  department: d.department ?? t?.department ?? UNKNOWN,
});

/** Measures that are counts rather than intervals. */
export const COUNT_MEASURES = [
  'orders',
  'completed',
  'results',
  'verification',
  'specimens',
  'rejected',
  'haemolysed',
] as const;

/** A departure from a queue (for throughput λ): stage, section, time. */
/**
 * An order moved to stage `to` in `section` at `at`: it left `from` (entered at `enteredAt`), or
 * this is the first stage seen of it.
 */
export type StageMoveSink = (move: {
  readonly from?: Stage;
  readonly enteredAt?: number;
  readonly to: Stage;
  readonly section: string;
  readonly at: number;
}) => void;

/**
 * The indicator state, maintained incrementally: order timelines and per-bucket aggregates with
 * DDSketches, in the database, with a write-back cache of bucket cells. Each batch is applied in
 * one transaction together with the outbox position it reaches, so that a batch counts exactly
 * once. The cache is trusted only while the stored position is the one this instance wrote last
 * (another process applying a batch invalidates it).
 */
interface CachedCell {
  readonly key: BucketKey;
  readonly cell: BucketCell;
}

export class IndicatorState {
  readonly db: Dialect;
  config: OperationsConfig;
  onStageMove: StageMoveSink | undefined;
  readonly #cells = new Map<string, CachedCell>();
  /** The cells changed since the last flush (a flush must not scan every cached cell). */
  readonly #dirty = new Set<CachedCell>();
  readonly #slices = new Set<string>();
  #position: number | undefined;
  /** Cells kept in memory at most (then the cache is dropped after a commit and reloaded by slice). */
  maxCachedCells = 100_000;

  constructor(db: Dialect, config: OperationsConfig) {
    this.db = db;
    this.config = config;
  }

  /** Drops the cache (after a failed batch, or when another process moved the position). */
  invalidate(): void {
    this.#cells.clear();
    this.#dirty.clear();
    this.#slices.clear();
    this.#position = undefined;
  }

  /** Cached cells (the in-memory part of the indicator state). */
  get cachedCells(): number {
    return this.#cells.size;
  }

  /**
   * Applies a batch of inputs. With `consumer` and `from`/`to`, the batch is the outbox events
   * after `from` up to `to`: applied only if the stored position is still `from` (returns false
   * otherwise: another process got there first), and the position moves to `to` in the same
   * transaction.
   */
  async apply(
    inputs: readonly OpsInput[],
    outbox?: { consumer: OutboxConsumer; from: number; to: number },
  ): Promise<boolean> {
    if (this.#cells.size > this.maxCachedCells) this.invalidate();
    try {
      return await this.db.transaction(async (tx) => {
        await tx.lock('dxhub:operations');
        if (outbox) {
          const stored = await outbox.consumer.position(tx);
          if (stored !== outbox.from) {
            this.invalidate();
            return false;
          }
          if (this.#position !== outbox.from) this.invalidate();
        }
        const observations = await this.#process(tx, inputs);
        await this.#addAll(tx, observations);
        await this.#flushCells(tx);
        if (outbox) {
          await outbox.consumer.ack(outbox.to, tx);
          this.#position = outbox.to;
        }
        return true;
      });
    } catch (e) {
      this.invalidate();
      throw e;
    }
  }

  async #loadTimelines(tx: SqlExecutor, keys: string[]): Promise<Map<string, Timeline>> {
    const out = new Map<string, Timeline>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = await tx.all<TimelineRow>(
        `SELECT ${TIMELINE_COLUMNS.join(', ')} FROM ops_timeline WHERE key IN (${chunk.map(() => '?').join(',')})`,
        chunk,
      );
      for (const r of rows) out.set(r.key, fromRow(r));
    }
    return out;
  }

  /** Turns inputs into timeline changes (written here) and observations (returned). */
  async #process(tx: SqlExecutor, inputs: readonly OpsInput[]): Promise<Observation[]> {
    const keys = [...new Set(inputs.map((i) => i.key).filter((k): k is string => k !== undefined))];
    const timelines = await this.#loadTimelines(tx, keys);
    const changed = new Set<Timeline>();
    const obs: Observation[] = [];
    const observe = (measure: string, at: number, t: Timeline | undefined, d: Dims, extra: Partial<Observation> = {}) =>
      obs.push({ measure, at, section: d.section ?? t?.section ?? UNKNOWN, dims: dimValues(t, d), ...extra });
    for (const input of inputs) {
      const t = input.key ? timelines.get(input.key) : undefined;
      switch (input.kind) {
        case 'stage': {
          const tl = t ?? this.#newTimeline(input.key, input.timeline, input.stage, input.at);
          if (!t) timelines.set(input.key, tl);
          if (tl.stages[input.stage] !== undefined) break;
          this.#reach(tl, input.stage, input.at, input.dims, observe);
          changed.add(tl);
          break;
        }
        case 'specimen':
        case 'rejected':
        case 'haemolysed':
          observe(input.kind === 'specimen' ? 'specimens' : input.kind, input.at, t, input.dims);
          break;
        case 'result':
          observe('results', input.at, t, input.dims);
          break;
        case 'verification':
          observe('verification', input.at, t, input.dims, { hit: input.code === 'autoverified' });
          break;
      }
    }
    if (changed.size > 0) {
      const list = [...changed];
      await upsertRows(
        tx,
        'ops_timeline',
        TIMELINE_COLUMNS,
        1,
        list.map((t) => [
          t.key,
          t.kind,
          t.analysis,
          t.priority,
          t.section,
          t.department,
          t.instrument,
          JSON.stringify(t.stages),
          t.stage,
          t.stageAt,
          t.startedAt,
          t.open ? 1 : 0,
        ]),
      );
    }
    return obs;
  }

  #newTimeline(key: string, kind: TimelineKind, stage: Stage, at: number): Timeline {
    return {
      key,
      kind,
      analysis: UNKNOWN,
      priority: UNKNOWN,
      section: UNKNOWN,
      department: UNKNOWN,
      instrument: UNKNOWN,
      stages: {},
      stage,
      stageAt: at,
      startedAt: at,
      open: true,
    };
  }

  /** A timeline reaches a stage: dimensions filled, intervals completed, queue departure noted. */
  #reach(
    tl: Timeline,
    stage: Stage,
    at: number,
    d: Dims,
    observe: (measure: string, at: number, t: Timeline, d: Dims, extra?: Partial<Observation>) => void,
  ): void {
    // The order itself (ServiceRequest) decides its breakdowns; other resources fill gaps.
    const own = stage === 'ordered';
    for (const f of ['analysis', 'priority', 'section', 'department', 'instrument'] as const) {
      const v = d[f];
      if (v && (own || tl[f] === UNKNOWN)) tl[f] = v;
    }
    const before = Object.keys(tl.stages).length > 0 ? tl.stage : undefined;
    const enteredAt = before ? tl.stageAt : undefined;
    tl.stages[stage] = at;
    const now = currentStage(tl.kind, tl.stages)!;
    if (now !== before)
      this.onStageMove?.({ from: before, enteredAt, to: now, section: tl.section, at: tl.stages[now]! });
    tl.stage = now;
    tl.stageAt = tl.stages[now]!;
    tl.startedAt = Math.min(...Object.values(tl.stages));
    // Orders and completed orders count lab and imaging work; a critical value is not an order.
    const order = tl.kind !== 'critical';
    if (stage === 'ordered' && order) observe('orders', at, tl, {});
    if (stage === 'reported') {
      tl.open = false;
      if (order) observe('completed', at, tl, {});
    }
    for (const { interval, seconds } of completedIntervals(tl.kind, tl.stages, stage)) {
      const target = targetFor(this.config.targets, tl.analysis, tl.priority, interval.name);
      const endAt = tl.stages[interval.to]!;
      observe(
        interval.name,
        endAt,
        tl,
        {},
        { seconds, target: target ? { met: seconds <= target.minutes * 60 } : undefined },
      );
    }
  }

  /** Loads the stored buckets of the (grain, start) slices not in memory yet: one query per grain and 200 starts. */
  async #ensureSlices(tx: SqlExecutor, slices: ReadonlyMap<string, { grain: Grain; start: number }>): Promise<void> {
    const byGrain = new Map<Grain, number[]>();
    for (const [id, { grain, start }] of slices) {
      if (this.#slices.has(id)) continue;
      const starts = byGrain.get(grain) ?? [];
      byGrain.set(grain, starts);
      starts.push(start);
    }
    for (const [grain, starts] of byGrain) {
      for (let i = 0; i < starts.length; i += 200) {
        const chunk = starts.slice(i, i + 200);
        const rows = await tx.all<BucketRow & { dim: string }>(
          `SELECT dim, section, start, measure, value, n, targeted, hits, total, sketch FROM ops_bucket WHERE grain = ? AND start IN (${chunk.map(() => '?').join(',')})`,
          [grain, ...chunk],
        );
        for (const r of rows) {
          const key: BucketKey = {
            grain,
            dim: r.dim as BucketKey['dim'],
            section: r.section,
            start: Number(r.start),
            measure: r.measure,
            value: r.value,
          };
          const text = bucketKeyText(key);
          if (this.#cells.has(text)) continue;
          const cell: BucketCell = {
            n: Number(r.n),
            targeted: Number(r.targeted),
            hits: Number(r.hits),
            total: Number(r.total),
            sketch: decodeSketch(r.sketch),
          };
          this.#cells.set(text, { key, cell });
        }
        for (const start of chunk) this.#slices.add(`${grain}:${start}`);
      }
    }
  }

  /**
   * Adds observations to their buckets. Observations that land in the same buckets (same measure,
   * section, breakdowns and hour: the results of one order, say) are summed first, so that the
   * bucket keys are built once per group rather than once per observation.
   */
  async #addAll(tx: SqlExecutor, observations: readonly Observation[]): Promise<void> {
    const groups = new Map<string, { o: Observation; cell: BucketCell }>();
    for (const o of observations) {
      const d = o.dims;
      const sig = `${o.measure}\u0001${o.section}\u0001${d.analysis}\u0001${d.priority}\u0001${d.instrument}\u0001${d.department}\u0001${Math.floor(o.at / HOUR_MS)}`;
      let g = groups.get(sig);
      if (!g) {
        g = { o, cell: emptyCell() };
        groups.set(sig, g);
      }
      addToCell(g.cell, o);
    }
    // The buckets each group lands in; the slices of those not in memory are loaded in one go.
    const keyed = [...groups.values()].map(({ o, cell }) => ({
      cell,
      keys: keysOf(o).map((key) => ({ key, text: bucketKeyText(key) })),
    }));
    const missing = new Map<string, { grain: Grain; start: number }>();
    for (const g of keyed)
      for (const { key, text } of g.keys)
        if (!this.#cells.has(text)) missing.set(`${key.grain}:${key.start}`, { grain: key.grain, start: key.start });
    if (missing.size > 0) await this.#ensureSlices(tx, missing);
    for (const { cell, keys } of keyed) {
      for (const { key, text } of keys) {
        let entry = this.#cells.get(text);
        if (!entry) {
          entry = { key, cell: emptyCell() };
          this.#cells.set(text, entry);
        }
        mergeCell(entry.cell, cell);
        this.#dirty.add(entry);
      }
    }
  }

  async #flushCells(tx: SqlExecutor): Promise<void> {
    const dirty = [...this.#dirty];
    if (dirty.length === 0) return;
    const keyRow = (k: BucketKey) => [k.grain, k.dim, k.section, k.start, k.measure, k.value];
    await upsertRows(
      tx,
      'ops_bucket',
      BUCKET_COLUMNS,
      BUCKET_KEY.length,
      dirty.map((e) => [
        ...keyRow(e.key),
        e.cell.n,
        e.cell.targeted,
        e.cell.hits,
        e.cell.total,
        encodeSketch(e.cell.sketch),
      ]),
    );
    this.#dirty.clear();
    // Cached roll-ups of ended days and months (IndicatorCache) must see that these changed.
    const today = bucketStart('d', Date.now());
    const month = bucketStart('m', Date.now());
    if (dirty.some((e) => (e.key.grain === 'd' && e.key.start < today) || (e.key.grain === 'm' && e.key.start < month)))
      await bumpClosedGeneration(tx);
  }

  /** Empties the state (for a rebuild from history). */
  async reset(consumer: OutboxConsumer): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.lock('dxhub:operations');
      for (const t of ['ops_timeline', 'ops_bucket', 'ops_detector', 'ops_alert']) await tx.run(`DELETE FROM ${t}`);
      await bumpClosedGeneration(tx);
      await tx.run('DELETE FROM outbox_consumer WHERE name = ?', [consumer.name]);
    });
    this.invalidate();
  }
}

const bumpClosedGeneration = (tx: SqlExecutor) =>
  tx.run('UPDATE ops_meta SET value = value + 1 WHERE key = ?', [CLOSED_GENERATION_KEY]);
