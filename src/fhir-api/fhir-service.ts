import { isResourceType } from '../core/fhir/definitions.ts';
import { Errors, FhirError, infoOutcome } from '../core/fhir/errors.ts';
import { parseSearchRequest, type SearchRequest } from '../core/fhir/search-request.ts';
import { getValidator } from '../core/fhir/validator/index.ts';
import type { FhirRepository, Resource, StoredVersion, WriteContext, WriteResult } from '../store/repository.ts';
import type { AccessGuard } from './access-guard.ts';
import { applyJsonPatch } from './json-patch.ts';
import { renderSearchBundle } from './search-bundle.ts';

/** A protocol-neutral response: the HTTP layer only copies it onto the wire. */
export interface FhirResponse {
  status: number;
  /** JSON text of the body. */
  body?: string;
  headers?: Record<string, string>;
}

/** `Prefer: return=` (FHIR R4 §3.1.0.8.1). */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** Per-request context: the server base URL for links, and the client's preferences. */
export interface RequestContext {
  baseUrl: string;
  prefer: ReturnPreference;
  lenient: boolean;
  /** Access control and audit of the request's principal; absent for internal callers (system). */
  guard?: AccessGuard;
}

/** The context of an internal caller (no principal: acts as the system). */
export const INTERNAL: RequestContext = { baseUrl: '', prefer: 'representation', lenient: false };

const json = (v: unknown) => JSON.stringify(v);

/** ETag and Last-Modified of a stored version. */
export function versionHeaders(v: { version: number; lastUpdated: number }): Record<string, string> {
  return { ETag: `W/"${v.version}"`, 'Last-Modified': new Date(v.lastUpdated).toUTCString() };
}

/** Parses `If-Match: W/"3"` (or `"3"`, `3`) to a version number. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined || header === '') return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!m) throw Errors.badRequest(`Invalid If-Match header '${header}': expected W/"<version>"`);
  return Number(m[1]);
}

/** Checks the resource type of a URL. */
export function assertType(type: string): void {
  if (!isResourceType(type)) throw Errors.unknownType(type);
}

/** Validates a resource body for a write against the R4 base definitions. */
export function validateBody(body: unknown, type: string | undefined): Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw Errors.badRequest('The body must be a FHIR resource (a JSON object)');
  const r = body as Resource;
  if (type !== undefined && r.resourceType !== type) throw Errors.typeMismatch(type, r.resourceType);
  if (typeof r.resourceType !== 'string' || !isResourceType(r.resourceType)) {
    throw Errors.badRequest(`Unknown resourceType '${String(r.resourceType)}'`, 'resourceType');
  }
  const issues = getValidator()
    .validate(r)
    .filter((i) => i.severity === 'error');
  if (issues.length > 0) {
    throw Errors.invalidResource(
      issues.map((i) => ({ severity: 'error', code: i.code, diagnostics: i.diagnostics, expression: [i.expression] })),
    );
  }
  return r;
}

/**
 * The FHIR RESTful interactions (R4 §3.1.0) on a {@link FhirRepository}. Each takes plain data
 * and returns a {@link FhirResponse}; nothing here knows HTTP.
 */
export class FhirService {
  readonly repo: FhirRepository;
  constructor(repo: FhirRepository) {
    this.repo = repo;
  }

  /** The response for a write, honouring `Prefer: return=`. */
  writeResponse(r: WriteResult, ctx: RequestContext, status: number): FhirResponse {
    const headers: Record<string, string> = {
      ...versionHeaders(r),
      Location: `${ctx.baseUrl}/${r.type}/${r.id}/_history/${r.version}`,
    };
    if (ctx.prefer === 'minimal') return { status, headers };
    if (ctx.prefer === 'OperationOutcome') {
      return { status, headers, body: json(infoOutcome(`${r.created ? 'Created' : 'Updated'} ${r.type}/${r.id}`)) };
    }
    return { status, headers, body: r.json };
  }

