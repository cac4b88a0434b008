import { decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type AuthFailure, authFailure } from '../core/security/auth-failure.ts';
import { type ClaimOptions, type Principal, principalFromClaims } from '../core/security/principal.ts';
import { issuerKeys, type KeySource, KeysUnavailableError } from './issuer-keys.ts';

/** Only asymmetric signatures: `none` and HS* (shared secrets, key-confusion attacks) are refused. */
export const ACCEPTED_ALGORITHMS: readonly string[] = ['RS256', 'ES256'];

/** Configuration of {@link createTokenVerifier}. */
export interface TokenVerifierOptions extends ClaimOptions {
  /** Expected `iss`, exactly. */
  readonly issuer: string;
  /** Expected `aud` (one match suffices): the FHIR base URL, as SMART's `aud` parameter names it. */
  readonly audience: string | readonly string[];
  readonly keys: KeySource;
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds. Default 60. */
  readonly clockSkewSeconds?: number;
  /** The clock; injected for tests. */
  readonly now?: () => Date;
}

export type VerifyResult = { readonly ok: true; readonly principal: Principal } | AuthFailure;

/** Verifies bearer access tokens from one issuer. */
export interface TokenVerifier {
  /** Verifies a compact JWT (`undefined`/empty → `missing`). */
  verify(token: string | undefined): Promise<VerifyResult>;
  /** Verifies the token of an `Authorization: Bearer …` header (RFC 6750 §2.1). */
  verifyAuthorizationHeader(header: string | undefined): Promise<VerifyResult>;
}

// RFC 7515 §7.1: three base64url parts; an empty signature still parses so `alg: none` is named as such.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
// Far above any real access token; bounds the work an anonymous request can cause.
const MAX_TOKEN_LENGTH = 16_384;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * A verifier: header `alg` in {@link ACCEPTED_ALGORITHMS}, signature by a key of the issuer's JWKS
 * (by `kid`), then `iss`, `aud`, `exp`, `nbf`, `iat` (within the clock skew), then dxhub's claims
 * ({@link principalFromClaims}). Never throws for a bad token; every refusal has a reason code.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys = issuerKeys(options.issuer, options.keys);
  const skew = options.clockSkewSeconds ?? 60;
  const now = options.now ?? (() => new Date());
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];

  const verify = async (token: string | undefined): Promise<VerifyResult> => {
    if (token === undefined || token.trim() === '') return authFailure('missing');
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token))
      return authFailure('malformed', 'not a compact JWS');
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (err) {
      return authFailure('malformed', describe(err));
    }
    if (typeof alg !== 'string' || !ACCEPTED_ALGORITHMS.includes(alg)) {
      return authFailure('unsupported-alg', `alg ${JSON.stringify(alg)}`);
    }
    const at = now();
    let payload: JWTPayload;
    try {
      payload = await verifyWithKeys(token, keys, {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: options.issuer,
        audience,
        clockTolerance: skew,
        currentDate: at,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
    } catch (err) {
      return failureOf(err);
    }
    // jose checks `iat` only together with maxTokenAge; a token "issued" in the future is refused here.
    if (typeof payload.iat !== 'number') return authFailure('malformed', 'iat must be a number');
    if (payload.iat > at.getTime() / 1000 + skew) return authFailure('not-yet-valid', 'iat is in the future');
    return principalFromClaims(payload, options);
  };

  return {
    verify,
    verifyAuthorizationHeader: (header) => {
      if (header === undefined || header.trim() === '') return verify(undefined);
      const m = BEARER.exec(header.trim());
      return m ? verify(m[1]) : Promise.resolve(authFailure('malformed', 'Authorization is not "Bearer <token>"'));
    },
  };
}

type VerifyOptions = NonNullable<Parameters<typeof jwtVerify>[2]>;

// jose reports several keys matching a token without `kid` (or sharing one) as an error that can be
// iterated; each candidate is tried in turn (jose docs, createLocalJWKSet).
async function verifyWithKeys(token: string, keys: JWTVerifyGetKey, options: VerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (err) {
    if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw err;
    let last: unknown = err;
    for await (const key of err) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (e) {
        last = e;
        if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw e;
      }
    }
    throw last;
  }
}

function failureOf(err: unknown): AuthFailure {
  const detail = describe(err);
  if (err instanceof KeysUnavailableError) return authFailure('keys-unavailable', detail);
  if (err instanceof errors.JWTExpired) return authFailure('expired', detail);
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'iss':
        return authFailure('wrong-issuer', detail);
      case 'aud':
        return authFailure('wrong-audience', detail);
      case 'nbf':
        return authFailure(err.reason === 'check_failed' ? 'not-yet-valid' : 'malformed', detail);
      default:
        return authFailure('malformed', detail);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return authFailure('unsupported-alg', detail);
  }
  if (
    err instanceof errors.JWSSignatureVerificationFailed ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JWKInvalid
  ) {
    return authFailure('bad-signature', detail);
  }
  return authFailure('malformed', detail);
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
