/**
 * The encoding characters of one message: MSH-1 (field separator) and MSH-2 (component,
 * repetition, escape, subcomponent and, from v2.7, truncation), HL7 v2.5.1 ch. 2,
 * delimiters and MSH-1/MSH-2. Any characters may be declared; `|^~\&` is only the recommended default.
 */
export interface Hl7Delimiters {
  readonly field: string;
  readonly component: string;
  readonly repetition: string;
  /** Empty when MSH-2 declares no escape character (escape sequences are then plain text). */
  readonly escape: string;
  /** Empty when MSH-2 declares no subcomponent separator. */
  readonly subcomponent: string;
  /** v2.7+ truncation character (MSH-2.5); empty when not declared. */
  readonly truncation: string;
}

/** The recommended delimiters `|^~\&` (HL7 v2.5.1 ch. 2, delimiter table). */
export const DEFAULT_HL7_DELIMITERS: Hl7Delimiters = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
  truncation: '',
});

/** Why MSH-2 could not be used, or undefined when it is valid. */
export type Hl7DelimiterProblem = 'missing' | 'invalid';

/**
 * Builds delimiters from MSH-1 and the raw MSH-2 text. MSH-2 must hold 2–5 distinct characters,
 * none equal to the field separator, CR/LF or alphanumeric (ch. 2, delimiters: must not
 * occur in data unescaped, so letters and digits cannot be delimiters).
 */
export function hl7DelimitersFrom(
  field: string,
  encodingCharacters: string,
): { readonly ok: true; readonly value: Hl7Delimiters } | { readonly ok: false; readonly error: Hl7DelimiterProblem } {
  if (encodingCharacters.length === 0) return { ok: false, error: 'missing' };
  const chars = [...encodingCharacters];
  const all = [field, ...chars];
  if (chars.length < 2 || chars.length > 5) return { ok: false, error: 'invalid' };
  if (new Set(all).size !== all.length) return { ok: false, error: 'invalid' };
  if (all.some((c) => /[A-Za-z0-9\r\n\s]/.test(c))) return { ok: false, error: 'invalid' };
  return {
    ok: true,
    value: Object.freeze({
      field,
      component: chars[0] ?? '^',
      repetition: chars[1] ?? '~',
      escape: chars[2] ?? '',
      subcomponent: chars[3] ?? '',
      truncation: chars[4] ?? '',
    }),
  };
}

/** MSH-2 text for a set of delimiters (inverse of {@link hl7DelimitersFrom}). */
export function hl7EncodingCharacters(d: Hl7Delimiters): string {
  return d.component + d.repetition + d.escape + d.subcomponent + d.truncation;
}
