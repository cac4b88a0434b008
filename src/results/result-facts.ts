import type { Observation, Patient, Reference } from '@medplum/fhirtypes';
import type { Code, ResultFacts } from '../core/results/index.ts';

/** Extensions and tags of the result-processing contract (docs/results.md). */
export const RP = 'urn:dxhub:result-processing';
/** Marks an Observation the pipeline has processed, naming the rule-set version (its updates skip it). */
export const RULE_SET_TAG_SYSTEM = 'urn:dxhub:result-processing:rule-set';
export const DERIVED_TAG_SYSTEM = 'urn:dxhub:result-processing:derived';
const SD = 'http://dxhub.dk/fhir/StructureDefinition';
export const EXT = {
  instrumentFlag: `${SD}/instrument-flag`,
  qcStatus: `${SD}/qc-status`,
  incidentalFinding: `${SD}/incidental-finding`,
  preTestProbability: `${SD}/pre-test-probability`,
  postTestProbability: `${SD}/post-test-probability`,
} as const;
/** Serum indices as Observation.component codes (local system: no verified NPU/LOINC codes). */
export const INDEX_CODES = { h: 'H-INDEX', i: 'I-INDEX', l: 'L-INDEX' } as const;
export const LOCAL_ANALYSIS = 'urn:dxhub:local:analysis';

/** The processing outcome tag of an Observation, if any. */
export type OutcomeTag = 'autoverified' | 'held' | 'released' | 'rejected';

/** Reference `Type/id` → id when it names that type. */
export function refId(ref: Reference | undefined, type: string): string | undefined {
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/.*)?$/.exec(ref?.reference ?? '');
  return m && m[1] === type ? m[2] : undefined;
}

/** Whole years between a birth date and a time (ms). */
export function ageInYears(birthDate: string | undefined, at: number): number | undefined {
  if (!birthDate || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return undefined;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  const t = new Date(at);
  let age = t.getUTCFullYear() - y;
  if (t.getUTCMonth() + 1 < m || (t.getUTCMonth() + 1 === m && t.getUTCDate() < d)) age -= 1;
  return age;
}

/** When a result was taken: effectiveDateTime / effectivePeriod.start / issued, else `fallback`. */
export function effectiveOf(o: Observation, fallback: number): number {
  const t = Date.parse(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued ?? '');
  return Number.isFinite(t) ? t : fallback;
}

/** The codings of an Observation as rule-set codes. */
export function codesOf(o: Observation): Code[] {
  return (o.code?.coding ?? []).filter((c) => c.system && c.code).map((c) => ({ system: c.system!, code: c.code! }));
}

/** What the autoverification rules read from an Observation and its Patient. */
export function resultFacts(o: Observation, patient: Patient | undefined, now: number): ResultFacts {
  const effective = effectiveOf(o, now);
  const indices: { h?: number; i?: number; l?: number } = {};
  for (const c of o.component ?? []) {
    const code = c.code?.coding?.find((x) => x.system === LOCAL_ANALYSIS)?.code;
    for (const k of ['h', 'i', 'l'] as const) {
      if (code === INDEX_CODES[k] && typeof c.valueQuantity?.value === 'number') indices[k] = c.valueQuantity.value;
    }
  }
  const ext = o.extension ?? [];
  const gender = patient?.gender;
  return {
    codes: codesOf(o),
    value: o.valueQuantity?.value,
    unit: o.valueQuantity?.code ?? o.valueQuantity?.unit,
    specimen: o.specimen?.reference,
    effective,
    instrumentFlags: ext.filter((e) => e.url === EXT.instrumentFlag && e.valueCode).map((e) => e.valueCode!),
    qcStatus: ext.find((e) => e.url === EXT.qcStatus)?.valueCode,
    indices,
    sex: gender === 'male' || gender === 'female' ? gender : undefined,
    ageYears: ageInYears(patient?.birthDate, effective),
  };
}

/** The pipeline's tags on an Observation: outcome and processed rule-set version. */
export function processingTags(o: { meta?: { tag?: { system?: string; code?: string }[] } }): {
  outcome?: OutcomeTag;
  ruleSet?: string;
} {
  const tags = o.meta?.tag ?? [];
  return {
    outcome: tags.find((t) => t.system === RP)?.code as OutcomeTag | undefined,
    ruleSet: tags.find((t) => t.system === RULE_SET_TAG_SYSTEM)?.code,
  };
}

/** `meta` with the outcome and rule-set tags set (other tags kept). */
export function withTags<M extends { tag?: { system?: string; code?: string }[] }>(
  meta: M | undefined,
  outcome: OutcomeTag | undefined,
  ruleSetVersion: string,
): M {
  const keep = (meta?.tag ?? []).filter((t) => t.system !== RP && t.system !== RULE_SET_TAG_SYSTEM);
  const tag = [
    ...keep,
    ...(outcome ? [{ system: RP, code: outcome }] : []),
    { system: RULE_SET_TAG_SYSTEM, code: ruleSetVersion },
  ];
  return { ...(meta ?? ({} as M)), tag };
}
