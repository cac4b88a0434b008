import { Errors, FhirError, toOperationOutcome } from '../core/fhir/errors.ts';
import { forEachReference } from '../core/fhir/references.ts';
import { newResourceId } from '../core/fhir/resource-id.ts';
import { classifyFhirRequest } from '../core/security/fhir-interaction.ts';
import type { Resource, WriteContext, WriteResult } from '../store/repository.ts';
import {
  assertType,
  type FhirResponse,
  type FhirService,
  parseIfMatch,
  type RequestContext,
  validateBody,
  versionHeaders,
} from './fhir-service.ts';
import { applyJsonPatch } from './json-patch.ts';

interface Entry {
  fullUrl?: string;
  resource?: Resource;
  request?: { method?: string; url?: string; ifNoneExist?: string; ifMatch?: string };
}

interface ResponseEntry {
  status: string;
  location?: string;
  etag?: string;
  lastModified?: string;
  resource?: string;
  outcome?: unknown;
}

/** Processing order inside a transaction (FHIR R4 §3.1.0.11.2): DELETE, POST, PUT/PATCH, GET. */
const ORDER: Record<string, number> = { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 };

function splitUrl(url: string): { path: string[]; query: string | undefined; rel: string } {
  const rel = url.replace(/^https?:\/\/[^/]+(\/[^?]*?)?\/fhir\//, '').replace(/^\//, '');
  const q = rel.indexOf('?');
  return {
    path: (q >= 0 ? rel.slice(0, q) : rel).split('/').filter(Boolean),
    query: q >= 0 ? rel.slice(q + 1) : undefined,
    rel,
  };
}

const statusText: Record<number, string> = { 200: '200 OK', 201: '201 Created', 204: '204 No Content' };

function writeEntry(r: WriteResult, status: number, ctx: RequestContext): ResponseEntry {
  return {
    status: statusText[status] ?? String(status),
    location: `${r.type}/${r.id}/_history/${r.version}`,
    etag: `W/"${r.version}"`,
    lastModified: new Date(r.lastUpdated).toISOString(),
    resource: ctx.prefer === 'representation' ? r.json : undefined,
  };
}

/**
 * Replaces references that point at other entries' fullUrls or at conditional queries. The walk is
 * synchronous; only conditional references, which need a search, are resolved afterwards.
 */
async function rewriteReferences(
  svc: FhirService,
  w: WriteContext,
  value: unknown,
  ids: Map<string, string>,
): Promise<void> {
  const conditional: Record<string, unknown>[] = [];
  forEachReference(value, (holder, x) => {
    const mapped = ids.get(x);
    if (mapped) holder.reference = mapped;
    else if (x.startsWith('urn:uuid:') || x.startsWith('urn:oid:')) {
      throw Errors.invalidBundle(`reference '${x}' does not match the fullUrl of any entry`);
    } else if (/^[A-Z][A-Za-z]+\?/.test(x)) conditional.push(holder);
  });
  for (const obj of conditional) {
    const v = obj.reference as string;
    const q = v.indexOf('?');
    const type = v.slice(0, q);
    assertType(type);
    const found = await svc.conditionalMatch(type, v.slice(q + 1), w, false);
    if (!found) throw Errors.preconditionFailed(`Conditional reference '${v}' matches no ${type}`);
    obj.reference = `${type}/${found.id}`;
  }
}

/** Processes a transaction atomically: all entries succeed and commit, or nothing is written. */
async function transaction(svc: FhirService, entries: Entry[], ctx: RequestContext): Promise<ResponseEntry[]> {
  // Every entry is authorised before anything is written (FHIR R4 §3.1.0.11: as separate requests).
  if (ctx.guard) {
    for (const [i, e] of entries.entries()) {
      const method = (e.request?.method ?? '').toUpperCase();
      const c = classifyFhirRequest(method, splitUrl(e.request?.url ?? '').rel);
      // A malformed request line fails below with its own error.
      if (!('kind' in c)) continue;
      if (c.kind === 'interaction') {
        try {
          ctx.guard.permit(c.resourceType, c.interaction);
        } catch (err) {
          throw err instanceof FhirError ? Errors.transactionFailed(i, err) : err;
        }
      } else {
        throw Errors.transactionFailed(
          i,
          Errors.forbidden(`${method} ${e.request?.url} is not allowed in a transaction`),
        );
      }
    }
  }
  return svc.repo.transaction(async (w) => {
    const ids = new Map<string, string>();
    const plan: {
      i: number;
      e: Entry;
      method: string;
      type: string;
      id?: string;
      existing?: boolean;
      query?: string;
    }[] = [];
    for (const [i, e] of entries.entries()) {
      const method = (e.request?.method ?? '').toUpperCase();
      const url = e.request?.url;
      if (!(method in ORDER) || !url)
        throw Errors.invalidBundle('each entry needs request.method and request.url', `Bundle.entry[${i}].request`);
      const { path, query } = splitUrl(url);
      const type = path[0] ?? '';
      try {
        assertType(type);
      } catch (err) {
        throw Errors.transactionFailed(i, err as FhirError);
      }
      const step: (typeof plan)[number] = { i, e, method, type, id: path[1], query };
      if (method === 'POST') {
        if (e.request?.ifNoneExist) {
          await w.tx.lock(`${type}?${e.request.ifNoneExist}`);
          const found = await svc.conditionalMatch(type, e.request.ifNoneExist, w, true);
          if (found) {
            step.id = found.id;
            step.existing = true;
          }
        }
        step.id ??= newResourceId();
      } else if (method === 'PUT' && query !== undefined) {
        await w.tx.lock(`${type}?${query}`);
        const found = await svc.conditionalMatch(type, query, w, false);
        step.id = found?.id ?? e.resource?.id ?? newResourceId();
      }
      if (e.fullUrl && step.id && (method === 'POST' || method === 'PUT')) ids.set(e.fullUrl, `${type}/${step.id}`);
      plan.push(step);
    }
    const out: ResponseEntry[] = new Array(entries.length);
    const ordered = [...plan].sort((a, b) => ORDER[a.method]! - ORDER[b.method]!);
    for (const step of ordered) {
      try {
        out[step.i] = await transactionStep(svc, w, step, ids, ctx);
      } catch (err) {
        if (err instanceof FhirError) throw Errors.transactionFailed(step.i, err);
        throw err;
      }
    }
    return out;
  }, ctx.guard);
}

async function transactionStep(
  svc: FhirService,
  w: WriteContext,
  step: { e: Entry; method: string; type: string; id?: string; existing?: boolean; query?: string },
  ids: Map<string, string>,
  ctx: RequestContext,
): Promise<ResponseEntry> {
  const { e, method, type } = step;
  const repo = svc.repo;
  switch (method) {
    case 'DELETE': {
      let id = step.id;
      if (!id && step.query) id = (await svc.conditionalMatch(type, step.query, w, false))?.id;
      const r = id ? await repo.delete(w, type, id, { ifMatch: parseIfMatch(e.request?.ifMatch) }) : undefined;
      return { status: '204 No Content', etag: r ? `W/"${r.version}"` : undefined };
    }
    case 'POST': {
      if (step.existing) {
        const cur = await repo.read(type, step.id!, w);
        return {
          status: '200 OK',
          location: `${type}/${step.id}/_history/${cur!.version}`,
          etag: `W/"${cur!.version}"`,
        };
      }
      const resource = validateBody(e.resource, type);
      await rewriteReferences(svc, w, resource, ids);
      const r = await repo.put(w, { ...resource, id: step.id }, { fresh: true });
      return writeEntry(r, 201, ctx);
    }
    case 'PUT': {
      const resource = validateBody(e.resource, type);
      if (step.query === undefined && resource.id !== step.id) throw Errors.idMismatch(step.id ?? '', resource.id);
      await rewriteReferences(svc, w, resource, ids);
      const r = await repo.put(w, { ...resource, id: step.id }, { ifMatch: parseIfMatch(e.request?.ifMatch) });
      return writeEntry(r, r.created ? 201 : 200, ctx);
    }
    case 'PATCH': {
      if (!step.id) throw Errors.badRequest('PATCH in a Bundle needs Type/id');
      const cur = await repo.read(type, step.id, w);
      if (!cur?.json || cur.deleted) throw Errors.notFound(type, step.id);
      const body = e.resource as unknown as { resourceType?: string; parameter?: unknown };
      const ops =
        body && body.resourceType === 'Binary'
          ? JSON.parse(Buffer.from(String((body as { data?: string }).data ?? ''), 'base64').toString())
          : body;
      const patched = applyJsonPatch(JSON.parse(cur.json), ops) as Resource;
      validateBody(patched, type);
      const r = await repo.put(w, patched, { ifMatch: parseIfMatch(e.request?.ifMatch) ?? cur.version });
      return writeEntry(r, 200, ctx);
    }
    default: {
      const v = step.id ? await repo.read(type, step.id, w) : undefined;
      if (!v?.json) throw Errors.notFound(type, step.id ?? '');
      const json = ctx.guard ? await ctx.guard.reveal('read', type, step.id!, v.json, w, v.patient) : v.json;
      return { status: '200 OK', etag: versionHeaders(v).ETag, resource: json };
    }
  }
}

/** Processes a batch: each entry on its own; failures become entry outcomes. */
async function batch(svc: FhirService, entries: Entry[], ctx: RequestContext): Promise<ResponseEntry[]> {
  const out: ResponseEntry[] = [];
  for (const [i, e] of entries.entries()) {
    try {
      const method = (e.request?.method ?? '').toUpperCase();
      const url = e.request?.url;
      if (!(method in ORDER) || !url)
        throw Errors.invalidBundle('each entry needs request.method and request.url', `Bundle.entry[${i}].request`);
      const { path, query } = splitUrl(url);
      const [type = '', id, hist, vid] = path;
      let res: FhirResponse;
      if (method === 'GET' || method === 'HEAD') {
        if (!id) res = await svc.search(type, [...new URLSearchParams(query ?? '')] as [string, string][], ctx);
        else if (hist === '_history' && vid) res = await svc.vread(type, id, vid, ctx);
        else res = await svc.read(type, id, ctx);
      } else if (method === 'POST') res = await svc.create(type, e.resource, ctx, e.request?.ifNoneExist);
      else if (method === 'PUT') {
        res =
          query !== undefined
            ? await svc.conditionalUpdate(type, query, e.resource, ctx)
            : await svc.update(type, id ?? '', e.resource, ctx, e.request?.ifMatch);
      } else if (method === 'PATCH') res = await svc.patch(type, id ?? '', e.resource, ctx, e.request?.ifMatch);
      else
        res =
          query !== undefined
            ? await svc.conditionalDelete(type, query, ctx)
            : await svc.delete(type, id ?? '', e.request?.ifMatch, ctx);
      out.push({
        status: statusText[res.status] ?? String(res.status),
        location: res.headers?.Location?.replace(`${ctx.baseUrl}/`, ''),
        etag: res.headers?.ETag,
        resource: ctx.prefer === 'representation' || method === 'GET' ? res.body : undefined,
      });
    } catch (err) {
      if (!(err instanceof FhirError)) throw err;
      out.push({ status: String(err.status), outcome: toOperationOutcome(err) });
    }
  }
  return out;
}

/** `POST /fhir` with a batch or transaction Bundle (R4 §3.1.0.11). */
export async function processBundle(
  svc: FhirService,
  body: unknown,
  ctx: RequestContext,
): Promise<{ status: number; body: string }> {
  const b = body as { resourceType?: string; type?: string; entry?: unknown };
  if (b?.resourceType !== 'Bundle') throw Errors.badRequest('POST to the base URL takes a Bundle');
  if (b.type !== 'batch' && b.type !== 'transaction')
    throw Errors.invalidBundle(`type must be batch or transaction, not '${String(b.type)}'`, 'Bundle.type');
  if (b.entry !== undefined && !Array.isArray(b.entry))
    throw Errors.invalidBundle('entry must be an array', 'Bundle.entry');
  const entries = (b.entry ?? []) as Entry[];
  const result = b.type === 'transaction' ? await transaction(svc, entries, ctx) : await batch(svc, entries, ctx);
  const parts = result.map((r) => {
    const { resource, outcome, ...response } = r;
    const res = JSON.stringify({ ...response, ...(outcome ? { outcome } : {}) });
    return `{${resource ? `"resource":${resource},` : ''}"response":${res}}`;
  });
  return {
    status: 200,
    body: `{"resourceType":"Bundle","type":"${b.type}-response","entry":[${parts.join(',')}]}`,
  };
}
