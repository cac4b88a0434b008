import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Where the verifier finds the issuer's public keys. */
export type KeySource =
  /** The embedded issuer's JWKS, read on every verification so rotations apply at once. */
  | { readonly kind: 'local'; readonly jwks: () => JSONWebKeySet }
  /**
   * An external OpenID provider: `jwks_uri` from `${issuer}/.well-known/openid-configuration`
   * (OpenID Connect Discovery 1.0 §4) unless given. jose caches the set for `cacheMaxAgeMs`
   * (default 10 min) and refetches on an unknown `kid` at most every `cooldownMs` (default 30 s),
   * which is how a provider's key rotation is picked up.
   */
  | {
      readonly kind: 'remote';
      readonly jwksUri?: string;
      readonly cacheMaxAgeMs?: number;
      readonly cooldownMs?: number;
      readonly timeoutMs?: number;
    };

/** The issuer's keys could not be obtained (network, discovery, bad JWKS document). */
export class KeysUnavailableError extends Error {}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * A jose key resolver for `issuer`. Failures to *get* keys become {@link KeysUnavailableError};
 * "no key with this kid" stays jose's `JWKSNoMatchingKey` (a bad token, not an outage).
 */
export function issuerKeys(issuer: string, source: KeySource): JWTVerifyGetKey {
  const resolve = source.kind === 'local' ? localKeys(source.jwks) : remoteKeys(issuer, source);
  return async (header, token) => {
    try {
      return await resolve(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
      if (err instanceof errors.JOSENotSupported) throw err;
      throw new KeysUnavailableError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  };
}

function localKeys(jwks: () => JSONWebKeySet): JWTVerifyGetKey {
  let seen: JSONWebKeySet | undefined;
  let set: JWTVerifyGetKey | undefined;
  return (header, token) => {
    const current = jwks();
    // The issuer hands out a new object on rotation; re-import only then.
    if (current !== seen || !set) {
      seen = current;
      set = createLocalJWKSet(current);
    }
    return set(header, token);
  };
}

function remoteKeys(issuer: string, source: Extract<KeySource, { kind: 'remote' }>): JWTVerifyGetKey {
  const options = {
    ...(source.cacheMaxAgeMs !== undefined ? { cacheMaxAge: source.cacheMaxAgeMs } : {}),
    ...(source.cooldownMs !== undefined ? { cooldownDuration: source.cooldownMs } : {}),
    timeoutDuration: source.timeoutMs ?? 5000,
  };
  let pending: Promise<JWTVerifyGetKey> | undefined;
  const keySet = () => {
    pending ??= (async () => {
      const uri = source.jwksUri ?? (await discoverJwksUri(issuer, options.timeoutDuration));
      return createRemoteJWKSet(trustedUrl(uri, 'jwks_uri'), options);
    })();
    // A failed discovery is retried on the next request instead of being cached forever.
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
  return async (header, token) => (await keySet())(header, token);
}

/** OpenID Connect Discovery 1.0 §4: fetch the configuration; §4.3: its `issuer` must equal ours. */
async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const url = trustedUrl(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, 'issuer');
  const res = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
  });
  if (res.status !== 200) throw new Error(`${url.href} answered ${res.status}`);
  const doc: unknown = await res.json();
  if (typeof doc !== 'object' || doc === null) throw new Error(`${url.href} is not a JSON object`);
  const { issuer: stated, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  if (stated !== issuer) throw new Error(`${url.href} names issuer ${JSON.stringify(stated)}, expected ${issuer}`);
  if (typeof jwksUri !== 'string') throw new Error(`${url.href} has no jwks_uri`);
  return jwksUri;
}

// Keys fetched over plain HTTP could be swapped by anyone on the path; only loopback is exempt
// (tests, a sidecar identity provider).
function trustedUrl(text: string, what: string): URL {
  const url = new URL(text);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))) return url;
  throw new Error(`${what} ${text} must use https (plain http only on loopback)`);
}
