import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import { catalogueBundle } from '../core/ordering/catalogue-fhir.ts';
import { dryRun } from '../ordering/dry-run.ts';
import type { PatternDimension } from '../ordering/order-events.ts';
import type { Actor, OrderBody, OrderingService } from '../ordering/ordering-service.ts';
import type { Resource } from '../store/repository.ts';
import type { Access } from './auth.ts';

/** Roles that order (requisitions are signed by them; their organisation is the requester's). */
export const ORDERING_ROLES = ['clinician', 'lab-physician', 'radiologist'];
const CHECK_ROLES = [...ORDERING_ROLES, 'integration'];
const FULFIL_ROLES = ['lab-technologist', 'lab-physician', 'radiographer', 'radiologist', 'integration'];
const READ_ROLES = [...CHECK_ROLES, 'lab-technologist', 'radiographer'];
const GOVERNANCE_ROLES = ['admin', 'lab-physician', 'radiologist'];
const PATTERN_ROLES = ['department-manager', 'admin', 'lab-physician', 'radiologist'];
const DIMENSIONS: readonly PatternDimension[] = ['organisation', 'orderer', 'test'];

/** The verified principal as an ordering actor, when its role is one of `roles`. */
export function actorFor(req: FastifyRequest, roles: readonly string[], what: string): Actor {
  const p = req.principal;
  if (!p || !roles.includes(p.role.kind)) throw Errors.forbidden(`${what} needs one of the roles ${roles.join(', ')}`);
  return { subject: p.subject, role: p.role.kind, ...(p.organisation ? { organisation: p.organisation } : {}) };
}

