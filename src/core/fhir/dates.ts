/**
 * FHIR date, dateTime and instant values as inclusive millisecond ranges (FHIR R4 §3.1.1.4.8.2:
 * a date or dateTime denotes the whole interval of its precision). Times without a zone are taken
 * as UTC, the server's time zone.
 */
export interface DateRange {
  readonly lo: number;
  readonly hi: number;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/** Parses a FHIR date/dateTime/instant into the range it denotes; undefined when malformed. */
export function parseDateRange(value: string): DateRange | undefined {
  const m = DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : 1;
  const day = d ? Number(d) : 1;
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (!mo) return { lo: utc(year, 0, 1), hi: utc(year + 1, 0, 1) - 1 };
  if (!d) return { lo: utc(year, month - 1, 1), hi: utc(year, month, 1) - 1 };
  if (h === undefined) return { lo: utc(year, month - 1, day), hi: utc(year, month - 1, day + 1) - 1 };
  const hour = Number(h);
  const minute = Number(mi);
  const second = s ? Number(s) : 0;
  if (hour > 24 || minute > 59 || second > 60) return undefined;
  let offset = 0;
  if (tz && tz !== 'Z') {
    const sign = tz.startsWith('-') ? -1 : 1;
    offset = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4, 6))) * 60_000;
  }
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const lo = utc(year, month - 1, day, hour, minute, second, ms) - offset;
  let width: number;
  if (s === undefined) width = 60_000;
  else if (frac === undefined) width = 1_000;
  else width = frac.length >= 3 ? 1 : 10 ** (3 - frac.length);
  return { lo, hi: lo + width - 1 };
}

function utc(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = Date.UTC(y, mo, d, h, mi, s, ms);
  // Date.UTC maps years 0–99 to 1900–1999; FHIR years are literal.
  if (y < 100) {
    const dt = new Date(t);
    dt.setUTCFullYear(y);
    return dt.getTime();
  }
  return t;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The open ends of a range (a Period without end) use these sentinels. */
export const MIN_TIME = -8_640_000_000_000_000;
export const MAX_TIME = 8_640_000_000_000_000;
