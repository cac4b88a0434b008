import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditAction, AuditEntry } from '../core/audit/audit-entry.ts';
import { Errors, type FhirError } from '../core/fhir/errors.ts';
import { parseSearchRequest, type SearchRequest } from '../core/fhir/search-request.ts';
import type { FhirInteraction } from '../core/security/fhir-interaction.ts';
import type { Principal } from '../core/security/principal.ts';
import { decide, type SearchRestriction } from '../core/security/smart-scopes.ts';
import type { AccessGuard, SearchAudit } from '../fhir-api/access-guard.ts';
import type { Resource, WriteContext, WriteResult } from '../store/repository.ts';
import type { AccessFacts, Block, OrganisationDirectory, PatientFacts } from './access-control.ts';
import { pseudonymise } from './pseudonymise.ts';
import { inPatientCompartment, originRefs, patientsOf } from './resource-facts.ts';
import { matchesRestrictions } from './scope-restrictions.ts';

/**
 * A reasoned override of the treatment-relation rule and of patient blocks (Sundhedsloven § 42 a
 * stk. 2–3, "værdispring"): the patient's consent at the point of care, or the patient's vital
 * interest. Sent as `X-Vaerdispring: <consent|vital-interest>; <reason>`.
 */
export interface BreakGlass {
  readonly kind: 'consent' | 'vital-interest';
  readonly reason: string;
}

/** v3-ActReason purpose of use for the audit trail. */
const PURPOSE = { consent: 'PATRQT', 'vital-interest': 'ETREAT' } as const;

/** Request details that go into every audit entry. */
export interface RequestInfo {
  readonly requestId?: string;
  readonly sourceIp?: string;
  readonly breakGlass?: BreakGlass;
}

/** Why a resource may not be shown; `undefined` = visible. */
type Refusal = { readonly code: 'scope' | 'role' | 'own-data' | 'relation' | 'blocked'; readonly text: string };

const REFUSALS: Record<Refusal['code'], string> = {
  scope: 'the token does not grant this resource type',
  role: 'the role does not see patient records',
  'own-data': 'a citizen sees only their own data',
  relation: "no current treatment relation between the user's organisation and the patient (Sundhedsloven § 42 a)",
  blocked: 'the patient has blocked this data from the organisation (spærring)',
};

/**
 * The access decisions and audit entries of one request by one principal (docs/security.md):
 * SMART scopes per interaction, then the role's rules per resource — own data for citizens,
 * pseudonyms for researchers, no records for aggregate roles, and for clinical users a current
 * treatment relation and no patient block, unless a værdispring is given (then allowed, audited as
 * such and listed for review).
 */
export class RequestGuard implements AccessGuard {
  readonly principal: Principal;
  private readonly facts: AccessFacts;
  private readonly audit: AuditLog;
  private readonly info: RequestInfo;
  private readonly pseudonymKey: string;
  private writes: AuditEntry[] = [];
  private overridden = new Set<string>();
  private written: string[] = [];
  private seen = new Set<string>();
  private reasons = new Set<string>();
  private withheld = 0;
  mayCount = true;

  constructor(principal: Principal, facts: AccessFacts, audit: AuditLog, info: RequestInfo, pseudonymKey: string) {
    this.principal = principal;
    this.facts = facts;
    this.audit = audit;
    this.info = info;
    this.pseudonymKey = pseudonymKey;
  }

  private entry(action: AuditAction, fields: Partial<AuditEntry>): AuditEntry {
    const p = this.principal;
    const bg = this.info.breakGlass;
    return {
      action,
      agent: p.fhirUser ?? p.subject,
      organisation: p.organisation,
      role: p.role.kind,
      purpose: bg
        ? PURPOSE[bg.kind]
        : p.role.kind === 'researcher'
          ? 'HRESCH'
          : p.role.clinicalData
            ? 'TREAT'
            : 'HOPERAT',
      sourceIp: this.info.sourceIp,
      client: p.clientId,
      requestId: this.info.requestId,
      ...fields,
    };
  }

  /** Audits a refusal (durably) and returns the 403 to throw. */
  async deny(text: string, fields: Partial<AuditEntry> = {}): Promise<FhirError> {
    await this.audit.record(this.entry('denied', { outcome: 'minor-failure', detail: text, ...fields }));
    return Errors.forbidden(text);
  }

