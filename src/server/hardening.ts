/**
 * Transport and response hardening: optional TLS, a pino logger that never writes a CPR number or an
 * Authorization header, security headers, a CORS allowlist, per-principal rate limits and a last
 * guard that no error response shows a stack trace or SQL. Plain hooks, no `@fastify/*` plugins.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { maskCpr } from '../core/audit/mask-cpr.ts';
import { Errors, FhirError, toOperationOutcome } from '../core/fhir/errors.ts';
import type { DxhubConfig } from './config.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

// Errors raised here. They belong in the catalogue (src/core/fhir/errors.ts) and move there with
// the next change to it; 'throttled' is an R4 IssueType (valueset-issue-type) missing from its union.
const HardeningErrors = {
  throttled: (retryAfterSeconds: number) =>
    new FhirError(429, [
      { severity: 'error', code: 'throttled', diagnostics: `Too many requests: retry after ${retryAfterSeconds} s` },
    ]),
  originNotAllowed: (origin: string) =>
    new FhirError(403, [
      { severity: 'error', code: 'forbidden', diagnostics: `Origin '${origin}' may not call this server cross-origin` },
    ]),
};

function answer(reply: FastifyReply, error: FhirError): FastifyReply {
  return reply
    .code(error.status)
    .type(FHIR_JSON)
    .send(JSON.stringify(toOperationOutcome(error)));
}

// ---------------------------------------------------------------------------------------------
// Server options: TLS and logging

/** Something pino can write log lines to (a stream; tests pass a collector). */
export interface LogDestination {
  write(line: string): void;
}

/** The extra Fastify constructor options {@link serverOptions} returns. */
export interface HardenedServerOptions {
  /** Present only when TLS is configured: the server then speaks HTTPS only. */
  https?: { key: Buffer; cert: Buffer };
  logger: FastifyServerOptions['logger'];
}

