import type { DialectCapabilities } from '../dialect/dialect.ts';

/**
 * The FHIR store: current versions, earlier versions, the outbox (also the system history) and the
 * search index tables. Index tables are index-organised (SQLite WITHOUT ROWID): the primary key is
 * the only index, rows are found for deletion by recomputing them from the old version.
 */
export function up(c: DialectCapabilities): string {
  const T = c.withoutRowid;
  return `
CREATE TABLE resource (
  rid ${c.serialPk},
  type TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  last_updated BIGINT NOT NULL,
  deleted SMALLINT NOT NULL DEFAULT 0,
  patient TEXT,
  content ${c.json.columnType}
);
CREATE UNIQUE INDEX resource_type_id ON resource (type, id);
CREATE INDEX resource_type_updated ON resource (type, last_updated);
CREATE TABLE resource_history (
  rid BIGINT NOT NULL,
  version INTEGER NOT NULL,
  last_updated BIGINT NOT NULL,
  deleted SMALLINT NOT NULL DEFAULT 0,
  content ${c.json.columnType},
  PRIMARY KEY (rid, version)
)${T};
CREATE TABLE outbox (
  seq ${c.serialPk},
  rid BIGINT NOT NULL,
  version INTEGER NOT NULL,
  interaction TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE TABLE outbox_consumer (
  name TEXT PRIMARY KEY,
  position BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE search_param (
  pid INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  code TEXT NOT NULL
);
CREATE UNIQUE INDEX search_param_type_code ON search_param (type, code);
CREATE TABLE idx_token (
  pid INTEGER NOT NULL, code TEXT NOT NULL, system BIGINT NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, code, rid, system)
)${T};
CREATE TABLE idx_string (
  pid INTEGER NOT NULL, norm TEXT NOT NULL, raw TEXT NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, norm, raw, rid)
)${T};
CREATE INDEX idx_string_rid ON idx_string (rid, pid);
CREATE TABLE idx_date (
  pid INTEGER NOT NULL, lo BIGINT NOT NULL, hi BIGINT NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, lo, hi, rid)
)${T};
CREATE INDEX idx_date_rid ON idx_date (rid, pid);
CREATE TABLE idx_number (
  pid INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, value, rid)
)${T};
CREATE TABLE idx_quantity (
  pid INTEGER NOT NULL, lo DOUBLE PRECISION NOT NULL, hi DOUBLE PRECISION NOT NULL,
  code TEXT NOT NULL, system BIGINT NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, rid, lo, hi, code, system)
)${T};
CREATE TABLE idx_reference (
  pid INTEGER NOT NULL, ref_type TEXT NOT NULL, ref_id TEXT NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, ref_id, ref_type, rid)
)${T};
CREATE TABLE idx_composite (
  pid INTEGER NOT NULL, a_code TEXT NOT NULL, a_system BIGINT NOT NULL,
  b_code TEXT NOT NULL, b_system BIGINT NOT NULL, b_lo DOUBLE PRECISION NOT NULL, b_hi DOUBLE PRECISION NOT NULL,
  b_text TEXT NOT NULL, rid BIGINT NOT NULL,
  PRIMARY KEY (pid, a_code, a_system, rid, b_code, b_system, b_lo, b_hi, b_text)
)${T};
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;
}
