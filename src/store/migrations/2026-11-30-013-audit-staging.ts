import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * `audit_staging`: audit entries that are committed (durable) but not yet in the hash chain. On
 * PostgreSQL, read audits and the audit entries of writes are inserted here without taking the
 * chain's lock (`dxhub:audit`), in the request's own transaction for writes; `src/audit/` moves
 * them into `audit_log` in small batches, in one transaction per batch (chain, insert, delete the
 * staged rows), so each enters the chain exactly once. The columns are those of `audit_log`
 * without `seq` and the hashes. Rows live here for about the move interval (250 ms).
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE audit_staging (
  id ${c.serialPk},
  at BIGINT NOT NULL,
  patient TEXT,
  agent TEXT NOT NULL,
  organisation TEXT,
  role TEXT,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  purpose TEXT,
  source_ip TEXT,
  event ${c.textType} NOT NULL
)`;
}
