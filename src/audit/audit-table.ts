import type { AuditFields, AuditRecord } from '../core/audit/audit-entry.ts';
import type { ColumnType, SqlExecutor } from '../store/dialect/dialect.ts';

/** Columns of `audit_log` in insert order (migration 2026-11-29-002). */
export const AUDIT_COLUMNS = [
  'seq',
  'at',
  'patient',
  'agent',
  'organisation',
  'role',
  'action',
  'outcome',
  'purpose',
  'source_ip',
  'prev_hash',
  'hash',
  'event',
] as const;

/**
 * The columns of an entry before it is chained (those of `audit_log` without `seq` and the
 * hashes), in {@link AuditFields} order: `audit_staging`'s columns and a journal line's members.
 */
export const FIELD_COLUMNS = AUDIT_COLUMNS.filter((c) => c !== 'seq' && c !== 'prev_hash' && c !== 'hash');

/** An entry's values in {@link FIELD_COLUMNS} order. */
export function fieldValues(f: AuditFields): unknown[] {
  return [f.at, f.patient, f.agent, f.organisation, f.role, f.action, f.outcome, f.purpose, f.sourceIp, f.event];
}

/** The entry of values in {@link FIELD_COLUMNS} order (as {@link fieldValues} gives them). */
export function fieldsFromValues(v: readonly unknown[]): AuditFields {
  return {
    at: Number(v[0]),
    patient: v[1] as string | null,
    agent: v[2] as string,
    organisation: v[3] as string | null,
    role: v[4] as string | null,
    action: v[5] as string,
    outcome: v[6] as string,
    purpose: v[7] as string | null,
    sourceIp: v[8] as string | null,
    event: v[9] as string,
  };
}

/** A row as the drivers return it. */
export interface AuditRow {
  seq: number;
  at: number;
  patient: string | null;
  agent: string;
  organisation: string | null;
  role: string | null;
  action: string;
  outcome: string;
  purpose: string | null;
  source_ip: string | null;
  prev_hash: string;
  hash: string;
  event: string;
}

export const SELECT_AUDIT_ROW = `SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_log`;

export function fromRow(r: AuditRow): AuditRecord {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    patient: r.patient,
    agent: r.agent,
    organisation: r.organisation,
    role: r.role,
    action: r.action,
    outcome: r.outcome,
    purpose: r.purpose,
    sourceIp: r.source_ip,
    prevHash: r.prev_hash,
    hash: r.hash,
    event: r.event,
  };
}

function toValues(r: AuditRecord): unknown[] {
  return [
    r.seq,
    r.at,
    r.patient,
    r.agent,
    r.organisation,
    r.role,
    r.action,
    r.outcome,
    r.purpose,
    r.sourceIp,
    r.prevHash,
    r.hash,
    r.event,
  ];
}

/** PostgreSQL types of {@link AUDIT_COLUMNS}. */
const AUDIT_TYPES: ColumnType[] = AUDIT_COLUMNS.map((c) => (c === 'seq' || c === 'at' ? 'bigint' : 'text'));

/**
 * Inserts chained records: on PostgreSQL with `COPY` (half a multi-row INSERT's server CPU per row:
 * every read's audit entry is moved this way). A plain insert, not one that skips conflicts: a
 * duplicate seq would mean two appenders forked the chain, and that must fail loudly.
 */
export function insertAuditRecords(tx: SqlExecutor, records: readonly AuditRecord[]): Promise<void> {
  return tx.insertMany('audit_log', AUDIT_COLUMNS, AUDIT_TYPES, records.map(toValues), { append: true, copy: true });
}
