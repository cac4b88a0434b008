import { hash } from 'node:crypto';
import type { AuditFields } from './audit-entry.ts';

/** The `prev_hash` of the first entry: a fixed value, so that removing the first entry shows. */
export const GENESIS_HASH = '0'.repeat(64);

const j = JSON.stringify;

/**
 * `SHA-256(prevHash ‖ canonical JSON of the fields)`, hex. The canonical JSON (RFC 8785) is that of
 * the fields with `event` as a JSON object: the stored event text is already canonical, so it is
 * spliced in as it is and the other members are written in sorted key order by hand (the tests
 * compare with `canonicalJson`). A tampered event text, valid JSON or not, changes the hash.
 * The sequence number is not hashed: the order is what the chain of `prev_hash` values says and
 * `seq` only stores it, so a verifier can tell a moved entry from an altered one.
 */
export function auditHash(prevHash: string, f: AuditFields): string {
  const payload =
    `{"action":${j(f.action)},"agent":${j(f.agent)},"at":${j(f.at)},"event":${f.event},` +
    `"organisation":${j(f.organisation)},"outcome":${j(f.outcome)},"patient":${j(f.patient)},` +
    `"purpose":${j(f.purpose)},"role":${j(f.role)},"sourceIp":${j(f.sourceIp)}}`;
  // One-shot hash: no Hash object per entry (the chain hashes every audited request).
  return hash('sha256', prevHash + payload, 'hex');
}
