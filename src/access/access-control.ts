import { parseReference } from '../core/fhir/index-rows.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import { isWithin } from '../core/security/roles.ts';
import type { FhirRepository, Resource, WriteContext } from '../store/repository.ts';
import type { Ref } from './resource-facts.ts';

/** SOR (Sundhedsvæsenets Organisationsregister), research note §5.4. */
export const SOR_SYSTEM = 'urn:oid:1.2.208.176.1.1';

/** Access-control settings a region configures (docs/security.md). */
export interface AccessPolicy {
  /** Identifier systems whose values are the organisation codes that tokens carry in `org`. */
  readonly organisationSystems: readonly string[];
  /** Encounter statuses that make a current treatment relation. */
  readonly encounterStatuses: readonly string[];
  /** EpisodeOfCare statuses that make a current treatment relation. */
  readonly episodeStatuses: readonly string[];
  /** ServiceRequest statuses that make a relation (an order from or to the organisation). */
  readonly orderStatuses: readonly string[];
  /** A completed order keeps the relation this many days after its last change (results arrive after). */
  readonly completedOrderDays: number;
  /** How long facts about a patient's relations and blocks are reused (ms); writes in this process clear them at once. */
  readonly cacheMs: number;
  /**
   * Facts older than `cacheMs` are still used, up to this age (ms), while a check of the store's
   * outbox made less than `cacheMs` ago found no write of a resource they are built from (any
   * process's) since they were read. Bounds what time alone changes (the completed-order window).
   */
  readonly checkedCacheMs: number;
}

/**
 * The default policy. Statuses follow the R4 value sets (encounter-status, episode-of-care-status,
 * request-status); "current" is read as not yet finished. The 30-day window for completed orders is
 * dxhub's default for the region to approve, not a legal figure.
 */
export const DEFAULT_ACCESS_POLICY: AccessPolicy = Object.freeze({
  organisationSystems: [SOR_SYSTEM],
  encounterStatuses: ['planned', 'arrived', 'triaged', 'in-progress', 'onleave'],
  episodeStatuses: ['planned', 'waitlist', 'active', 'onhold'],
  orderStatuses: ['draft', 'active', 'on-hold'],
  completedOrderDays: 30,
  cacheMs: 5000,
  checkedCacheMs: 300_000,
});

/** A patient's block ("spærring", FHIR Consent with a deny provision), as access control applies it. */
export interface Block {
  readonly consent: string;
  /** Organisation codes blocked from seeing (and their sub-units); empty with no users = everyone. */
  readonly recipientOrgs: readonly string[];
  /** Blocked users (`Practitioner/…`, compared with the token's `fhirUser`). */
  readonly recipientUsers: readonly string[];
  /** Only data from these organisations (and sub-units) is blocked; empty = the whole record. */
  readonly sourceOrgs: readonly string[];
  /** Only these resource types; empty = all. */
  readonly types: readonly string[];
  readonly start?: number;
  readonly end?: number;
}

/** What dxhub knows about one patient for access decisions. */
export interface PatientFacts {
  /** Organisation codes with a current treatment relation. */
  readonly relationOrgs: readonly string[];
  /** Practitioners named in a current relation (`Practitioner/…`). */
  readonly relationUsers: readonly string[];
  readonly blocks: readonly Block[];
}

/** The organisation tree as stored: Organization resources with a code and `partOf`. */
export class OrganisationDirectory {
  private readonly codeById = new Map<string, string>();
  private readonly parentByCode = new Map<string, string>();
  private readonly roleOrg = new Map<string, string | undefined>();

  constructor(organisations: readonly Resource[], systems: readonly string[]) {
    const partOf = new Map<string, string>();
    for (const o of organisations) {
      const ids = (o.identifier as { system?: string; value?: string }[] | undefined) ?? [];
      const code = ids.find((i) => i.system && systems.includes(i.system) && i.value)?.value;
      if (!code || !o.id) continue;
      this.codeById.set(o.id, code);
      const parent = parseReference(String((o.partOf as Ref | undefined)?.reference ?? ''));
      if (parent?.[0] === 'Organization') partOf.set(code, parent[1]);
    }
    for (const [code, parentId] of partOf) {
      const parentCode = this.codeById.get(parentId);
      if (parentCode) this.parentByCode.set(code, parentCode);
    }
    this.systems = systems;
  }
  private readonly systems: readonly string[];

  readonly parentOf = (code: string): string | undefined => this.parentByCode.get(code);

