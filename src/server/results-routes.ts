import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/fhir/errors.ts';
import type { RoleKind } from '../core/security/roles.ts';
import { autoverificationRate, sectionTotals } from '../results/autoverification-rate.ts';
import {
  COMMUNICATION_KINDS,
  type CommunicationKind,
  criticalValues,
  patientIdOf,
  readRequest,
  recordCommunication,
} from '../results/critical-values.ts';
import { acknowledgeIncidental, openIncidentalFindings } from '../results/incidental-findings.ts';
import { ResultContext } from '../results/result-context.ts';
import type { ResultPipeline } from '../results/result-pipeline.ts';
import { heldResults, openReview } from '../results/review-worklist.ts';
import type { FhirRepository, Resource } from '../store/repository.ts';
import type { Access } from './auth.ts';

const LAB: readonly RoleKind[] = ['lab-technologist', 'lab-physician', 'admin'];
const MANAGEMENT: readonly RoleKind[] = [
  'department-manager',
  'lab-physician',
  'lab-technologist',
  'admin',
  'integration',
];
const CLINICAL: readonly RoleKind[] = ['clinician', 'lab-technologist', 'lab-physician', 'department-manager', 'admin'];
const DAY = 86_400_000;

/** Who acts, for Provenance and Communications: the user's FHIR resource when the token names one. */
function actor(req: FastifyRequest): { display: string; reference?: string } {
  const p = req.principal!;
  return { display: `${p.subject} (${p.role.kind})`, ...(p.fhirUser ? { reference: p.fhirUser } : {}) };
}

function allow(req: FastifyRequest, roles: readonly RoleKind[], what: string): void {
  const kind = req.principal?.role.kind;
  if (!kind || !roles.includes(kind)) throw Errors.forbidden(`${what} is for the roles ${roles.join(', ')}`);
}

function time(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const t = Date.parse(value);
  if (!Number.isFinite(t)) throw Errors.badRequest(`${name} must be an ISO 8601 date-time, got '${value}'`);
  return t;
}

/**
 * Result processing (docs/results.md): the review worklist (held results with reasons, the delta
 * and the patient's history; release/reject by a laboratory physician only), the critical-value
 * loop (notification, read-back, acknowledgement; times to notification and acknowledgement),
 * incidental-finding follow-ups, the rule set, and the autoverification rate for management
 * information. Every route needs a token; roles are checked per route, and patient data goes
 * through the request's guard (docs/security.md): worklists list only patients the user may see
 * (treatment relation, blocks; audited per listed patient), look-ups and writes of one patient are
 * refused (403, audited) without relation unless værdispring, writes audited in their transaction.
 * Aggregate roles (department managers) get counts and times, no patients.
 */
