import type { Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { parseDateRange } from '../core/fhir/dates.ts';
import { indexRows, parseReference } from '../core/fhir/index-rows.ts';
import { parseSearchRequest } from '../core/fhir/search-request.ts';
import {
  type AnalysisDefinition,
  type Code,
  codeKey,
  findAnalysis,
  type PreviousResult,
  type RuleSet,
  type SiblingResult,
} from '../core/results/index.ts';
import { convertUcum } from '../core/terminology/ucum-convert.ts';
import { IoSlice } from '../store/poll-loop.ts';
import type { FhirRepository } from '../store/repository.ts';
import { codesOf, effectiveOf, processingTags, refId } from './result-facts.ts';

const FINAL = new Set(['final', 'amended', 'corrected']);
const VOID = new Set(['cancelled', 'entered-in-error']);

/** Whether an Observation counts as a verified input (final, or autoverified/released by the pipeline). */
export function isVerified(o: Observation, verifiedInBatch: ReadonlySet<string>): boolean {
  if (VOID.has(o.status)) return false;
  const t = processingTags(o).outcome;
  return FINAL.has(o.status) || t === 'autoverified' || t === 'released' || verifiedInBatch.has(o.id ?? '');
}

/** A numeric value in a unit (UCUM conversion), or undefined when absent or not convertible. */
export function valueIn(o: Observation, unit: string): number | undefined {
  const v = o.valueQuantity?.value;
  if (typeof v !== 'number') return undefined;
  const from = o.valueQuantity?.code ?? o.valueQuantity?.unit ?? '';
  const c = convertUcum(v, from, unit);
  return c.ok ? c.value : undefined;
}

/** The cached promise for `key`, made by `load` on first use. */
function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = load();
    cache.set(key, p);
  }
  return p;
}

/** Results a batch's look-back pool may hold; beyond it the batch's results search one by one. */
export const POOL_MAX = 2000;

/**
 * Results per patient and code older than the time a batch looks back from that the pool reads
 * before it stops early (delta checks look at up to 3, derived values at 1).
 */
const POOL_ENOUGH = 3;

/** The `date` index ranges (lo, hi) of an Observation, as the store computes them. */
function dateRanges(o: Observation): [number, number][] {
  return indexRows(o as unknown as { resourceType: string })
    .date.filter((d) => d[0] === 'date')
    .map((d) => [d[1], d[2]] as [number, number]);
}

/** A result of the prefetched pool with what the `date` search parameter indexes of it. */
interface PoolEntry {
  readonly o: Observation;
  /** The `date` index ranges (lo, hi) of the Observation, as the store computes them. */
  readonly dates: readonly [number, number][];
}

/** The store's `date=lt` / `date=ge` conditions on one indexed range (search-sql.ts `dateCond`). */
function dateLt(lo: number, v: { lo: number }): boolean {
  return lo < v.lo;
}
function dateGe(lo: number, hi: number, v: { lo: number; hi: number }): boolean {
  return hi > v.hi || (lo >= v.lo && hi <= v.hi);
}

/**
 * Reads what processing one result needs from the store, with per-batch caches of Patients and
 * ServiceRequests (a batch often holds many results of one patient and one requisition).
 * {@link prefetch} loads what a whole batch needs with a few reads: its Patients and
 * ServiceRequests, the results of its specimens, and the results of its patients that delta checks
 * and derived values look back on (a pool answering {@link history} exactly as the search would).
 */
export class ResultContext {
  private readonly repo: FhirRepository;
  private readonly patients = new Map<string, Promise<Patient | undefined>>();
  private readonly requests = new Map<string, Promise<ServiceRequest | undefined>>();
  private readonly specimens = new Map<string, Promise<Observation[]>>();
  /** The look-back pool: results by `<subject type/id> <code key>`, newest first. */
  private poolPatients = new Set<string>();
  private pool:
    | {
        codes: Set<string>;
        from: number;
        entries: Map<string, PoolEntry[]>;
        /**
         * Whether the pool holds every match of its search. When not, it holds the newest ones: an
         * exact prefix of the search's order (-date, then row id), so a pair's entries are the
         * newest results of that patient and code, and {@link history} answers from them only
         * when they hold enough.
         */
        complete: boolean;
      }
    | undefined;

