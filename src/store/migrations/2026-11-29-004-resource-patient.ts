import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * Patient merges: the index that finds a patient's whole record (Patient compartment) by the
 * patient key, and the merge log that lets a merge be undone exactly (which resources moved, which
 * identifiers were copied).
 */
export function up(_c: DialectCapabilities): string {
  return `
CREATE INDEX resource_patient ON resource (patient);
CREATE TABLE patient_merge (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  merged_at BIGINT NOT NULL,
  undone_at BIGINT
);
CREATE INDEX patient_merge_source ON patient_merge (source)
`;
}
