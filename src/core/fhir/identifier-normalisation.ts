import { CPR_SYSTEM } from '../identity/index.ts';

const CPR_WITH_HYPHEN = /^(\d{6})-(\d{4})$/;

/**
 * The form in which an identifier value is indexed and searched. CPR numbers are written with or
 * without the hyphen (`010190-1234` / `0101901234`); both find the same patient. The CPR is the
 * only identifier normalised: the hyphen is dropped for the CPR system, and for a value without a
 * system that has exactly the CPR shape.
 */
export function normaliseIdentifierValue(system: string | undefined, value: string): string {
  if (system === CPR_SYSTEM || system === undefined) {
    const m = CPR_WITH_HYPHEN.exec(value);
    if (m) return m[1]! + m[2]!;
  }
  return value;
}
