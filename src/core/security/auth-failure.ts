/**
 * The one catalogue of reasons a bearer token is refused (CONVENTIONS.md §10), with the HTTP
 * answer each gets under OAuth 2.0 Bearer Token Usage (RFC 6750 §3).
 */
export type AuthFailureReason =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'unsupported-alg'
  | 'unknown-role'
  | 'scope-exceeds-role'
  /** The issuer's keys could not be fetched: our problem or theirs, not the client's. */
  | 'keys-unavailable';

/** A refused token. `message` is safe to return to the client; `detail` is for the log only. */
export interface AuthFailure {
  readonly ok: false;
  readonly reason: AuthFailureReason;
  readonly message: string;
  readonly detail?: string;
}

const MESSAGES: Readonly<Record<AuthFailureReason, string>> = {
  missing: 'no bearer token',
  malformed: 'the token is not a well-formed JWT access token with the required claims',
  expired: 'the token has expired',
  'not-yet-valid': 'the token is not valid yet',
  'bad-signature': 'the token signature does not verify with any key of the issuer',
  'wrong-issuer': 'the token was issued by an issuer this server does not trust',
  'wrong-audience': 'the token was not issued for this server',
  'unsupported-alg': 'the token algorithm is not accepted: only RS256 and ES256',
  'unknown-role': 'the token has no role this server knows',
  'scope-exceeds-role': 'the token grants scopes its role does not allow',
  'keys-unavailable': 'the token issuer keys are unavailable; try again later',
};

/** Builds an {@link AuthFailure}; `detail` (log only) may name claims, scopes, keys or URLs. */
export function authFailure(reason: AuthFailureReason, detail?: string): AuthFailure {
  return detail === undefined
    ? { ok: false, reason, message: MESSAGES[reason] }
    : { ok: false, reason, message: MESSAGES[reason], detail };
}

/** How to answer a refused request: status and `WWW-Authenticate` value (absent for 503). */
export interface AuthChallenge {
  readonly status: 401 | 503;
  readonly wwwAuthenticate?: string;
}

/**
 * RFC 6750 §3: a request without credentials gets a bare `Bearer realm=…` challenge (§3.1: no
 * error code); a bad token gets `error="invalid_token"` with a description. Unavailable keys are a
 * server-side fault: 503 without a challenge.
 */
export function authChallenge(failure: AuthFailure, realm = 'dxhub'): AuthChallenge {
  switch (failure.reason) {
    case 'missing':
      return { status: 401, wwwAuthenticate: `Bearer realm="${realm}"` };
    case 'keys-unavailable':
      return { status: 503 };
    case 'malformed':
    case 'expired':
    case 'not-yet-valid':
    case 'bad-signature':
    case 'wrong-issuer':
    case 'wrong-audience':
    case 'unsupported-alg':
    case 'unknown-role':
    case 'scope-exceeds-role':
      return {
        status: 401,
        wwwAuthenticate: `Bearer realm="${realm}", error="invalid_token", error_description="${failure.message}"`,
      };
  }
}
