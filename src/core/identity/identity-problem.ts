/**
 * The one catalogue of reasons the identity functions give for refusing input
 * (CONVENTIONS.md §10: no error strings invented at the throw site).
 */
export type IdentityProblemCode =
  | 'empty'
  | 'cpr-shape'
  | 'cpr-date'
  | 'cpr-day-plus-six'
  | 'cpr-is-replacement'
  | 'replacement-shape'
  | 'replacement-lowercase'
  | 'replacement-century'
  | 'replacement-date'
  | 'bad-option'
  | 'year-out-of-range'
  | 'exhausted';

/** A refusal: stable `code` for programs, readable `reason` for people. */
export interface IdentityProblem {
  readonly ok: false;
  readonly code: IdentityProblemCode;
  readonly reason: string;
}

const MESSAGES: Readonly<Record<IdentityProblemCode, string>> = {
  empty: 'empty identifier',
  'cpr-shape': 'not a CPR number: expected 10 digits, optionally DDMMYY-SSSS',
  'cpr-date': 'not a CPR number: the first six digits are not a real calendar date',
  // cpr.dk "Erstatningspersonnummer i eksterne systemer": day + 6 in the first digit.
  'cpr-day-plus-six':
    "not a CPR number: the day is 'real day + 60', the CPR office's replacement scheme for non-health systems",
  'cpr-is-replacement': 'not a CPR number: letters at positions 8-9 make it a replacement CPR (eCPR)',
  'replacement-shape':
    'not a replacement CPR: expected DDMMYY C AA G (6 digits, century digit, 2 letters A-Z, 1 digit)',
  'replacement-lowercase': 'not a replacement CPR: letters must be upper-case A-Z (DK-core invariant)',
  'replacement-century': 'not a replacement CPR: position 7 must be 1 or 7 (X-eCPR) or 0, 5 or 6 (D-eCPR)',
  'replacement-date': 'not a replacement CPR: the first six digits are not a real calendar date',
  'bad-option': 'invalid option',
  'year-out-of-range': 'year cannot be expressed in this identifier format',
  exhausted: 'every candidate number is already taken',
};

/** Builds an {@link IdentityProblem}; `detail` names the offending value. */
export function identityProblem(code: IdentityProblemCode, detail?: string): IdentityProblem {
  return { ok: false, code, reason: detail === undefined ? MESSAGES[code] : `${MESSAGES[code]} (${detail})` };
}
