import { err, ok, type Result } from '../hl7/result.ts';
import { type AstmError, astmError } from './astm-errors.ts';

/**
 * Delimiters of an E1394 / LIS02-A2 message, defined by the header record: the character after
 * "H" is the field delimiter, then H-2 gives the repeat, component and escape delimiters
 * (recommended `|\^&`).
 */
export interface AstmDelimiters {
  readonly field: string;
  readonly repeat: string;
  readonly component: string;
  readonly escape: string;
}

/** The recommended delimiters `|\^&`. */
export const DEFAULT_ASTM_DELIMITERS: AstmDelimiters = Object.freeze({
  field: '|',
  repeat: '\\',
  component: '^',
  escape: '&',
});

/**
 * Reads delimiters from an H record line. A doubled character in H-2 is collapsed (`\\^&` appears
 * in published captures where a source-code escape leaked into the data); the result must be
 * distinct non-alphanumeric characters.
 */
export function astmDelimitersFromHeader(line: string): Result<AstmDelimiters, AstmError> {
  const field = line.charAt(1);
  const declared = line.slice(2).split(field)[0] ?? '';
  const chars: string[] = [];
  for (const c of declared) if (chars[chars.length - 1] !== c) chars.push(c);
  const all = [field, ...chars];
  const bad = () => err(astmError('invalid-delimiters', { detail: `"${line.slice(0, 6)}"` }));
  if (field === '' || chars.length < 2 || chars.length > 3) return bad();
  if (new Set(all).size !== all.length || all.some((c) => /[A-Za-z0-9\s]/.test(c))) return bad();
  return ok({ field, repeat: chars[0] ?? '\\', component: chars[1] ?? '^', escape: chars[2] ?? '' });
}
