import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * Management information state (src/operations/), maintained incrementally from the outbox:
 * - `ops_timeline`: one row per order (or critical value) with its stage times (JSON) and the
 *   dimensions it is counted under; `open` rows are the work in progress (a partial index keeps
 *   them apart from the closed history, so WIP queries never touch it).
 * - `ops_bucket`: per hour (`h`) or day (`d`), measure, section and one breakdown (`dim` = all,
 *   analysis, priority, instrument, department; `value` its value): counts, the number with a
 *   target and within it, the sum of durations (s) and a DDSketch of them.
 * - `ops_detector`: bottleneck detector state per queue; `ops_alert`: raised and cleared alerts.
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE ops_timeline (
  key TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  analysis TEXT NOT NULL,
  priority TEXT NOT NULL,
  section TEXT NOT NULL,
  department TEXT NOT NULL,
  instrument TEXT NOT NULL,
  stages ${c.textType} NOT NULL,
  stage TEXT NOT NULL,
  stage_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  open INTEGER NOT NULL
);
CREATE INDEX ops_timeline_open ON ops_timeline (started_at, section, stage) WHERE open = 1;
CREATE TABLE ops_bucket (
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
  PRIMARY KEY (grain, dim, section, start, measure, value)
)${c.withoutRowid};
CREATE INDEX ops_bucket_time ON ops_bucket (grain, start);
CREATE TABLE ops_detector (
  key TEXT PRIMARY KEY,
  state ${c.textType} NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE ops_alert (
  id ${c.serialPk},
  stage TEXT NOT NULL,
  section TEXT NOT NULL,
  raised_at BIGINT NOT NULL,
  cleared_at BIGINT,
  queue INTEGER NOT NULL,
  wait_seconds DOUBLE PRECISION NOT NULL,
  normal_wait_seconds DOUBLE PRECISION NOT NULL,
  throughput_per_hour DOUBLE PRECISION NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX ops_alert_open ON ops_alert (cleared_at, raised_at)
`;
}
