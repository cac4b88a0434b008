import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccessFacts, type BreakGlass, DEFAULT_ACCESS_POLICY, RequestGuard, SOR_SYSTEM } from '../access/index.ts';
import type { AuditLog } from '../audit/index.ts';
import { Errors, FhirError, toOperationOutcome } from '../core/fhir/errors.ts';
import { authChallenge } from '../core/security/auth-failure.ts';
import type { Principal } from '../core/security/principal.ts';
import { DEMO_SOR_SYSTEM } from '../security/demo-users.ts';
import { createTokenVerifier, type LocalIssuer, openLocalIssuer, type TokenVerifier } from '../security/index.ts';
import type { FhirRepository } from '../store/repository.ts';
import type { DxhubConfig } from './config.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller; set for every route that is not marked public. */
    principal?: Principal;
    /** The FHIR interaction a route answered (`read`, `search-type`, …), the label of its metrics. */
    interaction?: string;
  }
  interface FastifyContextConfig {
    /** A route that answers without a token (discovery, health). Every other route needs one. */
    public?: boolean;
  }
}

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Where the server's tokens come from and how they are checked. */
export interface Authentication {
  readonly verifier: TokenVerifier;
  /** The embedded issuer (no DXHUB_OIDC_ISSUER). */
  readonly issuer: LocalIssuer | undefined;
  readonly issuerUrl: string;
  readonly audience: string;
  /** The FHIR base URL the tokens are for. */
  readonly fhirBase: string;
  /** Key of the researcher pseudonyms (HMAC), stable per deployment. */
  readonly pseudonymKey: string;
}

/** The public base of this server (scheme, host, port) and its FHIR base. */
export function publicBase(config: DxhubConfig): { base: string; fhirBase: string } {
  if (config.baseUrl) {
    const fhirBase = config.baseUrl.replace(/\/+$/, '');
    return { base: fhirBase.replace(/\/fhir$/, ''), fhirBase };
  }
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const scheme = config.tlsCert ? 'https' : 'http';
  const base = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  return { base, fhirBase: `${base}/fhir` };
}

/** The key researchers' pseudonyms are made with: `pseudonym.key` in the key directory, created once. */
async function pseudonymKey(dir: string): Promise<string> {
  const file = join(dir, 'pseudonym.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString('hex');
    await writeFile(file, key, { mode: 0o600, flag: 'wx' }).catch(() => {});
    return (await readFile(file, 'utf8')).trim();
  }
}

/**
 * Opens the token side: an external OpenID Connect issuer (DXHUB_OIDC_ISSUER, keys from its JWKS)
 * or the embedded issuer (ES256 keys under DXHUB_KEY_DIR, created on first start).
 */
export async function openAuthentication(config: DxhubConfig): Promise<Authentication> {
  const { base, fhirBase } = publicBase(config);
  const audience = config.oidcAudience ?? fhirBase;
  const key = await pseudonymKey(config.keyDir);
  if (config.oidcIssuer) {
    const verifier = createTokenVerifier({
      issuer: config.oidcIssuer,
      audience,
      keys: { kind: 'remote' },
      clockSkewSeconds: config.oidcClockSkew,
      unknownScopes: 'ignore',
    });
    return { verifier, issuer: undefined, issuerUrl: config.oidcIssuer, audience, fhirBase, pseudonymKey: key };
  }
  const issuer = await openLocalIssuer({
    keyDir: config.keyDir,
    issuer: base,
    audience,
    ...(config.demo ? { tokenEndpoint: `${base}/auth/token` } : {}),
  });
  const verifier = createTokenVerifier({
    issuer: base,
    audience,
    keys: { kind: 'local', jwks: () => issuer.jwks() },
    clockSkewSeconds: config.oidcClockSkew,
  });
  return { verifier, issuer, issuerUrl: base, audience, fhirBase, pseudonymKey: key };
}

