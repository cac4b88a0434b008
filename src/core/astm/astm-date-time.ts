import {
  dateTimeFromParts,
  type Hl7DateTime,
  type Hl7DateTimeOptions,
  parseHl7DateTimeParts,
} from '../hl7/hl7-date-time.ts';
import { err, type Result } from '../hl7/result.ts';
import { type AstmError, astmError } from './astm-errors.ts';

/**
 * Converts an E1394 / LIS02-A2 date-time (YYYYMMDD[HH[MM[SS]]], local instrument time without an
 * offset) into a FHIR dateTime. Values with a time need the instrument's IANA time zone
 * (`timeZone`), because FHIR requires an offset; date-only values do not.
 */
export function parseAstmDateTime(value: string, options: Hl7DateTimeOptions = {}): Result<Hl7DateTime, AstmError> {
  const v = value.trim();
  if (!/^\d{8}(\d{2}){0,3}$/.test(v) && !/^\d{4}(\d{2})?$/.test(v)) {
    return err(astmError('invalid-date-time', { detail: `"${value}"` }));
  }
  const parts = parseHl7DateTimeParts(v);
  if (!parts.ok) return err(astmError('invalid-date-time', { detail: `"${value}"` }));
  const r = dateTimeFromParts(parts.value, options, v);
  if (r.ok) return r;
  return err(astmError('missing-time-zone', { detail: `"${value}"` }));
}
