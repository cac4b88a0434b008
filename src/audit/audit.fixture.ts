import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDbUrl } from '../../test/support/dialects.ts';
import type { AuditEntry } from '../core/audit/audit-entry.ts';
import { type Dialect, openDialect } from '../store/dialect/dialect.ts';
import { appendOnlyGuards } from '../store/migrations/2026-11-29-002-audit-log.ts';
import { AuditLog } from './audit-log.ts';

/** A fresh database URL that a second connection can open too (SQLite: a file, not `:memory:`). */
export function sharedDbUrl(dialect: 'sqlite' | 'postgres'): { url: string; cleanup: () => void } {
  if (dialect === 'postgres') return { url: freshDbUrl('postgres'), cleanup: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'dxhub-audit-'));
  return {
    url: freshDbUrl('sqlite', join(dir, 'audit.db')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Opens a fresh database with an audit log on it. */
export async function freshAuditLog(dialect: 'sqlite' | 'postgres'): Promise<{ db: Dialect; log: AuditLog }> {
  const db = await openDialect(freshDbUrl(dialect));
  return { db, log: await AuditLog.open(db, { clock: { now: () => Date.UTC(2026, 10, 29, 12) } }) };
}

/** A read audit entry for test data. */
export function readEntry(i: number, patient = 'pat-1'): AuditEntry {
  return {
    action: 'read',
    agent: `user-${i % 7}`,
    organisation: '123456789012345',
    role: 'doctor',
    purpose: 'TREAT',
    sourceIp: '10.0.0.1',
    patient,
    resource: `Observation/obs-${i}`,
  };
}

/**
 * Tampers with the log as an attacker with table access would: drops the append-only triggers,
 * runs `statements` and puts the triggers back (normal operation always has them), all in one
 * transaction.
 */
export async function tamper(db: Dialect, statements: readonly string[]): Promise<void> {
  const drop =
    db.caps.name === 'sqlite'
      ? ['DROP TRIGGER audit_log_no_update', 'DROP TRIGGER audit_log_no_delete']
      : ['DROP TRIGGER audit_log_append_only ON audit_log'];
  await db.transaction(async (tx) => {
    for (const s of [...drop, ...statements, ...appendOnlyGuards(db.caps)]) await tx.run(s);
  });
}
