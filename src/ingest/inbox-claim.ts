import type { Dialect, SqlExecutor } from '../store/dialect/dialect.ts';

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

/**
 * Claims rows for a batch, as {@link claimAndRun} claims one (attempts + 1 where attempts is what
 * was read and the row is not processed), with one statement per 200 rows; returns the ids
 * claimed. A row another run took in the meantime is left out.
 */
export async function claimRows(
  db: Dialect,
  table: 'hl7_inbox' | 'astm_inbox',
  rows: readonly { readonly id: number; readonly attempts: number }[],
): Promise<Set<number>> {
  const claimed = new Set<number>();
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const got = await db.transaction((tx) =>
      tx.all<{ id: number | string }>(
        `UPDATE ${table} SET attempts = attempts + 1 WHERE state <> 'processed' AND (${chunk
          .map(() => '(id = ? AND attempts = ?)')
          .join(' OR ')}) RETURNING id`,
        chunk.flatMap((r) => [r.id, r.attempts]),
      ),
    );
    for (const r of got) claimed.add(Number(r.id));
  }
  return claimed;
}

/**
 * Marks rows processed inside the caller's transaction (the one that wrote what they mapped to),
 * so that a crash leaves both or neither; `set` adds columns to set (e.g. a note), the same for
 * every row of the call.
 */
export async function markProcessedIn(
  tx: SqlExecutor,
  table: 'hl7_inbox' | 'astm_inbox',
  ids: readonly number[],
  now: number,
  set: Readonly<Record<string, string | null>> = {},
): Promise<void> {
  const extra = Object.keys(set);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    await tx.run(
      `UPDATE ${table} SET state = 'processed', processed_at = ?${extra.map((c) => `, ${c} = ?`).join('')} WHERE id IN (${chunk.map(() => '?').join(',')})`,
      [now, ...Object.values(set), ...chunk],
    );
  }
}
