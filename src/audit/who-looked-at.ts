import { auditEventOf } from '../core/audit/audit-chain.ts';
import type { AuditEvent } from '../core/audit/audit-event.ts';
import type { SqlExecutor } from '../store/dialect/dialect.ts';
import { type AuditRow, fromRow, SELECT_AUDIT_ROW } from './audit-table.ts';

/** One line of the citizen's "who looked at me" view (MinLog: who, organisation, when, what, override). */
export interface CitizenLogEntry {
  readonly seq: number;
  readonly at: number;
  readonly agent: string;
  readonly organisation: string | null;
  readonly role: string | null;
  readonly action: string;
  readonly outcome: string;
  readonly purpose: string | null;
  /** Værdispring: a break-glass event, or access for emergency treatment (research note §6.2). */
  readonly consentOverride: boolean;
  readonly event: AuditEvent;
}

export interface WhoLookedAtOptions {
  /** Only entries at or after this time (ms). */
  readonly since?: number;
  /** Only entries before this seq: the `seq` of the last entry of the previous page. */
  readonly before?: number;
  /** Page size. */
  readonly count: number;
}

/** The audit entries about one patient (by Patient resource id), newest first; index `(patient, seq)`. */
export async function whoLookedAt(
  db: SqlExecutor,
  patientId: string,
  options: WhoLookedAtOptions,
): Promise<CitizenLogEntry[]> {
  const rows = await db.all<AuditRow>(
    `${SELECT_AUDIT_ROW} WHERE patient = ? AND seq < ? AND at >= ? ORDER BY seq DESC LIMIT ?`,
    [patientId, options.before ?? Number.MAX_SAFE_INTEGER, options.since ?? 0, options.count],
  );
  return rows.map(fromRow).map((r) => ({
    seq: r.seq,
    at: r.at,
    agent: r.agent,
    organisation: r.organisation,
    role: r.role,
    action: r.action,
    outcome: r.outcome,
    purpose: r.purpose,
    consentOverride: r.action === 'break-glass' || r.purpose === 'ETREAT',
    event: auditEventOf(r),
  }));
}