  async read(type: string, id: string, ctx: RequestContext = INTERNAL): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'read');
    const v = await this.repo.read(type, id);
    return this.reveal(this.versionResponse(type, id, v), 'read', type, id, ctx, v?.patient);
  }

  async vread(type: string, id: string, vid: string, ctx: RequestContext = INTERNAL): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'vread');
    if (!/^\d+$/.test(vid)) throw Errors.versionNotFound(type, id, vid);
    const v = await this.repo.vread(type, id, Number(vid));
    if (!v) throw Errors.versionNotFound(type, id, vid);
    return this.reveal(this.versionResponse(type, id, v), 'vread', type, id, ctx);
  }

  private async reveal(
    r: FhirResponse,
    interaction: 'read' | 'vread',
    type: string,
    id: string,
    ctx: RequestContext,
    patientKey?: string | null,
  ): Promise<FhirResponse> {
    if (!ctx.guard || r.body === undefined) return r;
    return { ...r, body: await ctx.guard.reveal(interaction, type, id, r.body, undefined, patientKey) };
  }

  private versionResponse(type: string, id: string, v: StoredVersion | undefined): FhirResponse {
    if (!v) throw Errors.notFound(type, id);
    if (v.deleted || !v.json) throw new FhirError(410, Errors.gone(type, id).issues);
    return { status: 200, body: v.json, headers: versionHeaders(v) };
  }

  async create(type: string, body: unknown, ctx: RequestContext, ifNoneExist?: string): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'create');
    const resource = validateBody(body, type);
    if (ifNoneExist) {
      const found = await this.conditionalMatch(type, ifNoneExist, undefined, true);
      if (found) {
        const json = ctx.guard ? await ctx.guard.reveal('read', type, found.id, found.json) : found.json;
        return { status: 200, body: ctx.prefer === 'minimal' ? undefined : json, headers: versionHeaders(found) };
      }
    }
    const r = await this.repo.transaction(async (w) => {
      if (ifNoneExist) {
        // Re-check inside the transaction under a lock on the condition: no duplicate from a race.
        await w.tx.lock(`${type}?${ifNoneExist}`);
        const again = await this.conditionalMatch(type, ifNoneExist, w, true);
        if (again)
          return { ...again, json: again.json, created: false, unchanged: true, type, id: again.id } as WriteResult;
      }
      const { id: _ignored, ...rest } = resource;
      return this.repo.put(w, { ...rest, resourceType: type } as Resource, { fresh: true });
    }, ctx.guard);
    if (!r.created)
      return { status: 200, body: ctx.prefer === 'minimal' ? undefined : r.json, headers: versionHeaders(r) };
    return this.writeResponse(r, ctx, 201);
  }

  async update(type: string, id: string, body: unknown, ctx: RequestContext, ifMatch?: string): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'update');
    const resource = validateBody(body, type);
    if (resource.id !== id) throw Errors.idMismatch(id, resource.id);
    const version = parseIfMatch(ifMatch);
    const r = await this.repo.transaction((w) => this.repo.put(w, resource, { ifMatch: version }), ctx.guard);
    return this.writeResponse(r, ctx, r.created ? 201 : 200);
  }

  /** `PUT Type?query`: update the one match, create when none, 412 when several (R4 §3.1.0.4.3). */
  async conditionalUpdate(type: string, query: string, body: unknown, ctx: RequestContext): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'update');
    const resource = validateBody(body, type);
    const r = await this.repo.transaction(async (w) => {
      await w.tx.lock(`${type}?${query}`);
      const found = await this.conditionalMatch(type, query, w, false);
      if (found) {
        if (resource.id !== undefined && resource.id !== found.id) throw Errors.idMismatch(found.id, resource.id);
        return this.repo.put(w, { ...resource, id: found.id });
      }
      return this.repo.put(w, resource);
    }, ctx.guard);
    return this.writeResponse(r, ctx, r.created ? 201 : 200);
  }

  /** Finds the single match of a conditional query; throws 412 on several. */
  async conditionalMatch(
    type: string,
    query: string,
    w: WriteContext | undefined,
    createMode: boolean,
  ): Promise<{ id: string; version: number; lastUpdated: number; json: string } | undefined> {
    const params = [...new URLSearchParams(query)] as [string, string][];
    if (params.length === 0) throw Errors.badRequest('A conditional interaction needs search parameters');
    const req = parseSearchRequest(type, params);
    req.count = 2;
    const page = await this.repo.search(req, w);
    if (page.matches.length > 1) {
      throw Errors.preconditionFailed(
        `${createMode ? 'If-None-Exist' : 'Conditional'} criteria '${query}' match more than one ${type}`,
      );
    }
    const m = page.matches[0];
    if (!m) return undefined;
    const r = JSON.parse(m.json) as Resource;
    const meta = r.meta as { versionId: string; lastUpdated: string };
    return { id: r.id!, version: Number(meta.versionId), lastUpdated: Date.parse(meta.lastUpdated), json: m.json };
  }

  async patch(type: string, id: string, ops: unknown, ctx: RequestContext, ifMatch?: string): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'patch');
    const version = parseIfMatch(ifMatch);
    const r = await this.repo.transaction(async (w) => {
      await w.tx.lock(`${type}/${id}`);
      const cur = await this.repo.read(type, id, w);
      if (!cur) throw Errors.notFound(type, id);
      if (cur.deleted || !cur.json) throw Errors.gone(type, id);
      if (version !== undefined && version !== cur.version) throw Errors.versionConflict(String(version), cur.version);
      const patched = applyJsonPatch(JSON.parse(cur.json), ops) as Resource;
      if (patched?.resourceType !== type || patched.id !== id)
        throw Errors.invalidPatch('the patch may not change resourceType or id');
      validateBody(patched, type);
      return this.repo.put(w, patched, { ifMatch: cur.version });
    }, ctx.guard);
    return this.writeResponse(r, ctx, 200);
  }

  async delete(type: string, id: string, ifMatch?: string, ctx: RequestContext = INTERNAL): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'delete');
    const version = parseIfMatch(ifMatch);
    const r = await this.repo.transaction((w) => this.repo.delete(w, type, id, { ifMatch: version }), ctx.guard);
    return {
      status: 200,
      body: json(infoOutcome(r ? `Deleted ${type}/${id}` : `${type}/${id} did not exist or was already deleted`)),
      headers: r ? { ETag: `W/"${r.version}"` } : {},
    };
  }

  /** `DELETE Type?query`: deletes the single match (412 when several). */
  async conditionalDelete(type: string, query: string, ctx: RequestContext = INTERNAL): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'delete');
    const r = await this.repo.transaction(async (w) => {
      const found = await this.conditionalMatch(type, query, w, false);
      if (!found) return undefined;
      return this.repo.delete(w, type, found.id);
    }, ctx.guard);
    return { status: 200, body: json(infoOutcome(r ? `Deleted ${type}/${r.id}` : 'No match: nothing deleted')) };
  }

  async search(type: string, params: [string, string][], ctx: RequestContext): Promise<FhirResponse> {
    assertType(type);
    ctx.guard?.permit(type, 'search-type');
    const req: SearchRequest = parseSearchRequest(type, params, ctx.lenient);
    ctx.guard?.narrowSearch(req);
    const page = await this.repo.search(req);
    const body = await renderSearchBundle(this.repo, req, page, params, ctx.baseUrl, ctx.guard);
    return { status: 200, body };
  }

  async history(type: string | undefined, id: string | undefined, params: [string, string][], ctx: RequestContext) {
    if (type) assertType(type);
    ctx.guard?.permit(type ?? '*', id ? 'history-instance' : type ? 'history-type' : 'history-system');
    let count = 50;
    let since: number | undefined;
    let before: number | undefined;
    for (const [k, v] of params) {
      if (k === '_count') {
        count = Number(v);
        if (!Number.isInteger(count) || count < 1) throw Errors.invalidSearchValue(k, v, 'expected a positive integer');
        count = Math.min(count, 1000);
      } else if (k === '_since') {
        since = Date.parse(v);
        if (Number.isNaN(since)) throw Errors.invalidSearchValue(k, v, 'expected an instant');
      } else if (k === '_page') {
        before = Number(v);
        if (!Number.isInteger(before)) throw Errors.invalidSearchValue(k, v, 'not a page token of this server');
      } else if (k !== '_format' && !ctx.lenient) throw Errors.unknownSearchParam('history', k);
    }
    if (type && id) {
      const cur = await this.repo.read(type, id);
      if (!cur) throw Errors.notFound(type, id);
    }
    const entries = await this.repo.history({ type, id, since, before, count: count + 1 });
    let page = entries.slice(0, count);
    if (ctx.guard) {
      // Deleted versions carry no content: only type and id, which the stub shows to the guard.
      const texts = page.map((e) => e.json ?? JSON.stringify({ resourceType: e.type, id: e.id }));
      const shown = await ctx.guard.screen(texts);
      await ctx.guard.auditSearch(`${[type, id, '_history'].filter(Boolean).join('/')}`);
      page = page.flatMap((e, i) => {
        const text = shown[i];
        return text === undefined ? [] : [e.json ? { ...e, json: text } : e];
      });
    }
    const path = [type, id, '_history'].filter(Boolean).join('/');
    const links = [{ relation: 'self', url: `${ctx.baseUrl}/${path}` }];
    if (entries.length > count) {
      const q = new URLSearchParams(params.filter(([k]) => k !== '_page'));
      q.set('_page', String(page[page.length - 1]!.seq));
      links.push({ relation: 'next', url: `${ctx.baseUrl}/${path}?${q}` });
    }
    const parts = page.map((e) => {
      const method = e.interaction === 'create' ? 'POST' : e.interaction === 'update' ? 'PUT' : 'DELETE';
      const status = e.interaction === 'create' ? '201 Created' : e.interaction === 'update' ? '200 OK' : '410 Gone';
      const url = e.interaction === 'create' ? e.type : `${e.type}/${e.id}`;
      const meta = `"request":${json({ method, url })},"response":${json({ status, etag: `W/"${e.version}"`, lastModified: new Date(e.lastUpdated).toISOString() })}`;
      return `{"fullUrl":${json(`${ctx.baseUrl}/${e.type}/${e.id}`)}${e.json ? `,"resource":${e.json}` : ''},${meta}}`;
    });
    return {
      status: 200,
      body: `{"resourceType":"Bundle","type":"history","link":${json(links)},"entry":[${parts.join(',')}]}`,
    };
  }
}
