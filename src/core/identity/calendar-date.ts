/** A proleptic Gregorian calendar date without time zone. */
export interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Gregorian leap year: 2000 is one, 1900 is not. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** True when day/month exist in that year (29 February only in leap years). */
export function isRealDate(year: number, month: number, day: number): boolean {
  const max = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
  return max !== undefined && Number.isInteger(day) && day >= 1 && day <= max;
}

/** Parses a full FHIR `date` (`YYYY-MM-DD`); partial dates and invalid days give `undefined`. */
export function parseIsoDate(text: string): CalendarDate | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const date = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  return isRealDate(date.year, date.month, date.day) ? date : undefined;
}

/** `YYYY-MM-DD`. */
export function formatIsoDate(date: CalendarDate): string {
  return `${String(date.year).padStart(4, '0')}-${pad2(date.month)}-${pad2(date.day)}`;
}

/** The `DDMMYY` prefix shared by CPR and replacement CPR numbers. */
export function formatDdmmyy(date: CalendarDate): string {
  return `${pad2(date.day)}${pad2(date.month)}${pad2(date.year % 100)}`;
}

/** Negative, zero or positive like a sort comparator. */
export function compareDates(a: CalendarDate, b: CalendarDate): number {
  return a.year - b.year || a.month - b.month || a.day - b.day;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
