/**
 * The shape of a result-processing rule set: per-analysis definitions (ObservationDefinition-like:
 * `qualifiedInterval` with the R4 categories reference | critical | absolute), delta checks, serum
 * index limits, consistency rules between analyses, reflex rules, derived values and likelihood-ratio
 * tables. Every clinical number carries the `source` it was taken from; a region approves a rule set
 * as configuration (docs/results.md), the code only evaluates it.
 */

/** A code as FHIR writes it. */
export interface Code {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

/** ObservationDefinition.qualifiedInterval, with ages in years and the citation of the numbers. */
export interface QualifiedInterval {
  /** R4 `observation-range-category`: reference, critical, absolute (measuring range / plausible). */
  readonly category: 'reference' | 'critical' | 'absolute';
  readonly range: { readonly low?: number; readonly high?: number };
  readonly gender?: 'male' | 'female';
  /** Age band in years, low inclusive, high exclusive. */
  readonly age?: { readonly low?: number; readonly high?: number };
  readonly source: string;
}

/** A delta check against the patient's previous result of the same analysis within a window. */
export type DeltaRule =
  | { readonly kind: 'absolute'; readonly limit: number; readonly windowHours: number; readonly source: string }
  | { readonly kind: 'percent'; readonly limit: number; readonly windowHours: number; readonly source: string }
  | {
      readonly kind: 'rcv';
      /** Analytical and within-subject coefficients of variation, %. */
      readonly cvAnalytical: number;
      readonly cvWithinSubject: number;
      /** z: 1.96 two-sided 95 %, 2.58 two-sided 99 % (Fraser 2001). */
      readonly z: number;
      readonly windowHours: number;
      readonly source: string;
    };

/** Haemolysis / icterus / lipaemia index limits of one assay: above a limit the result is held. */
export interface SerumIndexLimits {
  readonly h?: number;
  readonly i?: number;
  readonly l?: number;
  readonly source: string;
}

/** One analysis as the rule set knows it. */
export interface AnalysisDefinition {
  readonly code: Code;
  /** Laboratory section, for the autoverification rate per section. */
  readonly section: string;
  /** The UCUM unit intervals are written in; results in another unit are converted. */
  readonly unit: string;
  readonly qualifiedInterval: readonly QualifiedInterval[];
  readonly serumIndexLimits?: SerumIndexLimits;
  readonly delta?: DeltaRule;
}

/** A relation between two analyses of one specimen that must hold (AUTO15 consistency checks). */
export type ConsistencyRule =
  | {
      /** 0.1 × a/divisor > |a/divisor − b| (HCT/3 ≈ Hb within 10 %, Wang 2019). */
      readonly kind: 'ratio-agreement';
      readonly id: string;
      readonly a: Code;
      readonly b: Code;
      readonly divisor: number;
      readonly tolerance: number;
      readonly source: string;
    }
  | {
      readonly kind: 'not-greater-than';
      readonly id: string;
      readonly a: Code;
      readonly b: Code;
      readonly source: string;
    };

/** A reflex: when the trigger analysis is outside its reference interval, order another on the same specimen. */
export interface ReflexRule {
  readonly kind: 'outside-reference';
  readonly id: string;
  readonly trigger: Code;
  readonly order: Code;
  readonly source: string;
}

/** One result band of a likelihood-ratio table, low inclusive, high exclusive. */
export interface LikelihoodBand {
  readonly low?: number;
  readonly high?: number;
  readonly lr: number;
  readonly label: string;
}

/** Likelihood ratios of an analysis for a target condition, with their source. */
export interface LikelihoodTable {
  readonly id: string;
  readonly analysis: Code;
  readonly unit: string;
  /** Target condition, as the requisition names it in its pre-test probability. */
  readonly condition: string;
  readonly conditionText: { readonly en: string; readonly da: string };
  readonly bands: readonly LikelihoodBand[];
  readonly source: string;
}

/** A derived value the pipeline computes, the code it is written under and its inputs. */
export interface DerivedDefinition {
  readonly kind: 'egfr-ckd-epi-2021' | 'anion-gap' | 'fib-4' | 'age-adjusted-d-dimer-cutoff';
  readonly code: Code;
  readonly unit: string;
  readonly inputs: readonly Code[];
  /** How far apart (hours) inputs from different specimens may be (FIB-4: liver enzymes and platelets). */
  readonly windowHours: number;
  readonly source: string;
}

/** A versioned, approved rule set. */
export interface RuleSet {
  readonly id: string;
  readonly version: string;
  readonly status: 'draft' | 'active' | 'retired';
  readonly analyses: readonly AnalysisDefinition[];
  readonly consistency: readonly ConsistencyRule[];
  readonly reflex: readonly ReflexRule[];
  readonly derived: readonly DerivedDefinition[];
  readonly likelihood: readonly LikelihoodTable[];
  /** Minutes a critical-value notification may stay unacknowledged before it escalates. */
  readonly criticalEscalationMinutes: number;
  readonly criticalEscalationSource: string;
}

/** `system|code`, the key analyses are looked up by. */
export function codeKey(c: { readonly system?: string; readonly code?: string }): string {
  return `${c.system ?? ''}|${c.code ?? ''}`;
}
