import type { BundleEntry } from '@medplum/fhirtypes';
import { isResourceType } from '../core/fhir/definitions.ts';
import { tokenValuesOf } from '../core/fhir/index-rows.ts';
import { forEachReference } from '../core/fhir/references.ts';
import { newResourceId } from '../core/fhir/resource-id.ts';
import type { SearchParamDef } from '../core/fhir/search-parameters.ts';
import { MAX_COUNT, parseSearchRequest, type SearchRequest, type TokenValue } from '../core/fhir/search-request.ts';
import { parseIfMatch, validateBody } from '../fhir-api/fhir-service.ts';
import { paddedKeys } from '../store/multi-row.ts';
import type { FhirRepository, PutManyItem, Resource, WriteContext } from '../store/repository.ts';
import { type EntryEffect, splitEffects } from './provenance.ts';

/**
 * One mapped message for {@link writeHl7Batch}: its transaction entries (mapping, terminology
 * Tasks) and, when provenance is on, how to make its Binary and Provenance entries once the batch
 * knows what each entry creates and updates.
 */
export interface BatchMessage {
  readonly rowId: number;
  readonly entries: readonly BundleEntry[];
  readonly provenance?: (created: string[], updated: string[]) => BundleEntry[];
}

/** A token filter of a conditional query: its values are OR'ed (FHIR R4 search §3.1.1.4.8). */
interface TokenFilter {
  readonly def: SearchParamDef;
  readonly values: readonly TokenValue[];
}

/** A conditional query the batch can answer in memory: token filters, AND'ed. */
interface Condition {
  readonly type: string;
  /** The query as written (the lock key, as the transaction path takes it). */
  readonly query: string;
  /** The first filter drives the database lookup; every value has a system and a code. */
  readonly filters: readonly [TokenFilter, ...TokenFilter[]];
}

interface Step {
  readonly method: 'POST' | 'PUT';
  readonly type: string;
  readonly fullUrl: string | undefined;
  readonly resource: Resource;
  /** `PUT Type/id`. */
  readonly id?: string;
  readonly condition?: Condition;
  readonly ifMatch?: number;
}

/** Thrown when a message needs the general transaction path (see {@link planEntries}). */
export class NeedsTransactionPath extends Error {}

/** Conditional references (`Patient?identifier=…` as a reference) are resolved by the transaction path only. */
const CONDITIONAL_REFERENCE = /^[A-Z][A-Za-z]+\?/;

/**
 * Plans the entries of one message for the batch, or throws {@link NeedsTransactionPath}: only
 * POST (optionally `ifNoneExist`) and PUT (`Type/id` or `Type?query`) of valid resources whose
 * conditional queries are token filters on indexed parameters, and whose references are ids or
 * fullUrls of the message. Anything else — and anything the transaction path would refuse — goes
 * through the transaction path, which gives the exact error.
 */
function planEntries(entries: readonly BundleEntry[], known: ReadonlySet<string> = new Set()): Step[] {
  const steps: Step[] = [];
  const fullUrls = new Set([...known, ...entries.map((e) => e.fullUrl).filter((u): u is string => u !== undefined)]);
  for (const e of entries) {
    const method = e.request?.method;
    const url = e.request?.url ?? '';
    if ((method !== 'POST' && method !== 'PUT') || /^https?:|_history|^\//.test(url)) {
      throw new NeedsTransactionPath(`entry ${method} ${url}`);
    }
    const q = url.indexOf('?');
    const path = (q >= 0 ? url.slice(0, q) : url).split('/').filter(Boolean);
    const type = path[0] ?? '';
    if (!isResourceType(type)) throw new NeedsTransactionPath(`type ${type}`);
    let resource: Resource;
    try {
      resource = validateBody(e.resource, type);
    } catch {
      throw new NeedsTransactionPath('invalid resource');
    }
    if (!referencesResolvable(resource, fullUrls)) throw new NeedsTransactionPath('references');
    const ifMatch = e.request?.ifMatch ? parseIfMatch(e.request.ifMatch) : undefined;
    const base = { type, fullUrl: e.fullUrl, resource, ...(ifMatch !== undefined ? { ifMatch } : {}) };
    if (method === 'POST') {
      if (path.length !== 1 || q >= 0) throw new NeedsTransactionPath(`POST ${url}`);
      const ifNoneExist = e.request?.ifNoneExist;
      steps.push({ ...base, method, ...(ifNoneExist ? { condition: condition(type, ifNoneExist) } : {}) });
    } else if (q >= 0) {
      if (path.length !== 1) throw new NeedsTransactionPath(`PUT ${url}`);
      steps.push({ ...base, method, condition: condition(type, url.slice(q + 1)) });
    } else {
      if (path.length !== 2 || resource.id !== path[1]) throw new NeedsTransactionPath(`PUT ${url}`);
      steps.push({ ...base, method, id: path[1] });
    }
  }
  return steps;
}

