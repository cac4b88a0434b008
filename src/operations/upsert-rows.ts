import type { SqlExecutor } from '../store/dialect/dialect.ts';

/**
 * Inserts rows or replaces the non-key columns of existing ones, in chunks of multi-row
 * `INSERT … ON CONFLICT (key) DO UPDATE` (the same SQL on SQLite ≥ 3.24 and PostgreSQL): one
 * index probe per row, where delete-then-insert joins the whole table on PostgreSQL.
 */
export async function upsertRows(
  tx: SqlExecutor,
  table: string,
  columns: readonly string[],
  keyColumns: number,
  rows: readonly unknown[][],
): Promise<void> {
  if (rows.length === 0) return;
  const per = Math.max(1, Math.floor(4000 / columns.length));
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const set = columns
    .slice(keyColumns)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(',')} ON CONFLICT (${columns
        .slice(0, keyColumns)
        .join(', ')}) DO UPDATE SET ${set}`,
      chunk.flat(),
    );
  }
}
