import type { AuditEntry, AuditFields, AuditRecord } from './audit-entry.ts';
import { type AuditSource, buildAuditEvent } from './audit-event.ts';
import { auditHash } from './audit-hash.ts';
import { canonicalJson } from './canonical-json.ts';
import { maskCpr } from './mask-cpr.ts';

/** The last entry of the log: where the next one chains from (`seq` 0 and the genesis hash when empty). */
export interface ChainTail {
  readonly seq: number;
  readonly hash: string;
}

/** The stored fields of an entry: structured columns plus the AuditEvent as canonical JSON text. */
export function auditFields(entry: AuditEntry, at: number, source: AuditSource): AuditFields {
  return {
    at,
    patient: entry.patient ?? null,
    agent: entry.agent,
    organisation: entry.organisation ?? null,
    role: entry.role === undefined ? null : maskCpr(entry.role),
    action: entry.action,
    outcome: entry.outcome ?? 'success',
    purpose: entry.purpose === undefined ? null : maskCpr(entry.purpose),
    sourceIp: entry.sourceIp ?? null,
    event: canonicalJson(buildAuditEvent(entry, at, source)),
  };
}

/** Numbers and chains entries after `tail`: each one's `prevHash` is the hash of the one before. */
export function chainEntries(tail: ChainTail, fields: readonly AuditFields[]): AuditRecord[] {
  const out: AuditRecord[] = [];
  let { seq, hash } = tail;
  for (const f of fields) {
    const next = auditHash(hash, f);
    out.push({ ...f, seq: ++seq, prevHash: hash, hash: next });
    hash = next;
  }
  return out;
}

/** Why a stored entry does not verify. */
export type ChainProblem = 'altered' | 'missing' | 'broken-link';

/**
 * Checks one stored row against the chain so far (`expectedSeq`, the hash of the previous row).
 * `altered`: its hash does not match its own content. `missing`: its seq skips one. `broken-link`:
 * it is intact but chains from another entry than the one before it; the caller decides whether
 * that entry was moved (reordered) or is gone.
 */
export function checkLink(expectedSeq: number, previousHash: string, row: AuditRecord): ChainProblem | undefined {
  if (row.seq !== expectedSeq) return 'missing';
  if (auditHash(row.prevHash, row) !== row.hash) return 'altered';
  if (row.prevHash !== previousHash) return 'broken-link';
  return undefined;
}
