/**
 * Pure views of a patient's results for the overview screen: the cumulative table (analyses ×
 * dates), trend series with the lab's own reference interval and critical flags, and one timeline
 * of lab results and imaging studies across organisations. No clinical limits live here: bands and
 * critical markers are what the sending lab put in `referenceRange` and `interpretation`.
 */
import type { DiagnosticReport, ImagingStudy, Observation, Provenance, Reference } from '@medplum/fhirtypes';

/** An analysis column key: the first coding's system|code, or the text. */
export function analysisKey(o: Observation): string {
  const c = o.code?.coding?.[0];
  return c?.code ? `${c.system ?? ''}|${c.code}` : (o.code?.text ?? '?');
}

export function analysisLabel(o: Observation): string {
  const c = o.code?.coding?.[0];
  return o.code?.text ?? c?.display ?? c?.code ?? '?';
}

/** When the sample was taken (effective), else when the result was issued. */
export function observedAt(o: Observation): string | undefined {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.effectiveInstant ?? o.issued;
}

/** HL7 v3 ObservationInterpretation code of the result (N, L, H, LL, HH, A, AA …), if any. */
export function flag(o: Observation): string | undefined {
  return o.interpretation?.[0]?.coding?.find((c) => c.code)?.code;
}

/** Critical per HL7 v3 ObservationInterpretation: LL, HH (critical low/high) and AA (critical abnormal). */
export function isCritical(code: string | undefined): boolean {
  return code === 'LL' || code === 'HH' || code === 'AA';
}

export function displayValue(o: Observation): string {
  const q = o.valueQuantity;
  if (q?.value !== undefined) return `${q.comparator ?? ''}${q.value}`;
  return o.valueString ?? o.valueCodeableConcept?.text ?? o.valueCodeableConcept?.coding?.[0]?.display ?? '';
}

export interface AnalysisColumn {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
}

export interface CumulativeTable {
  /** Analyses in first-seen order (rows of the table). */
  readonly analyses: readonly AnalysisColumn[];
  /** Sampling times, newest first (columns). */
  readonly times: readonly string[];
  /** `analysisKey \u0000 time` → the result. */
  readonly cells: ReadonlyMap<string, Observation>;
}

export const cellKey = (analysis: string, time: string) => `${analysis}\u0000${time}`;

/** The cumulative lab table: one row per analysis, one column per sampling time (newest first). */
export function cumulativeTable(observations: readonly Observation[]): CumulativeTable {
  const analyses = new Map<string, AnalysisColumn>();
  const times = new Set<string>();
  const cells = new Map<string, Observation>();
  for (const o of observations) {
    const at = observedAt(o);
    if (!at) continue;
    const key = analysisKey(o);
    if (!analyses.has(key)) {
      analyses.set(key, { key, label: analysisLabel(o), unit: o.valueQuantity?.unit ?? o.valueQuantity?.code ?? '' });
    }
    times.add(at);
    cells.set(cellKey(key, at), o);
  }
  return {
    analyses: [...analyses.values()],
    times: [...times].sort((a, b) => Date.parse(b) - Date.parse(a)),
    cells,
  };
}

export interface TrendPoint {
  /** Unix seconds (uPlot's x scale). */
  readonly t: number;
  readonly value: number;
  readonly low?: number;
  readonly high?: number;
  readonly critical: boolean;
  readonly flag?: string;
}

/** Numeric results of one analysis, oldest first, each with the reference interval the lab sent. */
export function trendPoints(observations: readonly Observation[], key: string): TrendPoint[] {
  const points: TrendPoint[] = [];
  for (const o of observations) {
    const at = observedAt(o);
    const value = o.valueQuantity?.value;
    if (analysisKey(o) !== key || !at || value === undefined) continue;
    const range = o.referenceRange?.[0];
    const f = flag(o);
    points.push({
      t: Date.parse(at) / 1000,
      value,
      ...(range?.low?.value !== undefined ? { low: range.low.value } : {}),
      ...(range?.high?.value !== undefined ? { high: range.high.value } : {}),
      critical: isCritical(f),
      ...(f ? { flag: f } : {}),
    });
  }
  return points.sort((a, b) => a.t - b.t);
}

export type TimelineEntry =
  | { readonly kind: 'lab'; readonly at: string; readonly org?: string; readonly observation: Observation }
  | { readonly kind: 'imaging'; readonly at: string; readonly org?: string; readonly study: ImagingStudy }
  | { readonly kind: 'report'; readonly at: string; readonly org?: string; readonly report: DiagnosticReport };

const firstRef = (refs: readonly Reference[] | undefined) => refs?.[0]?.reference ?? refs?.[0]?.display;

/** Lab results, imaging studies and reports of every organisation on one timeline, newest first. */
export function timeline(
  observations: readonly Observation[],
  studies: readonly ImagingStudy[],
  reports: readonly DiagnosticReport[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const o of observations) {
    const at = observedAt(o);
    if (at) entries.push({ kind: 'lab', at, org: firstRef(o.performer), observation: o });
  }
  for (const s of studies) {
    if (s.started) entries.push({ kind: 'imaging', at: s.started, org: s.location?.reference, study: s });
  }
  for (const r of reports) {
    const at = r.effectiveDateTime ?? r.issued;
    if (at) entries.push({ kind: 'report', at, org: firstRef(r.performer), report: r });
  }
  return entries.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

/** Where a resource came from: the organisations/devices that sent it and the source message. */
export interface Origin {
  readonly recorded?: string;
  readonly agents: readonly string[];
  /** The source entity: a reference (e.g. the raw message's `Binary/…`) or an identifier value. */
  readonly source?: string;
}

/** `ResourceType/id` → its latest Provenance's origin. */
export function originIndex(provenances: readonly Provenance[]): Map<string, Origin> {
  const index = new Map<string, Origin>();
  const sorted = [...provenances].sort((a, b) => Date.parse(a.recorded ?? '') - Date.parse(b.recorded ?? ''));
  for (const p of sorted) {
    const agents = (p.agent ?? [])
      .map((a) => a.who?.display ?? a.who?.reference ?? a.who?.identifier?.value)
      .filter((x): x is string => Boolean(x));
    const what = p.entity?.find((e) => e.role === 'source')?.what ?? p.entity?.[0]?.what;
    const source = what?.reference ?? what?.identifier?.value;
    const origin: Origin = { agents, ...(p.recorded ? { recorded: p.recorded } : {}), ...(source ? { source } : {}) };
    for (const t of p.target ?? []) if (t.reference) index.set(t.reference, origin);
  }
  return index;
}
