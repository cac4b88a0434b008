import type { Dialect } from '../store/dialect/dialect.ts';

/** A queued message for one destination. */
export interface Delivery {
  readonly id: number;
  readonly channel: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly version: number;
  readonly payload: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
}

type Row = {
  id: number;
  channel: string;
  resource_type: string;
  resource_id: string;
  version: number;
  payload: string;
  state: Delivery['state'];
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
};

const toDelivery = (r: Row): Delivery => ({
  id: Number(r.id),
  channel: r.channel,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  version: Number(r.version),
  payload: r.payload,
  state: r.state,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  lastError: r.last_error,
});

/** What to enqueue. */
export interface NewDelivery {
  readonly channel: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly version: number;
  readonly payload: string;
}

/** Backoff before attempt n + 1 (ms): 1 s, 2 s, 4 s … capped at 5 minutes. */
export function backoffMs(attempts: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempts - 1), 300_000);
}

/**
 * The durable outgoing queue (`delivery_queue`). Per channel, messages leave in the order they were
 * queued: only the oldest pending message of a channel is due, so a correction never overtakes the
 * result it corrects while the receiver is down.
 */
export class DeliveryQueue {
  readonly db: Dialect;
  constructor(db: Dialect) {
    this.db = db;
  }

  async enqueue(items: readonly NewDelivery[], now: number): Promise<void> {
    if (items.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const d of items) {
        await tx.run(
          `INSERT INTO delivery_queue (channel, resource_type, resource_id, version, payload, state, attempts, next_attempt_at, created_at)
           VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
          [d.channel, d.resourceType, d.resourceId, d.version, d.payload, now, now],
        );
      }
    });
  }

  /** The head of each channel that is due now. */
  async due(now: number, limit = 50): Promise<Delivery[]> {
    const rows = await this.db.all<Row>(
      `SELECT * FROM delivery_queue d WHERE d.state = 'pending' AND d.next_attempt_at <= ?
       AND d.id = (SELECT MIN(id) FROM delivery_queue h WHERE h.channel = d.channel AND h.state = 'pending')
       ORDER BY d.id LIMIT ?`,
      [now, limit],
    );
    return rows.map(toDelivery);
  }

  async delivered(id: number, now: number): Promise<void> {
    await this.db.run(
      "UPDATE delivery_queue SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?",
      [now, id],
    );
  }

  /** A failed attempt: retried after the backoff, or given up after `maxAttempts`. */
  async attemptFailed(d: Delivery, error: string, now: number, maxAttempts: number): Promise<void> {
    const attempts = d.attempts + 1;
    const state = attempts >= maxAttempts ? 'failed' : 'pending';
    await this.db.run(
      'UPDATE delivery_queue SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?',
      [state, attempts, now + backoffMs(attempts), error.slice(0, 1000), d.id],
    );
  }

  /** Messages in a state (the dead letters are `failed`), oldest first. */
  async list(state: Delivery['state'], limit = 100): Promise<Delivery[]> {
    const rows = await this.db.all<Row>('SELECT * FROM delivery_queue WHERE state = ? ORDER BY id LIMIT ?', [
      state,
      limit,
    ]);
    return rows.map(toDelivery);
  }

  /** Puts a failed message back in line, due now. */
  async retry(id: number, now: number): Promise<boolean> {
    return (
      (await this.db.run(
        "UPDATE delivery_queue SET state = 'pending', next_attempt_at = ? WHERE id = ? AND state = 'failed'",
        [now, id],
      )) > 0
    );
  }

  /** Pending messages per channel (queue depth, for interface health). */
  async depth(): Promise<Record<string, number>> {
    const rows = await this.db.all<{ channel: string; n: number }>(
      "SELECT channel, COUNT(*) AS n FROM delivery_queue WHERE state = 'pending' GROUP BY channel",
    );
    return Object.fromEntries(rows.map((r) => [r.channel, Number(r.n)]));
  }
}