/** The patient of a requisition's orders (they share one). */
const patientOfOrders = (orders: readonly Resource[]) =>
  String((orders[0]?.subject as { reference?: string } | undefined)?.reference ?? '').replace(/^Patient\//, '');

/** The patient an order body names, when it names one (the service validates the body). */
const patientOfBody = (body: OrderBody | undefined) =>
  typeof body?.patientId === 'string' && body.patientId !== '' ? [body.patientId] : [];

/**
 * Order entry over HTTP (see docs/ordering.md): catalogue, patient summary, check, requisitions
 * (draft → sign → completed / revoked; blocks enforced at sign), rule sets and patterns.
 * Patient-specific routes go through the request's guard (docs/security.md): the treatment
 * relation, blocks, værdispring, one audit entry per look-up; writes audited in their transaction.
 */
export async function orderingRoutes(app: FastifyInstance, opts: { ordering: OrderingService; access: Access }) {
  const svc = opts.ordering;
  /** Reads a requisition for a request: its orders, after the guard let the user see its patient. */
  const requisitionFor = async (req: FastifyRequest, id: string) => {
    const guard = opts.access.guard(req);
    const orders = await svc.requisition(id);
    await guard.lookUp('read', [patientOfOrders(orders)], {
      resource: `ServiceRequest?requisition=${id}`,
    });
    return { guard, orders };
  };
  const cat = svc.catalogue;

  app.get<{ Querystring: { q?: string; lang?: string; limit?: string } }>('/ordering/catalogue', async (req) => {
    actorFor(req, READ_ROLES, 'the catalogue');
    const lang = req.query.lang ?? 'da';
    if (lang !== 'da' && lang !== 'en') throw Errors.badRequest('lang must be da or en', 'lang');
    const hits = cat.search(req.query.q ?? '', Math.min(Number(req.query.limit ?? 20) || 20, 100));
    return {
      query: req.query.q ?? '',
      results: hits.map((h) => {
        if (h.kind === 'order-set') {
          const s = cat.orderSet(h.id)!;
          return {
            kind: 'order-set',
            id: s.id,
            title: s.title[lang],
            tests: s.tests,
            // The tests' codes and titles, so a client can build draft ServiceRequests (CDS Hooks).
            items: s.tests.map((t) => ({ id: t, code: cat.item(t)?.code, title: cat.item(t)?.title[lang] })),
            source: s.source,
          };
        }
        const i = cat.item(h.id)!;
        return {
          kind: i.kind,
          id: i.id,
          title: i.title[lang],
          code: i.code,
          synonyms: i.synonyms,
          specimen: i.specimen ? { type: i.specimen.type[lang], container: i.specimen.container[lang] } : null,
          performer: i.performer[lang],
          turnaroundHours: i.turnaroundHours,
          priorities: i.priorities,
          ...(i.kind === 'imaging'
            ? { modality: i.modality, effectiveDoseMSv: i.effectiveDoseMSv, contrast: i.contrast ?? false }
            : {}),
          source: i.source,
        };
      }),
    };
  });
  app.get('/ordering/catalogue/fhir', async (req) => {
    actorFor(req, READ_ROLES, 'the catalogue');
    return catalogueBundle(cat);
  });

  app.get<{ Params: { id: string } }>('/ordering/patients/:id/summary', async (req) => {
    actorFor(req, READ_ROLES, 'the patient summary');
    await opts.access.guard(req).lookUp('read', [req.params.id], { resource: `Patient/${req.params.id}/summary` });
    return svc.summary(req.params.id);
  });

  app.post<{ Body: OrderBody }>('/ordering/check', async (req) => {
    const actor = actorFor(req, CHECK_ROLES, 'checking orders');
    // The check reads the patient's results, orders and conditions.
    await opts.access.guard(req).lookUp('read', patientOfBody(req.body), { query: 'ordering/check' });
    return svc.check(actor, req.body);
  });

  app.post<{ Body: OrderBody }>('/ordering/requisitions', async (req, reply) => {
    const actor = actorFor(req, ORDERING_ROLES, 'a requisition');
    const guard = opts.access.guard(req);
    // The evaluation reads the patient's data; the drafts are written (and audited) through the guard.
    await guard.lookUp('read', patientOfBody(req.body), { query: 'ordering/requisitions' });
    return reply.code(201).send(await svc.createRequisition(actor, req.body, guard));
  });
  app.get<{ Params: { id: string } }>('/ordering/requisitions/:id', async (req) => {
    actorFor(req, READ_ROLES, 'reading a requisition');
    const { orders } = await requisitionFor(req, req.params.id);
    return { requisition: req.params.id, orders };
  });
  app.post<{ Params: { id: string }; Body: { overrides?: unknown } }>(
    '/ordering/requisitions/:id/sign',
    async (req) => {
      const actor = actorFor(req, ORDERING_ROLES, 'signing a requisition');
      const overrides = req.body?.overrides ?? [];
      if (
        !Array.isArray(overrides) ||
        !overrides.every((o) => o && typeof o.rule === 'string' && typeof o.reason === 'string')
      )
        throw Errors.badRequest('overrides must be a list of {rule, reason[, orderId]}', 'overrides');
      const { guard } = await requisitionFor(req, req.params.id);
      return svc.sign(actor, req.params.id, overrides, guard);
    },
  );
  app.post<{ Params: { id: string }; Body: { reason?: unknown } }>('/ordering/requisitions/:id/revoke', async (req) => {
    const actor = actorFor(req, CHECK_ROLES, 'revoking a requisition');
    const reason = req.body?.reason;
    if (reason !== undefined && typeof reason !== 'string')
      throw Errors.badRequest('reason must be a string', 'reason');
    const { guard } = await requisitionFor(req, req.params.id);
    return { orders: await svc.transition(actor, req.params.id, 'revoked', reason, guard) };
  });
  app.post<{ Params: { id: string } }>('/ordering/requisitions/:id/complete', async (req) => {
    const actor = actorFor(req, FULFIL_ROLES, 'completing a requisition');
    const { guard } = await requisitionFor(req, req.params.id);
    return { orders: await svc.transition(actor, req.params.id, 'completed', undefined, guard) };
  });

  app.get('/ordering/rulesets', async (req) => {
    actorFor(req, [...READ_ROLES, ...GOVERNANCE_ROLES, 'department-manager'], 'reading rule sets');
    return {
      active: svc.rules.active.version,
      ruleSet: svc.rules.active.ruleSet,
      versions: await svc.rules.versions(),
    };
  });
  app.put<{ Body: unknown }>('/ordering/rulesets', async (req) => {
    const actor = actorFor(req, GOVERNANCE_ROLES, 'changing the rule set');
    const c = await svc.rules.activate(req.body, actor.subject, svc.repo.clock.now());
    return { active: c.version, rules: c.ruleSet.rules.length };
  });
  app.post<{ Body: { ruleSet?: unknown; days?: unknown } }>('/ordering/rulesets/dry-run', async (req) => {
    actorFor(req, GOVERNANCE_ROLES, 'a rule-set dry run');
    const candidate = svc.rules.candidate(req.body?.ruleSet);
    return dryRun(svc, candidate, Number(req.body?.days ?? 30));
  });

  app.get<{ Querystring: { by?: string; from?: string; to?: string } }>('/ordering/patterns', async (req) => {
    actorFor(req, PATTERN_ROLES, 'requisition patterns');
    const by = (req.query.by ?? 'organisation') as PatternDimension;
    if (!DIMENSIONS.includes(by)) throw Errors.badRequest(`by must be one of ${DIMENSIONS.join(', ')}`, 'by');
    const now = svc.repo.clock.now();
    const from = req.query.from ? Date.parse(req.query.from) : now - 90 * 86_400_000;
    const to = req.query.to ? Date.parse(req.query.to) : now + 1;
    if (Number.isNaN(from) || Number.isNaN(to)) throw Errors.badRequest('from and to must be dates', 'from');
    // Aggregates only: no patient, requisition or order ids leave this endpoint.
    return {
      by,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      ...(await svc.events.patterns(by, from, to)),
    };
  });
}
