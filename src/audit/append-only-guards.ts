import type { Dialect } from '../store/dialect/dialect.ts';
import { guardsAfterMigration } from '../store/migrations/2026-11-29-002-audit-log.ts';

/**
 * Makes the triggers that refuse UPDATE and DELETE on `audit_log` where the migration could not
 * (SQLite; see `guardsAfterMigration`). Idempotent; runs under the migration lock so that
 * processes starting together do not race.
 */
export async function installAppendOnlyGuards(db: Dialect): Promise<void> {
  const statements = guardsAfterMigration(db.caps);
  if (statements.length === 0) return;
  await db.transaction(async (tx) => {
    await tx.lock('dxhub:migrate');
    for (const stmt of statements) await tx.run(stmt);
  });
}
