import { convertUcum } from '../terminology/ucum-convert.ts';
import { type InterpretationCode, interpret, outside, type PatientFacts, selectInterval } from './interpretation.ts';
import {
  type AnalysisDefinition,
  type Code,
  type ConsistencyRule,
  codeKey,
  type DeltaRule,
  type QualifiedInterval,
  type RuleSet,
} from './rule-set.ts';

/** The autoverification steps, in CLSI AUTO10/AUTO15 order (ordering-and-results.md §3.2). */
export const STEPS = [
  'input',
  'instrument',
  'serum-index',
  'measuring-range',
  'critical',
  'reference',
  'delta',
  'consistency',
] as const;
export type Step = (typeof STEPS)[number];

/** Step names for the worklist, Danish and English. */
export const STEP_TEXT: Readonly<Record<Step, { en: string; da: string }>> = {
  input: { en: 'Input', da: 'Input' },
  instrument: { en: 'Instrument flags and QC', da: 'Instrumentflag og kvalitetskontrol' },
  'serum-index': { en: 'Serum indices (H/I/L)', da: 'Serumindeks (H/I/L)' },
  'measuring-range': { en: 'Measuring range / implausible value', da: 'Måleområde / usandsynlig værdi' },
  critical: { en: 'Critical value', da: 'Kritisk værdi' },
  reference: { en: 'Reference interval', da: 'Referenceinterval' },
  delta: { en: 'Delta check', da: 'Deltakontrol' },
  consistency: { en: 'Consistency between analyses', da: 'Konsistens mellem analyser' },
};

/** Why a result is held (or, for `critical`, why it raises a notification). */
export interface Finding {
  readonly step: Step;
  readonly code: string;
  readonly text: string;
  readonly source?: string;
}

/** A result as the rules see it: the numbers, the patient, and what the instrument said. */
export interface ResultFacts extends PatientFacts {
  readonly codes: readonly Code[];
  readonly value?: number;
  readonly unit?: string;
  readonly specimen?: string;
  readonly effective: number;
  readonly instrumentFlags: readonly string[];
  readonly qcStatus?: string;
  readonly indices: { readonly h?: number; readonly i?: number; readonly l?: number };
}

/** The patient's previous result of the analysis (value already in the analysis unit). */
export interface PreviousResult {
  readonly value: number;
  readonly effective: number;
  readonly reference: string;
}

/** Another result of the same specimen (consistency rules). */
export interface SiblingResult {
  readonly codes: readonly Code[];
  readonly value: number;
  readonly unit?: string;
}

/** What autoverification decided for one result. */
export interface Evaluation {
  readonly analysis?: AnalysisDefinition;
  /** The value in the analysis unit. */
  readonly value?: number;
  readonly reference?: QualifiedInterval;
  readonly interpretation?: InterpretationCode;
  readonly critical?: Finding;
  readonly delta?: {
    readonly previous: PreviousResult;
    readonly change: number;
    readonly limit: number;
    readonly kind: DeltaRule['kind'];
  };
  readonly findings: readonly Finding[];
  readonly outcome: 'autoverified' | 'held';
}

/** The analysis definition a result's codes name, if the rule set has one. */
export function findAnalysis(rules: RuleSet, codes: readonly Code[]): AnalysisDefinition | undefined {
  const keys = new Set(codes.map(codeKey));
  return rules.analyses.find((a) => keys.has(codeKey(a.code)));
}

/**
 * Reference change value, % (Fraser 2001): √2 × z × √(CV_A² + CV_I²). Worked example
 * (ordering-and-results.md §3.3): CV_A 3 %, CV_I 5 %, z 1.96 → 16.2 %.
 */
export function referenceChangeValue(cvAnalytical: number, cvWithinSubject: number, z: number): number {
  return Math.SQRT2 * z * Math.sqrt(cvAnalytical ** 2 + cvWithinSubject ** 2);
}

/** The delta check: the change and its limit, or undefined when out of window or no rule. */
export function deltaCheck(
  rule: DeltaRule | undefined,
  value: number,
  effective: number,
  previous: PreviousResult | undefined,
): (Evaluation['delta'] & { exceeded: boolean }) | undefined {
  if (!rule || !previous) return undefined;
  if (effective - previous.effective > rule.windowHours * 3_600_000 || effective < previous.effective) return undefined;
  const absolute = Math.abs(value - previous.value);
  const percent = previous.value === 0 ? Number.POSITIVE_INFINITY : (absolute / Math.abs(previous.value)) * 100;
  switch (rule.kind) {
    case 'absolute':
      return { previous, change: absolute, limit: rule.limit, kind: rule.kind, exceeded: absolute > rule.limit };
    case 'percent':
      return { previous, change: percent, limit: rule.limit, kind: rule.kind, exceeded: percent > rule.limit };
    case 'rcv': {
      const limit = referenceChangeValue(rule.cvAnalytical, rule.cvWithinSubject, rule.z);
      return { previous, change: percent, limit, kind: rule.kind, exceeded: percent > limit };
    }
  }
}

const hasCode = (codes: readonly Code[], c: Code) => codes.some((x) => x.system === c.system && x.code === c.code);

