import { randomUUID } from 'node:crypto';
import { Errors, FhirError } from '../core/fhir/errors.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import type { Catalogue } from '../core/ordering/catalogue.ts';
import { draftsFromServiceRequests, ONSET_EXTENSION } from '../core/ordering/draft-orders.ts';
import { type CompiledRules, evaluateOrders, unliftedBlocks } from '../core/ordering/engine.ts';
import { INDICATION_SYSTEM } from '../core/ordering/seed/rule-set.ts';
import type { DraftOrder, Finding, Priority, Setting } from '../core/ordering/types.ts';
import { validateBody } from '../fhir-api/fhir-service.ts';
import type { FhirRepository, Resource, WriteInterceptor } from '../store/repository.ts';
import { PatientContextCache } from './context-cache.ts';
import { LatestResults } from './latest-results.ts';
import type { OrderEvent, OrderEventLog } from './order-events.ts';
import { contextFromSnapshot, loadPatientSnapshot, openOrders, REQUESTER_ORG_EXTENSION } from './patient-context.ts';
import type { RuleSetStore } from './rule-set-store.ts';

/** Identifier system grouping the ServiceRequests of one requisition (ServiceRequest.requisition). */
export const REQUISITION_SYSTEM = 'urn:dxhub:ordering:requisition';
export const SETTING_EXTENSION = 'urn:dxhub:ordering:setting';
/**
 * dxhub as order placer: each ServiceRequest of a requisition carries a placer number (HL7 v2
 * OBR-2 `<number>^DXHUB`): the requisition id for a one-order requisition, else `<id>-<n>`. A
 * result message quoting it meets its order (ingest's conditional create on the identifier).
 */
export const PLACER_NAMESPACE = 'DXHUB';
export const PLACER_SYSTEM = `urn:dxhub:id:${PLACER_NAMESPACE}`;
const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';
const SETTINGS: readonly Setting[] = ['inpatient', 'icu', 'emergency', 'outpatient', 'primary-care'];
const PRIORITIES: readonly Priority[] = ['routine', 'urgent', 'stat'];
/** Delay of the latest-result projection's background catch-up after new results (milliseconds). */
const PROJECTION_CATCH_UP_MS = 100;

/** Who acts: from the verified token. */
export interface Actor {
  readonly subject: string;
  readonly role: string;
  readonly organisation?: string;
}

export interface OrderBody {
  patientId?: unknown;
  encounterId?: unknown;
  setting?: unknown;
  priority?: unknown;
  indications?: unknown;
  onset?: unknown;
  orders?: unknown;
}

type Obj = Record<string, unknown>;

const eventsFor = (
  findings: readonly Finding[],
  base: Omit<OrderEvent, 'kind'>,
  cards?: ReadonlyMap<Finding, string>,
): OrderEvent[] =>
  findings.map((f) => ({
    ...base,
    kind: f.action,
    orderId: f.orderId,
    test: f.test,
    rule: f.rule,
    ruleKind: f.kind,
    ...(cards?.get(f) ? { card: cards.get(f) } : {}),
  }));

/** The blocking/needing-a-reason answer of a refused signature: one issue per finding. */
function signRefused(status: number, findings: readonly Finding[], why: (f: Finding) => string): FhirError {
  return new FhirError(
    status,
    findings.map((f) => ({
      severity: 'error' as const,
      code: 'business-rule',
      diagnostics: `${f.rule} (${f.action}) on ServiceRequest/${f.orderId}: ${f.summary.en} — ${why(f)}`,
      expression: [`ServiceRequest/${f.orderId}`],
    })),
  );
}

/**
 * The order-entry service: checks proposed orders against the active rules (shared by the
 * requisition API and CDS Hooks), keeps requisitions as ServiceRequests in the store
 * (draft → active → completed / revoked) and records every step as an order event.
 */
export class OrderingService {
  readonly repo: FhirRepository;
  readonly rules: RuleSetStore;
  readonly events: OrderEventLog;
  readonly catalogue: Catalogue;
  readonly latest: LatestResults;
  /** Patient snapshots kept current from the outbox (docs/ordering-performance.md). */
  readonly contexts: PatientContextCache;

