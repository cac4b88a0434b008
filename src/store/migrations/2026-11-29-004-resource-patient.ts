import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * Patient merges: the merge log that lets a merge be undone exactly (which resources moved, which
 * identifiers were copied). A patient's record is found through the reference index, so no extra
 * index on every resource row is needed.
 */
export function up(_c: DialectCapabilities): string {
  return `
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
