import { formatIsoDate, isRealDate } from './calendar-date.ts';
import { cprBirthYear } from './cpr-century.ts';
import { hasCprModulus11 } from './cpr-modulus11.ts';
import { type IdentityProblem, identityProblem } from './identity-problem.ts';

/** Sex suggested by a number's last digit; information only, never a patient's gender. */
export type SexHint = 'male' | 'female';

/** A CPR number that passed {@link parseCpr}. */
export interface ParsedCpr {
  readonly ok: true;
  /** The 10 digits, no hyphen: the stored and searched form. */
  readonly cpr: string;
  /** `YYYY-MM-DD`, century from digit 7. */
  readonly birthDate: string;
  /**
   * Odd digit 10 = male, even = female (cpr.dk). Information only: a person who changes legal
   * gender gets a new CPR number (cpr.dk news 2015-03-03; DK-core links old and new with
   * `Patient.link`), so never derive `Patient.gender` from it.
   */
  readonly sexHint: SexHint;
  /** Passes the pre-2007 modulus-11 check. Information only; `false` is still a valid CPR. */
  readonly mod11: boolean;
}

export type CprParseResult = ParsedCpr | IdentityProblem;

const CPR_SHAPE = /^(\d{2})(\d{2})(\d{2})-?(\d{4})$/;
const REPLACEMENT_LIKE = /^\d{6}-?\d[A-Za-z]{2}\d$/;

/**
 * Parses a CPR number written `DDMMYYSSSS` or `DDMMYY-SSSS` (surrounding whitespace ignored).
 * Valid = 10 digits whose date part is a real calendar date in the century given by digit 7
 * (research note §1.2-1.3). Modulus 11 is reported, never enforced; future birth dates are not
 * rejected because this function has no clock.
 */
export function parseCpr(input: string): CprParseResult {
  const text = input.trim();
  if (text === '') return identityProblem('empty');
  const m = CPR_SHAPE.exec(text);
  if (!m) {
    return identityProblem(REPLACEMENT_LIKE.test(text) ? 'cpr-is-replacement' : 'cpr-shape', text);
  }
  const [, dd = '', mm = '', yy = '', serial = ''] = m;
  const year = cprBirthYear(Number(yy), Number(serial[0]));
  const date = { year: year ?? 0, month: Number(mm), day: Number(dd) };
  if (year === undefined || !isRealDate(date.year, date.month, date.day)) {
    return identityProblem(looksDayPlusSix(date.day, date.month) ? 'cpr-day-plus-six' : 'cpr-date', text);
  }
  const cpr = `${dd}${mm}${yy}${serial}`;
  return {
    ok: true,
    cpr,
    birthDate: formatIsoDate(date),
    sexHint: Number(serial[3]) % 2 === 1 ? 'male' : 'female',
    mod11: hasCprModulus11(cpr),
  };
}

/** The 10-digit search key of a valid CPR number, or `undefined` when {@link parseCpr} refuses it. */
export function normalizeCpr(input: string): string | undefined {
  const parsed = parseCpr(input);
  return parsed.ok ? parsed.cpr : undefined;
}

/** True when {@link parseCpr} accepts the input. */
export function isCpr(input: string): boolean {
  return parseCpr(input).ok;
}

// Day 61-91 = a real day 1-31 plus 60 (first digit + 6). 2000 is used because it is a leap year,
// so 29 February is allowed; the hint only explains a refusal, it never accepts.
function looksDayPlusSix(day: number, month: number): boolean {
  return day > 60 && isRealDate(2000, month, day - 60);
}
