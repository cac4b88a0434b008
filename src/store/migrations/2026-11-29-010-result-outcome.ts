import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * One row per processed Observation: the result pipeline's latest outcome (autoverified, held,
 * released, rejected, upstream = arrived final from a LIS), per analysis and laboratory section, so
 * that the autoverification rate is one grouped query. Written only by `src/results/`.
 */
export function up(_c: DialectCapabilities): string {
  return `
CREATE TABLE result_outcome (
  observation_id TEXT PRIMARY KEY,
  analysis TEXT NOT NULL,
  section TEXT NOT NULL,
  outcome TEXT NOT NULL,
  rule_set TEXT NOT NULL,
  processed_at BIGINT NOT NULL,
  decided_at BIGINT NOT NULL
);
CREATE INDEX result_outcome_at ON result_outcome (processed_at)
`;
}
