import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * The durable HL7 v2 inbox (integration research §6 "receive durably"): one row per received MLLP
 * payload, committed before the ACK is sent. `raw` holds the exact bytes as base64 TEXT (portable
 * across both dialects, and byte-exact whatever MSH-18 says). Sender keys are MSH-3/MSH-4/MSH-10 as
 * sent (raw ER7, '' when absent, so that the unique index also covers unparseable messages);
 * `content_hash` is the hex SHA-256 of the raw bytes. `ack` is the ACK that was sent, returned again
 * for an exact resend. Written only by `src/ingest/`.
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE hl7_inbox (
  id ${c.serialPk},
  received_at BIGINT NOT NULL,
  peer TEXT NOT NULL,
  sending_application TEXT NOT NULL,
  sending_facility TEXT NOT NULL,
  control_id TEXT NOT NULL,
  message_type TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  raw ${c.textType} NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  ack ${c.textType} NOT NULL,
  processed_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX hl7_inbox_message ON hl7_inbox (sending_application, sending_facility, control_id, content_hash);
CREATE INDEX hl7_inbox_state ON hl7_inbox (state, id)
`;
}