  permit(resourceType: string, interaction: FhirInteraction): void {
    if (resourceType === 'AuditEvent' && !['read', 'vread', 'search-type', 'search-system'].includes(interaction)) {
      // The audit trail is written by dxhub only, into the hash-chained log.
      throw Errors.forbidden('AuditEvents are recorded by dxhub itself and cannot be written');
    }
    const d = decide(this.principal.scopes, {
      context: this.principal.role.context,
      resourceType,
      interaction,
    });
    if (d.kind === 'deny') {
      const text = `the token's scopes do not allow ${interaction} on ${resourceType}`;
      // Recorded without waiting: the refusal answers no data, and permit() is synchronous.
      void this.audit.record(this.entry('denied', { outcome: 'minor-failure', detail: text })).catch(() => {});
      throw Errors.forbidden(text);
    }
    if (this.principal.role.aggregatesOnly && interaction !== 'search-type' && interaction !== 'search-system') {
      const text = `the ${this.principal.role.kind} role sees aggregate figures only`;
      void this.audit.record(this.entry('denied', { outcome: 'minor-failure', detail: text })).catch(() => {});
      throw Errors.forbidden(text);
    }
  }

  narrowSearch(req: SearchRequest): void {
    const p = this.principal;
    if (p.role.aggregatesOnly) {
      if (req.summary !== 'count') {
        throw Errors.forbidden(`the ${p.role.kind} role sees aggregate figures only: use _summary=count`);
      }
      req.include = [];
      req.revinclude = [];
      return;
    }
    if (p.role.ownDataOnly) {
      // The citizen's compartment becomes part of the query, so counts and pages are exact.
      const type = req.resourceType;
      const own = p.patient ?? '';
      if (type === 'Patient') req.filters.push(...parseSearchRequest('Patient', [['_id', own]]).filters);
      else {
        const param = compartmentParam(type);
        if (!param) throw Errors.forbidden(`${type} is not part of a patient's own record`);
        req.filters.push(...parseSearchRequest(type, [[param, `Patient/${own}`]]).filters);
      }
    } else if (this.recordBound()) {
      // Counts over records the user may not see would reveal them; a count of one patient is fine.
      const onePatient = searchedPatients(req) !== undefined;
      this.mayCount = onePatient;
      if (req.summary === 'count' && !onePatient) {
        throw Errors.forbidden('counts across patients are management information: search one patient');
      }
    }
  }

  /** Roles whose record access depends on the patient (relation, blocks). */
  private recordBound(): boolean {
    const r = this.principal.role;
    return this.principal.role.context === 'user' && r.clinicalData && !r.ownDataOnly && !r.pseudonymisedOnly;
  }

  async reveal(
    interaction: 'read' | 'vread',
    type: string,
    id: string,
    json: string,
    w?: WriteContext,
    patientKey?: string | null,
  ): Promise<string> {
    // Parsed only when a decision needs the content (scope filters, blocks, Provenance, pseudonyms).
    let parsed: Resource | undefined;
    const resource = () => (parsed ??= JSON.parse(json) as Resource);
    const dir = await this.facts.directory();
    const patients = knownPatients(type, id, json, patientKey) ?? (await this.patientsOf(resource(), w));
    const refusal = await this.check(type, resource, patients, dir, 'read', w);
    if (refusal) {
      const fields = { patient: patients[0], resource: `${type}/${id}` };
      if (!w) throw await this.deny(refusal.text, fields);
      void this.audit
        .record(this.entry('denied', { outcome: 'minor-failure', detail: refusal.text, ...fields }))
        .catch(() => {});
      throw Errors.forbidden(refusal.text);
    }
    const entries = [
      ...(await this.overrides(patients, w)),
      ...(patients.length ? patients : [undefined]).map((patient) =>
        this.entry(interaction, { patient, resource: `${type}/${id}` }),
      ),
    ];
    // Inside a transaction the entries commit with it; otherwise durably before the answer.
    if (w) this.writes.push(...entries);
    else await Promise.all(entries.map((e) => this.audit.record(e)));
    return this.principal.role.pseudonymisedOnly ? JSON.stringify(pseudonymise(resource(), this.pseudonymKey)) : json;
  }

  async screen(list: string[]): Promise<(string | undefined)[]> {
    const dir = await this.facts.directory();
    const out: (string | undefined)[] = [];
    for (const json of list) {
      const resource = JSON.parse(json) as Resource;
      const patients = await this.patientsOf(resource);
      const refusal = await this.check(resource.resourceType, () => resource, patients, dir, 'search');
      if (refusal) {
        this.withheld++;
        this.reasons.add(refusal.text);
        out.push(undefined);
        continue;
      }
      for (const p of patients) this.seen.add(p);
      out.push(
        this.principal.role.pseudonymisedOnly ? JSON.stringify(pseudonymise(resource, this.pseudonymKey)) : json,
      );
    }
    if (this.withheld > 0) this.mayCount = false;
    return out;
  }

