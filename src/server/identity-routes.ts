import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/index.ts';
import { mergeOperation, unmergeOperation } from '../identity/merge-operation.ts';
import type { FhirRepository } from '../store/repository.ts';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Patient identity operations: `Patient/$merge` and `Patient/$unmerge`. */
export async function identityRoutes(app: FastifyInstance, opts: { repo: FhirRepository; audit: AuditLog }) {
  // Until the security issue wires authentication, the agent is recorded as unauthenticated.
  const actor = (req: { id: string }) => ({ audit: opts.audit, agent: 'unauthenticated', requestId: String(req.id) });
  app.post('/fhir/Patient/$merge', async (req, reply) => {
    const r = await mergeOperation(opts.repo, req.body, actor(req));
    return reply.code(r.status).header('x-dxhub-interaction', 'operation').type(FHIR_JSON).send(r.body);
  });
  app.post('/fhir/Patient/$unmerge', async (req, reply) => {
    const r = await unmergeOperation(opts.repo, req.body, actor(req));
    return reply.code(r.status).header('x-dxhub-interaction', 'operation').type(FHIR_JSON).send(r.body);
  });
}