/** A consistency rule broken by this result and a sibling of the same specimen, as a finding. */
function consistencyFinding(
  rule: ConsistencyRule,
  facts: ResultFacts,
  value: number,
  siblings: readonly SiblingResult[],
): Finding | undefined {
  const mineA = hasCode(facts.codes, rule.a);
  const mineB = hasCode(facts.codes, rule.b);
  if (!mineA && !mineB) return undefined;
  const other = siblings.find((s) => hasCode(s.codes, mineA ? rule.b : rule.a));
  if (!other) return undefined;
  const a = mineA ? value : other.value;
  const b = mineA ? other.value : value;
  switch (rule.kind) {
    case 'ratio-agreement': {
      const q = a / rule.divisor;
      if (rule.tolerance * q > Math.abs(q - b)) return undefined;
      return {
        step: 'consistency',
        code: rule.id,
        text: `${rule.a.code}/${rule.divisor} = ${q.toFixed(2)} disagrees with ${rule.b.code} = ${b} by more than ${rule.tolerance * 100} %`,
        source: rule.source,
      };
    }
    case 'not-greater-than':
      if (a <= b) return undefined;
      return {
        step: 'consistency',
        code: rule.id,
        text: `${rule.a.code} (${a}) exceeds ${rule.b.code} (${b})`,
        source: rule.source,
      };
  }
}

/**
 * Runs the autoverification steps in order over one result. Every step runs, so that the worklist
 * shows all reasons; the result is autoverified only when no step found anything. Bad input (no
 * numeric value, unknown analysis, a unit that cannot be converted, no reference interval for the
 * patient's sex/age, no specimen) is a finding of the `input` step: held, never released, never dropped.
 */
export function autoverify(
  rules: RuleSet,
  facts: ResultFacts,
  previous: PreviousResult | undefined,
  siblings: readonly SiblingResult[],
): Evaluation {
  const findings: Finding[] = [];
  const held = (): Evaluation => ({ findings, outcome: 'held' });
  const analysis = findAnalysis(rules, facts.codes);
  if (!analysis) {
    findings.push({
      step: 'input',
      code: 'unknown-analysis',
      text: `no rule-set entry for ${facts.codes.map(codeKey).join(', ') || 'an uncoded result'}`,
    });
    return held();
  }
  if (facts.value === undefined || !Number.isFinite(facts.value)) {
    findings.push({
      step: 'input',
      code: 'no-numeric-value',
      text: 'the result has no numeric value (valueQuantity.value)',
    });
    return { ...held(), analysis };
  }
  let value = facts.value;
  const unit = facts.unit ?? '';
  if (unit !== analysis.unit) {
    const c = convertUcum(value, unit, analysis.unit);
    if (!c.ok) {
      findings.push({
        step: 'input',
        code: 'unit-not-convertible',
        text: `unit "${unit}" cannot be converted to "${analysis.unit}": ${c.reason}`,
      });
      return { ...held(), analysis };
    }
    value = c.value;
  }
  if (!facts.specimen) findings.push({ step: 'input', code: 'missing-specimen', text: 'the result names no specimen' });
  const reference = selectInterval(analysis, 'reference', facts);
  if (!reference) {
    findings.push({
      step: 'input',
      code: 'no-reference-interval',
      text: `no reference interval for sex ${facts.sex ?? 'unknown'}, age ${facts.ageYears ?? 'unknown'}`,
    });
  }
  if (facts.qcStatus !== undefined && facts.qcStatus !== 'accepted') {
    findings.push({ step: 'instrument', code: 'qc-not-accepted', text: `QC state of the run: ${facts.qcStatus}` });
  }
  for (const flag of facts.instrumentFlags)
    findings.push({ step: 'instrument', code: 'instrument-flag', text: `instrument flag ${flag}` });
  const limits = analysis.serumIndexLimits;
  for (const k of ['h', 'i', 'l'] as const) {
    const index = facts.indices[k];
    const limit = limits?.[k];
    if (index !== undefined && limit !== undefined && index > limit) {
      findings.push({
        step: 'serum-index',
        code: `${k}-index`,
        text: `${k.toUpperCase()}-index ${index} above the assay limit ${limit}`,
        source: limits?.source,
      });
    }
  }
  const absolute = selectInterval(analysis, 'absolute', facts);
  if (outside(value, absolute) !== 0) {
    findings.push({
      step: 'measuring-range',
      code: 'implausible',
      text: `value ${value} ${analysis.unit} outside ${absolute!.range.low ?? '-∞'}–${absolute!.range.high ?? '∞'}`,
      source: absolute!.source,
    });
  }
  const criticalInterval = selectInterval(analysis, 'critical', facts);
  const interpretation = interpret(value, reference, criticalInterval);
  let critical: Finding | undefined;
  if (interpretation === 'LL' || interpretation === 'HH') {
    critical = {
      step: 'critical',
      code: interpretation,
      text: `critical value ${value} ${analysis.unit}`,
      source: criticalInterval!.source,
    };
    findings.push(critical);
  }
  const delta = deltaCheck(analysis.delta, value, facts.effective, previous);
  if (delta?.exceeded) {
    findings.push({
      step: 'delta',
      code: `delta-${delta.kind}`,
      text: `change from ${delta.previous.value} (${delta.previous.reference}) is ${delta.change.toFixed(1)}${delta.kind === 'absolute' ? ` ${analysis.unit}` : ' %'}, limit ${delta.limit.toFixed(1)}`,
      source: analysis.delta!.source,
    });
  }
  for (const rule of rules.consistency) {
    const f = consistencyFinding(rule, facts, value, siblings);
    if (f) findings.push(f);
  }
  const { exceeded: _, ...deltaInfo } = delta ?? { exceeded: false };
  return {
    analysis,
    value,
    reference,
    interpretation,
    critical,
    delta: delta ? (deltaInfo as Evaluation['delta']) : undefined,
    findings,
    outcome: findings.length === 0 ? 'autoverified' : 'held',
  };
}
