import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * The durable delivery queue for everything dxhub sends out (FHIR Subscription notifications,
 * HL7 v2 ORU to a receiving system): one row per message and destination, retried with backoff
 * until delivered or given up (`failed`, the dead-letter view). Written only by `src/delivery/`.
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE delivery_queue (
  id ${c.serialPk},
  channel TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  payload ${c.textType} NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  delivered_at BIGINT
);
CREATE INDEX delivery_queue_due ON delivery_queue (state, next_attempt_at, id)
`;
}