  /** True when `code` is `ancestor` or below it. */
  within(code: string, ancestor: string): boolean {
    return isWithin(code, ancestor, this.parentOf);
  }

  /** The organisation code a reference names (directly, by identifier, or through a PractitionerRole). */
  async codeOf(ref: Ref, repo: FhirRepository): Promise<string | undefined> {
    const id = ref.identifier;
    if (id?.system && id.value && this.systems.includes(id.system)) return id.value;
    const p = typeof ref.reference === 'string' ? parseReference(ref.reference) : undefined;
    if (!p) return undefined;
    if (p[0] === 'Organization') return this.codeById.get(p[1]);
    if (p[0] !== 'PractitionerRole') return undefined;
    if (!this.roleOrg.has(p[1])) {
      const v = await repo.read('PractitionerRole', p[1]);
      const role = v?.json ? (JSON.parse(v.json) as { organization?: Ref }) : undefined;
      this.roleOrg.set(p[1], role?.organization ? await this.codeOf(role.organization, repo) : undefined);
    }
    return this.roleOrg.get(p[1]);
  }
}

/** Resource types whose writes change relations, blocks or the organisation tree. */
const FACT_TYPES = new Set([
  'Encounter',
  'EpisodeOfCare',
  'CareTeam',
  'ServiceRequest',
  'Consent',
  'Organization',
  'PractitionerRole',
]);

/**
 * The facts access control decides on, read from the FHIR store and cached briefly: the
 * organisation tree, and per patient the current treatment relations (active Encounter,
 * EpisodeOfCare, CareTeam, or an order from or to an organisation) and blocks (Consent deny).
 */
export class AccessFacts {
  readonly repo: FhirRepository;
  readonly policy: AccessPolicy;
  private readonly now: () => number;
  private generation = 0;
  private dir: { at: number; gen: number; value: Promise<OrganisationDirectory> } | undefined;
  private readonly patients = new Map<string, { at: number; gen: number; value: Promise<PatientFacts> }>();

  constructor(repo: FhirRepository, policy: AccessPolicy = DEFAULT_ACCESS_POLICY, now: () => number = Date.now) {
    this.repo = repo;
    this.policy = policy;
    this.now = now;
  }

  /** A write of `type` happened (or committed): forget what it may change. */
  noteWrite(type: string): void {
    if (FACT_TYPES.has(type)) this.generation++;
  }

  /**
   * Whether cached facts may be used. Up to `cacheMs` old, yes (as before: another process's write
   * is seen at the latest then). Older, up to `checkedCacheMs`, only while outbox checks vouch for
   * them: the latest succeeded less than `cacheMs` ago, and the first was done before they were
   * read (each check covers the outbox rows after the previous one's, so every write committed
   * after they were read is in a checked range, or in the unchecked last `cacheMs`). A check that
   * finds a write of a {@link FACT_TYPES} resource drops every cached fact (as a local write does).
   * Reading the facts of 200 patients again every 5 s cost each PostgreSQL read 22–36 µs of CPU
   * in the read bench; a check is one indexed query per `cacheMs / 2` for all patients.
   */
  private fresh(e: { at: number; gen: number } | undefined): boolean {
    return this.state(e) === 'fresh';
  }

  /** {@link fresh}, or `unchecked`: past `cacheMs`, a check could vouch for them but none is recent. */
  private state(e: { at: number; gen: number } | undefined): 'fresh' | 'unchecked' | 'stale' {
    if (e === undefined || e.gen !== this.generation) return 'stale';
    const now = this.now();
    const age = now - e.at;
    // From half its life on, facts in use keep the checks going: the latest is then never more than
    // about `cacheMs / 2` old when they reach `cacheMs`.
    if (age >= this.policy.cacheMs / 2) void this.checkOutbox();
    if (age < this.policy.cacheMs) return 'fresh';
    const c = this.checks;
    if (age >= this.policy.checkedCacheMs || e.at < c.baselineDone) return 'stale';
    return now - c.lastStart < this.policy.cacheMs ? 'fresh' : 'unchecked';
  }

  /** An outbox check is under way (for tests). */
  get checking(): boolean {
    return this.checks.running !== undefined;
  }

  /** Outbox checks: the first one's end, the latest successful one's start, the position it reached. */
  private readonly checks = {
    baselineDone: Number.POSITIVE_INFINITY,
    lastStart: Number.NEGATIVE_INFINITY,
    seq: undefined as number | undefined,
    running: undefined as Promise<void> | undefined,
  };
  /** Outbox checks made (for tests). */
  outboxChecks = 0;

