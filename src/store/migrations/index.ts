import type { Dialect } from '../dialect/dialect.ts';
import * as initial from './2026-11-29-001-initial.ts';
import * as auditLog from './2026-11-29-002-audit-log.ts';
import * as ecprRegister from './2026-11-29-003-ecpr-register.ts';
import * as resourcePatient from './2026-11-29-004-resource-patient.ts';
import * as uniqueIdentifier from './2026-11-29-005-unique-identifier.ts';
import * as hl7Inbox from './2026-11-29-006-hl7-inbox.ts';
import * as astmInbox from './2026-11-29-007-astm-inbox.ts';
import * as deliveryQueue from './2026-11-29-008-delivery-queue.ts';
import * as ordering from './2026-11-29-009-ordering.ts';
import * as resultOutcome from './2026-11-29-010-result-outcome.ts';
import * as operations from './2026-11-29-011-operations.ts';
import * as opsBucketOrder from './2026-11-30-012-ops-bucket-order.ts';
import * as auditStaging from './2026-11-30-013-audit-staging.ts';
import * as orderEventIndexes from './2026-12-01-014-order-event-indexes.ts';

/** A schema migration: its timestamped name and the DDL it runs on the given dialect. */
export interface Migration {
  readonly name: string;
  readonly up: typeof initial.up;
}

/** All migrations, oldest first. Names never change once released. */
export const MIGRATIONS: readonly Migration[] = [
  { name: '2026-11-29-001-initial', up: initial.up },
  { name: '2026-11-29-002-audit-log', up: auditLog.up },
  { name: '2026-11-29-003-ecpr-register', up: ecprRegister.up },
  { name: '2026-11-29-004-resource-patient', up: resourcePatient.up },
  { name: '2026-11-29-005-unique-identifier', up: uniqueIdentifier.up },
  { name: '2026-11-29-006-hl7-inbox', up: hl7Inbox.up },
  { name: '2026-11-29-007-astm-inbox', up: astmInbox.up },
  { name: '2026-11-29-008-delivery-queue', up: deliveryQueue.up },
  { name: '2026-11-29-009-ordering', up: ordering.up },
  { name: '2026-11-29-010-result-outcome', up: resultOutcome.up },
  { name: '2026-11-29-011-operations', up: operations.up },
  { name: '2026-11-30-012-ops-bucket-order', up: opsBucketOrder.up },
  { name: '2026-11-30-013-audit-staging', up: auditStaging.up },
  { name: '2026-12-01-014-order-event-indexes', up: orderEventIndexes.up },
];

/**
 * Applies the migrations that have not run yet, each in its own transaction, under a lock so that
 * several dxhub processes starting at once on one PostgreSQL do not race.
 */
export async function migrate(db: Dialect): Promise<string[]> {
  await db.execScript('CREATE TABLE IF NOT EXISTS dxhub_migration (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)');
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    const done = await db.transaction(async (tx) => {
      await tx.lock('dxhub:migrate');
      const rows = await tx.all('SELECT name FROM dxhub_migration WHERE name = ?', [m.name]);
      if (rows.length > 0) return false;
      for (const stmt of m
        .up(db.caps)
        .split(';')
        .map((s) => s.trim())
        .filter(Boolean)) {
        await tx.run(stmt);
      }
      await tx.run('INSERT INTO dxhub_migration (name, applied_at) VALUES (?, ?)', [m.name, Date.now()]);
      return true;
    });
    if (done) applied.push(m.name);
  }
  return applied;
}