  readonly #poolMax: number;
  /**
   * The batch's time slices, also used by the consumer that owns this context: the prefetch's
   * searches and parsing, and the per-result planning, yield to the server's requests every couple
   * of milliseconds (a pool of a few hundred results took 10–30 ms in one piece and was the tail
   * of order-sign latency under ingestion).
   */
  readonly slice = new IoSlice();

  constructor(repo: FhirRepository, opts: { poolMax?: number } = {}) {
    this.repo = repo;
    this.#poolMax = opts.poolMax ?? POOL_MAX;
  }

  /** Whether the last prefetch kept a look-back pool. */
  get pooled(): boolean {
    return this.pool !== undefined;
  }

  /** Whether the pool holds every match of its search (false: it stopped at the newest ones). */
  get poolComplete(): boolean {
    return this.pool?.complete ?? false;
  }

  /**
   * Loads what processing `observations` (one batch) will read, so that the per-result reads
   * below are answered from memory: one read per type of the Patients and ServiceRequests, one
   * search for the results of the batch's specimens and one for the results of its patients
   * within the longest look-back window of the delta and derived-value rules.
   */
  async prefetch(observations: readonly Observation[], rules: RuleSet): Promise<void> {
    const patientIds = new Set<string>();
    const requestIds = new Set<string>();
    const specimenRefs = new Set<string>();
    const poolPatients = new Set<string>();
    const poolCodes = new Set<string>();
    /** Per `<subject> <code>` the batch looks back on: the earliest time it looks back from. */
    const needs = new Map<string, number>();
    let from = Number.POSITIVE_INFINITY;
    const consistencyCodes = new Set(rules.consistency.flatMap((c) => [codeKey(c.a), codeKey(c.b)]));
    const sameSpecimenInputs = new Set(
      rules.derived.filter((d) => d.windowHours === 0).flatMap((d) => d.inputs.map(codeKey)),
    );
    for (const o of observations) {
      const patient = refId(o.subject, 'Patient');
      if (patient) patientIds.add(patient);
      for (const r of o.basedOn ?? []) {
        const id = refId(r, 'ServiceRequest');
        if (id) {
          requestIds.add(id);
          break;
        }
      }
      const codes = codesOf(o);
      const keys = codes.map(codeKey);
      const specimen = o.specimen?.reference;
      if (
        specimen &&
        refId(o.specimen, 'Specimen') &&
        keys.some((k) => consistencyCodes.has(k) || sameSpecimenInputs.has(k))
      )
        specimenRefs.add(specimen);
      const subject = o.subject?.reference;
      if (!patient || !subject) continue;
      const effective = effectiveOf(o, Number.NaN);
      if (!Number.isFinite(effective)) continue;
      const look = (code: Code, hours: number) => {
        poolPatients.add(subject);
        poolCodes.add(codeKey(code));
        from = Math.min(from, effective - hours * 3_600_000);
        const pair = `${parseReference(subject)?.join('/')} ${codeKey(code)}`;
        needs.set(pair, Math.min(needs.get(pair) ?? Number.POSITIVE_INFINITY, effective));
      };
      const analysis = findAnalysis(rules, codes);
      if (analysis?.delta) look(analysis.code, analysis.delta.windowHours);
      for (const d of rules.derived) {
        if (d.windowHours > 0 && d.inputs.some((c) => keys.includes(codeKey(c))))
          for (const c of d.inputs) look(c, d.windowHours);
      }
    }
    const read = async <T>(type: string, ids: Set<string>, cache: Map<string, Promise<T | undefined>>) => {
      const missing = [...ids].filter((id) => !cache.has(id));
      if (missing.length === 0) return;
      const found = new Map<string, T>();
      for (const json of await this.repo.readMany(type, missing)) {
        const r = JSON.parse(json) as T & { id: string };
        found.set(r.id, r);
      }
      for (const id of missing) cache.set(id, Promise.resolve(found.get(id)));
    };
    await read('Patient', patientIds, this.patients);
    await read('ServiceRequest', requestIds, this.requests);
    if (specimenRefs.size > 0) {
      const all = (await this.searchAll('Observation', [['specimen', [...specimenRefs].join(',')]]))?.rows ?? [];
      const bySpecimen = new Map<string, Observation[]>();
      for (const { o } of all) {
        const key = o.specimen?.reference ? parseReference(o.specimen.reference)?.join('/') : undefined;
        if (!key) continue;
        const list = bySpecimen.get(key);
        if (list) list.push(o);
        else bySpecimen.set(key, [o]);
      }
      for (const ref of specimenRefs) {
        // The per-specimen search's first page: 200 results in row order.
        const mine = bySpecimen.get(parseReference(ref)?.join('/') ?? '') ?? [];
        this.specimens.set(ref, Promise.resolve(mine.slice(0, 200)));
      }
    }
    if (poolPatients.size > 0 && Number.isFinite(from)) {
      // Newest first, page by page, until every patient and code the batch looks back on has
      // enough older results (or the window is exhausted): a patient with a result every few
      // minutes (ICU, or the ingestion benchmark) would otherwise bring the whole window, hundreds
      // of rows, into every batch.
      const entries = new Map<string, PoolEntry[]>();
      /** Per pair in `needs`: pool entries older than the time it looks back from. */
      const older = new Map<string, number>();
      const satisfied = () => [...needs.keys()].every((pair) => (older.get(pair) ?? 0) >= POOL_ENOUGH);
      const add = (o: Observation) => {
        const subject = o.subject?.reference ? parseReference(o.subject.reference)?.join('/') : undefined;
        if (!subject) return;
        const entry: PoolEntry = { o, dates: dateRanges(o) };
        const newest = Math.max(...entry.dates.map(([, hi]) => hi));
        for (const key of new Set(codesOf(o).map(codeKey))) {
          const pair = `${subject} ${key}`;
          const list = entries.get(pair);
          if (list) list.push(entry);
          else entries.set(pair, [entry]);
          const at = needs.get(pair);
          if (at !== undefined && newest < at) older.set(pair, (older.get(pair) ?? 0) + 1);
        }
      };
      const found = await this.searchAll(
        'Observation',
        [
          ['subject', [...poolPatients].join(',')],
          ['code', [...poolCodes].join(',')],
          ['date', `ge${new Date(from).toISOString()}`],
          ['_sort', '-date'],
        ],
        this.#poolMax,
        { onRow: add, enough: satisfied },
      );
      // A pool larger than the bound (a patient with thousands of results in the window) is not
      // kept: each result then searches on its own, so one such patient cannot make every batch slow.
      if (!found) return;
      this.pool = { codes: poolCodes, from, entries, complete: found.complete };
      this.poolPatients = new Set([...poolPatients].map((p) => parseReference(p)!.join('/')));
    }
  }

