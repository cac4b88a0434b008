import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { ackErrorFrom, buildAck, parseHl7 } from '../core/hl7/index.ts';
import type { Dialect, SqlExecutor } from '../store/dialect/dialect.ts';
import { claimAndRun, claimRows, markProcessedIn, type ReprocessSummary } from './inbox-claim.ts';

/** Lifecycle of an inbox row. `duplicate` is for handlers that find a message already applied. */
export type Hl7InboxState = 'received' | 'processed' | 'failed' | 'duplicate';

/** What happened to an accepted payload. */
export type Hl7AcceptOutcome = 'stored' | 'resend' | 'control-id-reused' | 'unparseable';

/** The result of {@link Hl7Inbox.accept}: the ACK to send (already durable) and the row it concerns. */
export interface Hl7AcceptResult {
  readonly ack: string;
  readonly id: number;
  readonly outcome: Hl7AcceptOutcome;
}

/** One inbox row; `raw` decoded back to the received bytes. */
export interface Hl7InboxRow {
  readonly id: number;
  readonly receivedAt: number;
  readonly peer: string;
  readonly sendingApplication: string;
  readonly sendingFacility: string;
  readonly controlId: string;
  readonly messageType: string;
  readonly contentHash: string;
  readonly raw: Buffer;
  readonly state: Hl7InboxState;
  readonly reason: string | null;
  readonly ack: string;
  readonly processedAt: number | null;
  readonly attempts: number;
}

/** Processes one stored message; throwing marks the row failed with the error message as reason. */
export type Hl7InboxHandler = (row: Hl7InboxRow) => Promise<void>;

/** Which rows {@link Hl7Inbox.reprocess} runs: one id, or all rows in a state (oldest first). */
export type Hl7ReprocessTarget = number | { readonly state: Hl7InboxState; readonly limit?: number };

/** Counts from {@link Hl7Inbox.reprocess}. */
export type Hl7ReprocessSummary = ReprocessSummary;

/** Reason stored on a row whose MSH-3/4/10 matches an earlier row with different bytes. */
export const CONTROL_ID_REUSED = 'control id reused with other content';

interface DbRow {
  id: number | string;
  received_at: number | string;
  peer: string;
  sending_application: string;
  sending_facility: string;
  control_id: string;
  message_type: string;
  content_hash: string;
  raw: string;
  state: Hl7InboxState;
  reason: string | null;
  ack: string;
  processed_at: number | string | null;
  attempts: number | string;
}

const COLUMNS =
  'id, received_at, peer, sending_application, sending_facility, control_id, message_type, content_hash, raw, state, reason, ack, processed_at, attempts';

/**
 * The durable HL7 v2 inbox (integration research §6): every payload is committed, raw, before its
 * ACK is returned, so an AA never precedes durability. Exact resends (same MSH-3/4/10 and bytes)
 * get the original ACK and no new row; a reused MSH-10 with other bytes is kept as a flagged row.
 */
export class Hl7Inbox {
  readonly #db: Dialect;
  readonly #now: () => number;

  constructor(db: Dialect, options: { readonly now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  /** Stores `raw` from `peer` and returns the ACK to send; resolves only after the commit. */
  async accept(raw: Buffer, peer: string): Promise<Hl7AcceptResult> {
    const hash = createHash('sha256').update(raw).digest('hex');
    const parsed = parseHl7(raw);
    const header = parsed.ok ? parsed.value.header : parsed.error.header;
    const key = [header?.raw(3) ?? '', header?.raw(4) ?? '', header?.raw(10) ?? ''] as const;
    const messageType = header?.raw(9) ?? '';
    return this.#db.transaction(async (tx) => {
      // Serialises concurrent accepts of one sender key (PostgreSQL); SQLite writers are serial already.
      await tx.lock(`hl7_inbox:${key.join('|')}`);
      const same = await tx.all<{ id: number | string; content_hash: string; ack: string }>(
        'SELECT id, content_hash, ack FROM hl7_inbox WHERE sending_application = ? AND sending_facility = ? AND control_id = ? ORDER BY id',
        key,
      );
      const resend = same.find((r) => r.content_hash === hash);
      if (resend) return { ack: resend.ack, id: Number(resend.id), outcome: 'resend' as const };
      let state: Hl7InboxState = 'received';
      let reason: string | null = null;
      let ack: string;
      let outcome: Hl7AcceptOutcome;
      if (parsed.ok) {
        ack = buildAck(parsed.value, { code: 'AA' });
        outcome = 'stored';
        // MSH-10 is unique only per sender and some senders reuse it (research §6.3): keep both, flag the second.
        if (same.length > 0) {
          reason = CONTROL_ID_REUSED;
          outcome = 'control-id-reused';
        }
      } else {
        state = 'failed';
        reason = parsed.error.message;
        // A structurally broken message is rejected (MSA-1 AR), with the problem in ERR.
        ack = buildAck(parsed.error, { code: 'AR', text: parsed.error.message, errors: [ackErrorFrom(parsed.error)] });
        outcome = 'unparseable';
      }
      const inserted = await tx.all<{ id: number | string }>(
        `INSERT INTO hl7_inbox (received_at, peer, sending_application, sending_facility, control_id, message_type,
           content_hash, raw, state, reason, ack, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id`,
        [this.#now(), peer, ...key, messageType, hash, raw.toString('base64'), state, reason, ack],
      );
      return { ack, id: Number(inserted[0]!.id), outcome };
    });
  }

  /** One row by id, or undefined. */
  async get(id: number): Promise<Hl7InboxRow | undefined> {
    const rows = await this.#db.all<DbRow>(`SELECT ${COLUMNS} FROM hl7_inbox WHERE id = ?`, [id]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Rows in a state, oldest first. */
  async list(state: Hl7InboxState, limit = 100): Promise<Hl7InboxRow[]> {
    const rows = await this.#db.all<DbRow>(`SELECT ${COLUMNS} FROM hl7_inbox WHERE state = ? ORDER BY id LIMIT ?`, [
      state,
      limit,
    ]);
    return rows.map(toRow);
  }

