import { checkLink } from '../core/audit/audit-chain.ts';
import { GENESIS_HASH } from '../core/audit/audit-hash.ts';
import type { SqlExecutor } from '../store/dialect/dialect.ts';
import { type AuditRow, fromRow, SELECT_AUDIT_ROW } from './audit-table.ts';

/**
 * Why the log does not verify, at the first entry (`seq`) where the chain breaks:
 * - `altered`: the entry's content (or its prev_hash) no longer gives its hash;
 * - `missing`: an entry is gone: a gap in seq, or the entry chains from a hash no entry has
 *   (removed and the later ones renumbered, or rewritten with a recomputed hash);
 * - `reordered`: the entry chains from an entry stored at a later seq;
 * - `inserted`: the entry before this seq was not in the chain (this entry chains from an earlier one).
 */
export type ChainFailure = 'altered' | 'missing' | 'reordered' | 'inserted';

export type ChainVerdict =
  | { readonly ok: true; readonly count: number; readonly last: { readonly seq: number; readonly hash: string } }
  | { readonly ok: false; readonly seq: number; readonly problem: ChainFailure };

export interface VerifyOptions {
  /** Rows per query (default 5000): memory stays flat however long the log is. */
  readonly batchSize?: number;
  /**
   * A head published earlier (e.g. the `last` of a previous verification, kept outside the
   * database). Without one, removing the newest entries cannot be told from their never having
   * existed; with one, the entry at `anchor.seq` must still carry `anchor.hash`.
   */
  readonly anchor?: { readonly seq: number; readonly hash: string };
}

/** Verifies the whole chain from the genesis hash, streaming it in seq order. */
export async function verifyAuditChain(db: SqlExecutor, options: VerifyOptions = {}): Promise<ChainVerdict> {
  const batchSize = options.batchSize ?? 5000;
  const anchor = options.anchor;
  let previous = GENESIS_HASH;
  let count = 0;
  for (;;) {
    const rows = await db.all<AuditRow>(`${SELECT_AUDIT_ROW} WHERE seq > ? ORDER BY seq LIMIT ?`, [count, batchSize]);
    for (const raw of rows) {
      const row = fromRow(raw);
      const problem = checkLink(count + 1, previous, row);
      if (problem === 'missing') return { ok: false, seq: count + 1, problem };
      if (problem === 'altered') return { ok: false, seq: row.seq, problem };
      if (problem === 'broken-link') return classifyBrokenLink(db, row.seq, row.prevHash, previous);
      if (anchor && row.seq === anchor.seq && row.hash !== anchor.hash) {
        return { ok: false, seq: row.seq, problem: 'altered' };
      }
      previous = row.hash;
      count++;
    }
    if (rows.length < batchSize) break;
  }
  if (anchor && count < anchor.seq) return { ok: false, seq: count + 1, problem: 'missing' };
  return { ok: true, count, last: { seq: count, hash: previous } };
}

/**
 * An intact entry at `seq` that chains from `chainsFrom` while the entry before it has hash
 * `previous`. Where is the entry it chains from? Later: entries were swapped. Earlier: something
 * was put between them. Nowhere: it was removed. (One scan of the table, on failure only.)
 */
async function classifyBrokenLink(
  db: SqlExecutor,
  seq: number,
  chainsFrom: string,
  previous: string,
): Promise<ChainVerdict> {
  const found = await db.all<{ seq: number }>('SELECT seq FROM audit_log WHERE hash = ? LIMIT 1', [chainsFrom]);
  const at = found[0] ? Number(found[0].seq) : undefined;
  if (at !== undefined && at > seq) return { ok: false, seq, problem: 'reordered' };
  if (at !== undefined) return { ok: false, seq: seq - 1, problem: 'inserted' };
  // The entry that should follow `previous` may still exist further on (moved, not removed).
  const successor = await db.all<{ seq: number }>('SELECT seq FROM audit_log WHERE prev_hash = ? LIMIT 1', [previous]);
  return { ok: false, seq, problem: successor.length > 0 ? 'reordered' : 'missing' };
}
