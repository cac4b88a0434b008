import { type AuthFailure, authFailure } from './auth-failure.ts';
import { type Role, roleOf, scopesBeyondRole } from './roles.ts';
import { parseScopes, type Scope } from './smart-scopes.ts';

/**
 * Who is calling, as established from a verified access token. Every request handled by dxhub has
 * one (ARCHITECTURE.md, security model).
 */
export interface Principal {
  /** `sub`: the user or client account, stable per issuer. */
  readonly subject: string;
  /** `role`: fixes the most the token may grant and the legal rules that apply. */
  readonly role: Role;
  /** `org`: the SOR code of the unit the user acts for; absent only for citizens. */
  readonly organisation?: string;
  /** `scope`, parsed; never beyond {@link Role.defaultScopes}. */
  readonly scopes: readonly Scope[];
  /** `fhirUser`: the user's own FHIR resource (`Practitioner/…`, `Patient/…`), SMART identity data. */
  readonly fhirUser?: string;
  /** `patient`: the patient id the token is bound to (citizens, patient-launch apps). */
  readonly patient?: string;
  /** `client_id` (RFC 9068 §2.2): the application that obtained the token. */
  readonly clientId?: string;
  /** `jti`: the token's id, for the audit log. */
  readonly tokenId: string;
  /** `iss`. */
  readonly issuer: string;
  /** `exp`. */
  readonly expiresAt: Date;
}

/**
 * The JWT claim names dxhub issues and reads (beyond `iss`, `sub`, `aud`, `exp`, `nbf`, `iat`).
 * `scope` is space-separated (RFC 9068 §2.2.3, RFC 8693 §4.2); `fhirUser` and `patient` follow
 * SMART App Launch v2 (id token `fhirUser`; launch context `patient`).
 */
export const TOKEN_CLAIMS = Object.freeze({
  role: 'role',
  organisation: 'org',
  scope: 'scope',
  fhirUser: 'fhirUser',
  patient: 'patient',
  clientId: 'client_id',
  tokenId: 'jti',
} as const);

/** Options of {@link principalFromClaims}. */
export interface ClaimOptions {
  /** Unrecognised scopes (an identity provider's `email`…) fail the token, or are dropped. Default reject. */
  readonly unknownScopes?: 'reject' | 'ignore';
}

/**
 * Maps the claims of a token whose signature, issuer, audience and times were already verified to
 * a {@link Principal}, or refuses it: no known `role` → `unknown-role`; a `scope` beyond the role →
 * `scope-exceeds-role` (defence in depth against a misconfigured issuer); missing `sub`, `jti`,
 * `org` (except citizens) or `patient` (citizens and patient/ scopes) → `malformed`.
 */
export function principalFromClaims(
  claims: Readonly<Record<string, unknown>>,
  options: ClaimOptions = {},
): { readonly ok: true; readonly principal: Principal } | AuthFailure {
  const text = (name: string): string | undefined => {
    const v = claims[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const subject = text('sub');
  const tokenId = text(TOKEN_CLAIMS.tokenId);
  const issuer = text('iss');
  const exp = claims.exp;
  if (!subject || !tokenId || !issuer || typeof exp !== 'number') {
    return authFailure('malformed', 'sub, jti, iss and exp are required');
  }
  const role = roleOf(claims[TOKEN_CLAIMS.role]);
  if (!role) return authFailure('unknown-role', `role claim: ${JSON.stringify(claims[TOKEN_CLAIMS.role]) ?? 'absent'}`);

  const rawScope = claims[TOKEN_CLAIMS.scope];
  if (rawScope !== undefined && typeof rawScope !== 'string') {
    return authFailure('malformed', 'scope must be a space-separated string');
  }
  const parsed = parseScopes(rawScope ?? '', { unknown: options.unknownScopes ?? 'reject' });
  if (!parsed.ok) return authFailure('malformed', parsed.reason);
  const beyond = scopesBeyondRole(role, parsed.scopes);
  if (beyond.length > 0) {
    return authFailure('scope-exceeds-role', `${role.kind} may not hold ${beyond.map((s) => s.text).join(' ')}`);
  }

  const organisation = text(TOKEN_CLAIMS.organisation);
  if (!organisation && !role.ownDataOnly) return authFailure('malformed', `role ${role.kind} needs an org claim`);
  const patient = text(TOKEN_CLAIMS.patient);
  const patientScopes = parsed.scopes.some((s) => s.kind === 'resource' && s.context === 'patient');
  if (!patient && (role.ownDataOnly || patientScopes)) {
    return authFailure('malformed', 'a patient claim is required for citizens and patient/ scopes');
  }
  const fhirUser = text(TOKEN_CLAIMS.fhirUser);
  const clientId = text(TOKEN_CLAIMS.clientId);
  const principal: Principal = {
    subject,
    role,
    scopes: parsed.scopes,
    tokenId,
    issuer,
    expiresAt: new Date(exp * 1000),
    ...(organisation ? { organisation } : {}),
    ...(fhirUser ? { fhirUser } : {}),
    ...(patient ? { patient } : {}),
    ...(clientId ? { clientId } : {}),
  };
  return { ok: true, principal };
}
