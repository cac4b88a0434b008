import { funnelLimits, funnelPosition } from '../core/ordering/funnel.ts';
import type { Dialect } from '../store/dialect/dialect.ts';

/** What happened to an order (or a proposed one). */
export type OrderEventKind =
  | 'proposal'
  | 'info'
  | 'warning'
  | 'block'
  | 'override'
  | 'sign'
  | 'cancel'
  | 'complete'
  | 'feedback-accepted'
  | 'feedback-overridden';

export interface OrderEvent {
  readonly at: number;
  readonly kind: OrderEventKind;
  /** `requisition` (dxhub's own order API) or `cds-hooks`. */
  readonly channel: 'requisition' | 'cds-hooks';
  readonly patient?: string;
  readonly requisition?: string;
  readonly orderId?: string;
  readonly test?: string;
  readonly rule?: string;
  readonly ruleKind?: string;
  readonly orderer?: string;
  readonly organisation?: string;
  readonly reason?: string;
  /** CDS Hooks card uuid, so that feedback finds the card's rule and test. */
  readonly card?: string;
}

const COLUMNS = [
  'at',
  'kind',
  'channel',
  'patient',
  'requisition',
  'order_id',
  'test',
  'rule',
  'rule_kind',
  'orderer',
  'organisation',
  'reason',
  'card',
] as const;
const TYPES = [
  'bigint',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
] as const;
const row = (e: OrderEvent) => [
  e.at,
  e.kind,
  e.channel,
  e.patient ?? null,
  e.requisition ?? null,
  e.orderId ?? null,
  e.test ?? null,
  e.rule ?? null,
  e.ruleKind ?? null,
  e.orderer ?? null,
  e.organisation ?? null,
  e.reason ?? null,
  e.card ?? null,
];

export type PatternDimension = 'organisation' | 'orderer' | 'test';

export interface PatternRow {
  readonly key: string;
  readonly proposals: number;
  readonly signed: number;
  readonly cancelled: number;
  readonly warnings: number;
  readonly blocks: number;
  readonly overrides: number;
  /** Proposals that a retest-interval rule flagged (repeats inside the interval). */
  readonly repeatsInsideInterval: number;
  readonly blockRate: number;
  readonly overrideRate: number;
  readonly funnel: ReturnType<typeof funnelLimits> & { position: ReturnType<typeof funnelPosition> };
}

/**
 * The order event log. CDS Hooks calls are recorded through a small buffer (flushed every 200 ms
 * or at 256 events, and on close) so that the hook's answer does not wait for a commit; the
 * requisition API writes its events before it answers (`recordNow`).
 */
export class OrderEventLog {
  private readonly db: Dialect;
  private buffer: OrderEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(db: Dialect) {
    this.db = db;
  }

  record(events: readonly OrderEvent[]): void {
    this.buffer.push(...events);
    // Small flushes: a flush holds the event loop for its insert (~4 µs per row on SQLite).
    if (this.buffer.length >= 256) void this.flush();
    // unref: a pending flush never keeps a process alive; close() flushes what is left.
    else this.timer ??= setTimeout(() => void this.flush(), 200).unref();
  }

  async recordNow(events: readonly OrderEvent[]): Promise<void> {
    // Detached: on a SQLite file a background thread inserts them (~7 µs per row, ten rows per
    // order-sign call, was a third of the call's time on the server's thread).
    if (events.length > 0) await this.db.insertManyDetached('order_event', COLUMNS, TYPES, events.map(row));
  }

