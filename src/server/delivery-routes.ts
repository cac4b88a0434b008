import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import type { Delivery } from '../delivery/delivery-queue.ts';
import type { DeliveryWorker } from '../delivery/delivery-worker.ts';

const STATES: readonly Delivery['state'][] = ['pending', 'delivered', 'failed'];

/** Outgoing messages for operators: the queue by state (dead letters: `failed`), depth, retry. */
export async function deliveryRoutes(app: FastifyInstance, opts: { delivery: DeliveryWorker }) {
  const operator = (req: FastifyRequest) => {
    const kind = req.principal?.role.kind;
    if (kind !== 'integration' && kind !== 'admin') {
      throw Errors.forbidden('the delivery queue is for interface operations (integration or admin role)');
    }
  };
  const view = (d: Delivery) => ({
    id: d.id,
    channel: d.channel,
    resource: `${d.resourceType}/${d.resourceId}/_history/${d.version}`,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: new Date(d.nextAttemptAt).toISOString(),
    lastError: d.lastError,
  });
  app.get<{ Querystring: { state?: string; limit?: string } }>('/ops/deliveries', async (req) => {
    operator(req);
    const state = (req.query.state ?? 'failed') as Delivery['state'];
    if (!STATES.includes(state)) throw Errors.badRequest(`state must be one of ${STATES.join(', ')}`);
    const limit = Math.min(Number(req.query.limit ?? 100) || 100, 1000);
    return {
      depth: await opts.delivery.queue.depth(),
      [state]: (await opts.delivery.queue.list(state, limit)).map(view),
    };
  });
  app.post<{ Params: { id: string } }>('/ops/deliveries/:id/retry', async (req) => {
    operator(req);
    const ok = await opts.delivery.queue.retry(Number(req.params.id), Date.now());
    if (!ok) throw Errors.notFound('failed delivery', req.params.id);
    return { retried: Number(req.params.id) };
  });
}
