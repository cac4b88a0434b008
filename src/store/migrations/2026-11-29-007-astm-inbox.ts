import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * The durable ASTM inbox (integration research §3 and §8 recommendation 5: persist before ACKing
 * the final frame): one row per E1394 message reassembled from E1381 frames, committed before the
 * ACK of its last frame is sent. `raw` holds the record bytes (each record ending in CR) as base64
 * TEXT, byte-exact whatever the instrument's character set; `sender` is H-5.1 ('' when the message
 * does not parse); `content_hash` the hex SHA-256 of the raw bytes, unique, so an instrument that
 * sends a message again after a lost ACK adds no second row. Written only by `src/ingest/`.
 */
export function up(c: DialectCapabilities): string {
  return `
CREATE TABLE astm_inbox (
  id ${c.serialPk},
  received_at BIGINT NOT NULL,
  peer TEXT NOT NULL,
  sender TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  raw ${c.textType} NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  processed_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX astm_inbox_content ON astm_inbox (content_hash);
CREATE INDEX astm_inbox_state ON astm_inbox (state, id)
`;
}
