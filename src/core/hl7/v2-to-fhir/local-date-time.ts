import { type Hl7DateTimePrecision, parseHl7DateTimeParts } from '../hl7-date-time.ts';

/** The zone assumed for HL7 date-times without a UTC offset: Danish regions send local time. */
export const DEFAULT_TIME_ZONE = 'Europe/Copenhagen';

/** How a local wall-clock time relates to the zone's daylight-saving transitions. */
export type LocalTimeKind = 'unique' | 'ambiguous' | 'nonexistent';

/** A DTM/TS converted to a FHIR `dateTime` (or `date` for day precision and coarser). */
export interface FhirDateTimeValue {
  /** `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ss[.f]±hh:mm`. */
  readonly fhir: string;
  /** Precision as sent; hour and minute precision are padded to seconds because FHIR needs them. */
  readonly precision: Hl7DateTimePrecision;
  /** How the assumed offset was chosen; `unique` also for values that carried their own offset. */
  readonly localTime: LocalTimeKind;
  /** True when the offset came from the time zone rather than the value. */
  readonly offsetAssumed: boolean;
}

/** Why a DTM could not be converted. */
export interface DateTimeProblem {
  readonly reason: string;
}

const DAY_MS = 86_400_000;

/**
 * Converts an HL7 DTM/TS value to FHIR. A value with its own offset keeps it (HL7 v2.5.1 ch. 2A,
 * DTM `+/-ZZZZ`); a value with a time but no offset is local time in `timeZone`, with the offset
 * found by `Intl` for that wall-clock time. Daylight-saving edges follow the "compatible" rule of
 * TC39 Temporal and java.time: an ambiguous time (the repeated hour in October) is the earlier
 * instant, i.e. still summer time (`02:30` → `02:30+02:00`); a nonexistent time (the skipped hour in
 * March) is moved forward by the length of the gap (`02:30` → `03:30+02:00`, the same instant as
 * `02:30+01:00`). Both cases are reported in `localTime` so callers can warn.
 */
export function toFhirDateTime(
  value: string,
  timeZone: string = DEFAULT_TIME_ZONE,
): { ok: true; value: FhirDateTimeValue } | { ok: false; error: DateTimeProblem } {
  const parsed = parseHl7DateTimeParts(value.trim());
  if (!parsed.ok) return { ok: false, error: { reason: parsed.error.message } };
  const p = parsed.value;
  const date = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
  const base = { precision: p.precision, localTime: 'unique' as LocalTimeKind, offsetAssumed: false };
  if (p.precision === 'year') return { ok: true, value: { ...base, fhir: pad(p.year, 4) } };
  if (p.precision === 'month') return { ok: true, value: { ...base, fhir: date.slice(0, 7) } };
  if (p.precision === 'day') return { ok: true, value: { ...base, fhir: date } };
  const fraction = p.fraction === '' ? '' : `.${p.fraction}`;
  if (p.offset !== undefined) {
    return {
      ok: true,
      value: { ...base, fhir: `${date}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${fraction}${p.offset}` },
    };
  }
  const resolved = resolveLocalTime(timeZone, p);
  if (!resolved) return { ok: false, error: { reason: `unknown time zone "${timeZone}"` } };
  const w = new Date(resolved.wall);
  const wallText =
    `${pad(w.getUTCFullYear(), 4)}-${pad(w.getUTCMonth() + 1)}-${pad(w.getUTCDate())}` +
    `T${pad(w.getUTCHours())}:${pad(w.getUTCMinutes())}:${pad(w.getUTCSeconds())}`;
  return {
    ok: true,
    value: {
      ...base,
      fhir: `${wallText}${fraction}${formatOffset(resolved.offset)}`,
      localTime: resolved.kind,
      offsetAssumed: true,
    },
  };
}

/** Wall-clock fields of a local time. */
export interface LocalFields {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/**
 * Resolves a wall-clock time in an IANA zone: the offset in minutes east of UTC, the (possibly
 * shifted) wall-clock time as a UTC-epoch reading, and whether the time was ambiguous or did not
 * exist. Undefined for an unknown zone.
 */
export function resolveLocalTime(
  timeZone: string,
  local: LocalFields,
): { offset: number; wall: number; kind: LocalTimeKind } | undefined {
  const format = zoneFormat(timeZone);
  if (!format) return undefined;
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  // Zones change offset at most once a day, so the offsets a day either side are the candidates.
  const before = offsetMinutes(format, wall - DAY_MS);
  const after = offsetMinutes(format, wall + DAY_MS);
  const candidates = [...new Set([before, after])].filter((o) => offsetMinutes(format, wall - o * 60_000) === o);
  if (candidates.length === 1) return { offset: candidates[0] ?? before, wall, kind: 'unique' };
  if (candidates.length > 1) {
    // The larger offset gives the earlier instant: the first occurrence of the repeated hour.
    return { offset: Math.max(...candidates), wall, kind: 'ambiguous' };
  }
  // In the gap: read the wall time with the offset before the transition, then show that instant
  // in the offset in force at it (the wall time moves forward by the gap).
  const instant = wall - before * 60_000;
  const offset = offsetMinutes(format, instant);
  return { offset, wall: instant + offset * 60_000, kind: 'nonexistent' };
}

const FORMATS = new Map<string, Intl.DateTimeFormat | null>();
/** One formatter per zone (building one costs far more than using it). */
function zoneFormat(timeZone: string): Intl.DateTimeFormat | undefined {
  let f = FORMATS.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    } catch {
      f = null;
    }
    FORMATS.set(timeZone, f);
  }
  return f ?? undefined;
}

/** Offsets by zone and quarter hour (UTC): tz database transitions fall on quarter hours. */
const OFFSETS = new Map<Intl.DateTimeFormat, Map<number, number>>();

function offsetMinutes(format: Intl.DateTimeFormat, epoch: number): number {
  let byHour = OFFSETS.get(format);
  if (!byHour) {
    byHour = new Map();
    OFFSETS.set(format, byHour);
  }
  const hour = Math.floor(epoch / 900_000);
  let offset = byHour.get(hour);
  if (offset === undefined) {
    offset = computeOffsetMinutes(format, epoch);
    if (byHour.size > 100_000) byHour.clear();
    byHour.set(hour, offset);
  }
  return offset;
}

function computeOffsetMinutes(format: Intl.DateTimeFormat, epoch: number): number {
  const name = format.formatToParts(new Date(epoch)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

function formatOffset(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}
