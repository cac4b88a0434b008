/**
 * The one catalogue of reasons for refusing a SMART scope or a FHIR request line
 * (CONVENTIONS.md §10: no error strings invented at the throw site).
 */
export type ScopeProblemCode =
  | 'empty'
  | 'unknown-scope'
  | 'bad-context'
  | 'bad-resource-type'
  | 'bad-permissions'
  | 'bad-restriction'
  | 'bad-request-line';

/** A refusal: stable `code` for programs, readable `reason` naming the offending scope. */
export interface ScopeProblem {
  readonly ok: false;
  readonly code: ScopeProblemCode;
  /** The scope (or request line) that was refused, exactly as given. */
  readonly scope: string;
  readonly reason: string;
}

const MESSAGES: Readonly<Record<ScopeProblemCode, string>> = {
  empty: 'empty scope',
  'unknown-scope':
    'unknown scope: expected <patient|user|system>/<Type|*>.<cruds> (SMART v2), .read/.write/.* (SMART v1), ' +
    'or one of launch, launch/patient, launch/encounter, openid, fhirUser, profile, offline_access, online_access',
  'bad-context': "unknown scope context: expected 'patient', 'user' or 'system'",
  'bad-resource-type': "bad resource type: expected a FHIR resource type name or '*'",
  // SMART v2 "Scopes for requesting FHIR Resources": a subset of the in-order string "cruds".
  'bad-permissions': "bad permissions: expected a non-empty subset of 'cruds' in that order, or read/write/*",
  'bad-restriction': 'bad search restriction: expected ?name=value[&name=value…] with non-empty names and values',
  'bad-request-line': 'not a FHIR REST request this server authorises',
};

/** Builds a {@link ScopeProblem} naming `scope`. */
export function scopeProblem(code: ScopeProblemCode, scope: string): ScopeProblem {
  return { ok: false, code, scope, reason: `${MESSAGES[code]} (in '${scope}')` };
}