function readTls(config: Pick<DxhubConfig, 'tlsCert' | 'tlsKey'>): { key: Buffer; cert: Buffer } | undefined {
  const { tlsCert, tlsKey } = config;
  if (!tlsCert && !tlsKey) return undefined;
  if (!tlsCert) throw new Error('DXHUB_TLS_KEY is set but DXHUB_TLS_CERT is not: set both PEM file paths, or neither');
  if (!tlsKey) throw new Error('DXHUB_TLS_CERT is set but DXHUB_TLS_KEY is not: set both PEM file paths, or neither');
  const read = (name: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read ${name} file '${path}': ${(e as Error).message}`);
    }
  };
  const tls = { cert: read('DXHUB_TLS_CERT', tlsCert), key: read('DXHUB_TLS_KEY', tlsKey) };
  // A key that does not match the certificate would otherwise fail only at the first handshake.
  try {
    createSecureContext(tls);
  } catch (e) {
    throw new Error(`DXHUB_TLS_CERT and DXHUB_TLS_KEY are not a PEM certificate and its key: ${(e as Error).message}`);
  }
  return tls;
}

/** An error for the log: message, stack and scalar fields (a pg error's `detail`) with CPRs masked. */
function serializeError(err: unknown, depth = 0): { type: string; message: string; stack: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: maskCpr(String(err)), stack: '' };
  const out: { type: string; message: string; stack: string; [key: string]: unknown } = {
    type: err.constructor.name,
    message: maskCpr(err.message),
    stack: maskCpr(err.stack ?? ''),
  };
  for (const [k, v] of Object.entries(err)) {
    if (typeof v === 'string') out[k] = maskCpr(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** The request as logged: no headers at all (so no Authorization or Cookie), the URL CPR-masked. */
function serializeRequest(req: {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number } | null;
}) {
  return {
    method: req.method,
    url: maskCpr(req.url ?? ''),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Extra Fastify constructor options: `https` when DXHUB_TLS_CERT and DXHUB_TLS_KEY are set (both
 * files are read and checked now, so a bad path fails at startup with its name), and the logger.
 * The logger masks CPR numbers in request URLs, error messages and stacks, log messages and
 * top-level string fields, and redacts Authorization and Cookie headers wherever a header object
 * is logged. Use as `Fastify({ ...other, ...serverOptions(config) })`.
 */
export function serverOptions(
  config: Pick<DxhubConfig, 'tlsCert' | 'tlsKey' | 'logLevel'>,
  opts: { logStream?: LogDestination } = {},
): HardenedServerOptions {
  const https = readTls(config);
  const logger: FastifyServerOptions['logger'] =
    config.logLevel === 'silent'
      ? false
      : {
          level: config.logLevel,
          ...(opts.logStream ? { stream: opts.logStream } : {}),
          serializers: { req: serializeRequest, err: serializeError },
          redact: {
            paths: [
              'authorization',
              'cookie',
              'headers.authorization',
              'headers.cookie',
              'req.headers.authorization',
              'req.headers.cookie',
              '*.headers.authorization',
              '*.headers.cookie',
            ],
            censor: '[redacted]',
          },
          formatters: {
            log: (obj: Record<string, unknown>) => {
              for (const [k, v] of Object.entries(obj)) if (typeof v === 'string') obj[k] = maskCpr(v);
              return obj;
            },
          },
          hooks: {
            logMethod(args, method) {
              // The message and its printf arguments: `req.log.info('searched %s', url)`.
              const masked = args.map((a) => (typeof a === 'string' ? maskCpr(a) : a)) as typeof args;
              return method.apply(this, masked);
            },
          },
        };
  return https ? { https, logger } : { logger };
}

// ---------------------------------------------------------------------------------------------
// Security headers, CORS and the leak guard

const CSP = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";
/** For JSON: nothing may load from it or frame it (OWASP REST Security Cheat Sheet, "Security Headers"). */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'If-Match',
  'If-None-Match',
  'If-None-Exist',
  'If-Modified-Since',
  'Prefer',
  'X-Request-Id',
  'X-Vaerdispring',
].join(', ');
const EXPOSE_HEADERS = [
  'ETag',
  'Location',
  'Content-Location',
  'Last-Modified',
  'X-Request-Id',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
].join(', ');
/** How long a browser may cache a preflight answer (Chromium caps it at 2 h). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

function appendVary(reply: FastifyReply, ...names: string[]): void {
  const current = String(reply.getHeader('vary') ?? '');
  const have = new Set(
    current
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter(Boolean),
  );
  const add = names.filter((n) => !have.has(n.toLowerCase()));
  if (add.length) reply.header('vary', [current, ...add].filter(Boolean).join(', '));
}

/**
 * onRequest hook answering CORS preflights (OPTIONS with Origin and Access-Control-Request-Method):
 * 204 with the allowed methods and headers for an origin on the allowlist, 403 for any other. A
 * preflight carries no token, so this hook must run before authentication; other requests pass.
 * {@link registerHardening} adds it.
 */
export function corsPreflightHook(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (req.method !== 'OPTIONS' || !origin || !req.headers['access-control-request-method']) return;
    if (!allowed.has(origin)) return answer(reply, HardeningErrors.originNotAllowed(origin));
    appendVary(reply, 'Origin', 'Access-Control-Request-Method', 'Access-Control-Request-Headers');
    return reply
      .code(204)
      .header('access-control-allow-origin', origin)
      .header('access-control-allow-methods', ALLOW_METHODS)
      .header('access-control-allow-headers', ALLOW_HEADERS)
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
      .send();
  };
}

/** A stack frame as V8 prints it: `at fn (/path/file.ts:1:2)`, `at file:///x.js:3:4`, `at node:…`. */
const STACK_FRAME = /\bat (?:async |new )?[^\s"'()]+ \([^()"]*:\d+:\d+\)|\bat (?:file:\/\/|node:|\/)[^\s"]*:\d+:\d+/;
/** Messages of the SQLite and PostgreSQL drivers that name tables, columns or stored values. */
const DRIVER_ERROR =
  /SQLITE_[A-Z]+|syntax error at or near|(?:relation|column) "[^"]*" does not exist|no such (?:table|column)|violates (?:unique|foreign key|not-null|check) constraint|duplicate key value/i;
const SQL_STATEMENT =
  /\b(?:select\b[^;]{0,300}?\bfrom|insert\s+into|update\s+\S+\s+set|delete\s+from|(?:create|drop|alter)\s+(?:table|index))\b/i;

/**
 * Whether an error response body shows internals. Client errors (4xx) legitimately echo the
 * client's own input (a search value may read like SQL), so only stack frames count there.
 */
export function leaksInternals(status: number, body: string): boolean {
  if (STACK_FRAME.test(body)) return true;
  return status >= 500 && (DRIVER_ERROR.test(body) || SQL_STATEMENT.test(body));
}

function bodyText(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  if (Buffer.isBuffer(payload)) return payload.toString('utf8');
  return undefined;
}

/**
 * Adds the hardening hooks to the root instance. Call it right after `Fastify(…)`, before any other
 * hook, so that the CORS preflight hook runs before authentication:
 * - onRequest: {@link corsPreflightHook};
 * - onSend: security headers on every response (no-store on `/fhir`: patient data; HSTS with TLS),
 *   CORS headers for allowlisted origins, and a guard that replaces an error body showing a stack
 *   trace or SQL with the generic 500 OperationOutcome, logging the original (CONVENTIONS §10).
 */
export function registerHardening(
  app: FastifyInstance,
  config: Pick<DxhubConfig, 'corsOrigins' | 'tlsCert' | 'tlsKey'>,
): void {
  const allowed = new Set(config.corsOrigins);
  const tls = Boolean(config.tlsCert && config.tlsKey);
  const preflight = corsPreflightHook(config.corsOrigins);
  app.addHook('onRequest', (req, reply, done) => {
    // Only a CORS preflight has anything to do here; everything else passes without a promise.
    if (req.method !== 'OPTIONS') return done();
    preflight(req, reply).then(() => {
      if (!reply.sent) done();
    }, done);
  });
  // The headers every response carries, set in one call (the hook runs on every response). JSON
  // (the API: FHIR, CDS Hooks, operations) gets the set the OWASP REST Security Cheat Sheet names
  // for API responses; headers that only act on documents (Referrer-Policy, COOP, a CSP for
  // pages) go with everything else, i.e. the web app's pages and assets.
  const both: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    ...(tls ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
  const api = { ...both, 'content-security-policy': API_CSP };
  const document = { ...both, 'referrer-policy': 'no-referrer', 'cross-origin-opener-policy': 'same-origin' };
  app.addHook('onSend', (req, reply, payload, done) => {
    let out = payload;
    const text = reply.statusCode >= 400 ? bodyText(payload) : undefined;
    if (text !== undefined && leaksInternals(reply.statusCode, text)) {
      req.log.error(
        { reqId: req.id, statusCode: reply.statusCode, body: maskCpr(text.slice(0, 4096)) },
        'error response withheld: it showed a stack trace or SQL',
      );
      const generic = Errors.internal(String(req.id));
      reply.code(Math.max(reply.statusCode, generic.status)).type(FHIR_JSON);
      out = JSON.stringify(toOperationOutcome(generic));
    }

    if (/json/i.test(String(reply.getHeader('content-type') ?? ''))) reply.headers(api);
    else {
      reply.headers(document);
      // A route serving the web UI may set a policy of its own.
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CSP);
    }
    if (req.url.startsWith('/fhir')) reply.header('cache-control', 'no-store');

    const origin = req.headers.origin;
    if (allowed.size > 0) appendVary(reply, 'Origin');
    if (origin && allowed.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', EXPOSE_HEADERS);
    } else {
      // No-cors embedding (<script>, <img>) from other sites; CORS requests are governed by CORS.
      reply.header('cross-origin-resource-policy', 'same-origin');
    }
    done(null, out);
  });
}

// ---------------------------------------------------------------------------------------------
// Rate limits

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained requests per minute per key; 0 turns the limiter off. */
  perMinute: number;
  /** Bucket size: requests a key may send at once after being idle (≥ 1 when on). */
  burst: number;
  /** Keys tracked at most; the least recently seen is forgotten first (default 10 000). */
  maxKeys?: number;
  /** Monotonic clock in milliseconds (default `performance.now`); tests pass a fake one. */
  now?: () => number;
}

