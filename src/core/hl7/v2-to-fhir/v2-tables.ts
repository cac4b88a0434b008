/**
 * HL7 v2 table → FHIR code maps, as data. Sources: the V2-to-FHIR IG ConceptMaps (`input/fsh/`,
 * e.g. "Table HL70085 to Observation Status", "Table HL70123 to Diagnostic Report Status", "Table
 * HL70001 to Administrative Gender", "Table HL70004 to Encounter Class"); deviations are noted.
 */

type ObservationStatus =
  | 'registered'
  | 'preliminary'
  | 'final'
  | 'amended'
  | 'corrected'
  | 'cancelled'
  | 'entered-in-error'
  | 'unknown';

/** OBX-11 observation result status (table 0085) → `Observation.status`. */
export const OBSERVATION_STATUS: Readonly<Record<string, ObservationStatus>> = {
  C: 'corrected',
  D: 'entered-in-error',
  F: 'final',
  I: 'registered',
  N: 'cancelled',
  O: 'registered',
  P: 'preliminary',
  R: 'preliminary',
  S: 'preliminary',
  U: 'final',
  W: 'entered-in-error',
  X: 'cancelled',
  A: 'amended',
  B: 'amended',
};

/** OBX-11 codes whose OBX-5 is absent for a reason, with the data-absent-reason code (IG: N, X). */
export const OBSERVATION_ABSENT_REASON: Readonly<Record<string, string>> = {
  N: 'not-asked',
  X: 'not-performed',
  D: 'error',
};

type ReportStatus =
  | 'registered'
  | 'partial'
  | 'preliminary'
  | 'final'
  | 'amended'
  | 'corrected'
  | 'appended'
  | 'cancelled'
  | 'entered-in-error'
  | 'unknown';

/** OBR-25 result status (table 0123) → `DiagnosticReport.status`. */
export const REPORT_STATUS: Readonly<Record<string, ReportStatus>> = {
  O: 'registered',
  I: 'registered',
  S: 'registered',
  A: 'partial',
  P: 'preliminary',
  R: 'partial',
  N: 'partial',
  C: 'corrected',
  M: 'corrected',
  F: 'final',
  X: 'cancelled',
  Y: 'unknown',
  Z: 'unknown',
};

type RequestStatus = 'draft' | 'active' | 'on-hold' | 'revoked' | 'completed' | 'entered-in-error' | 'unknown';

/**
 * ORC-1 order control (table 0119) → `ServiceRequest.status` for order messages. Cancel and
 * discontinue requests and their confirmations revoke; holds put on hold; new, changed, released
 * and replacement orders are active. `SC` (status changed) defers to ORC-5.
 */
export const ORDER_CONTROL_STATUS: Readonly<Record<string, RequestStatus>> = {
  NW: 'active',
  OK: 'active',
  SN: 'active',
  NA: 'active',
  XO: 'active',
  XR: 'active',
  XX: 'active',
  RP: 'active',
  RU: 'active',
  RO: 'active',
  RL: 'active',
  OR: 'active',
  RE: 'active',
  CA: 'revoked',
  CR: 'revoked',
  OC: 'revoked',
  DC: 'revoked',
  DR: 'revoked',
  OD: 'revoked',
  HD: 'on-hold',
  HR: 'on-hold',
  OH: 'on-hold',
};

/** ORC-5 order status (table 0038) → `ServiceRequest.status`. */
export const ORDER_STATUS: Readonly<Record<string, RequestStatus>> = {
  A: 'active',
  CA: 'revoked',
  CM: 'completed',
  DC: 'revoked',
  ER: 'entered-in-error',
  HD: 'on-hold',
  IP: 'active',
  RP: 'revoked',
  SC: 'active',
};

/** PID-8 administrative sex (table 0001) → `Patient.gender`. */
export const ADMINISTRATIVE_GENDER: Readonly<Record<string, 'male' | 'female' | 'other' | 'unknown'>> = {
  M: 'male',
  F: 'female',
  O: 'other',
  A: 'other',
  N: 'other',
  X: 'other',
  U: 'unknown',
};

/** v3 ActCode, the system of R4 `Encounter.class`. */
export const ACT_CODE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** PV1-2 patient class (table 0004) → `Encounter.class` (v3 ActCode). */
export const ENCOUNTER_CLASS: Readonly<Record<string, { code: string; display: string }>> = {
  E: { code: 'EMER', display: 'emergency' },
  I: { code: 'IMP', display: 'inpatient encounter' },
  O: { code: 'AMB', display: 'ambulatory' },
  P: { code: 'PRENC', display: 'pre-admission' },
  R: { code: 'AMB', display: 'ambulatory' },
  B: { code: 'IMP', display: 'inpatient encounter' },
};

/** v3 ObservationInterpretation, the system of `Observation.interpretation`. */
export const INTERPRETATION_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';

/**
 * OBX-8 abnormal flags (table 0078) that exist with the same code and meaning in v3
 * ObservationInterpretation (IG ConceptMap "Table HL70078 to Observation Interpretation").
 */
export const INTERPRETATION: Readonly<Record<string, string>> = {
  L: 'Low',
  H: 'High',
  LL: 'Critical low',
  HH: 'Critical high',
  'L<': 'Significantly low',
  'H>': 'Significantly high',
  '<': 'Off scale low',
  '>': 'Off scale high',
  N: 'Normal',
  A: 'Abnormal',
  AA: 'Critical abnormal',
  U: 'Significant change up',
  D: 'Significant change down',
  B: 'Better',
  W: 'Worse',
  S: 'Susceptible',
  R: 'Resistant',
  I: 'Intermediate',
  MS: 'moderately susceptible',
  VS: 'very susceptible',
  POS: 'Positive',
  NEG: 'Negative',
  IND: 'Indeterminate',
  DET: 'Detected',
  ND: 'Not detected',
  E: 'Equivocal',
  EX: 'outside threshold',
  HX: 'above high threshold',
  LX: 'below low threshold',
  NR: 'Non-reactive',
  RR: 'Reactive',
  WR: 'Weakly reactive',
  TOX: 'Cytotoxic substance present',
  NS: 'Non-susceptible',
  SDD: 'Susceptible-dose dependent',
  IE: 'Insufficient evidence',
  CAR: 'Carrier',
  HU: 'Significantly high',
  LU: 'Significantly low',
  QCF: 'Quality control failure',
  AC: 'Anti-complementary substances present',
};