  async auditSearch(query: string): Promise<SearchAudit> {
    const seen = [...this.seen];
    const withheld = this.withheld;
    const reasons = [...this.reasons];
    this.seen.clear();
    this.withheld = 0;
    this.reasons.clear();
    const entries = [
      ...(await this.overrides(seen)),
      ...(seen.length ? seen : [undefined]).map((patient) => this.entry('search', { patient, query })),
    ];
    if (withheld > 0) {
      entries.push(
        this.entry('denied', {
          outcome: 'minor-failure',
          query,
          detail: `${withheld} search result(s) withheld: ${reasons.join('; ')}`,
        }),
      );
    }
    await Promise.all(entries.map((e) => this.audit.record(e)));
    return {
      withheld,
      reason: withheld
        ? `${withheld} result(s) withheld: ${reasons.join('; ')}. A treating clinician may repeat the search with a værdispring (X-Vaerdispring header).`
        : undefined,
    };
  }

  async beforeWrite(w: WriteContext, type: string, next: Resource | undefined, current: Resource | undefined) {
    const dir = await this.facts.directory();
    for (const r of [current, next]) {
      if (!r) continue;
      const patients = await this.patientsOf(r, w);
      const refusal = await this.check(r.resourceType, () => r, patients, dir, 'write', w);
      if (refusal) {
        // The transaction rolls back; the refusal is recorded in a transaction of its own, queued now
        // and committed after this one ends (on SQLite the one writer is busy with this one).
        void this.audit
          .record(
            this.entry('denied', {
              outcome: 'minor-failure',
              detail: refusal.text,
              patient: patients[0],
              resource: `${type}/${r.id ?? ''}`,
            }),
          )
          .catch(() => {});
        throw Errors.forbidden(refusal.text);
      }
      for (const e of await this.overrides(patients, w)) this.writes.push(e);
    }
  }

  afterWrite(_w: WriteContext, result: WriteResult, next: Resource | undefined, current: Resource | undefined): void {
    const action: AuditAction = !next ? 'delete' : result.created ? 'create' : 'update';
    const patients = patientsOf((next ?? current ?? {}) as Record<string, unknown>);
    for (const patient of patients.length ? patients : [undefined]) {
      this.writes.push(this.entry(action, { patient, resource: `${result.type}/${result.id}` }));
    }
    this.facts.noteWrite(result.type);
    this.written.push(result.type);
  }

  async beforeCommit(w: WriteContext): Promise<void> {
    const entries = this.writes.splice(0);
    if (entries.length === 0) return;
    // Staged rows go out with the write's own rows (one statement on PostgreSQL).
    const staged = this.audit.stagingRows(entries);
    if (staged) w.atCommit.push(staged);
    else await this.audit.recordInTx(w.tx, entries);
  }

  afterCommit(): void {
    // Writes of relations, blocks or organisations must be seen by the next request at once.
    for (const type of this.written.splice(0)) this.facts.noteWrite(type);
  }

  /** Break-glass audit entries for the patients first reached through the override in this request. */
  private async overrides(patients: string[], w?: WriteContext): Promise<AuditEntry[]> {
    const bg = this.info.breakGlass;
    if (!bg || !this.recordBound()) return [];
    const out: AuditEntry[] = [];
    for (const patient of patients) {
      if (this.overridden.has(patient)) continue;
      if (!(await this.needsOverride(patient, w))) continue;
      this.overridden.add(patient);
      out.push(this.entry('break-glass', { patient, detail: `${bg.kind}: ${bg.reason}` }));
    }
    return out;
  }

  private async needsOverride(patient: string, w?: WriteContext): Promise<boolean> {
    const dir = await this.facts.directory();
    const facts = await this.facts.facts(patient, w);
    return !this.related(facts, dir) || facts.blocks.length > 0;
  }

  /** The patients of a resource; a Provenance belongs to the patients of its targets. */
  private async patientsOf(resource: Resource, w?: WriteContext): Promise<string[]> {
    const own = patientsOf(resource);
    if (resource.resourceType !== 'Provenance') return own;
    for (const t of (resource.target as { reference?: string }[] | undefined) ?? []) {
      const [type, id] = String(t.reference ?? '').split('/');
      if (!type || !id || type === 'Patient') continue;
      const v = await this.facts.repo.read(type, id, w);
      if (v?.json) for (const p of patientsOf(JSON.parse(v.json))) if (!own.includes(p)) own.push(p);
    }
    return own;
  }

