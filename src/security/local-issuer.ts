import { randomUUID } from 'node:crypto';
import { type JSONWebKeySet, SignJWT } from 'jose';
import { TOKEN_CLAIMS } from '../core/security/principal.ts';
import { effectiveScopes, ROLES, type Role, type RoleKind, roleOf } from '../core/security/roles.ts';
import { formatScopes, NON_RESOURCE_SCOPES, parseScopes } from '../core/security/smart-scopes.ts';
import { type KeyRing, openKeyRing } from './key-ring.ts';

/** Configuration of {@link openLocalIssuer}. */
export interface LocalIssuerOptions {
  /** Directory of the signing keys (e.g. `./data/keys`); created 0700 with a first key if empty. */
  readonly keyDir: string;
  /** The `iss` of every token and the base of the discovery documents (the server's public URL). */
  readonly issuer: string;
  /** The `aud` of every token: the FHIR base URL. */
  readonly audience: string;
  /** Absolute URL where the JWKS is served. Default `${issuer}/.well-known/jwks.json`. */
  readonly jwksUri?: string;
  /** Absolute URL of a token endpoint, when the HTTP layer offers one. Omitted from the documents otherwise. */
  readonly tokenEndpoint?: string;
  /** Absolute URL of an authorization endpoint, when the HTTP layer offers one. */
  readonly authorizationEndpoint?: string;
  /** Default token lifetime in seconds. Default 3600. */
  readonly defaultTtlSeconds?: number;
  /** The clock; injected for tests. */
  readonly now?: () => Date;
}

/** What {@link LocalIssuer.issueToken} is asked for. */
export interface TokenRequest {
  /** The user (or client) id: becomes `sub`. */
  readonly user: string;
  readonly role: RoleKind;
  /** SOR code of the unit acted for; required for every role except citizen. */
  readonly org?: string;
  /** Requested scopes (space-separated or a list); default: the role's scopes. Narrowed to the role. */
  readonly scope?: string | readonly string[];
  /** Patient id the token is bound to; required for citizens and patient/ scopes. */
  readonly patient?: string;
  readonly fhirUser?: string;
  readonly clientId?: string;
  /** Lifetime in seconds, 1 … 86400. */
  readonly ttlSeconds?: number;
}

/** A signed access token, with the fields of an OAuth 2.0 token response (RFC 6749 §5.1). */
export interface IssuedToken {
  readonly ok: true;
  /** Compact ES256 JWT. */
  readonly accessToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  /** The granted scopes (RFC 6749 §3.3: may be fewer than requested). */
  readonly scope: string;
  readonly tokenId: string;
  readonly patient?: string;
}

/** Why a token was not issued, named as OAuth 2.0 errors (RFC 6749 §5.2). */
export interface IssueRefusal {
  readonly ok: false;
  readonly error: 'invalid_request' | 'invalid_scope';
  readonly message: string;
}

/** The embedded OpenID issuer used by `npm start`: ES256 keys on disk, rotation, discovery documents. */
export interface LocalIssuer {
  readonly issuer: string;
  readonly keys: KeyRing;
  issueToken(request: TokenRequest): Promise<IssuedToken | IssueRefusal>;
  /** Public keys for `/.well-known/jwks.json`: a new object after each rotation or removal. */
  jwks(): JSONWebKeySet;
  /** Makes a new key active; the old one stays in {@link jwks} until `removeKey`. */
  rotate(): Promise<string>;
  /** Retires a key: tokens it signed stop verifying. */
  removeKey(kid: string): Promise<void>;
  /** OpenID Connect Discovery 1.0 §3 metadata for `${issuer}/.well-known/openid-configuration`. */
  openidConfiguration(): Record<string, unknown>;
  /** SMART App Launch v2 metadata for `[fhir base]/.well-known/smart-configuration`. */
  smartConfiguration(): Record<string, unknown>;
}

const MAX_TTL = 86_400;