  /**
   * Starts an outbox check unless one runs (then its promise) or, without `now`, one started less
   * than `cacheMs / 2` ago. Resolves when it has ended (failed checks included).
   */
  private checkOutbox(now = false): Promise<void> {
    const c = this.checks;
    const start = this.now();
    if (c.running) return c.running;
    if (!now && start - c.lastStart < this.policy.cacheMs / 2) return Promise.resolve();
    this.outboxChecks++;
    const types = [...FACT_TYPES];
    // One statement: the outbox's end and whether a fact type was written after the last position,
    // read in one snapshot. The outbox's order is the commit order (its writers lock).
    const changed =
      c.seq === undefined
        ? '0'
        : `CASE WHEN EXISTS (SELECT 1 FROM outbox o JOIN resource r ON r.rid = o.rid WHERE o.seq > ? AND r.type IN (${types.map(() => '?').join(', ')})) THEN 1 ELSE 0 END`;
    c.running = this.repo.db
      .all<{ top: number | string | null; changed: number | string }>(
        `SELECT (SELECT MAX(seq) FROM outbox) AS top, ${changed} AS changed`,
        c.seq === undefined ? [] : [c.seq, ...types],
      )
      .then(
        (rows) => {
          if (Number(rows[0]?.changed ?? 1) !== 0) this.generation++;
          c.seq = Number(rows[0]?.top ?? 0);
          c.lastStart = start;
          if (c.baselineDone === Number.POSITIVE_INFINITY) c.baselineDone = this.now();
        },
        () => {
          // Not vouched for: facts older than `cacheMs` are read again.
        },
      )
      .finally(() => {
        c.running = undefined;
      });
    return c.running;
  }

  directory(): Promise<OrganisationDirectory> {
    if (!this.fresh(this.dir)) {
      const value = this.loadDirectory();
      this.dir = { at: this.now(), gen: this.generation, value };
      value.catch(() => {
        this.dir = undefined;
      });
    }
    return this.dir!.value;
  }

  /**
   * The facts of a patient. Inside a write transaction (`w`) they are read through it — the
   * transaction's own connection, never a second one a busy pool may not have — and not cached, as
   * they may include rows that roll back.
   */
  facts(patientId: string, w?: WriteContext): Promise<PatientFacts> {
    if (w) return this.loadFacts(patientId, w);
    const e = this.patients.get(patientId);
    const state = this.state(e);
    if (state === 'fresh') return e!.value;
    // Not used for a while: one check, shared by every caller, costs less than reading each
    // patient's facts again.
    if (state === 'unchecked') return this.checkOutbox(true).then(() => this.load(patientId));
    return this.load(patientId);
  }

  private load(patientId: string): Promise<PatientFacts> {
    // Vouched for by the check just made, or read by another caller meanwhile.
    const e = this.patients.get(patientId);
    if (this.fresh(e)) return e!.value;
    if (this.patients.size > 50_000) this.patients.clear();
    const value = this.loadFacts(patientId);
    this.patients.set(patientId, { at: this.now(), gen: this.generation, value });
    value.catch(() => this.patients.delete(patientId));
    return value;
  }

  private async all(type: string, params: [string, string][], w?: WriteContext): Promise<Resource[]> {
    const out: Resource[] = [];
    for (let offset = 0; ; offset += 1000) {
      const req = parseSearchRequest(type, [...params, ['_count', '1000']]);
      req.offset = offset;
      const page = await this.repo.search(req, w);
      for (const m of page.matches) out.push(JSON.parse(m.json) as Resource);
      if (!page.hasNext) return out;
    }
  }

  private async loadDirectory(): Promise<OrganisationDirectory> {
    return new OrganisationDirectory(await this.all('Organization', []), this.policy.organisationSystems);
  }

