import type { AnalysisDefinition, QualifiedInterval } from './rule-set.ts';

/** v3 ObservationInterpretation codes the pipeline writes (R4 `Observation.interpretation`). */
export type InterpretationCode = 'LL' | 'L' | 'N' | 'H' | 'HH' | 'A';
export const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
export const INTERPRETATION_TEXT: Readonly<Record<InterpretationCode, { en: string; da: string }>> = {
  LL: { en: 'Critical low', da: 'Kritisk lav' },
  L: { en: 'Low', da: 'Lav' },
  N: { en: 'Normal', da: 'Normal' },
  H: { en: 'High', da: 'Høj' },
  HH: { en: 'Critical high', da: 'Kritisk høj' },
  A: { en: 'Abnormal', da: 'Afvigende' },
};

/** Who a result belongs to, as far as interval selection needs it. */
export interface PatientFacts {
  readonly sex?: 'male' | 'female';
  readonly ageYears?: number;
}

/**
 * The intervals of a category that apply to the patient: an interval with a gender or age band
 * applies only when the patient's sex/age is known and matches (age: low inclusive, high exclusive).
 * The most specific match wins (gender and age beat gender-less or age-less bands).
 */
export function selectInterval(
  analysis: AnalysisDefinition,
  category: QualifiedInterval['category'],
  patient: PatientFacts,
): QualifiedInterval | undefined {
  const fits = analysis.qualifiedInterval.filter((q) => {
    if (q.category !== category) return false;
    if (q.gender && q.gender !== patient.sex) return false;
    if (q.age) {
      if (patient.ageYears === undefined) return false;
      if (q.age.low !== undefined && patient.ageYears < q.age.low) return false;
      if (q.age.high !== undefined && patient.ageYears >= q.age.high) return false;
    }
    return true;
  });
  const specificity = (q: QualifiedInterval) => (q.gender ? 2 : 0) + (q.age ? 1 : 0);
  return fits.sort((a, b) => specificity(b) - specificity(a))[0];
}

/** Whether `value` lies outside the interval: -1 below, +1 above, 0 inside. */
export function outside(value: number, q: QualifiedInterval | undefined): -1 | 0 | 1 {
  if (!q) return 0;
  if (q.range.low !== undefined && value < q.range.low) return -1;
  if (q.range.high !== undefined && value > q.range.high) return 1;
  return 0;
}

/** L/H/LL/HH/N from the reference and critical intervals (LL/HH when outside the critical limits). */
export function interpret(
  value: number,
  reference: QualifiedInterval | undefined,
  criticalInterval: QualifiedInterval | undefined,
): InterpretationCode | undefined {
  const c = outside(value, criticalInterval);
  if (c !== 0) return c < 0 ? 'LL' : 'HH';
  if (!reference) return undefined;
  const r = outside(value, reference);
  return r === 0 ? 'N' : r < 0 ? 'L' : 'H';
}

/** `low–high unit` as the reference range text. */
export function intervalText(q: QualifiedInterval, unit: string): string {
  const { low, high } = q.range;
  if (low !== undefined && high !== undefined) return `${low}–${high} ${unit}`;
  return low !== undefined ? `≥ ${low} ${unit}` : `≤ ${high} ${unit}`;
}