  /**
   * The matches of a search, page by page in the search's order, until `until.enough()` says the
   * rows so far suffice (checked after each page; `complete` is then false unless it was the last
   * page) or all pages are read; undefined when more than `max`.
   */
  private async searchAll(
    type: string,
    params: [string, string][],
    max = Number.POSITIVE_INFINITY,
    until: { onRow?: (o: Observation) => void; enough?: () => boolean } = {},
  ): Promise<{ rows: { rid: number; o: Observation }[]; complete: boolean } | undefined> {
    const out: { rid: number; o: Observation }[] = [];
    let snapshot: number | undefined;
    for (;;) {
      const paging: [string, string][] = snapshot === undefined ? [] : [['_page', `${out.length}.${snapshot}`]];
      await this.slice.tick();
      const page = await this.repo.search(parseSearchRequest(type, [...params, ['_count', '200'], ...paging]));
      if (out.length + page.matches.length > max) return undefined;
      for (const m of page.matches) {
        const o = JSON.parse(m.json) as Observation;
        out.push({ rid: m.rid, o });
        until.onRow?.(o);
        if (out.length % 50 === 0) await this.slice.tick();
      }
      snapshot = page.snapshot;
      if (!page.hasNext) return { rows: out, complete: true };
      if (until.enough?.()) return { rows: out, complete: false };
    }
  }

  private async readJson<T>(type: string, id: string): Promise<T | undefined> {
    const v = await this.repo.read(type, id);
    return v?.json && !v.deleted ? (JSON.parse(v.json) as T) : undefined;
  }

