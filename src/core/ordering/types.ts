/**
 * The ordering model: catalogue items, rules as data, the patient context a rule reads and the
 * findings the engine returns. Pure types; see docs/ordering.md.
 */

/** Text in both languages of the UI (Danish first). */
export interface Text {
  readonly da: string;
  readonly en: string;
}

export interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

/** A citation: every catalogue item and rule carries one. */
export interface Source {
  readonly label: string;
  readonly url?: string;
  /** The clause or table entry, e.g. "B-SP7". */
  readonly ref?: string;
}

export type Priority = 'routine' | 'urgent' | 'stat';
export type Setting = 'inpatient' | 'icu' | 'emergency' | 'outpatient' | 'primary-care';

/** One orderable analysis or imaging examination (ActivityDefinition + Observation/SpecimenDefinition). */
export interface CatalogueItem {
  /** Stable local id, e.g. `crp`; rules name tests by this id. */
  readonly id: string;
  readonly kind: 'lab' | 'imaging';
  /** The primary code (NPU/DNK for analyses, SKS for imaging) or a local code when none is verified. */
  readonly code: Coding;
  /** Further codes that mean the same test (e.g. an older NPU code). */
  readonly aliases?: readonly Coding[];
  readonly title: Text;
  /** Search words: abbreviations, lay names, other-language names. */
  readonly synonyms: readonly string[];
  readonly specimen?: { readonly type: Text; readonly container: Text };
  /** Performing section (SpecimenDefinition / ActivityDefinition.location). */
  readonly performer: Text;
  /** Expected turnaround at routine priority, hours. */
  readonly turnaroundHours: number;
  readonly priorities: readonly Priority[];
  readonly modality?: 'CT' | 'MR' | 'DX' | 'US';
  /** Typical adult effective dose in mSv (imaging; 0 when not ionising). */
  readonly effectiveDoseMSv?: number;
  readonly contrast?: boolean;
  readonly source: Source;
}

/** An order set or standard pathway (PlanDefinition). */
export interface OrderSet {
  readonly id: string;
  readonly title: Text;
  readonly synonyms: readonly string[];
  readonly tests: readonly string[];
  readonly source: Source;
}

/** A condition over the patient, the order or the order set. Evaluated by one exhaustive switch. */
export type Predicate =
  | { readonly kind: 'setting'; readonly in: readonly Setting[] }
  | { readonly kind: 'pregnant' }
  | { readonly kind: 'age'; readonly below?: number; readonly atLeast?: number }
  | { readonly kind: 'condition'; readonly prefixes: readonly string[] }
  | { readonly kind: 'indication'; readonly codes: readonly string[] }
  | { readonly kind: 'onset-within'; readonly days: number }
  | { readonly kind: 'priority'; readonly in: readonly Priority[] }
  | { readonly kind: 'co-ordered'; readonly tests: readonly string[] };

export type RuleAction = 'info' | 'warning' | 'block';

/** Where a rule applies: empty or absent lists mean everywhere. */
export interface RuleScope {
  readonly organisations?: readonly string[];
  readonly settings?: readonly Setting[];
}

interface RuleBase {
  readonly id: string;
  readonly version: number;
  readonly title: Text;
  readonly action: RuleAction;
  /** Roles that may override a block (a warning may be overridden by anyone, with a reason). */
  readonly overrideRoles?: readonly string[];
  readonly scope?: RuleScope;
  /** The rule fires only when every `when` predicate holds. */
  readonly when?: readonly Predicate[];
  /** …and none of the `unless` predicates (the context exceptions: ICU, child, pregnancy …). */
  readonly unless?: readonly Predicate[];
  readonly message: Text;
  /** A better alternative: replace the test, or add an order set / reflex test. */
  readonly suggest?: { readonly replaceWith?: string; readonly add?: readonly string[]; readonly label: Text };
  readonly source: Source;
  /** The clinical approval (who, when) a region records before a rule warns or blocks. */
  readonly approvedBy?: string;
}

/** The kinds of rule; `tests` are catalogue ids (`*` for every item of the kind the rule reads). */
export type Rule =
  | (RuleBase & { readonly kind: 'retest-interval'; readonly tests: readonly string[]; readonly interval: string })
  | (RuleBase & { readonly kind: 'duplicate-open-order'; readonly tests: readonly string[] })
  | (RuleBase & { readonly kind: 'appropriateness'; readonly tests: readonly string[] })
  | (RuleBase & {
      readonly kind: 'imaging-cumulative-dose';
      readonly tests: readonly string[];
      readonly windowDays: number;
      readonly thresholdMSv: number;
    })
  | (RuleBase & { readonly kind: 'imaging-repeat'; readonly tests: readonly string[]; readonly windowDays: number })
  | (RuleBase & {
      readonly kind: 'contrast-egfr';
      readonly tests: readonly string[];
      /** The catalogue id of the eGFR analysis. */
      readonly egfrTest: string;
      readonly below: number;
      /** An eGFR older than this counts as missing. */
      readonly maxAgeDays: number;
      /** True: a missing eGFR fires the rule too. */
      readonly missingFires: boolean;
    })
  | (RuleBase & { readonly kind: 'pregnancy-ionising'; readonly tests: readonly string[] })
  | (RuleBase & { readonly kind: 'suggestion'; readonly tests: readonly string[] });

export type RuleKind = Rule['kind'];

/** A versioned rule set: the unit a region approves, validates and switches on. */
export interface RuleSet {
  readonly name: string;
  /** Condition code prefixes (SKS/ICD-10) that mean the patient is pregnant. */
  readonly pregnancyConditions: readonly string[];
  /** Coded override reasons offered on every warning and block (CDS Hooks overrideReasons). */
  readonly overrideReasons: readonly (Coding & { readonly display: string })[];
  readonly rules: readonly Rule[];
}

/** The latest result of one test for the patient. */
export interface LatestResult {
  readonly at: number;
  readonly value?: number;
  readonly unit?: string;
  readonly observationId: string;
}

/** An order the patient already has (any organisation). */
export interface ExistingOrder {
  readonly id: string;
  readonly test: string;
  readonly status: string;
  readonly organisation?: string;
  readonly authoredOn?: number;
  /** When an imaging order was performed (completed). */
  readonly performedAt?: number;
}

/** Everything the rules read about the patient, loaded from the store before evaluation. */
export interface PatientContext {
  readonly patientId: string;
  readonly now: number;
  readonly ageYears?: number;
  readonly setting?: Setting;
  readonly conditions: readonly string[];
  readonly latest: ReadonlyMap<string, LatestResult>;
  readonly openOrders: readonly ExistingOrder[];
  readonly priorImaging: readonly ExistingOrder[];
  readonly organisation?: string;
}

/** A proposed order, mapped from a draft ServiceRequest or an API body. */
export interface DraftOrder {
  /** The draft's id (ServiceRequest id) so a card can point at it. */
  readonly id: string;
  readonly test: string;
  readonly priority: Priority;
  readonly indications: readonly string[];
  /** Symptom onset (ms) when the order gives one. */
  readonly onset?: number;
}

/** What one rule says about one draft order. */
export interface Finding {
  readonly rule: string;
  readonly ruleVersion: number;
  readonly kind: RuleKind;
  readonly action: RuleAction;
  readonly orderId: string;
  readonly test: string;
  readonly summary: Text;
  readonly detail: Text;
  readonly source: Source;
  readonly overrideRoles: readonly string[];
  readonly suggest?: Rule['suggest'];
  /** The prior result, order or dose that triggered the rule. */
  readonly evidence?: Readonly<Record<string, string | number>>;
}
