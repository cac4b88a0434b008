import { createHmac } from 'node:crypto';

type Json = Record<string, unknown>;

/** Elements removed because they identify a person directly or may in free text. */
const DROP = new Set(['text', 'identifier', 'note', 'contained', 'name', 'telecom', 'address', 'photo']);

/** A stable pseudonym for a patient id under the deployment's key (HMAC-SHA-256, 24 hex digits). */
export function pseudonymFor(patientId: string, key: string): string {
  return `pseudo-${createHmac('sha256', key).update(patientId).digest('hex').slice(0, 24)}`;
}

/**
 * A copy of `resource` fit for a researcher (role `researcher`, pseudonymised data only): direct
 * identifiers and free text removed (narrative, identifiers, notes, names, addresses, contained
 * resources), every patient reference replaced by a keyed pseudonym — stable across requests, so
 * results of one person can still be linked — and displays next to references dropped.
 */
export function pseudonymise(resource: Json, key: string): Json {
  const walk = (v: unknown, top: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, false));
    if (!v || typeof v !== 'object') return v;
    const o = v as Json;
    const out: Json = {};
    const isRef = typeof o.reference === 'string';
    for (const [k, x] of Object.entries(o)) {
      if (top && DROP.has(k)) continue;
      if (isRef && (k === 'display' || k === 'identifier')) continue;
      if (isRef && k === 'reference') {
        const m = /^(?:.*\/)?Patient\/([^/]+)$/.exec(x as string);
        out[k] = m ? `Patient/${pseudonymFor(m[1]!, key)}` : x;
        continue;
      }
      out[k] = walk(x, false);
    }
    return out;
  };
  const out = walk(resource, true) as Json;
  const meta = { ...((out.meta as Json | undefined) ?? {}) };
  const security = Array.isArray(meta.security) ? [...meta.security] : [];
  // v3-ObservationValue PSEUDED: "pseudonymized" (security label for the research copy).
  security.push({ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'PSEUDED' });
  meta.security = security;
  out.meta = meta;
  return out;
}