  private async loadFacts(patientId: string, w?: WriteContext): Promise<PatientFacts> {
    const p = this.policy;
    const subject: [string, string] = ['patient', `Patient/${patientId}`];
    // One statement for all six searches: a patient's facts are reloaded every `cacheMs` on each
    // server, so their round trips count (inside a transaction it runs on its connection).
    const parse = (list: string[]) => list.map((json) => JSON.parse(json) as Resource);
    const [encounters, episodes, teams, orders, done, consents] = await this.repo.searchEach(
      [
        parseSearchRequest('Encounter', [subject, ['status', p.encounterStatuses.join(',')]]),
        parseSearchRequest('EpisodeOfCare', [subject, ['status', p.episodeStatuses.join(',')]]),
        parseSearchRequest('CareTeam', [subject, ['status', 'active']]),
        parseSearchRequest('ServiceRequest', [subject, ['status', p.orderStatuses.join(',')]]),
        parseSearchRequest('ServiceRequest', [
          subject,
          ['status', 'completed'],
          ['_lastUpdated', `ge${new Date(this.now() - p.completedOrderDays * 86_400_000).toISOString()}`],
        ]),
        parseSearchRequest('Consent', [subject, ['status', 'active']]),
      ],
      w,
    );
    const dir = await this.directory();
    const refs: Ref[] = [];
    const users = new Set<string>();
    const take = (v: unknown) => {
      if (Array.isArray(v)) for (const x of v) take(x);
      else if (v && typeof v === 'object') {
        const r = v as Ref;
        refs.push(r);
        const p = typeof r.reference === 'string' ? parseReference(r.reference) : undefined;
        if (p?.[0] === 'Practitioner') users.add(`Practitioner/${p[1]}`);
      }
    };
    for (const e of parse(encounters)) {
      take(e.serviceProvider);
      for (const part of (e.participant as { individual?: Ref }[] | undefined) ?? []) take(part.individual);
    }
    for (const e of parse(episodes)) take(e.managingOrganization);
    for (const t of parse(teams)) {
      take(t.managingOrganization);
      for (const part of (t.participant as { member?: Ref; onBehalfOf?: Ref }[] | undefined) ?? []) {
        take(part.member);
        take(part.onBehalfOf);
      }
    }
    for (const o of parse([...orders, ...done])) {
      take(o.requester);
      take(o.performer);
    }
    const codes = new Set<string>();
    for (const r of refs) {
      const code = await dir.codeOf(r, this.repo);
      if (code) codes.add(code);
    }
    const blocks: Block[] = [];
    for (const c of parse(consents)) for (const b of await blocksOf(c, dir, this.repo)) blocks.push(b);
    return { relationOrgs: [...codes], relationUsers: [...users], blocks };
  }
}

type Provision = {
  type?: string;
  period?: { start?: string; end?: string };
  actor?: { role?: { coding?: { code?: string }[] }; reference?: Ref }[];
  class?: { code?: string }[];
  provision?: Provision[];
};

/** Roles (v3 ParticipationType) that name where the blocked data comes from, not who is blocked. */
const SOURCE_ROLES = new Set(['AUT', 'CST', 'INF', 'SRC']);

/**
 * The deny provisions of an active Consent: the top-level provision and nested ones, each a block.
 * `actor` with a recipient role (or none) names who is blocked; with a source role (author,
 * custodian, informant) whose data is blocked; `class` limits the resource types; `period` the time
 * the block applies.
 */
async function blocksOf(consent: Resource, dir: OrganisationDirectory, repo: FhirRepository): Promise<Block[]> {
  const out: Block[] = [];
  const visit = async (p: Provision | undefined, inherited: Provision | undefined) => {
    if (!p) return;
    if (p.type === 'deny') {
      const recipientOrgs: string[] = [];
      const recipientUsers: string[] = [];
      const sourceOrgs: string[] = [];
      for (const a of p.actor ?? []) {
        const role = a.role?.coding?.[0]?.code ?? '';
        const ref = a.reference;
        if (!ref) continue;
        const parsed = typeof ref.reference === 'string' ? parseReference(ref.reference) : undefined;
        if (parsed?.[0] === 'Practitioner' && !SOURCE_ROLES.has(role)) {
          recipientUsers.push(`Practitioner/${parsed[1]}`);
          continue;
        }
        const code = await dir.codeOf(ref, repo);
        // An actor dxhub cannot resolve blocks everyone rather than no one.
        if (!code) continue;
        (SOURCE_ROLES.has(role) ? sourceOrgs : recipientOrgs).push(code);
      }
      const period = p.period ?? inherited?.period;
      out.push({
        consent: String(consent.id),
        recipientOrgs,
        recipientUsers,
        sourceOrgs,
        types: (p.class ?? []).map((c) => c.code ?? '').filter(Boolean),
        start: period?.start ? Date.parse(period.start) : undefined,
        end: period?.end ? Date.parse(period.end) : undefined,
      });
    }
    for (const child of p.provision ?? []) await visit(child, p);
  };
  await visit(consent.provision as Provision | undefined, undefined);
  return out;
}
