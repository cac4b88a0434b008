import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * The embedded replacement-CPR (D-eCPR) register: every number dxhub has issued, with the facts
 * it was made from and, once known, the real CPR it was linked to. The primary key makes issuing
 * unique across concurrent requests and processes.
 */
export function up(_c: DialectCapabilities): string {
  return `
CREATE TABLE ecpr_register (
  value TEXT PRIMARY KEY,
  system TEXT NOT NULL,
  kind TEXT NOT NULL,
  birth_date TEXT,
  sex TEXT NOT NULL,
  date_basis TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  linked_cpr TEXT,
  linked_at BIGINT
);
CREATE INDEX ecpr_register_linked ON ecpr_register (linked_cpr)
`;
}