  patient(o: Observation): Promise<Patient | undefined> {
    const id = refId(o.subject, 'Patient');
    if (!id) return Promise.resolve(undefined);
    return cached(this.patients, id, () => this.readJson<Patient>('Patient', id));
  }

  serviceRequest(o: { basedOn?: { reference?: string }[] }): Promise<ServiceRequest | undefined> {
    const id = (o.basedOn ?? []).map((r) => refId(r, 'ServiceRequest')).find(Boolean);
    if (!id) return Promise.resolve(undefined);
    return cached(this.requests, id, () => this.readJson<ServiceRequest>('ServiceRequest', id));
  }

  private async search(type: string, params: [string, string][]): Promise<Observation[]> {
    const page = await this.repo.search(parseSearchRequest(type, params));
    return page.matches.map((m) => JSON.parse(m.json) as Observation);
  }

  /** Results of a patient for a code, newest first, taken before `before` (and after `after`). */
  async history(patientRef: string, code: Code, before: number, after = 0, count = 5): Promise<Observation[]> {
    const pool = this.pool;
    const subject = parseReference(patientRef)?.join('/');
    const key = codeKey(code);
    if (pool && after > 0 && after >= pool.from && subject && this.poolPatients.has(subject) && pool.codes.has(key)) {
      // The pool holds every result of this patient and code that the search below would find
      // (its date bound is at or before `after`), in the same order (-date, then row id).
      const lt = parseDateRange(new Date(before).toISOString());
      const ge = parseDateRange(new Date(after).toISOString());
      if (lt && ge) {
        const out: Observation[] = [];
        for (const e of pool.entries.get(`${subject} ${key}`) ?? []) {
          if (out.length === count) break;
          if (e.dates.some(([lo]) => dateLt(lo, lt)) && e.dates.some(([lo, hi]) => dateGe(lo, hi, ge))) out.push(e.o);
        }
        // A pool that stopped early holds this pair's newest results: it answers when it found
        // `count` of them; fewer could mean older ones it did not read.
        if (out.length === count || pool.complete) return out.filter((o) => !VOID.has(o.status));
      }
    }
    const params: [string, string][] = [
      ['subject', patientRef],
      ['code', codeKey(code)],
      ['date', `lt${new Date(before).toISOString()}`],
      ['_sort', '-date'],
      ['_count', String(count)],
    ];
    if (after > 0) params.push(['date', `ge${new Date(after).toISOString()}`]);
    return (await this.search('Observation', params)).filter((o) => !VOID.has(o.status));
  }

  /**
   * The patient's previous result of the analysis within the delta window, in the analysis unit.
   * (An older one would not be compared: `deltaCheck` ignores results outside the window.)
   */
  async previous(o: Observation, analysis: AnalysisDefinition, effective: number): Promise<PreviousResult | undefined> {
    if (!analysis.delta || !o.subject?.reference) return undefined;
    const after = effective - analysis.delta.windowHours * 3_600_000;
    for (const p of await this.history(o.subject.reference, analysis.code, effective, after, 3)) {
      if (p.id === o.id) continue;
      const value = valueIn(p, analysis.unit);
      if (value !== undefined) return { value, effective: effectiveOf(p, 0), reference: `Observation/${p.id}` };
    }
    return undefined;
  }

  /** Other results of the same specimen. */
  specimenResults(specimen: string | undefined): Promise<Observation[]> {
    if (!specimen) return Promise.resolve([]);
    return cached(this.specimens, specimen, () =>
      this.search('Observation', [
        ['specimen', specimen],
        ['_count', '200'],
      ]),
    );
  }

  /** Siblings for the consistency rules, each value in its own analysis unit. */
  async siblings(o: Observation, rules: RuleSet): Promise<SiblingResult[]> {
    const out: SiblingResult[] = [];
    for (const s of await this.specimenResults(o.specimen?.reference)) {
      if (s.id === o.id || VOID.has(s.status)) continue;
      const codes = codesOf(s);
      const a = findAnalysis(rules, codes);
      const value = a ? valueIn(s, a.unit) : s.valueQuantity?.value;
      if (value !== undefined) out.push({ codes, value, unit: a?.unit });
    }
    return out;
  }
}
