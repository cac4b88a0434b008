import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors, FhirError } from '../core/fhir/errors.ts';
import { newResourceId } from '../core/fhir/resource-id.ts';
import { buildCards } from '../core/ordering/cards.ts';
import { draftsFromServiceRequests } from '../core/ordering/draft-orders.ts';
import type { Finding } from '../core/ordering/types.ts';
import type { OrderEvent } from '../ordering/order-events.ts';
import type { OrderingService } from '../ordering/ordering-service.ts';
import type { Access } from './auth.ts';
import { baseOf } from './fhir-routes.ts';
import { actorFor, ORDERING_ROLES } from './ordering-routes.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Prefetch templates (CDS Hooks 2.0 §Prefetch): what dxhub reads; it falls back to its own store. */
const PREFETCH = {
  patient: 'Patient/{{context.patientId}}',
  openOrders: 'ServiceRequest?patient={{context.patientId}}&status=active,on-hold',
  conditions: 'Condition?patient={{context.patientId}}&clinical-status=active',
};

/** The two services dxhub offers (discovery `services[]`). */
export const CDS_SERVICES = [
  {
    hook: 'order-select',
    id: 'dxhub-order-select',
    title: 'dxhub rational diagnostics (order-select)',
    description:
      'Retest intervals, duplicate open orders across organisations, appropriateness (Vælg Klogt, Choosing Wisely), imaging safety and suggestions for the selected lab and imaging orders.',
    prefetch: PREFETCH,
  },
  {
    hook: 'order-sign',
    id: 'dxhub-order-sign',
    title: 'dxhub rational diagnostics (order-sign)',
    description:
      'The full rule set for every draft order before signing; blocking rules come back as critical cards with a delete suggestion (dxhub’s own order entry enforces them).',
    prefetch: PREFETCH,
  },
] as const;

const bad = (msg: string) => Errors.badRequest(`CDS Hooks request: ${msg}`);

/** Validates a hook call (CDS Hooks 2.0 §HTTP Request) and returns the fields dxhub uses. */
function parseCall(body: unknown, hook: string, ourFhirServer: string) {
  if (!isObj(body)) throw bad('the body must be a JSON object');
  if (body.hook !== hook) throw bad(`hook must be '${hook}' for this service (got '${String(body.hook)}')`);
  if (typeof body.hookInstance !== 'string' || !UUID_RE.test(body.hookInstance))
    throw bad('hookInstance must be a UUID');
  if (body.fhirServer !== undefined && typeof body.fhirServer !== 'string') throw bad('fhirServer must be a URL');
  if (body.fhirAuthorization !== undefined && body.fhirServer === undefined)
    throw bad('fhirServer is required when fhirAuthorization is sent');
  const ctx = body.context;
  if (!isObj(ctx)) throw bad('context is required');
  if (typeof ctx.userId !== 'string' || ctx.userId === '') throw bad('context.userId is required');
  if (typeof ctx.patientId !== 'string' || ctx.patientId === '') throw bad('context.patientId is required');
  if (ctx.encounterId !== undefined && typeof ctx.encounterId !== 'string')
    throw bad('context.encounterId must be a string');
  const draftOrders = ctx.draftOrders;
  if (!isObj(draftOrders) || draftOrders.resourceType !== 'Bundle')
    throw bad('context.draftOrders must be a FHIR Bundle');
  const entries = Array.isArray(draftOrders.entry) ? draftOrders.entry : [];
  const resources = entries.map((e) => (isObj(e) ? e.resource : undefined));
  if (resources.some((r) => !isObj(r))) throw bad('every context.draftOrders.entry needs a resource');
  let selections: string[] | undefined;
  if (hook === 'order-select') {
    if (
      !Array.isArray(ctx.selections) ||
      ctx.selections.length === 0 ||
      !ctx.selections.every((s) => typeof s === 'string')
    )
      throw bad('context.selections must list the selected orders (e.g. "ServiceRequest/123")');
    selections = ctx.selections as string[];
  }
  if (body.prefetch !== undefined) {
    if (!isObj(body.prefetch)) throw bad('prefetch must be an object of prefetch keys');
    for (const [k, v] of Object.entries(body.prefetch))
      if (v !== null && !(isObj(v) && typeof v.resourceType === 'string'))
        throw bad(`prefetch.${k} must be a FHIR resource or null`);
  }
  // dxhub is the FHIR server the templates read, so missing prefetch is fetched from its own store.
  // A client pointing at another FHIR server must prefetch what we cannot read (§Prefetch: 412).
  const foreign = typeof body.fhirServer === 'string' && !body.fhirServer.startsWith(ourFhirServer);
  if (foreign) {
    const missing = Object.keys(PREFETCH).filter((k) => !isObj(body.prefetch) || !(k in body.prefetch));
    if (missing.length > 0)
      throw new FhirError(412, [
        {
          severity: 'error',
          code: 'processing',
          diagnostics: `CDS Hooks request: fhirServer ${body.fhirServer} is not this server and prefetch lacks ${missing.join(', ')}`,
        },
      ]);
  }
  // Only ServiceRequests are evaluated; MedicationRequests and other draft orders are not dxhub's.
  const orders = resources.filter((r) => (r as Obj).resourceType === 'ServiceRequest');
  return {
    patientId: ctx.patientId,
    encounterId: ctx.encounterId as string | undefined,
    userId: ctx.userId,
    orders,
    selections,
  };
}

