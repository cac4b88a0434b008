import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * Re-keys `ops_bucket` as (grain, dim, start, section, measure, value). Dashboard queries read one
 * breakdown (`dim`) over a time range, for all sections or a few: with `section` before `start` in
 * the key they fell back to the (grain, start) index and walked every breakdown's rows of the
 * range (six times the rows they need, each with a lookup back into the table on SQLite). With
 * this key a window is one contiguous range per grain. The table is copied once.
 *
 * `ops_meta` holds counters of the operations state; `closed-buckets` counts writes to buckets of
 * days and months that have ended, so that cached roll-ups of them know when they are stale.
 * `ops_alert.cause` says which statistic raised an alert (`queue` or `wait`).
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE ops_bucket_new (
  grain TEXT NOT NULL,
  dim TEXT NOT NULL,
  section TEXT NOT NULL,
  start BIGINT NOT NULL,
  measure TEXT NOT NULL,
  value TEXT NOT NULL,
  n BIGINT NOT NULL,
  targeted BIGINT NOT NULL,
  hits BIGINT NOT NULL,
  total DOUBLE PRECISION NOT NULL,
  sketch TEXT NOT NULL,
  PRIMARY KEY (grain, dim, start, section, measure, value)
)${c.withoutRowid};
INSERT INTO ops_bucket_new (grain, dim, section, start, measure, value, n, targeted, hits, total, sketch)
  SELECT grain, dim, section, start, measure, value, n, targeted, hits, total, sketch FROM ops_bucket;
DROP TABLE ops_bucket;
ALTER TABLE ops_bucket_new RENAME TO ops_bucket;
CREATE INDEX ops_bucket_time ON ops_bucket (grain, start);
CREATE TABLE ops_meta (
  key TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO ops_meta (key, value) VALUES ('closed-buckets', 0);
ALTER TABLE ops_alert ADD COLUMN cause TEXT
`;
}
