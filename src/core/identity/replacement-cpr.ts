import { type CalendarDate, formatDdmmyy, formatIsoDate, isRealDate, parseIsoDate } from './calendar-date.ts';
import type { SexHint } from './cpr.ts';
import { type IdentityProblem, identityProblem } from './identity-problem.ts';

/** X-eCPR: national, issued by Nationalt eCPR. D-eCPR: decentral (regions, GP systems). */
export type ReplacementCprKind = 'x-ecpr' | 'd-ecpr';

/**
 * Position 7 ("C") → century, as data. NSP "eCPR – Formater (X-eCPR og D-eCPR)" and the DK-core
 * invariants `x-ecpr` / `d-ecpr` (research note §2.1). The note says D-eCPR 5 = "before 1900" and
 * 6 = "after 1999"; we read them as 1800-1899 and 2000-2099 (two-digit year, one century each).
 */
export const REPLACEMENT_CPR_CENTURIES: Readonly<Record<ReplacementCprKind, Readonly<Record<string, number>>>> = {
  'x-ecpr': { '1': 1900, '7': 2000 },
  'd-ecpr': { '5': 1800, '0': 1900, '6': 2000 },
};

/** A replacement CPR that passed {@link parseReplacementCpr}. */
export interface ParsedReplacementCpr {
  readonly ok: true;
  readonly kind: ReplacementCprKind;
  /** Canonical 10 characters `DDMMYYCAAG`, no hyphen. */
  readonly value: string;
  /**
   * `YYYY-MM-DD`: the birth date, or the creation date when the birth date was unknown at issue
   * (NSP format page, for X-eCPR). The number itself cannot tell which.
   */
  readonly birthOrCreationDate: string;
  /** Positions 8-9. Not necessarily initials and in no agreed order: never parse them (note §2.1). */
  readonly letters: string;
  /** Position 10: odd = male, even = female, as for CPR. Information only. */
  readonly sexHint: SexHint;
}

export type ReplacementCprParseResult = ParsedReplacementCpr | IdentityProblem;

const SHAPE = /^(\d{2})(\d{2})(\d{2})-?(\d)([A-Za-z]{2})(\d)$/;

/**
 * Parses `DDMMYYCAAG`, optionally `DDMMYY-CAAG` (Region Nordjylland writes `280456-0PJ2`).
 * Letters must be upper case as in DK-core's regex; Æ, Ø and Å are not A-Z and are refused.
 */
export function parseReplacementCpr(input: string): ReplacementCprParseResult {
  const text = input.trim();
  if (text === '') return identityProblem('empty');
  const m = SHAPE.exec(text);
  if (!m) return identityProblem('replacement-shape', text);
  const [, dd = '', mm = '', yy = '', c = '', letters = '', g = ''] = m;
  if (letters !== letters.toUpperCase()) return identityProblem('replacement-lowercase', text);
  const kind = replacementKindOfCenturyCharacter(c);
  if (kind === undefined) return identityProblem('replacement-century', text);
  const date = { year: (REPLACEMENT_CPR_CENTURIES[kind][c] ?? 0) + Number(yy), month: Number(mm), day: Number(dd) };
  if (!isRealDate(date.year, date.month, date.day)) return identityProblem('replacement-date', text);
  return {
    ok: true,
    kind,
    value: `${dd}${mm}${yy}${c}${letters}${g}`,
    birthOrCreationDate: formatIsoDate(date),
    letters,
    sexHint: Number(g) % 2 === 1 ? 'male' : 'female',
  };
}

/** True when {@link parseReplacementCpr} accepts the input (X-eCPR or D-eCPR). */
export function isReplacementCpr(input: string): boolean {
  return parseReplacementCpr(input).ok;
}

/** The parts a replacement CPR is built from. */
export interface ReplacementCprParts {
  readonly kind: ReplacementCprKind;
  /** `YYYY-MM-DD`: birth date, or creation date when the birth date is unknown. */
  readonly date: string;
  /** Two letters A-Z. */
  readonly letters: string;
  /** 0-9; odd = male, even = female. */
  readonly sexDigit: number;
}

/**
 * Builds the canonical `DDMMYYCAAG` string.
 * @throws RangeError with a catalogue reason when a part cannot be expressed in the format.
 */
export function formatReplacementCpr(parts: ReplacementCprParts): string {
  const date = parseIsoDate(parts.date);
  if (date === undefined) throw new RangeError(identityProblem('bad-option', `date ${parts.date}`).reason);
  const c = replacementCenturyCharacter(parts.kind, date);
  if (c === undefined) throw new RangeError(identityProblem('year-out-of-range', `${parts.kind} ${date.year}`).reason);
  if (!/^[A-Z]{2}$/.test(parts.letters)) {
    throw new RangeError(identityProblem('bad-option', `letters ${parts.letters}`).reason);
  }
  if (!Number.isInteger(parts.sexDigit) || parts.sexDigit < 0 || parts.sexDigit > 9) {
    throw new RangeError(identityProblem('bad-option', `sexDigit ${parts.sexDigit}`).reason);
  }
  return `${formatDdmmyy(date)}${c}${parts.letters}${parts.sexDigit}`;
}

/** The position-7 character for a date's century, or `undefined` if the kind cannot express it. */
export function replacementCenturyCharacter(kind: ReplacementCprKind, date: CalendarDate): string | undefined {
  const century = date.year - (date.year % 100);
  return Object.entries(REPLACEMENT_CPR_CENTURIES[kind]).find(([, value]) => value === century)?.[0];
}

function replacementKindOfCenturyCharacter(c: string): ReplacementCprKind | undefined {
  if (c in REPLACEMENT_CPR_CENTURIES['x-ecpr']) return 'x-ecpr';
  if (c in REPLACEMENT_CPR_CENTURIES['d-ecpr']) return 'd-ecpr';
  return undefined;
}
