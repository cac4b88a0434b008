/**
 * HTTP to dxhub: every call carries the user's bearer token, can be cancelled (AbortSignal), and
 * turns a FHIR OperationOutcome into an `ApiError` with the server's message.
 */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
  /** A refusal the user can override with værdispring (no treatment relation, or a block). */
  get overridable(): boolean {
    return this.status === 403 && /treatment relation|blocked|spærr|42 a/i.test(this.message);
  }
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly method?: string;
  /** `X-Vaerdispring` value when the user gave a reason. */
  readonly vaerdispring?: string;
  readonly body?: string;
  /** `Accept-Language` (e.g. the CDS Hooks cards' language). */
  readonly lang?: string;
}

let token: string | undefined;
/** Sets the token every call carries (undefined: signed out). */
export function setToken(value: string | undefined): void {
  token = value;
}

let unauthorized: (() => void) | undefined;
/** Called when the server refuses the token (401: expired or revoked): the app signs out. */
export function onUnauthorized(handler: (() => void) | undefined): void {
  unauthorized = handler;
}

export async function call<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    signal: opts.signal,
    headers: {
      accept: 'application/fhir+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(opts.vaerdispring ? { 'x-vaerdispring': opts.vaerdispring } : {}),
      ...(opts.lang ? { 'accept-language': opts.lang } : {}),
      ...(opts.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body ? { body: opts.body } : {}),
  });
  const text = await res.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const outcome = body as OperationOutcome | { error_description?: string } | undefined;
    const message =
      (outcome && 'issue' in outcome && outcome.issue?.map((i) => i.diagnostics ?? i.code).join('; ')) ||
      (outcome && 'error_description' in outcome && outcome.error_description) ||
      `${res.status} ${res.statusText}`;
    // A token that was sent and refused: the session is over, whatever screen asked.
    if (res.status === 401 && token) unauthorized?.();
    throw new ApiError(res.status, String(message));
  }
  return body as T;
}

export interface SearchResult<T extends Resource> {
  readonly matches: T[];
  readonly included: Resource[];
  /** Server notes in the Bundle (e.g. "n result(s) withheld: no current treatment relation"). */
  readonly notes: string[];
  readonly total?: number;
}

/** A FHIR search: matches, `_include`/`_revinclude`d resources and the server's notes. */
export async function search<T extends Resource>(path: string, opts: CallOptions = {}): Promise<SearchResult<T>> {
  const bundle = await call<Bundle>(path, opts);
  const matches: T[] = [];
  const included: Resource[] = [];
  const notes: string[] = [];
  for (const e of bundle.entry ?? []) {
    if (!e.resource) continue;
    if (e.search?.mode === 'outcome' || e.resource.resourceType === 'OperationOutcome') {
      for (const i of (e.resource as OperationOutcome).issue ?? []) if (i.diagnostics) notes.push(i.diagnostics);
    } else if (e.search?.mode === 'include') included.push(e.resource);
    else matches.push(e.resource as T);
  }
  return { matches, included, notes, ...(bundle.total !== undefined ? { total: bundle.total } : {}) };
}

/** True when a search's notes say results were withheld for want of a treatment relation. */
export const withheldForRelation = (notes: readonly string[]) => notes.some((n) => /withheld/i.test(n));