  private related(facts: PatientFacts, dir: OrganisationDirectory): boolean {
    const org = this.principal.organisation;
    if (org && facts.relationOrgs.some((code) => dir.within(code, org))) return true;
    const user = this.principal.fhirUser;
    return user !== undefined && facts.relationUsers.includes(user);
  }

  /** The principal's decision on one resource, or undefined when it may be seen or written. */
  private async check(
    type: string,
    resource: () => Resource,
    patients: string[],
    dir: OrganisationDirectory,
    mode: 'read' | 'search' | 'write',
    w?: WriteContext,
  ): Promise<Refusal | undefined> {
    const p = this.principal;
    const role = p.role;
    // Included resources and history entries may be of other types than the one permitted.
    const interaction: FhirInteraction = mode === 'write' ? 'update' : mode === 'search' ? 'search-type' : 'read';
    const decision = decide(p.scopes, { context: role.context, resourceType: type, interaction });
    const read =
      mode === 'write'
        ? decision
        : decide(p.scopes, { context: role.context, resourceType: type, interaction: 'read' });
    const d = decision.kind === 'deny' ? read : decision;
    if (mode !== 'write' && d.kind === 'deny') return refusal('scope');
    if (
      d.kind === 'allow-filtered' &&
      !d.anyOf.some((r: readonly SearchRestriction[]) => matchesRestrictions(resource(), r))
    ) {
      return refusal('scope');
    }
    const patientData = patients.length > 0 || (inPatientCompartment(type) && role.ownDataOnly);
    if (!patientData) return undefined;
    if (role.ownDataOnly)
      return patients.length > 0 && patients.every((x) => x === p.patient) ? undefined : refusal('own-data');
    if (role.context === 'system') return undefined;
    if (!role.clinicalData || role.aggregatesOnly) return refusal('role');
    if (role.pseudonymisedOnly) return mode === 'write' ? refusal('role') : undefined;
    return this.patientRefusal(patients, type === 'Patient' ? undefined : resource, dir, w);
  }

  /** The treatment relation (§ 42 a) and the blocks covering `resource`, unless a værdispring is given. */
  private async patientRefusal(
    patients: readonly string[],
    resource: (() => Resource) | undefined,
    dir: OrganisationDirectory,
    w?: WriteContext,
  ): Promise<Refusal | undefined> {
    for (const patient of patients) {
      const facts = await this.facts.facts(patient, w);
      if (!this.related(facts, dir) && !this.info.breakGlass) return refusal('relation');
      // Parses the resource only for a patient with blocks (its origins decide).
      if (resource && facts.blocks.length > 0 && !this.info.breakGlass) {
        if (await this.blocked(facts.blocks, resource(), dir)) return refusal('blocked');
      }
    }
    return undefined;
  }

  /** The refusal of patient data outside the FHIR API (no per-type scope): role, then relation and blocks. */
  private async lookUpRefusal(patient: string, resource: Resource | undefined): Promise<Refusal | undefined> {
    const p = this.principal;
    const role = p.role;
    if (role.ownDataOnly) return patient === p.patient ? undefined : refusal('own-data');
    if (role.context === 'system') return undefined;
    if (!role.clinicalData || role.aggregatesOnly || role.pseudonymisedOnly) return refusal('role');
    const dir = await this.facts.directory();
    if (resource) return this.patientRefusal([patient], () => resource, dir);
    // A look-up of the patient's data as a whole (summary, decision support) may include any
    // blocked part: any block covering the user refuses it, unless værdispring.
    const r = await this.patientRefusal([patient], undefined, dir);
    if (r || this.info.breakGlass) return r;
    const now = Date.now();
    const facts = await this.facts.facts(patient);
    return facts.blocks.some((b) => this.covers(b, dir, now)) ? refusal('blocked') : undefined;
  }

  /**
   * A look-up of named patients' data by a route outside the FHIR API (ordering, results, CDS
   * Hooks): refused (audited as denied, 403) like a FHIR read of the patient's data — role,
   * treatment relation, the blocks covering `resource` — unless a værdispring is given; otherwise
   * one audit entry per patient (`action`), and a break-glass entry where the override was needed.
   * Inside a write transaction (`w`) the entries commit with it (through `beforeCommit`).
   * `known` names patients the caller knows to exist from a current read of its own (a cached
   * snapshot kept current by the commit signal); for them the Patient is not read again.
   */
  async lookUp(
    action: AuditAction,
    patients: readonly string[],
    fields: Partial<AuditEntry> = {},
    resource?: Resource,
    w?: WriteContext,
    known?: (patient: string) => boolean,
  ): Promise<void> {
    const unique = [...new Set(patients)];
    for (const patient of unique) {
      // An unknown patient is a 404, as on the FHIR API.
      if (!known?.(patient)) {
        const row = await this.facts.repo.read('Patient', patient, w);
        if (!row || row.deleted) throw Errors.notFound('Patient', patient);
      }
      const r = await this.lookUpRefusal(patient, resource);
      if (r) throw await this.deny(r.text, { patient, ...fields });
    }
    const entries = [
      ...(await this.overrides(unique, w)),
      ...unique.map((patient) => this.entry(action, { patient, ...fields })),
    ];
    if (w) this.writes.push(...entries);
    else await Promise.all(entries.map((e) => this.audit.record(e)));
  }

