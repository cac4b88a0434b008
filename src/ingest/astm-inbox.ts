import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { parseAstmMessage } from '../core/astm/index.ts';
import type { Dialect, SqlExecutor } from '../store/dialect/dialect.ts';
import { claimAndRun, claimRows, markProcessedIn, type ReprocessSummary } from './inbox-claim.ts';

/** Lifecycle of an ASTM inbox row. */
export type AstmInboxState = 'received' | 'processed' | 'failed';

/** What happened to an accepted message: stored, or an exact resend of a stored one (no new row). */
export type AstmAcceptOutcome = 'stored' | 'resend' | 'unparseable';

/** The result of {@link AstmInbox.accept}; returned only after the commit. */
export interface AstmAcceptResult {
  readonly id: number;
  readonly outcome: AstmAcceptOutcome;
}

/** One inbox row; `raw` decoded back to the received record bytes. */
export interface AstmInboxRow {
  readonly id: number;
  readonly receivedAt: number;
  readonly peer: string;
  /** H-5.1 sender name ('' when the message does not parse). */
  readonly sender: string;
  readonly contentHash: string;
  readonly raw: Buffer;
  readonly state: AstmInboxState;
  readonly reason: string | null;
  readonly processedAt: number | null;
  readonly attempts: number;
}

/**
 * Processes one stored message; a resolved string is kept as the processed row's note, a throw marks
 * the row failed with the error message as reason.
 */
export type AstmInboxHandler = (row: AstmInboxRow) => Promise<string | undefined>;

/** Counts from {@link AstmInbox.reprocess}. */
export type AstmReprocessSummary = ReprocessSummary;

interface DbRow {
  id: number | string;
  received_at: number | string;
  peer: string;
  sender: string;
  content_hash: string;
  raw: string;
  state: AstmInboxState;
  reason: string | null;
  processed_at: number | string | null;
  attempts: number | string;
}

const COLUMNS = 'id, received_at, peer, sender, content_hash, raw, state, reason, processed_at, attempts';

/**
 * The durable ASTM inbox: `accept` commits a whole E1394 message before it resolves, so the
 * listener sends the ACK of the message's last frame only once the message is safe (research §8
 * recommendation 5). ASTM has no message control ID that instruments fill reliably, so an exact
 * resend is recognised by its SHA-256 and adds no row. A message whose records do not parse is
 * still stored (the E1381 layer received it intact) but as `failed`, a dead letter.
 */
export class AstmInbox {
  readonly #db: Dialect;
  readonly #now: () => number;

  constructor(db: Dialect, options: { readonly now?: () => number } = {}) {
    this.#db = db;
    this.#now = options.now ?? Date.now;
  }

  /** Stores `raw` (the records, each ending in CR) from `peer`; resolves after the commit. */
  async accept(raw: Buffer, peer: string): Promise<AstmAcceptResult> {
    const hash = createHash('sha256').update(raw).digest('hex');
    const parsed = parseAstmMessage(raw);
    const sender = parsed.ok ? parsed.value.header.senderName : '';
    return this.#db.transaction(async (tx) => {
      // Serialises two connections delivering the same bytes at once (PostgreSQL; SQLite writers are serial).
      await tx.lock(`astm_inbox:${hash}`);
      const same = await tx.all<{ id: number | string }>('SELECT id FROM astm_inbox WHERE content_hash = ?', [hash]);
      if (same[0]) return { id: Number(same[0].id), outcome: 'resend' as const };
      const inserted = await tx.all<{ id: number | string }>(
        `INSERT INTO astm_inbox (received_at, peer, sender, content_hash, raw, state, reason, attempts)
         VALUES (?, ?, ?, ?, ?, ?, ?, 0) RETURNING id`,
        [
          this.#now(),
          peer,
          sender,
          hash,
          raw.toString('base64'),
          parsed.ok ? 'received' : 'failed',
          parsed.ok ? null : parsed.error.message,
        ],
      );
      return { id: Number(inserted[0]!.id), outcome: parsed.ok ? ('stored' as const) : ('unparseable' as const) };
    });
  }

  /** One row by id, or undefined. */
  async get(id: number): Promise<AstmInboxRow | undefined> {
    const rows = await this.#db.all<DbRow>(`SELECT ${COLUMNS} FROM astm_inbox WHERE id = ?`, [id]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }

  /** Rows in a state, oldest first. */
  async list(state: AstmInboxState, limit = 100): Promise<AstmInboxRow[]> {
    const rows = await this.#db.all<DbRow>(`SELECT ${COLUMNS} FROM astm_inbox WHERE state = ? ORDER BY id LIMIT ?`, [
      state,
      limit,
    ]);
    return rows.map(toRow);
  }

  /** Failed rows (unparseable or failed in processing), oldest first. */
  deadLetters(limit = 100): Promise<AstmInboxRow[]> {
    return this.list('failed', limit);
  }

  /** Marks a row processed; `note` (e.g. why nothing was mapped) is kept as its reason. */
  async markProcessed(id: number, note: string | null = null): Promise<boolean> {
    const n = await this.#db.run(
      "UPDATE astm_inbox SET state = 'processed', processed_at = ?, reason = ? WHERE id = ?",
      [this.#now(), note, id],
    );
    return n > 0;
  }

  /**
   * Claims rows for a batch, as {@link reprocess} claims one; returns the ids claimed (a row
   * another run took in the meantime is left out).
   */
  claim(rows: readonly AstmInboxRow[]): Promise<Set<number>> {
    return claimRows(this.#db, 'astm_inbox', rows);
  }

  /**
   * Marks rows processed inside the caller's transaction (the one that wrote what they mapped to),
   * so that a crash leaves both or neither; `note` is kept as their reason.
   */
  markProcessedIn(tx: SqlExecutor, ids: readonly number[], note: string | null = null): Promise<void> {
    return markProcessedIn(tx, 'astm_inbox', ids, this.#now(), { reason: note });
  }

  /** Marks a row failed with a reason; false when there is no such row. */
  async markFailed(id: number, reason: string): Promise<boolean> {
    const n = await this.#db.run("UPDATE astm_inbox SET state = 'failed', reason = ? WHERE id = ?", [reason, id]);
    return n > 0;
  }

  /**
   * Runs `handler` on one row (by id) or on the rows in a state. A processed row is skipped unless
   * `force`; each row is claimed (attempts + 1) first, so two concurrent runs do not both take it.
   * The handler's resolved string, if any, is kept as the processed row's note.
   */
  async reprocess(
    target: number | { readonly state: AstmInboxState; readonly limit?: number },
    handler: AstmInboxHandler,
    options: { readonly force?: boolean } = {},
  ): Promise<AstmReprocessSummary> {
    const rows =
      typeof target === 'number'
        ? [await this.get(target)].filter((r) => r !== undefined)
        : await this.list(target.state, target.limit);
    return claimAndRun(
      this.#db,
      'astm_inbox',
      rows,
      options.force === true,
      async (row) => {
        const note = await handler(row);
        await this.markProcessed(row.id, note ?? null);
      },
      (id, reason) => this.markFailed(id, reason),
    );
  }
}

function toRow(r: DbRow): AstmInboxRow {
  return {
    id: Number(r.id),
    receivedAt: Number(r.received_at),
    peer: r.peer,
    sender: r.sender,
    contentHash: r.content_hash,
    raw: Buffer.from(r.raw, 'base64'),
    state: r.state,
    reason: r.reason,
    processedAt: r.processed_at === null ? null : Number(r.processed_at),
    attempts: Number(r.attempts),
  };
}
