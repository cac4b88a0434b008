import { type Hl7Error, hl7Error } from './hl7-errors.ts';
import { err, ok, type Result } from './result.ts';

/** A checked NM value. */
export interface Hl7Numeric {
  readonly value: number;
  /**
   * FHIR `decimal` text with the sender's precision kept (`+04.10` → `4.10`): trailing zeros are
   * significant for lab values even though HL7 calls them insignificant.
   */
  readonly decimal: string;
}

const NM = /^([+-])?(\d*)(?:\.(\d*))?$/;

/**
 * Checks an NM value (HL7 v2.5.1 ch. 2A, NM data type): an optional leading sign, digits and an
 * optional decimal point; no exponent, no thousands separator. Surrounding spaces are tolerated.
 */
export function parseHl7Numeric(value: string): Result<Hl7Numeric, Hl7Error> {
  const m = NM.exec(value.trim());
  const intPart = m?.[2] ?? '';
  const fracPart = m?.[3] ?? '';
  if (!m || (intPart === '' && fracPart === '')) return err(hl7Error('invalid-numeric', { detail: `"${value}"` }));
  const int = intPart.replace(/^0+(?=\d)/, '') || '0';
  const unsigned = fracPart === '' ? int : `${int}.${fracPart}`;
  const negative = m[1] === '-' && /[1-9]/.test(unsigned);
  const decimal = negative ? `-${unsigned}` : unsigned;
  return ok({ value: Number(decimal), decimal });
}

/** True when `value` is a valid NM. */
export function isHl7Numeric(value: string): boolean {
  return parseHl7Numeric(value).ok;
}