  /** Failed rows (unparseable or failed in processing), oldest first. */
  deadLetters(limit = 100): Promise<Hl7InboxRow[]> {
    return this.list('failed', limit);
  }

  /** Marks a row processed (its reason, e.g. a reused-control-id flag, is kept); false when there is no such row. */
  async markProcessed(id: number): Promise<boolean> {
    const n = await this.#db.run("UPDATE hl7_inbox SET state = 'processed', processed_at = ? WHERE id = ?", [
      this.#now(),
      id,
    ]);
    return n > 0;
  }

  /**
   * Claims rows for a batch, as {@link reprocess} claims one (attempts + 1 where attempts is what
   * was read and the row is not processed); returns the ids claimed. A row another run took in the
   * meantime is left out.
   */
  claim(rows: readonly Hl7InboxRow[]): Promise<Set<number>> {
    return claimRows(this.#db, 'hl7_inbox', rows);
  }

  /**
   * Marks rows processed inside the caller's transaction (the one that wrote what they mapped to),
   * so that a crash leaves both or neither; the reason (e.g. a reused-control-id flag) is kept.
   */
  markProcessedIn(tx: SqlExecutor, ids: readonly number[]): Promise<void> {
    return markProcessedIn(tx, 'hl7_inbox', ids, this.#now());
  }

  /** Marks a row failed with a reason; returns false when there is no such row. */
  async markFailed(id: number, reason: string): Promise<boolean> {
    const n = await this.#db.run("UPDATE hl7_inbox SET state = 'failed', reason = ? WHERE id = ?", [reason, id]);
    return n > 0;
  }

  /**
   * Runs `handler` on the target rows. A processed row is skipped unless `force`; a row is claimed
   * (attempts + 1) before the handler runs, so two concurrent reprocess calls do not both take it.
   * Success marks the row processed, a throw marks it failed with the error message.
   */
  async reprocess(
    target: Hl7ReprocessTarget,
    handler: Hl7InboxHandler,
    options: { readonly force?: boolean } = {},
  ): Promise<Hl7ReprocessSummary> {
    const rows =
      typeof target === 'number'
        ? [await this.get(target)].filter((r) => r !== undefined)
        : await this.list(target.state, target.limit);
    return claimAndRun(
      this.#db,
      'hl7_inbox',
      rows,
      options.force === true,
      async (row) => {
        await handler(row);
        await this.markProcessed(row.id);
      },
      (id, reason) => this.markFailed(id, reason),
    );
  }
}

function toRow(r: DbRow): Hl7InboxRow {
  return {
    id: Number(r.id),
    receivedAt: Number(r.received_at),
    peer: r.peer,
    sendingApplication: r.sending_application,
    sendingFacility: r.sending_facility,
    controlId: r.control_id,
    messageType: r.message_type,
    contentHash: r.content_hash,
    raw: Buffer.from(r.raw, 'base64'),
    state: r.state,
    reason: r.reason,
    ack: r.ack,
    processedAt: r.processed_at === null ? null : Number(r.processed_at),
    attempts: Number(r.attempts),
  };
}
