import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * Identifiers that must name one resource only (a CPR names one Patient): the primary key is the
 * unique constraint that stops two concurrent requests from creating two records for one person.
 */
export function up(_c: DialectCapabilities): string {
  return `
CREATE TABLE unique_identifier (
  type TEXT NOT NULL,
  system TEXT NOT NULL,
  value TEXT NOT NULL,
  rid BIGINT NOT NULL,
  PRIMARY KEY (type, system, value)
);
CREATE INDEX unique_identifier_rid ON unique_identifier (rid)
`;
}