  constructor(deps: {
    repo: FhirRepository;
    rules: RuleSetStore;
    events: OrderEventLog;
    catalogue: Catalogue;
    /** How often other processes' writes are looked for (default 100 ms; docs/ordering-performance.md). */
    remotePollMs?: number;
  }) {
    this.repo = deps.repo;
    const latest = new LatestResults(deps.repo, deps.catalogue);
    this.latest = latest;
    // New results: bring the projection up to date off the request path, so that the next load
    // of an invalidated patient does not pay for everyone else's ingestion.
    this.contexts = new PatientContextCache(deps.repo, {
      remotePollMs: deps.remotePollMs,
      onChanges: (types) => {
        // At most one background pass per PROJECTION_CATCH_UP_MS: under ingestion every commit
        // reports Observations, and a pass per commit costs more in polls than in rows. Reads
        // stay exact: `forPatient` catches up first.
        if (!types.has('Observation') || this.catchUpTimer) return;
        this.catchUpTimer = setTimeout(() => {
          this.catchUpTimer = undefined;
          latest.catchUp().catch(() => undefined);
        }, PROJECTION_CATCH_UP_MS);
        this.catchUpTimer.unref();
      },
    });
    this.rules = deps.rules;
    this.events = deps.events;
    this.catalogue = deps.catalogue;
  }

  private catchUpTimer: NodeJS.Timeout | undefined;

  /** Stops the context cache's outbox poll and writes the buffered order events. */
  async close(): Promise<void> {
    clearTimeout(this.catchUpTimer);
    this.contexts.close();
    await this.events.close();
  }

  /**
   * Whether the patient is known to exist without a database read (a current snapshot is cached):
   * the routes then spare the security guard its own read of the Patient.
   */
  knowsPatient(patientId: string): boolean {
    return this.contexts.has(patientId);
  }

  /** Evaluates drafts for a patient with the active (or given) rules. */
  async evaluate(
    p: {
      patientId: string;
      encounterId?: string;
      setting?: Setting;
      organisation?: string;
      drafts: readonly DraftOrder[];
    },
    rules: CompiledRules = this.rules.active,
  ): Promise<Finding[]> {
    const snap = await this.contexts.get(p.patientId, () =>
      loadPatientSnapshot(this.repo, this.catalogue, p.patientId, (id) => this.latest.forPatient(id)),
    );
    const ctx = await contextFromSnapshot(this.repo, rules, snap, {
      patientId: p.patientId,
      tests: p.drafts.map((d) => d.test),
      encounterId: p.encounterId,
      setting: p.setting,
      organisation: p.organisation,
      now: this.repo.clock.now(),
    });
    return evaluateOrders(rules, p.drafts, ctx);
  }

  /** Parses the order-entry body shared by `check` and `requisitions` (errors name the field). */
  parseBody(body: OrderBody): { patientId: string; encounterId?: string; setting?: Setting; drafts: DraftOrder[] } {
    if (typeof body !== 'object' || body === null) throw Errors.badRequest('the body must be a JSON object');
    if (typeof body.patientId !== 'string' || body.patientId === '')
      throw Errors.badRequest('patientId is required', 'patientId');
    if (body.encounterId !== undefined && typeof body.encounterId !== 'string')
      throw Errors.badRequest('encounterId must be a string', 'encounterId');
    if (body.setting !== undefined && !SETTINGS.includes(body.setting as Setting))
      throw Errors.badRequest(`setting must be one of ${SETTINGS.join(', ')}`, 'setting');
    const priority = (body.priority ?? 'routine') as Priority;
    if (!PRIORITIES.includes(priority)) throw Errors.badRequest('priority must be routine, urgent or stat', 'priority');
    const indications = body.indications ?? [];
    if (!Array.isArray(indications) || !indications.every((x) => typeof x === 'string'))
      throw Errors.badRequest('indications must be a list of codes', 'indications');
    const onset = body.onset === undefined ? undefined : Date.parse(String(body.onset));
    if (onset !== undefined && Number.isNaN(onset)) throw Errors.badRequest('onset must be a date', 'onset');
    if (!Array.isArray(body.orders) || body.orders.length === 0)
      throw Errors.badRequest('orders must be a non-empty list', 'orders');
    const drafts = (body.orders as unknown[]).map((o, i): DraftOrder => {
      const x = (o ?? {}) as Obj;
      const code = x.code as Obj | undefined;
      const item =
        typeof x.test === 'string'
          ? this.catalogue.item(x.test)
          : this.catalogue.byCoding(code?.system as string, code?.code as string);
      if (!item) {
        const what =
          typeof x.test === 'string' ? `test '${x.test}'` : `code ${String(code?.system)}|${String(code?.code)}`;
        throw new FhirError(400, [
          {
            severity: 'error',
            code: 'code-invalid',
            diagnostics: `orders[${i}]: unknown ${what} (not in the catalogue)`,
            expression: [`orders[${i}]`],
          },
        ]);
      }
      return {
        id: `order-${i}`,
        test: item.id,
        priority,
        indications: indications as string[],
        ...(onset !== undefined ? { onset } : {}),
      };
    });
    return {
      patientId: body.patientId,
      ...(typeof body.encounterId === 'string' ? { encounterId: body.encounterId } : {}),
      ...(body.setting ? { setting: body.setting as Setting } : {}),
      drafts,
    };
  }

