import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import type { AccessGuard } from '../fhir-api/access-guard.ts';
import { processBundle } from '../fhir-api/bundle.ts';
import { capabilityStatement } from '../fhir-api/capability-statement.ts';
import type { FhirResponse, FhirService, RequestContext, ReturnPreference } from '../fhir-api/fhir-service.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** The FHIR base of links: the configured one, or the request's own scheme and host. */
export function baseOf(req: FastifyRequest, baseUrl: string | undefined): string {
  return baseUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}/fhir`;
}

/** The access guard of a request (`Access.guard`); `undefined` only in the benchmark build without access control. */
export type GuardOf = (req: FastifyRequest) => AccessGuard | undefined;

function preferences(req: FastifyRequest, baseUrl: string | undefined, guardOf: GuardOf): RequestContext {
  const prefer = String(req.headers.prefer ?? '');
  const ret = /return=(minimal|representation|OperationOutcome)/.exec(prefer)?.[1] as ReturnPreference | undefined;
  return {
    baseUrl: baseOf(req, baseUrl),
    prefer: ret ?? 'representation',
    lenient: /handling=lenient/.test(prefer),
    guard: guardOf(req),
  };
}

function queryPairs(req: FastifyRequest): [string, string][] {
  const q = req.url.indexOf('?');
  return q < 0 ? [] : ([...new URLSearchParams(req.url.slice(q + 1))] as [string, string][]);
}

function queryString(req: FastifyRequest): string {
  const q = req.url.indexOf('?');
  return q < 0 ? '' : req.url.slice(q + 1);
}

function send(reply: FastifyReply, interaction: string, r: FhirResponse): FastifyReply {
  reply.request.interaction = interaction;
  reply.code(r.status);
  for (const [k, v] of Object.entries(r.headers ?? {})) reply.header(k, v);
  if (r.body === undefined) return reply.send();
  return reply.type(FHIR_JSON).send(r.body);
}

type P = { type: string; id: string; vid: string };

/** The FHIR REST API (R4 §3.1.0) at `/fhir`: Fastify only translates to {@link FhirService}. */
export async function fhirRoutes(
  app: FastifyInstance,
  opts: { service: FhirService; baseUrl: string | undefined; guardOf: GuardOf },
) {
  const svc = opts.service;
  const ctx = (req: FastifyRequest) => preferences(req, opts.baseUrl, opts.guardOf);
  const base = (req: FastifyRequest) => baseOf(req, opts.baseUrl);
  const body = (req: FastifyRequest) => req.body;

  // Public (FHIR R4 http.html §3.1.0.13; SMART clients read it before they have a token).
  app.get('/fhir/metadata', { config: { public: true } }, async (req, reply) =>
    send(reply, 'capabilities', { status: 200, body: capabilityStatement(base(req)) }),
  );
  app.post('/fhir', async (req, reply) => {
    const b = body(req) as { type?: string };
    return send(reply, b?.type === 'transaction' ? 'transaction' : 'batch', await processBundle(svc, b, ctx(req)));
  });
  app.get('/fhir/_history', async (req, reply) =>
    send(reply, 'history-system', await svc.history(undefined, undefined, queryPairs(req), ctx(req))),
  );
  app.get<{ Params: P }>('/fhir/:type', async (req, reply) =>
    send(reply, 'search-type', await svc.search(req.params.type, queryPairs(req), ctx(req))),
  );
  app.post<{ Params: P }>('/fhir/:type/_search', async (req, reply) => {
    const form = typeof req.body === 'string' ? ([...new URLSearchParams(req.body)] as [string, string][]) : [];
    return send(reply, 'search-type', await svc.search(req.params.type, [...queryPairs(req), ...form], ctx(req)));
  });
  app.get<{ Params: P }>('/fhir/:type/_history', async (req, reply) =>
    send(reply, 'history-type', await svc.history(req.params.type, undefined, queryPairs(req), ctx(req))),
  );
  app.get<{ Params: P }>('/fhir/:type/:id', async (req, reply) =>
    send(reply, 'read', await svc.read(req.params.type, req.params.id, ctx(req))),
  );
  app.get<{ Params: P }>('/fhir/:type/:id/_history', async (req, reply) =>
    send(reply, 'history-instance', await svc.history(req.params.type, req.params.id, queryPairs(req), ctx(req))),
  );
  app.get<{ Params: P }>('/fhir/:type/:id/_history/:vid', async (req, reply) =>
    send(reply, 'vread', await svc.vread(req.params.type, req.params.id, req.params.vid, ctx(req))),
  );
  app.post<{ Params: P }>('/fhir/:type', async (req, reply) => {
    const ifNoneExist = req.headers['if-none-exist'];
    return send(
      reply,
      'create',
      await svc.create(req.params.type, body(req), ctx(req), typeof ifNoneExist === 'string' ? ifNoneExist : undefined),
    );
  });
  app.put<{ Params: P }>('/fhir/:type/:id', async (req, reply) =>
    send(
      reply,
      'update',
      await svc.update(req.params.type, req.params.id, body(req), ctx(req), req.headers['if-match']),
    ),
  );
  app.put<{ Params: P }>('/fhir/:type', async (req, reply) => {
    const q = queryString(req);
    if (!q) throw Errors.badRequest('PUT on a type needs search parameters (conditional update)');
    return send(reply, 'update', await svc.conditionalUpdate(req.params.type, q, body(req), ctx(req)));
  });
  app.patch<{ Params: P }>('/fhir/:type/:id', async (req, reply) =>
    send(reply, 'patch', await svc.patch(req.params.type, req.params.id, body(req), ctx(req), req.headers['if-match'])),
  );
  app.delete<{ Params: P }>('/fhir/:type/:id', async (req, reply) =>
    send(reply, 'delete', await svc.delete(req.params.type, req.params.id, req.headers['if-match'], ctx(req))),
  );
  app.delete<{ Params: P }>('/fhir/:type', async (req, reply) => {
    const q = queryString(req);
    if (!q) throw Errors.badRequest('DELETE on a type needs search parameters (conditional delete)');
    return send(reply, 'delete', await svc.conditionalDelete(req.params.type, q, ctx(req)));
  });
}
