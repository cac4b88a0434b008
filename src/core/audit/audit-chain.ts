import type { AuditEntry, AuditFields, AuditRecord } from './audit-entry.ts';
import { type AuditEvent, type AuditSource, buildAuditEvent } from './audit-event.ts';
import { auditHash } from './audit-hash.ts';
import { maskCpr } from './mask-cpr.ts';

/** The last entry of the log: where the next one chains from (`seq` 0 and the genesis hash when empty). */
export interface ChainTail {
  readonly seq: number;
  readonly hash: string;
}

/**
 * What the `event` column holds: the parts of an entry that have no column of their own, CPR-masked,
 * and the observing instance. The FHIR AuditEvent is derived from the row ({@link auditEventOf}),
 * deterministically, so the chain's hash covers everything it shows while a row stays ~300 bytes
 * instead of ~1.2 kB (every read of patient data adds one).
 */
interface StoredDetail {
  readonly address?: string;
  readonly agentName?: string;
  readonly client?: string;
  readonly detail?: string;
  readonly observer: string;
  readonly query?: string;
  readonly requestId?: string;
  readonly resource?: string;
}

const masked = (v: string | undefined) => (v === undefined ? undefined : maskCpr(v));

/** The stored fields of an entry: structured columns plus the rest as canonical JSON text. */
export function auditFields(entry: AuditEntry, at: number, source: AuditSource): AuditFields {
  const detail: StoredDetail = {
    address: source.address,
    agentName: masked(entry.agentName),
    client: masked(entry.client),
    detail: masked(entry.detail),
    observer: source.observer,
    query: masked(entry.query),
    requestId: entry.requestId,
    resource: masked(entry.resource),
  };
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
    event: detailJson(detail),
  };
}

const str = JSON.stringify;

/**
 * `canonicalJson(detail)`, written out member by member in the canonical (sorted) order: no walk
 * over the object to check its order (this runs for every audited request; the tests compare it
 * with `canonicalJson`).
 */
function detailJson(d: StoredDetail): string {
  let out = `{`;
  if (d.address !== undefined) out += `"address":${str(d.address)},`;
  if (d.agentName !== undefined) out += `"agentName":${str(d.agentName)},`;
  if (d.client !== undefined) out += `"client":${str(d.client)},`;
  if (d.detail !== undefined) out += `"detail":${str(d.detail)},`;
  out += `"observer":${str(d.observer)}`;
  if (d.query !== undefined) out += `,"query":${str(d.query)}`;
  if (d.requestId !== undefined) out += `,"requestId":${str(d.requestId)}`;
  if (d.resource !== undefined) out += `,"resource":${str(d.resource)}`;
  return `${out}}`;
}

/** The FHIR R4 AuditEvent (IHE BALP shape, see audit-event.ts) of a stored row. */
export function auditEventOf(row: Omit<AuditFields, 'event'> & { readonly event: string }): AuditEvent {
  const d = JSON.parse(row.event) as StoredDetail;
  const entry: AuditEntry = {
    action: row.action as AuditEntry['action'],
    outcome: row.outcome as AuditEntry['outcome'],
    agent: row.agent,
    ...(row.organisation !== null ? { organisation: row.organisation } : {}),
    ...(row.role !== null ? { role: row.role } : {}),
    ...(row.purpose !== null ? { purpose: row.purpose } : {}),
    ...(row.sourceIp !== null ? { sourceIp: row.sourceIp } : {}),
    ...(row.patient !== null ? { patient: row.patient } : {}),
    ...(d.agentName !== undefined ? { agentName: d.agentName } : {}),
    ...(d.client !== undefined ? { client: d.client } : {}),
    ...(d.resource !== undefined ? { resource: d.resource } : {}),
    ...(d.query !== undefined ? { query: d.query } : {}),
    ...(d.detail !== undefined ? { detail: d.detail } : {}),
    ...(d.requestId !== undefined ? { requestId: d.requestId } : {}),
  };
  return buildAuditEvent(entry, row.at, { observer: d.observer, ...(d.address ? { address: d.address } : {}) });
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
