import { auditEventOf } from '../core/audit/audit-chain.ts';
import type { AuditEvent } from '../core/audit/audit-event.ts';
import type { SqlExecutor } from '../store/dialect/dialect.ts';

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

interface Row {
  seq: number;
  at: number;
  patient: string | null;
  source_ip: string | null;
  agent: string;
  organisation: string | null;
  role: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  event: string;
}

/** The audit entries about one patient (by Patient resource id), newest first; index `(patient, seq)`. */
export async function whoLookedAt(
  db: SqlExecutor,
  patientId: string,
  options: WhoLookedAtOptions,
): Promise<CitizenLogEntry[]> {
  const rows = await db.all<Row>(
    `SELECT seq, at, patient, agent, organisation, role, action, outcome, purpose, source_ip, event FROM audit_log
     WHERE patient = ? AND seq < ? AND at >= ? ORDER BY seq DESC LIMIT ?`,
    [patientId, options.before ?? Number.MAX_SAFE_INTEGER, options.since ?? 0, options.count],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: Number(r.at),
    agent: r.agent,
    organisation: r.organisation,
    role: r.role,
    action: r.action,
    outcome: r.outcome,
    purpose: r.purpose,
    consentOverride: r.action === 'break-glass' || r.purpose === 'ETREAT',
    event: auditEventOf({ ...r, at: Number(r.at), sourceIp: r.source_ip }),
  }));
}