function referencesResolvable(value: unknown, fullUrls: ReadonlySet<string>): boolean {
  let resolvable = true;
  forEachReference(value, (_, x) => {
    if (CONDITIONAL_REFERENCE.test(x)) resolvable = false;
    else if ((x.startsWith('urn:uuid:') || x.startsWith('urn:oid:')) && !fullUrls.has(x)) resolvable = false;
  });
  return resolvable;
}

function condition(type: string, query: string): Condition {
  let req: SearchRequest;
  try {
    req = parseSearchRequest(type, [...new URLSearchParams(query)] as [string, string][]);
  } catch {
    throw new NeedsTransactionPath(`query ${query}`);
  }
  const filters: TokenFilter[] = [];
  for (const f of req.filters) {
    if (
      f.kind !== 'param' ||
      f.def.type !== 'token' ||
      !f.def.indexed ||
      f.def.storedAs ||
      f.modifier !== undefined ||
      f.missing !== undefined ||
      f.values.length === 0
    ) {
      throw new NeedsTransactionPath(`query ${query}`);
    }
    filters.push({ def: f.def, values: f.values as TokenValue[] });
  }
  const [first, ...rest] = filters;
  if (!first || first.values.some((v) => v.system === undefined || v.code === undefined)) {
    throw new NeedsTransactionPath(`query ${query}`);
  }
  return { type, query, filters: [first, ...rest] };
}

/** Whether a resource's indexed tokens satisfy every filter (what the search would answer). */
function matches(resource: Resource, filters: readonly TokenFilter[]): boolean {
  return filters.every((f) => {
    const tokens = tokenValuesOf(f.def, resource);
    return f.values.some((v) =>
      tokens.some(
        ([system, code]) =>
          (v.code === undefined || code === v.code) && (v.system === undefined || system === v.system),
      ),
    );
  });
}

const tokenKey = (type: string, code: string, system: string, value: string) =>
  `${type}\u0000${code}\u0000${system}\u0000${value}`;

/**
 * What the conditional queries of a batch match: the database as it was when the batch started
 * (one search per type and parameter for all the batch's values), overlaid with what the batch
 * itself has written so far — so each message sees the store as if the messages before it had been
 * committed one by one, as the per-message path sees it.
 */
class ConditionalIndex {
  /** Current resources by `Type/id`: from the database, replaced by the batch's own writes. */
  private readonly resources = new Map<string, Resource>();
  /** Driving token key → `Type/id`s (database rows of ids the batch has not written, and batch writes). */
  private readonly byToken = new Map<string, Set<string>>();
  private readonly keysOf = new Map<string, string[]>();
  /** Driving parameters per type: the tokens a written resource is indexed under here. */
  private readonly driving = new Map<string, Map<string, SearchParamDef>>();

  constructor(conditions: readonly Condition[]) {
    for (const c of conditions) {
      const defs = this.driving.get(c.type) ?? new Map<string, SearchParamDef>();
      defs.set(c.filters[0].def.code, c.filters[0].def);
      this.driving.set(c.type, defs);
    }
  }

  /** Reads every current resource the driving filters of `conditions` can match, in one search per 100 values. */
  async load(repo: FhirRepository, w: WriteContext, conditions: readonly Condition[]): Promise<void> {
    const wanted = new Map<string, { type: string; def: SearchParamDef; values: Map<string, TokenValue> }>();
    for (const c of conditions) {
      const f = c.filters[0];
      const key = `${c.type}\u0000${f.def.code}`;
      const g = wanted.get(key) ?? { type: c.type, def: f.def, values: new Map<string, TokenValue>() };
      for (const v of f.values) g.values.set(`${v.system}\u0000${v.code}`, v);
      wanted.set(key, g);
    }
    for (const { type, def, values } of wanted.values()) {
      const all = [...values.values()];
      for (let i = 0; i < all.length; i += 100) {
        const req = parseSearchRequest(type, []);
        // Padded to a power of two: one statement text per size class, not per count of values.
        req.filters.push({ kind: 'param', def, modifier: undefined, values: paddedKeys(all.slice(i, i + 100)) });
        req.count = MAX_COUNT;
        req.total = 'none';
        const page = await repo.search(req, w);
        // More matches than a page: not what identifier lookups look like; let each message search.
        if (page.hasNext) throw new NeedsTransactionPath(`${type} lookup matched more than ${MAX_COUNT}`);
        for (const m of page.matches) {
          const r = JSON.parse(m.json) as Resource;
          const ref = `${type}/${r.id}`;
          if (this.resources.has(ref)) continue;
          this.index(ref, r);
        }
      }
    }
  }

  private index(ref: string, r: Resource): void {
    for (const k of this.keysOf.get(ref) ?? []) this.byToken.get(k)?.delete(ref);
    this.resources.set(ref, r);
    const keys: string[] = [];
    for (const def of this.driving.get(r.resourceType)?.values() ?? []) {
      for (const [system, code] of tokenValuesOf(def, r)) {
        const k = tokenKey(r.resourceType, def.code, system, code);
        keys.push(k);
        const set = this.byToken.get(k) ?? new Set<string>();
        set.add(ref);
        this.byToken.set(k, set);
      }
    }
    this.keysOf.set(ref, keys);
  }