/** Opens (or on first use creates) the embedded issuer. */
export async function openLocalIssuer(options: LocalIssuerOptions): Promise<LocalIssuer> {
  const now = options.now ?? (() => new Date());
  const keys = await openKeyRing(options.keyDir, now);
  const issuer = options.issuer;
  const jwksUri = options.jwksUri ?? `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`;
  let published: JSONWebKeySet | undefined;
  const republish = () => {
    published = Object.freeze({ keys: keys.keys().map((k) => Object.freeze({ ...k.publicJwk })) });
    return published;
  };

  const issueToken = async (request: TokenRequest): Promise<IssuedToken | IssueRefusal> => {
    const role = roleOf(request.role);
    if (!role) return refuse('invalid_request', `unknown role ${JSON.stringify(request.role)}`);
    const ttl = request.ttlSeconds ?? options.defaultTtlSeconds ?? 3600;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL) {
      return refuse('invalid_request', `ttlSeconds must be an integer 1…${MAX_TTL}`);
    }
    const asked = parseScopes(request.scope ?? role.defaultScopes);
    if (!asked.ok) return refuse('invalid_scope', asked.reason);
    const granted = effectiveScopes(role, asked.scopes);
    const askedResources = asked.scopes.some((s) => s.kind === 'resource');
    if (askedResources && !granted.some((s) => s.kind === 'resource')) {
      return refuse('invalid_scope', `none of the requested scopes is allowed for role ${role.kind}`);
    }
    const problem = contextProblem(role, request, granted);
    if (problem) return refuse('invalid_request', problem);

    const key = keys.active();
    const iat = Math.floor(now().getTime() / 1000);
    const tokenId = randomUUID();
    const scope = formatScopes(granted);
    const claims: Record<string, unknown> = {
      [TOKEN_CLAIMS.role]: role.kind,
      [TOKEN_CLAIMS.scope]: scope,
      ...(request.org ? { [TOKEN_CLAIMS.organisation]: request.org } : {}),
      ...(request.patient ? { [TOKEN_CLAIMS.patient]: request.patient } : {}),
      ...(request.fhirUser ? { [TOKEN_CLAIMS.fhirUser]: request.fhirUser } : {}),
      ...(request.clientId ? { [TOKEN_CLAIMS.clientId]: request.clientId } : {}),
    };
    // RFC 9068 §2.1: typ "at+jwt" marks an access token, so an ID token cannot be replayed as one.
    const accessToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(request.user)
      .setAudience(options.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttl)
      .setJti(tokenId)
      .sign(key.privateKey);
    return {
      ok: true,
      accessToken,
      tokenType: 'Bearer',
      expiresIn: ttl,
      scope,
      tokenId,
      ...(request.patient ? { patient: request.patient } : {}),
    };
  };

  const scopesSupported = () => [
    ...NON_RESOURCE_SCOPES,
    ...new Set(Object.values(ROLES).flatMap((r) => r.defaultScopes.filter((s) => s.includes('/') && s.includes('.')))),
  ];

  return {
    issuer,
    keys,
    issueToken,
    jwks: () => published ?? republish(),
    rotate: async () => {
      const key = await keys.rotate();
      republish();
      return key.kid;
    },
    removeKey: async (kid) => {
      await keys.remove(kid);
      republish();
    },
    openidConfiguration: () => ({
      issuer,
      jwks_uri: jwksUri,
      ...(options.authorizationEndpoint ? { authorization_endpoint: options.authorizationEndpoint } : {}),
      ...(options.tokenEndpoint ? { token_endpoint: options.tokenEndpoint } : {}),
      scopes_supported: scopesSupported(),
      response_types_supported: options.authorizationEndpoint ? ['code'] : [],
      grant_types_supported: grantTypes(options),
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', ...Object.values(TOKEN_CLAIMS)],
    }),
    // SMART App Launch v2 conformance.html "Metadata": token_endpoint, capabilities,
    // grant_types_supported, code_challenge_methods_supported are required when the flows exist;
    // only what the HTTP layer actually offers is advertised.
    smartConfiguration: () => ({
      issuer,
      jwks_uri: jwksUri,
      ...(options.authorizationEndpoint ? { authorization_endpoint: options.authorizationEndpoint } : {}),
      ...(options.tokenEndpoint
        ? {
            token_endpoint: options.tokenEndpoint,
            token_endpoint_auth_methods_supported: ['private_key_jwt'],
            // SMART Backend Services: servers support RS384 and ES384 client assertions.
            token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
          }
        : {}),
      grant_types_supported: grantTypes(options),
      scopes_supported: scopesSupported(),
      response_types_supported: options.authorizationEndpoint ? ['code'] : [],
      code_challenge_methods_supported: ['S256'],
      capabilities: [
        'permission-v1',
        'permission-v2',
        'permission-patient',
        'permission-user',
        ...(options.tokenEndpoint ? ['client-confidential-asymmetric'] : []),
        ...(options.authorizationEndpoint ? ['launch-standalone', 'context-standalone-patient'] : []),
      ],
    }),
  };
}

function grantTypes(options: LocalIssuerOptions): string[] {
  return [
    ...(options.authorizationEndpoint ? ['authorization_code'] : []),
    ...(options.tokenEndpoint ? ['client_credentials'] : []),
  ];
}

// The claims principalFromClaims will insist on, checked before signing so a refused token is never minted.
function contextProblem(
  role: Role,
  request: TokenRequest,
  granted: ReturnType<typeof effectiveScopes>,
): string | undefined {
  if (!role.ownDataOnly && !request.org) return `role ${role.kind} needs org (a SOR code)`;
  const patientScopes = granted.some((s) => s.kind === 'resource' && s.context === 'patient');
  if ((role.ownDataOnly || patientScopes) && !request.patient) return 'patient is required for this role or scope';
  return undefined;
}

function refuse(error: IssueRefusal['error'], message: string): IssueRefusal {
  return { ok: false, error, message };
}
