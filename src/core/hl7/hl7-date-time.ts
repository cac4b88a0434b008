import { type Hl7Error, hl7Error } from './hl7-errors.ts';
import { err, ok, type Result } from './result.ts';
import { zoneOffsetAt } from './zone-offset.ts';

/** Precision of a DTM/TS value (HL7 v2.5.1 ch. 2A, DTM: "YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]"). */
export type Hl7DateTimePrecision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction';

/** Fields of a DTM value after syntax and range checks. */
export interface Hl7DateTimeParts {
  readonly precision: Hl7DateTimePrecision;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** Fraction digits as sent (1–4), '' when absent. */
  readonly fraction: string;
  /** `+hh:mm` / `-hh:mm` when the value carried an offset. */
  readonly offset?: string;
}

/** A DTM converted to a FHIR `dateTime`. */
export interface Hl7DateTime {
  /** FHIR dateTime: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss[.f]±hh:mm`. */
  readonly fhir: string;
  /** Precision as sent; FHIR needs seconds, so hour/minute values are padded with zeros. */
  readonly precision: Hl7DateTimePrecision;
  /** True when the offset came from the `timeZone` option rather than the value. */
  readonly offsetAssumed: boolean;
}

const DTM =
  /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?(?:([+-])(\d{2})(\d{2}))?$/;
const PRECISIONS: readonly Hl7DateTimePrecision[] = ['year', 'month', 'day', 'hour', 'minute', 'second'];

/**
 * Checks a DTM (or TS.1) value: syntax, calendar ranges (including leap years) and offset range
 * (±14:00 at most, as FHIR allows).
 */
export function parseHl7DateTimeParts(value: string): Result<Hl7DateTimeParts, Hl7Error> {
  const m = DTM.exec(value);
  const bad = (why: string) => err(hl7Error('invalid-date-time', { detail: `"${value}" ${why}` }));
  if (!m) return bad('does not match YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±ZZZZ]');
  const num = (i: number, dflt: number) => (m[i] === undefined ? dflt : Number(m[i]));
  const year = num(1, 0);
  const month = num(2, 1);
  const day = num(3, 1);
  const hour = num(4, 0);
  const minute = num(5, 0);
  const second = num(6, 0);
  if (year < 1) return bad('has year 0000');
  if (month < 1 || month > 12) return bad('has an invalid month');
  if (day < 1 || day > daysInMonth(year, month)) return bad('has an invalid day');
  if (hour > 23 || minute > 59 || second > 59) return bad('has an invalid time');
  let offset: string | undefined;
  if (m[8] !== undefined) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (om > 59 || oh > 14 || (oh === 14 && om > 0)) return bad('has an invalid UTC offset');
    offset = `${m[8]}${m[9]}:${m[10]}`;
  }
  const given = [1, 2, 3, 4, 5, 6].filter((i) => m[i] !== undefined).length;
  const precision: Hl7DateTimePrecision = m[7] !== undefined ? 'fraction' : (PRECISIONS[given - 1] ?? 'year');
  return ok({ precision, year, month, day, hour, minute, second, fraction: m[7] ?? '', ...(offset ? { offset } : {}) });
}

/** Options for {@link parseHl7DateTime}. */
export interface Hl7DateTimeOptions {
  /** IANA zone (e.g. `Europe/Copenhagen`) assumed when a value with a time carries no offset. */
  readonly timeZone?: string;
}

/**
 * Converts a DTM/TS value to a FHIR dateTime, keeping its precision. FHIR requires an offset once a
 * time is present (FHIR R4 datatypes, dateTime), so a value with a time but no offset is an
 * error (`missing-time-zone`) unless `timeZone` is given. Offsets on date-only values are dropped,
 * as FHIR dates cannot carry them.
 */
export function parseHl7DateTime(value: string, options: Hl7DateTimeOptions = {}): Result<Hl7DateTime, Hl7Error> {
  const parsed = parseHl7DateTimeParts(value);
  if (!parsed.ok) return parsed;
  return dateTimeFromParts(parsed.value, options, value);
}

/** Builds the FHIR dateTime for checked parts (shared with the ASTM timestamp parser). */
export function dateTimeFromParts(
  p: Hl7DateTimeParts,
  options: Hl7DateTimeOptions,
  original: string,
): Result<Hl7DateTime, Hl7Error> {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
  if (p.precision === 'year') return ok({ fhir: pad(p.year, 4), precision: p.precision, offsetAssumed: false });
  if (p.precision === 'month') return ok({ fhir: date.slice(0, 7), precision: p.precision, offsetAssumed: false });
  if (p.precision === 'day') return ok({ fhir: date, precision: p.precision, offsetAssumed: false });
  let offset = p.offset;
  let offsetAssumed = false;
  if (offset === undefined) {
    if (options.timeZone === undefined) return err(hl7Error('missing-time-zone', { detail: `"${original}"` }));
    offset = zoneOffsetAt(options.timeZone, p);
    if (offset === undefined)
      return err(hl7Error('missing-time-zone', { detail: `unknown time zone "${options.timeZone}"` }));
    offsetAssumed = true;
  }
  const fraction = p.fraction === '' ? '' : `.${p.fraction}`;
  const fhir = `${date}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${fraction}${offset}`;
  return ok({ fhir, precision: p.precision, offsetAssumed });
}

/** Parses an HL7 DT (date only, ch. 2A, DT: YYYY[MM[DD]]) into a FHIR date. */
export function parseHl7Date(value: string): Result<string, Hl7Error> {
  if (!/^\d{4}(\d{2}(\d{2})?)?$/.test(value))
    return err(hl7Error('invalid-date-time', { detail: `"${value}" is not YYYY[MM[DD]]` }));
  const parsed = parseHl7DateTimeParts(value);
  if (!parsed.ok) return parsed;
  const r = dateTimeFromParts(parsed.value, {}, value);
  return r.ok ? ok(r.value.fhir) : r;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