/** The outcome of one {@link RateLimiter.take}. */
export interface RateDecision {
  allowed: boolean;
  /** The bucket size. */
  limit: number;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until one request is allowed again (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

/** An in-memory token bucket per key. */
export interface RateLimiter {
  readonly enabled: boolean;
  /** Takes one token from `key`'s bucket. */
  take(key: string): RateDecision;
  /** Keys currently tracked. */
  readonly size: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key, refilled continuously at `perMinute / 60` tokens a second up to `burst`.
 * The map holds at most `maxKeys` buckets; a forgotten key starts again with a full bucket, which
 * is what it would have after a long idle time anyway.
 */
export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  const { perMinute, burst } = opts;
  const maxKeys = opts.maxKeys ?? 10_000;
  const now = opts.now ?? (() => performance.now());
  const enabled = perMinute > 0;
  if (enabled && !(burst >= 1)) {
    throw new Error(`rate limit burst must be ≥ 1 when the rate is on (DXHUB_RATE_LIMIT_BURST is ${burst})`);
  }
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();
  return {
    enabled,
    get size() {
      return buckets.size;
    },
    take(key) {
      if (!enabled) return { allowed: true, limit: 0, remaining: 0, retryAfterSeconds: 0, resetSeconds: 0 };
      const t = now();
      let bucket = buckets.get(key);
      if (bucket) {
        // Re-inserted below, so the map's order is least recently seen first.
        buckets.delete(key);
        bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, t - bucket.at) * perMs);
        bucket.at = t;
      } else {
        if (buckets.size >= maxKeys) {
          const oldest = buckets.keys().next().value;
          if (oldest !== undefined) buckets.delete(oldest);
        }
        bucket = { tokens: burst, at: t };
      }
      buckets.set(key, bucket);
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      return {
        allowed,
        limit: burst,
        remaining: Math.floor(bucket.tokens),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
        resetSeconds: Math.ceil((burst - bucket.tokens) / perMs / 1000),
      };
    },
  };
}

/**
 * onRequest hook limiting each principal (set on `req.principal` by authentication, which must run
 * first) or, before login, each client IP. Adds RateLimit-Limit/-Remaining/-Reset
 * (draft-ietf-httpapi-ratelimit-headers) and answers an exhausted bucket with 429, Retry-After and
 * an OperationOutcome (code `throttled`).
 */
export function rateLimitHook(limiter: RateLimiter) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!limiter.enabled) return;
    const subject = (req as { principal?: { subject: string } }).principal?.subject;
    // Prefixed, so that a subject spelled like an IP address never shares that IP's bucket.
    const d = limiter.take(subject !== undefined ? `sub:${subject}` : `ip:${req.ip}`);
    reply.header('ratelimit-limit', String(d.limit));
    reply.header('ratelimit-remaining', String(d.remaining));
    reply.header('ratelimit-reset', String(d.resetSeconds));
    if (d.allowed) return;
    reply.header('retry-after', String(d.retryAfterSeconds));
    return answer(reply, HardeningErrors.throttled(d.retryAfterSeconds));
  };
}
