import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import type { AstmInbox, AstmInboxRow, AstmInboxState } from '../ingest/astm-inbox.ts';
import type { AstmProcessor } from '../ingest/astm-processor.ts';
import type { Hl7Inbox, Hl7InboxRow, Hl7InboxState } from '../ingest/hl7-inbox.ts';
import type { Hl7Processor } from '../ingest/hl7-processor.ts';
import type { ReprocessSummary } from '../ingest/inbox-claim.ts';
import type { InterfaceHealth } from '../ingest/interface-health.ts';

const STATES: readonly Hl7InboxState[] = ['received', 'processed', 'failed', 'duplicate'];
const ASTM_STATES: readonly AstmInboxState[] = ['received', 'processed', 'failed'];

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

/** An ASTM inbox row for operators: metadata, the reason, and the records (they may hold CPR numbers). */
export function astmInboxView(row: AstmInboxRow, withMessage: boolean) {
  return {
    id: row.id,
    receivedAt: new Date(row.receivedAt).toISOString(),
    peer: row.peer,
    sender: row.sender,
    state: row.state,
    reason: row.reason,
    attempts: row.attempts,
    processedAt: row.processedAt === null ? null : new Date(row.processedAt).toISOString(),
    ...(withMessage ? { message: row.raw.toString('latin1').replaceAll('\r', '\n') } : {}),
  };
}

/** What the operator routes need of an inbox (HL7 or ASTM). */
interface OperatorInbox<R, S extends string, H> {
  list(state: S, limit: number): Promise<R[]>;
  get(id: number): Promise<R | undefined>;
  reprocess(
    target: number | { readonly state: S; readonly limit?: number },
    handler: H,
    options?: { readonly force?: boolean },
  ): Promise<ReprocessSummary>;
}

/**
 * Interface operations on the HL7 and ASTM inboxes (integration engineers): list by state (the
 * dead-letter view is `state=failed`), one message, and reprocess after a mapping fix
 * (`/ops/hl7/inbox…`, `/ops/astm/inbox…`). Integration or admin role; every call needs a token like
 * any other route.
 */
export async function ingestRoutes(
  app: FastifyInstance,
  opts: {
    inbox: Hl7Inbox;
    processor: Hl7Processor;
    astmInbox?: AstmInbox;
    astmProcessor?: AstmProcessor;
    interfaces?: InterfaceHealth;
  },
) {
  const operator = (req: FastifyRequest) => {
    const kind = req.principal?.role.kind;
    if (kind !== 'integration' && kind !== 'admin') {
      throw Errors.forbidden('the inboxes are for interface operations (integration or admin role)');
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
  /** The four routes of one inbox under `/ops/<name>/inbox`. */
  const inboxRoutes = <R, S extends string, H>(
    name: 'hl7' | 'astm',
    inbox: OperatorInbox<R, S, H>,
    handle: H,
    states: readonly S[],
    view: (row: R, withMessage: boolean) => unknown,
  ) => {
    const stateOf = (v: string | undefined) => {
      const state = (v ?? 'failed') as S;
      if (!states.includes(state)) throw Errors.badRequest(`state must be one of ${states.join(', ')}`);
      return state;
    };
    app.get<{ Querystring: { state?: string; limit?: string } }>(`/ops/${name}/inbox`, async (req) => {
      operator(req);
      const state = stateOf(req.query.state);
      const limit = Math.min(Number(req.query.limit ?? 100) || 100, 1000);
      return (await inbox.list(state, limit)).map((r) => view(r, false));
    });
    app.get<{ Params: { id: string } }>(`/ops/${name}/inbox/:id`, async (req) => {
      operator(req);
      // Not a row id: no such row (PostgreSQL would refuse the value as a bigint).
      const id = Number(req.params.id);
      const row = Number.isInteger(id) ? await inbox.get(id) : undefined;
      if (!row) throw Errors.notFound(`${name}-inbox`, req.params.id);
      return view(row, true);
    });
    app.post<{ Params: { id: string }; Querystring: { force?: string } }>(
      `/ops/${name}/inbox/:id/reprocess`,
      async (req) => {
        operator(req);
        const id = Number(req.params.id);
        if (!Number.isInteger(id) || !(await inbox.get(id))) throw Errors.notFound(`${name}-inbox`, req.params.id);
        const summary = await inbox.reprocess(id, handle, { force: req.query.force === 'true' });
        const row = await inbox.get(id);
        return { ...summary, message: view(row!, false) };
      },
    );
    app.post<{ Querystring: { state?: string; limit?: string } }>(`/ops/${name}/inbox/reprocess`, async (req) => {
      operator(req);
      const state = stateOf(req.query.state);
      const limit = Math.min(Number(req.query.limit ?? 1000) || 1000, 10_000);
      return inbox.reprocess({ state, limit }, handle, { force: state === 'processed' });
    });
  };
  inboxRoutes('hl7', opts.inbox, opts.processor.handle, STATES, inboxView);
  if (opts.astmInbox && opts.astmProcessor) {
    inboxRoutes('astm', opts.astmInbox, opts.astmProcessor.handle, ASTM_STATES, astmInboxView);
  }
}
