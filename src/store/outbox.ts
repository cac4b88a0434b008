import type { Dialect, SqlExecutor } from './dialect/dialect.ts';

/** One committed change, as consumers receive it. */
export interface OutboxEvent {
  readonly seq: number;
  readonly type: string;
  readonly id: string;
  readonly version: number;
  readonly interaction: 'create' | 'update' | 'delete';
  readonly at: number;
}

const POLL =
  'SELECT o.seq, r.type, r.id, o.version, o.interaction, o.at FROM outbox o JOIN resource r ON r.rid = o.rid WHERE';
const event = (r: OutboxEvent): OutboxEvent => ({ ...r, seq: Number(r.seq), at: Number(r.at) });

/**
 * A named, durable outbox consumer. Events are delivered at least once and in commit order
 * (hence in order per resource); the position is stored in `outbox_consumer` so that a restarted
 * consumer resumes after its last acknowledged event. Commit order equals sequence order because
 * every writer appends its events under one lock at the end of its transaction (repository.ts).
 */
export class OutboxConsumer {
  readonly name: string;
  private readonly db: Dialect;
  constructor(db: Dialect, name: string) {
    this.db = db;
    this.name = name;
  }

  /** The last acknowledged sequence number (0 for a new consumer). */
  async position(within?: SqlExecutor): Promise<number> {
    const rows = await (within ?? this.db).all<{ position: number }>(
      'SELECT position FROM outbox_consumer WHERE name = ?',
      [this.name],
    );
    return Number(rows[0]?.position ?? 0);
  }

  /**
   * Up to `limit` events after the acknowledged position: one statement (the position is read
   * inside it), where reading the position first cost a second round trip on every poll of every
   * consumer, idle or not.
   */
  async poll(limit = 100): Promise<OutboxEvent[]> {
    const rows = await this.db.all<OutboxEvent>(
      `${POLL} o.seq > COALESCE((SELECT position FROM outbox_consumer WHERE name = ?), 0) ORDER BY o.seq LIMIT ?`,
      [this.name, limit],
    );
    return rows.map(event);
  }

  /** Up to `limit` events after `pos` (a position the caller has just read). */
  async pollAfter(pos: number, limit = 100): Promise<OutboxEvent[]> {
    const rows = await this.db.all<OutboxEvent>(`${POLL} o.seq > ? ORDER BY o.seq LIMIT ?`, [pos, limit]);
    return rows.map(event);
  }

  /**
   * Acknowledges everything up to and including `seq`. Positions never move backwards. Given a
   * transaction, the position commits with it (a consumer whose state lives in the same database
   * then sees each event exactly once).
   */
  async ack(seq: number, within?: SqlExecutor): Promise<void> {
    const now = Date.now();
    const write = async (tx: SqlExecutor) => {
      const n = await tx.run(
        'UPDATE outbox_consumer SET position = ?, updated_at = ? WHERE name = ? AND position < ?',
        [seq, now, this.name, seq],
      );
      if (n === 0) {
        await tx.insertMany(
          'outbox_consumer',
          ['name', 'position', 'updated_at'],
          ['text', 'bigint', 'bigint'],
          [[this.name, seq, now]],
        );
      }
    };
    if (within) await write(within);
    else await this.db.transaction(write);
  }

  /**
   * Delivers events to `handler` until `signal` aborts: a batch is acknowledged only after the
   * handler resolves, so a crash redelivers it (handlers must be idempotent).
   */
  async run(
    handler: (events: OutboxEvent[]) => Promise<void>,
    opts: { signal: AbortSignal; intervalMs?: number; batch?: number },
  ): Promise<void> {
    const interval = opts.intervalMs ?? 200;
    while (!opts.signal.aborted) {
      const events = await this.poll(opts.batch ?? 100);
      if (events.length > 0) {
        await handler(events);
        await this.ack(events[events.length - 1]!.seq);
        continue;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, interval);
        opts.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  }
}
