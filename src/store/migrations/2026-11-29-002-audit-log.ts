import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * The append-only, hash-chained audit log (ARCHITECTURE "Security model"): one row per audited
 * event, `hash = SHA-256(prev_hash ‖ canonical JSON of the row's fields)`, `event` the FHIR R4
 * AuditEvent (IHE BALP shapes) as canonical JSON text. `patient` is the Patient resource id the
 * event concerns; `(patient, seq)` serves the citizen's "who looked at me" (MinLog) view, newest
 * first. Written only by `src/audit/`.
 */
export function up(c: DialectCapabilities): string {
  const table = `
CREATE TABLE audit_log (
  seq ${c.serialPk},
  at BIGINT NOT NULL,
  patient TEXT,
  agent TEXT NOT NULL,
  organisation TEXT,
  role TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  purpose TEXT,
  source_ip TEXT,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  event ${c.textType} NOT NULL
);
CREATE INDEX audit_log_patient ON audit_log (patient, seq)`;
  return [table, ...(c.name === 'postgres' ? appendOnlyGuards(c) : [])].join(';\n');
}

/**
 * The guards `up` cannot hold, made by `src/audit/` when the log opens: the migration runner
 * splits on ';' and a SQLite trigger body needs one. The PostgreSQL guards contain none (see
 * below), so there the migration makes them and the application role need not own the table.
 */
export function guardsAfterMigration(c: DialectCapabilities): string[] {
  return c.name === 'postgres' ? [] : appendOnlyGuards(c);
}

/**
 * Statements (each one complete, idempotent) that make `audit_log` append-only in the database:
 * UPDATE and DELETE (and on PostgreSQL TRUNCATE) fail, whoever the client is. They do not stop the
 * table's owner from dropping them; the hash chain is what shows tampering after that.
 */
export function appendOnlyGuards(c: DialectCapabilities): string[] {
  if (c.name === 'sqlite') {
    return ['UPDATE', 'DELETE'].map(
      (op) =>
        `CREATE TRIGGER IF NOT EXISTS audit_log_no_${op.toLowerCase()} BEFORE ${op} ON audit_log ` +
        `BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: ${op} refused'); END`,
    );
  }
  return [
    // An E'' string with \x3B for the PL/pgSQL statement terminator, so that the statement holds no
    // literal ';' and survives the migration runner's split. SQLSTATE 42501 insufficient_privilege.
    `CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS ` +
      `E'BEGIN RAISE EXCEPTION ''audit_log is append-only: % refused'', TG_OP USING ERRCODE = ''42501''\\x3B END'`,
    'CREATE OR REPLACE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log ' +
      'FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()',
    'CREATE OR REPLACE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log ' +
      'FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()',
  ];
}
