import { compareDates, formatDdmmyy, parseIsoDate } from './calendar-date.ts';
import { type IdentityProblem, identityProblem } from './identity-problem.ts';
import { replacementCenturyCharacter } from './replacement-cpr.ts';

/** Sex as known when a replacement number is issued. */
export type KnownSex = 'male' | 'female' | 'unknown';

/** Inputs for {@link replacementCprCandidates}. */
export interface ReplacementCprCandidateOptions {
  /** Full `YYYY-MM-DD` birth date if known; omit it when unknown. */
  readonly birthDate?: string;
  readonly sex?: KnownSex;
  /** Issue date `YYYY-MM-DD` (the caller's clock, Danish local date). */
  readonly createdOn: string;
  /** dxhub issues only decentral numbers; X-eCPRs come from Nationalt eCPR (note §2.2). */
  readonly kind: 'd-ecpr';
}

/** Inputs for {@link nextReplacementCpr}. */
export interface NextReplacementCprOptions extends ReplacementCprCandidateOptions {
  /** True when the candidate is already issued; storage is the caller's concern. */
  readonly taken: (candidate: string) => boolean;
}

/** Candidates in issue order, and whether their date is the birth date or the creation date. */
export interface ReplacementCprCandidates {
  readonly ok: true;
  readonly dateBasis: 'birth-date' | 'creation-date';
  readonly candidates: Iterable<string>;
}

/** The issued candidate. */
export interface NextReplacementCpr {
  readonly ok: true;
  readonly value: string;
  readonly dateBasis: 'birth-date' | 'creation-date';
}

// Position 10 (note §2.1): odd = male, even = female. The note gives no digit for unknown sex,
// so unknown uses all ten (twice the room); Patient.gender, not this digit, records the truth.
const SEX_DIGITS: Readonly<Record<KnownSex, readonly number[]>> = {
  male: [1, 3, 5, 7, 9],
  female: [0, 2, 4, 6, 8],
  unknown: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
};

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * All D-eCPR candidates `DDMMYY C AA G` for a person, deterministic, in the order they are tried:
 * letters AA…ZZ, and within each pair the sex digits ascending (676 × 5 per date and sex).
 * Choices where the note is silent (documented in README.md): the date is the birth date when
 * known and otherwise the creation date, as NSP prescribes for X-eCPR; the letters are a sequence,
 * not initials (the note warns that letter order differs between regions).
 */
export function replacementCprCandidates(
  options: ReplacementCprCandidateOptions,
): ReplacementCprCandidates | IdentityProblem {
  const createdOn = parseIsoDate(options.createdOn);
  if (createdOn === undefined) return identityProblem('bad-option', `createdOn ${options.createdOn}`);
  const birthDate = options.birthDate === undefined ? undefined : parseIsoDate(options.birthDate);
  if (options.birthDate !== undefined && birthDate === undefined) {
    return identityProblem('bad-option', `birthDate ${options.birthDate} must be a full date; omit it if unknown`);
  }
  if (birthDate !== undefined && compareDates(birthDate, createdOn) > 0) {
    return identityProblem('bad-option', `birthDate ${options.birthDate} is after createdOn ${options.createdOn}`);
  }
  const date = birthDate ?? createdOn;
  const c = replacementCenturyCharacter(options.kind, date);
  if (c === undefined) return identityProblem('year-out-of-range', `${options.kind} ${date.year}`);
  const prefix = `${formatDdmmyy(date)}${c}`;
  const digits = SEX_DIGITS[options.sex ?? 'unknown'];
  return {
    ok: true,
    dateBasis: birthDate === undefined ? 'creation-date' : 'birth-date',
    candidates: (function* () {
      for (const first of LETTERS) {
        for (const second of LETTERS) {
          for (const digit of digits) yield `${prefix}${first}${second}${digit}`;
        }
      }
    })(),
  };
}

/**
 * The first candidate of {@link replacementCprCandidates} that `taken` does not claim; the
 * `exhausted` problem when every one is taken. Callers must still store the number atomically
 * (a unique constraint): `taken` only avoids known collisions.
 */
export function nextReplacementCpr(options: NextReplacementCprOptions): NextReplacementCpr | IdentityProblem {
  const plan = replacementCprCandidates(options);
  if (!plan.ok) return plan;
  for (const value of plan.candidates) {
    if (!options.taken(value)) return { ok: true, value, dateBasis: plan.dateBasis };
  }
  return identityProblem('exhausted', `${options.kind} for ${options.birthDate ?? options.createdOn}`);
}