  /** The batch wrote `r` (type and id set): later queries see this version. */
  written(r: Resource): void {
    this.index(`${r.resourceType}/${r.id}`, r);
  }

  /** The ids the query matches now (the transaction path refuses more than one). */
  match(c: Condition): string[] {
    const [first, ...rest] = c.filters;
    const refs = new Set<string>();
    for (const v of first.values) {
      for (const ref of this.byToken.get(tokenKey(c.type, first.def.code, v.system!, v.code!)) ?? []) refs.add(ref);
    }
    const out: string[] = [];
    for (const ref of refs) {
      const r = this.resources.get(ref);
      if (r && matches(r, rest)) out.push(r.id!);
    }
    return out;
  }
}

/** Replaces references to fullUrls of the message with `Type/id` (checked resolvable when planned). */
function rewriteReferences(value: unknown, ids: ReadonlyMap<string, string>): void {
  forEachReference(value, (holder, x) => {
    const mapped = ids.get(x);
    if (mapped) holder.reference = mapped;
  });
}

/** Processing order inside a transaction (FHIR R4 §3.1.0.11.2), as the transaction path uses it. */
const ORDER = { POST: 1, PUT: 2 } as const;

/**
 * Plans a message for {@link writeHl7Batch}; throws {@link NeedsTransactionPath} when it cannot go
 * in a batch. Pure: call it before the batch's transaction.
 */
export function planHl7Message(message: BatchMessage): { message: BatchMessage; steps: Step[] } {
  return { message, steps: planEntries(message.entries) };
}

export type PlannedMessage = ReturnType<typeof planHl7Message>;

/**
 * Writes planned messages in one transaction with the effect of running each message's
 * transaction Bundle after the other (conditional creates and updates resolved against the store
 * and the messages before it; provenance of what each creates and updates; FHIR processing order
 * POST before PUT within a message), then `inTransaction` (e.g. marking the inbox rows processed):
 * one lock statement for the conditional queries, one search per type and identifier parameter per
 * 100 values, and {@link FhirRepository.putMany} for every write. Throws (and writes nothing) when
 * any message cannot be written as the transaction path would write it — a query matching several
 * resources, a refused resource — so that the caller can process the messages one by one.
 */
export async function writeHl7Batch(
  repo: FhirRepository,
  planned: readonly PlannedMessage[],
  inTransaction: (w: WriteContext) => Promise<void>,
): Promise<void> {
  const conditions: Condition[] = [];
  for (const p of planned) for (const s of p.steps) if (s.condition) conditions.push(s.condition);
  await repo.transaction(async (w) => {
    // The locks the transaction path takes on each conditional query, in one sorted statement.
    await w.tx.lockMany([...new Set(conditions.map((c) => `${c.type}?${c.query}`))].sort());
    const index = new ConditionalIndex(conditions);
    await index.load(repo, w, conditions);
    const items: PutManyItem[] = [];
    for (const p of planned) {
      const steps = [...p.steps];
      const ids = new Map<string, string>();
      const effects = new Map<string, EntryEffect>();
      const write: { step: Step; id: string; fresh: boolean }[] = [];
      const resolve = (s: Step) => {
        let id = s.id;
        let effect: EntryEffect = s.method === 'POST' ? 'create' : 'update';
        if (s.condition) {
          const found = index.match(s.condition);
          if (found.length > 1) throw new NeedsTransactionPath(`${s.type}?${s.condition.query} matches several`);
          id = found[0];
          if (id) effect = s.method === 'POST' ? 'none' : 'update';
          else effect = 'create';
        }
        id ??= s.method === 'PUT' ? s.resource.id : undefined;
        // A server-assigned UUID cannot exist yet: putMany neither locks nor looks it up.
        const fresh = id === undefined;
        id ??= newResourceId();
        if (s.fullUrl) {
          ids.set(s.fullUrl, `${s.type}/${id}`);
          effects.set(s.fullUrl, effect);
        }
        if (effect !== 'none') write.push({ step: s, id, fresh });
      };
      for (const s of steps) resolve(s);
      if (p.message.provenance) {
        const { created, updated } = splitEffects(effects);
        // Provenance targets and the Binary's securityContext are fullUrls of the message.
        for (const s of planEntries(p.message.provenance(created, updated), new Set(ids.keys()))) {
          steps.push(s);
          resolve(s);
        }
      }
      write.sort((a, b) => ORDER[a.step.method] - ORDER[b.step.method]);
      for (const { step, id, fresh } of write) {
        rewriteReferences(step.resource, ids);
        const resource = { ...step.resource, id };
        index.written(resource);
        items.push({
          resource,
          ...(step.ifMatch !== undefined ? { ifMatch: step.ifMatch } : {}),
          ...(fresh ? { fresh } : {}),
        });
      }
    }
    await repo.putMany(w, items);
    await inTransaction(w);
  });
}
