import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import type { Hl7Inbox, Hl7InboxRow, Hl7InboxState } from '../ingest/hl7-inbox.ts';
import type { Hl7Processor } from '../ingest/hl7-processor.ts';
import type { InterfaceHealth } from '../ingest/interface-health.ts';

const STATES: readonly Hl7InboxState[] = ['received', 'processed', 'failed', 'duplicate'];

/** An inbox row for operators: metadata, the reason, and the message text (it may hold CPR numbers). */
export function inboxView(row: Hl7InboxRow, withMessage: boolean) {
  return {
    id: row.id,
    receivedAt: new Date(row.receivedAt).toISOString(),
    peer: row.peer,
    sendingApplication: row.sendingApplication,
    sendingFacility: row.sendingFacility,
    controlId: row.controlId,
    messageType: row.messageType,
    state: row.state,
    reason: row.reason,
    attempts: row.attempts,
    processedAt: row.processedAt === null ? null : new Date(row.processedAt).toISOString(),
    ...(withMessage ? { message: row.raw.toString('latin1').replaceAll('\r', '\n') } : {}),
  };
}

/**
 * Interface operations on the HL7 inbox (integration engineers): list by state (the dead-letter
 * view is `state=failed`), one message, and reprocess after a mapping fix. Integration or admin
 * role; every call needs a token like any other route.
 */
export async function ingestRoutes(
  app: FastifyInstance,
  opts: { inbox: Hl7Inbox; processor: Hl7Processor; interfaces?: InterfaceHealth },
) {
  const operator = (req: FastifyRequest) => {
    const kind = req.principal?.role.kind;
    if (kind !== 'integration' && kind !== 'admin') {
      throw Errors.forbidden('the HL7 inbox is for interface operations (integration or admin role)');
    }
  };
  // Interface health: per listener and per sender (MSH-3^MSH-4) counts, queue depth, dead letters.
  const { interfaces } = opts;
  if (interfaces) {
    app.get('/ops/interfaces', async (req) => {
      operator(req);
      return interfaces.snapshot();
    });
  }
  app.get<{ Querystring: { state?: string; limit?: string } }>('/ops/hl7/inbox', async (req) => {
    operator(req);
    const state = (req.query.state ?? 'failed') as Hl7InboxState;
    if (!STATES.includes(state)) throw Errors.badRequest(`state must be one of ${STATES.join(', ')}`);
    const limit = Math.min(Number(req.query.limit ?? 100) || 100, 1000);
    return (await opts.inbox.list(state, limit)).map((r) => inboxView(r, false));
  });
  app.get<{ Params: { id: string } }>('/ops/hl7/inbox/:id', async (req) => {
    operator(req);
    const row = await opts.inbox.get(Number(req.params.id));
    if (!row) throw Errors.notFound('hl7-inbox', req.params.id);
    return inboxView(row, true);
  });
  app.post<{ Params: { id: string }; Querystring: { force?: string } }>('/ops/hl7/inbox/:id/reprocess', async (req) => {
    operator(req);
    const id = Number(req.params.id);
    if (!Number.isInteger(id) || !(await opts.inbox.get(id))) throw Errors.notFound('hl7-inbox', req.params.id);
    const summary = await opts.inbox.reprocess(id, opts.processor.handle, { force: req.query.force === 'true' });
    const row = await opts.inbox.get(id);
    return { ...summary, message: inboxView(row!, false) };
  });
  app.post<{ Querystring: { state?: string; limit?: string } }>('/ops/hl7/inbox/reprocess', async (req) => {
    operator(req);
    const state = (req.query.state ?? 'failed') as Hl7InboxState;
    if (!STATES.includes(state)) throw Errors.badRequest(`state must be one of ${STATES.join(', ')}`);
    const limit = Math.min(Number(req.query.limit ?? 1000) || 1000, 10_000);
    return opts.inbox.reprocess({ state, limit }, opts.processor.handle, { force: state === 'processed' });
  });
}