  /** `POST /ordering/check`: findings for proposed orders; recorded as proposals. */
  async check(actor: Actor, body: OrderBody): Promise<{ ruleSetVersion: number; findings: Finding[] }> {
    const p = this.parseBody(body);
    const findings = await this.evaluate({ ...p, organisation: actor.organisation });
    const base = {
      at: this.repo.clock.now(),
      channel: 'requisition' as const,
      patient: p.patientId,
      orderer: actor.subject,
      organisation: actor.organisation,
    };
    this.events.record([
      ...p.drafts.map((d) => ({ ...base, kind: 'proposal' as const, test: d.test })),
      ...eventsFor(findings, base),
    ]);
    return { ruleSetVersion: this.rules.active.version, findings };
  }

  /** Creates a requisition: one draft ServiceRequest per order, evaluated at once. */
  async createRequisition(
    actor: Actor,
    body: OrderBody,
    interceptor?: WriteInterceptor,
  ): Promise<{ requisition: string; orders: Resource[]; findings: Finding[] }> {
    const p = this.parseBody(body);
    const requisition = randomUUID();
    const now = this.repo.clock.now();
    const indications = (body.indications ?? []) as string[];
    // The performing section, when the orderer knows it (SOR code): management information
    // attributes the order and its results to it (docs/operations.md).
    const performers = (body.orders as Obj[]).map((o, i) => {
      const v = o?.performer;
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(v))
        throw Errors.badRequest('performer must be a SOR code', `orders[${i}].performer`);
      return v;
    });
    const resources = p.drafts.map((d, i) => {
      const item = this.catalogue.item(d.test)!;
      const performer = performers[i];
      const placer = p.drafts.length === 1 ? requisition : `${requisition}-${i + 1}`;
      const sr: Resource = {
        resourceType: 'ServiceRequest',
        identifier: [{ system: PLACER_SYSTEM, value: placer }],
        status: 'draft',
        intent: 'order',
        requisition: { system: REQUISITION_SYSTEM, value: requisition },
        category: [{ text: item.kind === 'lab' ? 'laboratory' : 'imaging' }],
        priority: d.priority,
        code: { coding: [item.code], text: item.title.da },
        subject: { reference: `Patient/${p.patientId}` },
        ...(p.encounterId ? { encounter: { reference: `Encounter/${p.encounterId}` } } : {}),
        authoredOn: new Date(now).toISOString(),
        requester: { identifier: { system: 'urn:dxhub:user', value: actor.subject }, display: actor.subject },
        performer: [
          {
            ...(performer ? { identifier: { system: SOR_SYSTEM, value: performer } } : {}),
            display: `${item.performer.da} / ${item.performer.en}`,
          },
        ],
        ...(indications.length > 0
          ? { reasonCode: indications.map((c) => ({ coding: [{ system: INDICATION_SYSTEM, code: c }] })) }
          : {}),
        extension: [
          ...(actor.organisation
            ? [{ url: REQUESTER_ORG_EXTENSION, valueIdentifier: { system: SOR_SYSTEM, value: actor.organisation } }]
            : []),
          ...(p.setting ? [{ url: SETTING_EXTENSION, valueCode: p.setting }] : []),
          ...(d.onset !== undefined ? [{ url: ONSET_EXTENSION, valueDateTime: new Date(d.onset).toISOString() }] : []),
        ],
        ...(item.specimen
          ? {
              note: [
                {
                  text: `Prøve / specimen: ${item.specimen.type.da} (${item.specimen.container.da}) / ${item.specimen.type.en} (${item.specimen.container.en})`,
                },
              ],
            }
          : {}),
      };
      return validateBody(sr, 'ServiceRequest');
    });
    // Findings first: an unknown patient fails before anything is written.
    const findings0 = await this.evaluate({ ...p, organisation: actor.organisation });
    const stored = await this.repo.transaction(async (w) => {
      const out: Resource[] = [];
      for (const r of resources) out.push(JSON.parse((await this.repo.put(w, r)).json!) as Resource);
      return out;
    }, interceptor);
    const idOf = new Map(p.drafts.map((d, i) => [d.id, String(stored[i]!.id)]));
    const findings = findings0.map((f) => ({ ...f, orderId: idOf.get(f.orderId) ?? f.orderId }));
    const base = {
      at: now,
      channel: 'requisition' as const,
      patient: p.patientId,
      requisition,
      orderer: actor.subject,
      organisation: actor.organisation,
    };
    await this.events.recordNow([
      ...p.drafts.map((d) => ({ ...base, kind: 'proposal' as const, orderId: idOf.get(d.id), test: d.test })),
      ...eventsFor(findings, base),
    ]);
    return { requisition, orders: stored, findings };
  }

  /** The ServiceRequests of a requisition (404 when none). */
  async requisition(id: string): Promise<Resource[]> {
    const page = await this.repo.search(
      parseSearchRequest('ServiceRequest', [
        ['requisition', `${REQUISITION_SYSTEM}|${id}`],
        ['_count', '200'],
      ]),
    );
    if (page.matches.length === 0) throw Errors.notFound('Requisition', id);
    return page.matches.map((m) => JSON.parse(m.json) as Resource);
  }

  /**
   * Signs a requisition: re-evaluates its drafts now; refuses (409) while a block is not
   * overridden by a named role with a reason, and (422) while a warning has no reason.
   */
  async sign(
    actor: Actor,
    id: string,
    overrides: readonly { rule: string; reason: string; orderId?: string }[],
    interceptor?: WriteInterceptor,
  ): Promise<{ orders: Resource[]; findings: Finding[] }> {
    const orders = await this.requisition(id);
    const notDraft = orders.filter((o) => o.status !== 'draft');
    if (notDraft.length > 0)
      throw new FhirError(409, [
        {
          severity: 'error',
          code: 'conflict',
          diagnostics: `requisition ${id} is already ${String(notDraft[0]!.status)}`,
        },
      ]);
    const mapped = draftsFromServiceRequests(orders, this.catalogue);
    if (!mapped.ok) throw Errors.badRequest(mapped.errors.join('; '));
    const first = orders[0]!;
    const patientId = String((first.subject as Obj).reference).replace(/^Patient\//, '');
    const encounterId = (first.encounter as Obj | undefined)?.reference?.toString().replace(/^Encounter\//, '');
    const setting = ((first.extension ?? []) as Obj[]).find((e) => e.url === SETTING_EXTENSION)?.valueCode as
      | Setting
      | undefined;
    const findings = await this.evaluate({
      patientId,
      encounterId,
      setting,
      organisation: actor.organisation,
      drafts: mapped.drafts,
    });
    const blocked = unliftedBlocks(findings, overrides, actor.role);
    if (blocked.length > 0)
      throw signRefused(409, blocked, (f) =>
        f.overrideRoles.includes(actor.role)
          ? 'give an override with a reason'
          : `blocked; only ${f.overrideRoles.join(', ')} may override, with a reason`,
      );
    const reasonFor = (f: Finding) =>
      overrides.find((o) => o.rule === f.rule && (!o.orderId || o.orderId === f.orderId) && o.reason.trim() !== '');
    const unreasoned = findings.filter((f) => f.action === 'warning' && !reasonFor(f));
    if (unreasoned.length > 0)
      throw signRefused(422, unreasoned, () => 'a warning is signed only with a reason (overrides: [{rule, reason}])');
    const overridden = findings.filter((f) => f.action !== 'info' && reasonFor(f));
    const now = this.repo.clock.now();
    const signed = await this.repo.transaction(async (w) => {
      const out: Resource[] = [];
      for (const o of orders) {
        const notes = overridden
          .filter((f) => f.orderId === o.id)
          .map((f) => ({
            text: `Override ${f.rule} v${f.ruleVersion} by ${actor.subject} (${actor.role}): ${reasonFor(f)!.reason}`,
            time: new Date(now).toISOString(),
          }));
        const next = {
          ...o,
          status: 'active',
          authoredOn: new Date(now).toISOString(),
          ...(notes.length ? { note: [...((o.note as Obj[]) ?? []), ...notes] } : {}),
        };
        out.push(JSON.parse((await this.repo.put(w, validateBody(next, 'ServiceRequest'))).json!) as Resource);
      }
      return out;
    }, interceptor);
    const base = {
      at: now,
      channel: 'requisition' as const,
      patient: patientId,
      requisition: id,
      orderer: actor.subject,
      organisation: actor.organisation,
    };
    await this.events.recordNow([
      ...overridden.map((f) => ({
        ...base,
        kind: 'override' as const,
        orderId: f.orderId,
        test: f.test,
        rule: f.rule,
        ruleKind: f.kind,
        reason: reasonFor(f)!.reason,
      })),
      ...mapped.drafts.map((d) => ({ ...base, kind: 'sign' as const, orderId: d.id, test: d.test })),
    ]);
    return { orders: signed, findings };
  }

  /** Revokes (cancels) a requisition's draft and active orders, or completes its active orders. */
  async transition(
    actor: Actor,
    id: string,
    to: 'revoked' | 'completed',
    reason?: string,
    interceptor?: WriteInterceptor,
  ): Promise<Resource[]> {
    const orders = await this.requisition(id);
    const from = to === 'revoked' ? ['draft', 'active', 'on-hold'] : ['active'];
    const movable = orders.filter((o) => from.includes(String(o.status)));
    if (movable.length === 0)
      throw new FhirError(409, [
        {
          severity: 'error',
          code: 'conflict',
          diagnostics: `requisition ${id} has no ${from.join('/')} orders to mark ${to}`,
        },
      ]);
    const now = this.repo.clock.now();
    const out = await this.repo.transaction(async (w) => {
      const res: Resource[] = [];
      for (const o of movable) {
        const next: Resource = {
          ...o,
          status: to,
          ...(to === 'completed' ? { occurrenceDateTime: new Date(now).toISOString() } : {}),
          ...(reason ? { note: [...((o.note as Obj[]) ?? []), { text: `${to} by ${actor.subject}: ${reason}` }] } : {}),
        };
        res.push(JSON.parse((await this.repo.put(w, validateBody(next, 'ServiceRequest'))).json!) as Resource);
      }
      return res;
    }, interceptor);
    const mapped = draftsFromServiceRequests(movable, this.catalogue);
    const patient = String((movable[0]!.subject as Obj).reference).replace(/^Patient\//, '');
    await this.events.recordNow(
      (mapped.ok ? mapped.drafts : []).map((d) => ({
        at: now,
        kind: to === 'revoked' ? ('cancel' as const) : ('complete' as const),
        channel: 'requisition' as const,
        patient,
        requisition: id,
        orderId: d.id,
        test: d.test,
        orderer: actor.subject,
        organisation: actor.organisation,
        ...(reason ? { reason } : {}),
      })),
    );
    return out;
  }

  /** What already exists for the patient: open orders (all organisations) and the latest result per test with its age. */
  async summary(patientId: string) {
    const row = await this.repo.read('Patient', patientId);
    if (!row || row.deleted) throw Errors.notFound('Patient', patientId);
    const now = this.repo.clock.now();
    const [open, byTest] = await Promise.all([
      openOrders(this.repo, this.catalogue, patientId),
      this.latest.forPatient(patientId),
    ]);
    const latest = this.catalogue.items.filter((i) => byTest.has(i.id)).map((i) => [i, byTest.get(i.id)] as const);
    return {
      patientId,
      at: new Date(now).toISOString(),
      openOrders: open.map((o) => ({
        serviceRequest: `ServiceRequest/${o.id}`,
        test: o.test,
        title: this.catalogue.item(o.test)!.title,
        status: o.status,
        organisation: o.organisation ?? null,
        authoredOn: o.authoredOn === undefined ? null : new Date(o.authoredOn).toISOString(),
      })),
      latestResults: latest
        .filter(([, r]) => r !== undefined)
        .map(([i, r]) => ({
          test: i.id,
          title: i.title,
          code: i.code,
          observation: `Observation/${r!.observationId}`,
          effective: new Date(r!.at).toISOString(),
          ageDays: Math.round(((now - r!.at) / 86_400_000) * 10) / 10,
          ...(r!.value !== undefined ? { value: r!.value, unit: r!.unit ?? null } : {}),
        })),
    };
  }
}