  /**
   * Of a worklist's items, those whose patient the principal may see (as `lookUp`, without the
   * 403): the rest are withheld. Audit with `auditSearch` afterwards (one entry per listed patient).
   */
  async screenItems<T>(
    items: readonly T[],
    patientOf: (item: T) => string | undefined,
    resourceOf?: (item: T) => Resource | undefined,
  ): Promise<T[]> {
    const out: T[] = [];
    for (const item of items) {
      const patient = patientOf(item);
      const r = patient ? await this.lookUpRefusal(patient, resourceOf?.(item)) : undefined;
      if (r) {
        this.withheld++;
        this.reasons.add(r.text);
        continue;
      }
      if (patient) this.seen.add(patient);
      out.push(item);
    }
    return out;
  }

  private async blocked(blocks: readonly Block[], resource: Resource, dir: OrganisationDirectory): Promise<boolean> {
    if (blocks.length === 0) return false;
    const now = Date.now();
    const org = this.principal.organisation;
    const origins: string[] = [];
    for (const ref of originRefs(resource)) {
      const code = await dir.codeOf(ref, this.facts.repo);
      if (code) origins.push(code);
    }
    // The place the data comes from keeps seeing it.
    if (org && origins.some((o) => dir.within(org, o) || dir.within(o, org))) return false;
    for (const b of blocks) {
      if (!this.covers(b, dir, now)) continue;
      if (b.types.length && !b.types.includes(resource.resourceType)) continue;
      if (b.sourceOrgs.length === 0 || origins.some((o) => b.sourceOrgs.some((s) => dir.within(o, s)))) return true;
    }
    return false;
  }

  /** A block in force now that names the principal (or everyone) as recipient. */
  private covers(b: Block, dir: OrganisationDirectory, now: number): boolean {
    if ((b.start !== undefined && now < b.start) || (b.end !== undefined && now > b.end)) return false;
    const org = this.principal.organisation;
    const everyone = b.recipientOrgs.length === 0 && b.recipientUsers.length === 0;
    return (
      everyone ||
      (org !== undefined && b.recipientOrgs.some((o) => dir.within(org, o))) ||
      (this.principal.fhirUser !== undefined && b.recipientUsers.includes(this.principal.fhirUser))
    );
  }
}

/**
 * The patients of a stored version without parsing it, when the store's patient key settles it: a
 * Patient is its own; a resource whose text names a Patient reference at most once has at most the
 * one patient the store derived from its compartment references. Otherwise (several Patient
 * references, a Provenance, an unknown key) undefined: the caller reads the resource.
 */
function knownPatients(type: string, id: string, json: string, key: string | null | undefined): string[] | undefined {
  if (type === 'Patient') return [id];
  if (key === undefined || type === 'Provenance') return undefined;
  const first = json.indexOf('Patient/');
  if (first >= 0 && json.indexOf('Patient/', first + 1) >= 0) return undefined;
  return key === null ? [] : [key];
}

function refusal(code: Refusal['code']): Refusal {
  return { code, text: REFUSALS[code] };
}

/** The first Patient compartment parameter of a type that is a plain reference to the patient. */
const COMPARTMENT_PARAM = new Map<string, string | undefined>();
function compartmentParam(type: string): string | undefined {
  if (!COMPARTMENT_PARAM.has(type)) {
    let found: string | undefined;
    for (const code of ['patient', 'subject', 'beneficiary', 'individual']) {
      try {
        parseSearchRequest(type, [[code, 'Patient/x']]);
        found = code;
        break;
      } catch {}
    }
    COMPARTMENT_PARAM.set(type, found);
  }
  return COMPARTMENT_PARAM.get(type);
}

/** The one patient a search is restricted to, when it names exactly one. */
function searchedPatients(req: SearchRequest): string | undefined {
  for (const f of req.filters) {
    if (f.kind !== 'param' || (f.def.code !== 'patient' && f.def.code !== 'subject')) continue;
    if (f.values.length === 1 && !f.modifier) return JSON.stringify(f.values[0]);
  }
  return undefined;
}
