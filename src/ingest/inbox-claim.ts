import type { Dialect } from '../store/dialect/dialect.ts';

/** What a reprocess run did (HL7 and ASTM inboxes). */
export interface ReprocessSummary {
  readonly processed: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * The shared reprocess loop of the inboxes (`hl7_inbox`, `astm_inbox`): each row is claimed
 * (attempts + 1, compared with the attempts read) before `run`, so two concurrent runs never both
 * take it; a processed row is skipped unless `force`. `run` handles the row and marks it processed;
 * a throw marks it failed with the error message.
 */
export async function claimAndRun<R extends { readonly id: number; readonly attempts: number }>(
  db: Dialect,
  table: 'hl7_inbox' | 'astm_inbox',
  rows: readonly R[],
  force: boolean,
  run: (row: R) => Promise<void>,
  fail: (id: number, reason: string) => Promise<unknown>,
): Promise<ReprocessSummary> {
  const claim = force
    ? `UPDATE ${table} SET attempts = attempts + 1 WHERE id = ? AND attempts = ?`
    : `UPDATE ${table} SET attempts = attempts + 1 WHERE id = ? AND attempts = ? AND state <> 'processed'`;
  let processed = 0;
  let failed = 0;
  let skipped = 0;
  for (const row of rows) {
    if ((await db.run(claim, [row.id, row.attempts])) === 0) {
      skipped++;
      continue;
    }
    try {
      await run(row);
      processed++;
    } catch (e) {
      await fail(row.id, e instanceof Error ? e.message : String(e));
      failed++;
    }
  }
  return { processed, failed, skipped };
}
