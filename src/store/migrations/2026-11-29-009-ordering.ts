import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * Ordering (src/ordering/): the latest result per patient and catalogue test (a projection of
 * Observations kept from the outbox, so that a rule reads one row instead of sorting thousands),
 * versioned rule sets (one active; a refused set is never stored) and
 * the order events behind requisition patterns (proposal, info/warning/block, override with its
 * reason, signing, cancellation, completion, CDS Hooks feedback). Written only by src/ordering/.
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE ordering_rule_set (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  content ${c.textType} NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  active INTEGER NOT NULL
);
CREATE TABLE order_event (
  id ${c.serialPk},
  at BIGINT NOT NULL,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL,
  patient TEXT,
  requisition TEXT,
  order_id TEXT,
  test TEXT,
  rule TEXT,
  rule_kind TEXT,
  orderer TEXT,
  organisation TEXT,
  reason TEXT,
  card TEXT
);
CREATE INDEX order_event_at ON order_event (at);
CREATE TABLE ordering_latest_result (
  patient TEXT NOT NULL,
  test TEXT NOT NULL,
  at BIGINT NOT NULL,
  value DOUBLE PRECISION,
  unit TEXT,
  observation_id TEXT NOT NULL,
  PRIMARY KEY (patient, test)
);
CREATE INDEX ordering_latest_result_obs ON ordering_latest_result (observation_id);
CREATE INDEX order_event_card ON order_event (card)
`;
}
