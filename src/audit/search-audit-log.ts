import { auditEventOf } from '../core/audit/audit-chain.ts';
import type { AuditEvent } from '../core/audit/audit-event.ts';
import type { SqlExecutor } from '../store/dialect/dialect.ts';
import { type AuditRow, fromRow, SELECT_AUDIT_ROW } from './audit-table.ts';

/** A query over the audit log (the columns the hash covers; see audit-entry.ts). */
export interface AuditLogQuery {
  /** Patient resource id. */
  readonly patient?: string;
  /** The user as recorded (`Practitioner/…` or the token subject). */
  readonly agent?: string;
  /** Actions (`read`, `search`, `break-glass` …), any of. */
  readonly actions?: readonly string[];
  readonly outcome?: string;
  /** `at` ≥ since (ms). */
  readonly since?: number;
  /** `at` < until (ms). */
  readonly until?: number;
  /** Only entries before this seq (paging, newest first). */
  readonly before?: number;
  readonly count: number;
}

/** One entry found: its sequence number and the FHIR AuditEvent derived from the row. */
export interface FoundAuditEntry {
  readonly seq: number;
  readonly event: AuditEvent;
}

const found = (r: AuditRow): FoundAuditEntry => {
  const record = fromRow(r);
  return { seq: record.seq, event: auditEventOf(record) };
};

/** Newest first; uses the `(patient, seq)` index when a patient is given. */
export async function searchAuditLog(db: SqlExecutor, q: AuditLogQuery): Promise<FoundAuditEntry[]> {
  const where: string[] = ['seq < ?'];
  const params: unknown[] = [q.before ?? Number.MAX_SAFE_INTEGER];
  if (q.patient !== undefined) {
    where.push('patient = ?');
    params.push(q.patient);
  }
  if (q.agent !== undefined) {
    where.push('agent = ?');
    params.push(q.agent);
  }
  if (q.actions?.length) {
    where.push(`action IN (${q.actions.map(() => '?').join(', ')})`);
    params.push(...q.actions);
  }
  if (q.outcome !== undefined) {
    where.push('outcome = ?');
    params.push(q.outcome);
  }
  if (q.since !== undefined) {
    where.push('at >= ?');
    params.push(q.since);
  }
  if (q.until !== undefined) {
    where.push('at < ?');
    params.push(q.until);
  }
  params.push(q.count);
  const rows = await db.all<AuditRow>(
    `${SELECT_AUDIT_ROW} WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`,
    params,
  );
  return rows.map(found);
}

/** One audit entry by its sequence number. */
export async function readAuditEntry(db: SqlExecutor, seq: number): Promise<FoundAuditEntry | undefined> {
  const rows = await db.all<AuditRow>(`${SELECT_AUDIT_ROW} WHERE seq = ?`, [seq]);
  return rows[0] ? found(rows[0]) : undefined;
}
