/** Century of a CPR birth year as selected by digit 7. */
export type CprCentury = 1800 | 1900 | 2000;

interface CenturyBand {
  readonly fromYy: number;
  readonly toYy: number;
  readonly century: CprCentury;
}

const ALWAYS_1900: readonly CenturyBand[] = [{ fromYy: 0, toYy: 99, century: 1900 }];
const FOUR_OR_NINE: readonly CenturyBand[] = [
  { fromYy: 0, toYy: 36, century: 2000 },
  { fromYy: 37, toYy: 99, century: 1900 },
];
const FIVE_TO_EIGHT: readonly CenturyBand[] = [
  { fromYy: 0, toYy: 57, century: 2000 },
  { fromYy: 58, toYy: 99, century: 1800 },
];

/**
 * Digit 7 → year bands, as data. CPR office table (cpr.dk "Opbygning af CPR-nummeret",
 * da.wikipedia "CPR-nummer"; research note §1.2): 0-3 → 1900s; 4 and 9 → 2000s for YY 00-36, else
 * 1900s; 5-8 → 2000s for YY 00-57, else 1800s.
 */
export const CPR_CENTURY_TABLE: readonly (readonly CenturyBand[])[] = [
  ALWAYS_1900,
  ALWAYS_1900,
  ALWAYS_1900,
  ALWAYS_1900,
  FOUR_OR_NINE,
  FIVE_TO_EIGHT,
  FIVE_TO_EIGHT,
  FIVE_TO_EIGHT,
  FIVE_TO_EIGHT,
  FOUR_OR_NINE,
];

/** Full birth year from the two-digit year (positions 5-6) and digit 7 of a CPR number. */
export function cprBirthYear(yy: number, digit7: number): number | undefined {
  const band = CPR_CENTURY_TABLE[digit7]?.find((b) => yy >= b.fromYy && yy <= b.toYy);
  return band === undefined ? undefined : band.century + yy;
}