  /** Writes buffered events; concurrent calls are serialised. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    this.flushing = this.flushing.then(() => this.recordNow(batch));
    return this.flushing;
  }

  /** The proposal/finding events of a CDS Hooks card (its rule, test, patient, orderer). */
  async byCard(card: string): Promise<OrderEvent | undefined> {
    await this.flush();
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT ${COLUMNS.join(', ')} FROM order_event WHERE card = ? AND kind IN ('info', 'warning', 'block') LIMIT 1`,
      [card],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      at: Number(r.at),
      kind: r.kind as OrderEventKind,
      channel: r.channel as OrderEvent['channel'],
      ...Object.fromEntries(
        [
          ['patient', r.patient],
          ['orderId', r.order_id],
          ['test', r.test],
          ['rule', r.rule],
          ['ruleKind', r.rule_kind],
          ['orderer', r.orderer],
          ['organisation', r.organisation],
          ['card', r.card],
        ].filter(([, v]) => v !== null && v !== undefined),
      ),
    };
  }

  /** The organisations (orderers' SOR codes) that have order events. */
  async organisations(): Promise<string[]> {
    await this.flush();
    const rows = await this.db.all<{ o: string }>(
      'SELECT DISTINCT organisation AS o FROM order_event WHERE organisation IS NOT NULL',
    );
    return rows.map((r) => r.o);
  }

  /**
   * Proposals counted per dimension value with the funnel limits of the block rate; only the
   * events of `organisations` when given (drill-down; an empty list gives empty patterns).
   */
  async patterns(
    dimension: PatternDimension,
    from: number,
    to: number,
    organisations: readonly string[] | null = null,
  ): Promise<{
    overall: Omit<PatternRow, 'key' | 'funnel'>;
    rows: PatternRow[];
    trend: { week: string; proposals: number; blocks: number; overrides: number }[];
  }> {
    await this.flush();
    const col = dimension === 'orderer' ? 'orderer' : dimension === 'test' ? 'test' : 'organisation';
    const orgs = organisations ?? [];
    const only =
      organisations === null ? '' : ` AND organisation IN (${orgs.length ? orgs.map(() => '?').join(', ') : 'NULL'})`;
    const counts = `SUM(CASE WHEN kind = 'proposal' THEN 1 ELSE 0 END) AS proposals,
       SUM(CASE WHEN kind = 'sign' THEN 1 ELSE 0 END) AS signed,
       SUM(CASE WHEN kind = 'cancel' THEN 1 ELSE 0 END) AS cancelled,
       SUM(CASE WHEN kind = 'warning' THEN 1 ELSE 0 END) AS warnings,
       SUM(CASE WHEN kind = 'block' THEN 1 ELSE 0 END) AS blocks,
       SUM(CASE WHEN kind IN ('override', 'feedback-overridden') THEN 1 ELSE 0 END) AS overrides,
       SUM(CASE WHEN kind IN ('info', 'warning', 'block') AND rule_kind = 'retest-interval' THEN 1 ELSE 0 END) AS repeats`;
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT COALESCE(${col}, '(none)') AS k, ${counts} FROM order_event WHERE at >= ? AND at < ?${only} GROUP BY COALESCE(${col}, '(none)') ORDER BY k`,
      [from, to, ...orgs],
    );
    const shape = (r: Record<string, unknown>) => {
      const n = (k: string) => Number(r[k] ?? 0);
      const proposals = n('proposals');
      const flagged = n('warnings') + n('blocks');
      return {
        proposals,
        signed: n('signed'),
        cancelled: n('cancelled'),
        warnings: n('warnings'),
        blocks: n('blocks'),
        overrides: n('overrides'),
        repeatsInsideInterval: n('repeats'),
        blockRate: proposals > 0 ? n('blocks') / proposals : 0,
        overrideRate: flagged > 0 ? n('overrides') / flagged : 0,
      };
    };
    const shaped = rows.map((r) => ({ key: String(r.k), ...shape(r) }));
    const total = shaped.reduce(
      (a, r) => {
        for (const k of ['proposals', 'signed', 'cancelled', 'warnings', 'blocks', 'overrides', 'repeats'] as const)
          a[k] += k === 'repeats' ? r.repeatsInsideInterval : r[k];
        return a;
      },
      { proposals: 0, signed: 0, cancelled: 0, warnings: 0, blocks: 0, overrides: 0, repeats: 0 },
    );
    const overall = shape(total);
    const withFunnel = shaped.map((r) => {
      const l = funnelLimits(overall.blockRate, r.proposals);
      return { ...r, funnel: { ...l, position: funnelPosition(r.blockRate, l) } };
    });
    // Trends: ISO-week buckets (epoch weeks start on a Thursday; shift to Monday).
    const WEEK = 7 * 86_400_000;
    const MONDAY = 4 * 86_400_000;
    const trendRows = await this.db.all<{ w: number; kind: string; n: number }>(
      `SELECT (at + ${MONDAY}) / ${WEEK} AS w, kind, COUNT(*) AS n FROM order_event
        WHERE at >= ? AND at < ?${only} AND kind IN ('proposal', 'block', 'override', 'feedback-overridden') GROUP BY (at + ${MONDAY}) / ${WEEK}, kind`,
      [from, to, ...orgs],
    );
    const weeks = new Map<number, { week: string; proposals: number; blocks: number; overrides: number }>();
    for (const t of trendRows) {
      const w = Math.floor(Number(t.w));
      const e = weeks.get(w) ?? {
        week: new Date(w * WEEK - MONDAY).toISOString().slice(0, 10),
        proposals: 0,
        blocks: 0,
        overrides: 0,
      };
      if (t.kind === 'proposal') e.proposals += Number(t.n);
      else if (t.kind === 'block') e.blocks += Number(t.n);
      else e.overrides += Number(t.n);
      weeks.set(w, e);
    }
    return { overall, rows: withFunnel, trend: [...weeks.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v) };
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
