/**
 * OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256) against the issuer named by the
 * server's SMART configuration (`/fhir/.well-known/smart-configuration`). Pure apart from WebCrypto.
 */

/** Base64url without padding (RFC 7636 appendix A). */
export function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** A code verifier: 32 random bytes → 43 characters of the unreserved set (RFC 7636 §4.1). */
export function codeVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** `code_challenge` = BASE64URL(SHA-256(verifier)) (RFC 7636 §4.2). */
export async function codeChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** The parts of the SMART configuration the sign-in needs. */
export interface SmartConfiguration {
  readonly issuer?: string;
  readonly authorization_endpoint?: string;
  readonly token_endpoint?: string;
  readonly code_challenge_methods_supported?: readonly string[];
}

export interface AuthorizeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scope: string;
  readonly state: string;
  readonly challenge: string;
  /** The FHIR base URL (SMART `aud`). */
  readonly audience: string;
}

/** The authorization URL, or an error naming what the issuer's discovery document lacks. */
export function authorizeUrl(config: SmartConfiguration, r: AuthorizeRequest): URL {
  if (!config.authorization_endpoint || !config.token_endpoint) {
    throw new Error('the issuer publishes no authorization_endpoint/token_endpoint');
  }
  const methods = config.code_challenge_methods_supported;
  if (methods && !methods.includes('S256')) throw new Error('the issuer does not support PKCE S256');
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: r.clientId,
    redirect_uri: r.redirectUri,
    scope: r.scope,
    state: r.state,
    code_challenge: r.challenge,
    code_challenge_method: 'S256',
    aud: r.audience,
  }).toString();
  return url;
}

/** The token request body for the code the issuer returned. */
export function tokenRequestBody(code: string, verifier: string, clientId: string, redirectUri: string): string {
  return new URLSearchParams({
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    client_id: clientId,
    redirect_uri: redirectUri,
  }).toString();
}