/** CDS Hooks 2.0: discovery, order-select, order-sign and feedback, on the same engine as order entry. */
export async function cdsHooksRoutes(
  app: FastifyInstance,
  opts: { ordering: OrderingService; access: Access; baseUrl?: string },
) {
  const svc = opts.ordering;
  // Discovery: CDS Hooks clients send their bearer token on every call, discovery included (§Security).
  app.get('/cds-services', async () => ({ services: CDS_SERVICES }));

  const langOf = (req: FastifyRequest): 'da' | 'en' =>
    /^en/i.test(String(req.headers['accept-language'] ?? '')) ? 'en' : 'da';

  for (const service of CDS_SERVICES) {
    app.post<{ Body: unknown }>(`/cds-services/${service.id}`, async (req) => {
      const actor = actorFor(req, [...ORDERING_ROLES, 'integration'], 'a CDS Hooks call');
      const call = parseCall(req.body, service.hook, baseOf(req, opts.baseUrl));
      const mapped = draftsFromServiceRequests(call.orders, svc.catalogue);
      if (!mapped.ok) throw bad(mapped.errors.join('; '));
      let findings: Finding[];
      try {
        // The service reads the patient's data (prefetch, store): the same rules as a FHIR read.
        // The evaluation runs while the guard decides (on PostgreSQL the two wait for the database
        // at the same time), but nothing of it is used, or answered, unless the guard allows: its
        // refusal (403) or unknown patient (404) is what the caller gets.
        // Asked before the evaluation starts: a snapshot held now means the Patient exists.
        const known = svc.knowsPatient(call.patientId);
        const evaluation = svc.evaluate({
          patientId: call.patientId,
          encounterId: call.encounterId,
          organisation: actor.organisation,
          drafts: mapped.drafts,
        });
        evaluation.catch(() => undefined);
        await opts.access
          .guard(req)
          .lookUp(
            'read',
            [call.patientId],
            { query: `cds-services/${service.id}` },
            undefined,
            undefined,
            (p) => known && p === call.patientId,
          );
        findings = await evaluation;
      } catch (e) {
        if (e instanceof FhirError && e.status === 404) throw bad(`unknown ${e.issues[0]?.diagnostics ?? 'resource'}`);
        throw e;
      }
      const selected = call.selections
        ? new Set(call.selections.map((s) => s.replace(/^ServiceRequest\//, '')))
        : undefined;
      if (selected) findings = findings.filter((f) => selected.has(f.orderId));
      const cards = buildCards(
        findings,
        svc.rules.active.ruleSet,
        svc.catalogue,
        langOf(req),
        call.patientId,
        // Time-ordered (UUID v7, as server-assigned resource ids): the order-event card index
        // then grows at its end instead of at random pages (about 3× less write work per event).
        () => newResourceId(),
      );
      const at = svc.repo.clock.now();
      const base = {
        at,
        channel: 'cds-hooks' as const,
        patient: call.patientId,
        orderer: call.userId,
        organisation: actor.organisation,
      };
      const proposals = mapped.drafts.filter((d) => !selected || selected.has(d.id));
      svc.events.record([
        ...proposals.map((d): OrderEvent => ({ ...base, kind: 'proposal', orderId: d.id, test: d.test })),
        ...findings.map(
          (f, i): OrderEvent => ({
            ...base,
            kind: f.action,
            orderId: f.orderId,
            test: f.test,
            rule: f.rule,
            ruleKind: f.kind,
            card: cards[i]!.uuid,
          }),
        ),
      ]);
      return { cards };
    });

    app.post<{ Body: unknown }>(`/cds-services/${service.id}/feedback`, async (req) => {
      const actor = actorFor(req, [...ORDERING_ROLES, 'integration'], 'CDS Hooks feedback');
      const body = req.body;
      if (!isObj(body) || !Array.isArray(body.feedback) || body.feedback.length === 0)
        throw bad('feedback must be a non-empty list');
      const events: OrderEvent[] = [];
      for (const [i, f] of body.feedback.entries()) {
        const at = `feedback[${i}]`;
        if (!isObj(f) || typeof f.card !== 'string') throw bad(`${at}.card (the card uuid) is required`);
        if (f.outcome !== 'accepted' && f.outcome !== 'overridden')
          throw bad(`${at}.outcome must be accepted or overridden`);
        if (f.outcome === 'accepted' && !(Array.isArray(f.acceptedSuggestions) && f.acceptedSuggestions.length > 0))
          throw bad(`${at}.acceptedSuggestions is required when the outcome is accepted`);
        const ts = typeof f.outcomeTimestamp === 'string' ? Date.parse(f.outcomeTimestamp) : Number.NaN;
        if (Number.isNaN(ts)) throw bad(`${at}.outcomeTimestamp must be an RFC 3339 date-time`);
        const card = await svc.events.byCard(f.card);
        if (!card) throw bad(`${at}.card ${f.card} is not a card this service returned`);
        const or = isObj(f.overrideReason) ? f.overrideReason : undefined;
        const reason = [
          isObj(or?.reason)
            ? `${String(or.reason.code)}${or.reason.display ? ` ${String(or.reason.display)}` : ''}`
            : '',
          typeof or?.userComment === 'string' ? or.userComment : '',
        ]
          .filter(Boolean)
          .join(' — ');
        events.push({
          ...card,
          at: ts,
          kind: f.outcome === 'accepted' ? 'feedback-accepted' : 'feedback-overridden',
          channel: 'cds-hooks',
          organisation: actor.organisation ?? card.organisation,
          ...(reason ? { reason } : {}),
        });
      }
      await svc.events.recordNow(events);
      return {};
    });
  }
}