/** Parses `X-Vaerdispring: <consent|vital-interest>; <reason>` (the reason may be percent-encoded UTF-8). */
export function parseBreakGlass(header: string | string[] | undefined): BreakGlass | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(', ') : header;
  const m = /^\s*(consent|vital-interest)\s*;\s*(.+?)\s*$/s.exec(text);
  if (!m) {
    throw Errors.badRequest(
      'X-Vaerdispring must be "consent; <reason>" or "vital-interest; <reason>" (Sundhedsloven § 42 a stk. 2–3)',
    );
  }
  let reason = m[2]!;
  try {
    if (reason.includes('%')) reason = decodeURIComponent(reason);
  } catch {}
  if (reason.length < 5 || reason.length > 500) {
    throw Errors.badRequest('X-Vaerdispring needs a reason of 5–500 characters');
  }
  return { kind: m[1] as BreakGlass['kind'], reason };
}

/** The per-request access guards: the facts they share and how one is made for a request. */
export class Access {
  readonly facts: AccessFacts;
  readonly audit: AuditLog;
  readonly pseudonymKey: string;
  constructor(repo: FhirRepository, audit: AuditLog, pseudonymKey: string) {
    this.facts = new AccessFacts(repo, {
      ...DEFAULT_ACCESS_POLICY,
      organisationSystems: [SOR_SYSTEM, DEMO_SOR_SYSTEM],
    });
    this.audit = audit;
    this.pseudonymKey = pseudonymKey;
  }

  /** The guard of an authenticated request. */
  guard(req: FastifyRequest): RequestGuard {
    const principal = req.principal;
    if (!principal) throw Errors.unauthenticated('authentication required');
    const breakGlass = parseBreakGlass(req.headers['x-vaerdispring']);
    if (breakGlass && !(principal.role.treatmentRelationRequired || principal.role.context === 'user')) {
      throw Errors.badRequest(`værdispring is for health professionals, not the ${principal.role.kind} role`);
    }
    return new RequestGuard(
      principal,
      this.facts,
      this.audit,
      { requestId: String(req.id), sourceIp: req.ip, breakGlass },
      this.pseudonymKey,
    );
  }
}

function sendOutcome(reply: FastifyReply, error: FhirError, headers: Record<string, string> = {}): FastifyReply {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply
    .code(error.status)
    .type(FHIR_JSON)
    .send(JSON.stringify(toOperationOutcome(error)));
}

/**
 * Every route needs a valid bearer token unless its config says `public: true`. Verified tokens
 * are remembered until they expire (the signature check is the expensive part); the first use of a
 * token is audited as a login, every refusal as a denied access.
 */
export function requireAuthentication(app: FastifyInstance, auth: Authentication, audit: AuditLog): void {
  const known = new Map<string, Principal>();
  const MAX_KNOWN = 20_000;
  // A callback hook: the common case (a token verified before) finishes without a promise.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.routeOptions.config?.public === true) return done();
    const header = req.headers.authorization;
    const hit = header ? known.get(header) : undefined;
    if (hit && hit.expiresAt.getTime() > Date.now()) {
      req.principal = hit;
      return done();
    }
    // A refusal has been answered by then: Fastify must not continue (no done()).
    verify(req, reply).then(() => {
      if (!reply.sent) done();
    }, done);
  });
  const verify = async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    const r = await auth.verifier.verifyAuthorizationHeader(header);
    if (!r.ok) {
      if (r.detail) req.log.info({ reason: r.reason, detail: r.detail }, 'token refused');
      const challenge = authChallenge(r);
      await audit.record({
        action: 'denied',
        outcome: 'minor-failure',
        agent: 'unauthenticated',
        sourceIp: req.ip,
        requestId: String(req.id),
        detail: `${req.method} ${req.url.split('?')[0]}: token refused (${r.reason})`,
      });
      // 401 with a challenge, or 503 when the issuer's keys cannot be had (set before sending).
      return sendOutcome(
        reply,
        new FhirError(challenge.status, Errors.unauthenticated(r.message).issues),
        challenge.wwwAuthenticate ? { 'www-authenticate': challenge.wwwAuthenticate } : {},
      );
    }
    const p = r.principal;
    if (header) {
      if (known.size >= MAX_KNOWN) known.clear();
      known.set(header, p);
    }
    req.principal = p;
    await audit.record({
      action: 'login',
      agent: p.fhirUser ?? p.subject,
      organisation: p.organisation,
      role: p.role.kind,
      sourceIp: req.ip,
      client: p.clientId,
      requestId: String(req.id),
      detail: `token ${p.tokenId} first used`,
    });
  };
}
