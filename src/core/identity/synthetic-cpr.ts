import { type CalendarDate, formatDdmmyy, isLeapYear, parseIsoDate } from './calendar-date.ts';
import { cprBirthYear } from './cpr-century.ts';
import { hasCprModulus11 } from './cpr-modulus11.ts';
import { identityProblem } from './identity-problem.ts';

/** Options for {@link syntheticCpr}. */
export interface SyntheticCprOptions {
  /** `YYYY-MM-DD`, 1858-2057, not 1 January. Default: spread over 1930-2019 by `seq`. */
  readonly birthDate?: string;
  /** Parity of the last digit. Default: either. */
  readonly sex?: 'male' | 'female';
}

// Default birth dates: every day of 1930-2019 except 1 January, visited in a scrambled but
// bijective order (index × 7919 mod count; 7919 is prime and does not divide the count).
const FIRST_YEAR = 1930;
const LAST_YEAR = 2019;
const SPREAD = 7919;
const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;
/** Number of default birth dates; exported for the bijection test. */
export const SYNTHETIC_DATE_COUNT = countDefaultDates();

/**
 * A valid-format CPR number for test and demo data, unique per `seq` for the same options.
 *
 * Scheme (research note §1.3), the one MedCom uses for its published test CPRs (`0201919990`):
 * - it FAILS modulus 11. Every number issued before 1 October 2007 passes it;
 * - its birth date is NOT 1 January. cpr.dk: numbers without modulus 11 are "normally" issued for
 *   1 January birth dates, and every date it lists is a 1 January;
 * - serials are taken from 9999 downwards, like MedCom's (99xx), away from the low serials
 *   issued first.
 * This is the strongest rule the sources support, not a guarantee: the CPR office calls its list
 * "not necessarily exhaustive". Never load such numbers into production.
 * @throws RangeError (catalogue reason) for a bad `seq`/`birthDate` or when a date is used up.
 */
export function syntheticCpr(seq: number, options: SyntheticCprOptions = {}): string {
  if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(identityProblem('bad-option', `seq ${seq}`).reason);
  let date: CalendarDate;
  let index: number;
  if (options.birthDate === undefined) {
    date = defaultDate(((seq % SYNTHETIC_DATE_COUNT) * SPREAD) % SYNTHETIC_DATE_COUNT);
    index = Math.floor(seq / SYNTHETIC_DATE_COUNT);
  } else {
    const parsed = parseIsoDate(options.birthDate);
    if (parsed === undefined || (parsed.month === 1 && parsed.day === 1)) {
      throw new RangeError(identityProblem('bad-option', `birthDate ${options.birthDate}`).reason);
    }
    date = parsed;
    index = seq;
  }
  const yy = date.year % 100;
  if (!DIGITS.some((digit7) => cprBirthYear(yy, digit7) === date.year)) {
    throw new RangeError(identityProblem('year-out-of-range', `CPR ${date.year}`).reason);
  }
  const ddmmyy = formatDdmmyy(date);
  let seen = 0;
  for (let serial = 9999; serial >= 0; serial--) {
    const digits = `${ddmmyy}${String(serial).padStart(4, '0')}`;
    if (cprBirthYear(yy, Math.floor(serial / 1000)) !== date.year) continue;
    if (options.sex !== undefined && (serial % 2 === 1) !== (options.sex === 'male')) continue;
    if (hasCprModulus11(digits)) continue;
    if (seen++ === index) return digits;
  }
  throw new RangeError(identityProblem('exhausted', `synthetic CPR ${ddmmyy} #${index}`).reason);
}

function daysInYear(year: number): number {
  return isLeapYear(year) ? 366 : 365;
}

function countDefaultDates(): number {
  let count = 0;
  for (let year = FIRST_YEAR; year <= LAST_YEAR; year++) count += daysInYear(year) - 1;
  return count;
}

// index 0 = 2 January 1930; each year contributes its days after 1 January.
function defaultDate(index: number): CalendarDate {
  let year = FIRST_YEAR;
  let rest = index;
  while (rest >= daysInYear(year) - 1) {
    rest -= daysInYear(year) - 1;
    year++;
  }
  // Day-of-year (1-based) rest + 2 → calendar date; Date.UTC is pure arithmetic here.
  const d = new Date(Date.UTC(year, 0, rest + 2));
  return { year, month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
