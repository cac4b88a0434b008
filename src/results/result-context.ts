import type { Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
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

/**
 * Reads what processing one result needs from the store, with per-batch caches of Patients and
 * ServiceRequests (a batch often holds many results of one patient and one requisition).
 */
export class ResultContext {
  private readonly repo: FhirRepository;
  private readonly patients = new Map<string, Promise<Patient | undefined>>();
  private readonly requests = new Map<string, Promise<ServiceRequest | undefined>>();
  private readonly specimens = new Map<string, Promise<Observation[]>>();

  constructor(repo: FhirRepository) {
    this.repo = repo;
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

  /** The patient's previous result of the analysis, in the analysis unit. */
  async previous(o: Observation, analysis: AnalysisDefinition, effective: number): Promise<PreviousResult | undefined> {
    if (!analysis.delta || !o.subject?.reference) return undefined;
    for (const p of await this.history(o.subject.reference, analysis.code, effective, 0, 3)) {
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
