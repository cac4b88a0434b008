import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/** One request to send: generated afresh for every request of every connection. */
export interface NextRequest {
  readonly path: string;
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly body?: string;
  /** Headers of this request on top of the defaults (e.g. another principal's token). */
  readonly headers?: Record<string, string>;
}

/** The slice of autocannon's request object that `setupRequest` mutates. */
interface CannonRequest {
  method: string;
  path: string;
  body?: string | Buffer;
  headers: Record<string, string>;
}

/** The slice of autocannon's options and results that the bench uses (autocannon ships no types). */
interface CannonOptions {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  headers: Record<string, string>;
  requests: { setupRequest: (req: CannonRequest) => CannonRequest }[];
}
interface CannonResult {
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: CannonOptions, cb: (err: Error | null, result: CannonResult) => void) => EventEmitter;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

/** What a closed-loop load run measured (latencies in ms over all responses, 2xx or not). */
export interface LoadResult {
  readonly responses: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly statuses: Record<string, number>;
}

/** The q-quantile (0…1) of sorted values, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Drives `baseUrl` with `connections` keep-alive HTTP/1.1 connections for `seconds` (closed loop:
 * each connection sends its next request when the previous response arrived). `next` chooses
 * each request's path and body.
 */
/**
 * Headers every benchmark request carries: `startServer` sets `authorization` to a token of the
 * server's embedded issuer (an integration account unless a scenario swaps it).
 */
export const defaultHeaders: Record<string, string> = {};

export function runLoad(opts: {
  baseUrl: string;
  connections: number;
  seconds: number;
  next: () => NextRequest;
  /** At most this many requests per second over all connections (default: as fast as answered). */
  overallRate?: number;
}): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let ok = 0;
  const statuses: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const instance = autocannon(
      {
        url: opts.baseUrl,
        connections: opts.connections,
        duration: opts.seconds,
        timeout: 30,
        ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
        headers: { accept: 'application/fhir+json', 'content-type': 'application/fhir+json', ...defaultHeaders },
        requests: [
          {
            setupRequest: (req) => {
              const r = opts.next();
              req.path = r.path;
              req.method = r.method ?? 'GET';
              req.body = r.body;
              if (r.headers) req.headers = { ...req.headers, ...r.headers };
              return req;
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = (performance.now() - t0) / 1000;
        const sorted = latencies.slice(0, n).sort();
        resolve({
          responses: n,
          ok,
          non2xx: n - ok,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds,
          perSecond: n / seconds,
          p50: quantile(sorted, 0.5),
          p95: quantile(sorted, 0.95),
          p99: quantile(sorted, 0.99),
          statuses,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[n++] = ms;
      if (status >= 200 && status < 300) ok++;
      statuses[status] = (statuses[status] ?? 0) + 1;
    });
  });
}

/** A JSON request over `fetch` (undici keeps connections alive), failing on non-2xx. */
export async function fetchJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const r = await fetch(url, {
    ...init,
    headers: {
      accept: 'application/fhir+json',
      'content-type': 'application/fhir+json',
      ...defaultHeaders,
      ...init.headers,
    },
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${r.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
