import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/index.ts';
import { mergeOperation, unmergeOperation } from '../identity/merge-operation.ts';
import type { FhirRepository } from '../store/repository.ts';
import type { Access } from './auth.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Patient identity operations: `Patient/$merge` and `Patient/$unmerge`. */
export async function identityRoutes(
  app: FastifyInstance,
  opts: { repo: FhirRepository; audit: AuditLog; access: Access },
) {
  // Merging identities changes whole records: only principals that may update Patient resources
  // (system interfaces fed by the patient administration system) may do it.
  const actor = (req: FastifyRequest) => {
    const guard = opts.access.guard(req);
    guard.permit('Patient', 'update');
    const p = req.principal!;
    return { audit: opts.audit, agent: p.fhirUser ?? p.subject, requestId: String(req.id) };
  };
  app.post('/fhir/Patient/$merge', async (req, reply) => {
    const r = await mergeOperation(opts.repo, req.body, actor(req));
    req.interaction = 'operation';
    return reply.code(r.status).type(FHIR_JSON).send(r.body);
  });
  app.post('/fhir/Patient/$unmerge', async (req, reply) => {
    const r = await unmergeOperation(opts.repo, req.body, actor(req));
    req.interaction = 'operation';
    return reply.code(r.status).type(FHIR_JSON).send(r.body);
  });
}