export async function resultsRoutes(
  app: FastifyInstance,
  opts: { repo: FhirRepository; pipeline: ResultPipeline; access: Access },
) {
  const { repo, pipeline, access } = opts;
  /** The guard of a request, after it let the user see `patient` (audited as a read of `resource`). */
  const guardFor = async (req: FastifyRequest, patient: string | undefined, resource: string) => {
    const guard = access.guard(req);
    await guard.lookUp('read', patient ? [patient] : [], { resource });
    return guard;
  };

  app.get('/results/rule-set', async (req) => {
    allow(req, MANAGEMENT, 'the rule set');
    return pipeline.rules;
  });

  app.get<{ Querystring: { count?: string } }>('/results/review', async (req, reply) => {
    allow(req, LAB, 'the review worklist');
    const ctx = new ResultContext(repo);
    const guard = access.guard(req);
    const items = await guard.screenItems(
      await heldResults(repo, Math.min(Number(req.query.count ?? 100) || 100, 500)),
      (h) => patientIdOf(h.observation?.subject),
      (h) => h.observation as Resource | undefined,
    );
    const withheld = await guard.auditSearch('results/review');
    if (withheld.reason) reply.header('x-dxhub-withheld', String(withheld.withheld));
    return Promise.all(
      items.map(async (h) => {
        const o = h.observation;
        const code = o?.code?.coding?.[0];
        const history =
          o?.subject?.reference && code?.system && code.code
            ? await ctx.history(
                o.subject.reference,
                { system: code.system, code: code.code },
                Date.parse(o.effectiveDateTime ?? '') || pipeline.now(),
              )
            : [];
        return {
          task: h.task.id,
          observation: o,
          reasons: h.reasons,
          history: history.map((p) => ({
            id: p.id,
            effective: p.effectiveDateTime,
            value: p.valueQuantity?.value,
            unit: p.valueQuantity?.unit,
            status: p.status,
          })),
        };
      }),
    );
  });

  app.post<{ Params: { task: string; decision: string }; Body: { reason?: string; status?: string } | undefined }>(
    '/results/review/:task/:decision',
    async (req) => {
      allow(req, ['lab-physician'], 'releasing or rejecting a held result');
      const { decision } = req.params;
      if (decision !== 'release' && decision !== 'reject')
        throw Errors.badRequest(`decision must be release or reject, got '${decision}'`);
      const body = req.body ?? {};
      if (decision === 'reject' && !body.reason) throw Errors.badRequest('a rejection needs a reason');
      if (body.status !== undefined && body.status !== 'cancelled' && body.status !== 'entered-in-error') {
        throw Errors.badRequest(`status must be cancelled or entered-in-error, got '${body.status}'`);
      }
      const { observation } = await openReview(repo, req.params.task);
      const guard = await guardFor(req, patientIdOf(observation.subject), `Task/${req.params.task}`);
      return pipeline.decide(req.params.task, decision, actor(req), {
        reason: body.reason,
        status: body.status,
        interceptor: guard,
      });
    },
  );

  app.get<{ Querystring: { since?: string } }>('/results/critical-values', async (req) => {
    allow(req, CLINICAL, 'critical values');
    const since = time(req.query.since, pipeline.now() - DAY, 'since');
    const all = await criticalValues(repo, since, 500);
    const notified = all.map((i) => i.minutesToNotification).filter((m): m is number => m !== undefined);
    const figures = {
      count: all.length,
      meanMinutesToNotification: notified.length ? notified.reduce((a, b) => a + b, 0) / notified.length : null,
      unacknowledged: all.filter((i) => !i.acknowledgedAt).length,
    };
    // Aggregate roles see the loop's figures, never which patients.
    if (req.principal!.role.aggregatesOnly) return figures;
    const guard = access.guard(req);
    const items = await guard.screenItems(all, (i) => i.patient);
    const { withheld } = await guard.auditSearch('results/critical-values');
    return { items, withheld, ...figures };
  });

  app.post<{
    Params: { id: string; kind: string };
    Body: { text?: string; sentAt?: string; receivedAt?: string } | undefined;
  }>('/results/critical-values/:id/:kind', async (req) => {
    allow(req, CLINICAL, 'recording a critical-value communication');
    const kind = req.params.kind as CommunicationKind;
    if (!COMMUNICATION_KINDS.includes(kind) || kind === 'escalation') {
      throw Errors.badRequest(`kind must be notification, read-back or acknowledgement, got '${req.params.kind}'`);
    }
    const body = req.body ?? {};
    if (kind === 'read-back' && !body.text) throw Errors.badRequest('a read-back needs the text that was read back');
    const now = pipeline.now();
    const cr = await readRequest(repo, req.params.id);
    const guard = await guardFor(req, patientIdOf(cr.subject), `CommunicationRequest/${req.params.id}`);
    return recordCommunication(repo, req.params.id, kind, {
      interceptor: guard,
      now,
      sentAt: time(body.sentAt, now, 'sentAt'),
      receivedAt: body.receivedAt === undefined ? undefined : time(body.receivedAt, now, 'receivedAt'),
      text: body.text,
      sender: actor(req).display,
    });
  });

  app.get('/results/incidental-findings', async (req, reply) => {
    allow(req, CLINICAL, 'incidental findings');
    const open = await openIncidentalFindings(repo, 500);
    if (req.principal!.role.aggregatesOnly) return { count: open.length };
    const guard = access.guard(req);
    const visible = await guard.screenItems(open, (t) => patientIdOf(t.for));
    const withheld = await guard.auditSearch('results/incidental-findings');
    if (withheld.reason) reply.header('x-dxhub-withheld', String(withheld.withheld));
    return visible;
  });

  app.post<{ Params: { task: string }; Body: { plan?: string } | undefined }>(
    '/results/incidental-findings/:task/acknowledge',
    async (req) => {
      allow(req, ['clinician', 'lab-physician', 'department-manager'], 'acknowledging an incidental finding');
      const plan = req.body?.plan;
      if (!plan) throw Errors.badRequest('an acknowledgement needs the follow-up plan (plan)');
      const task = await repo.read('Task', req.params.task);
      const subject = task?.json ? (JSON.parse(task.json) as { for?: { reference?: string } }).for : undefined;
      const guard = await guardFor(req, patientIdOf(subject), `Task/${req.params.task}`);
      return acknowledgeIncidental(repo, req.params.task, actor(req).display, plan, pipeline.now(), guard);
    },
  );

  app.get<{ Querystring: { from?: string; to?: string } }>('/results/autoverification-rate', async (req) => {
    allow(req, MANAGEMENT, 'the autoverification rate');
    const to = time(req.query.to, pipeline.now() + 1, 'to');
    const from = time(req.query.from, to - DAY, 'from');
    const analyses = await autoverificationRate(repo.db, from, to);
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      ruleSet: pipeline.rules.version,
      sections: sectionTotals(analyses),
      analyses,
    };
  });
}
