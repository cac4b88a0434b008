/** An ISO 8601 duration as rules write it: `PT24H`, `P4D`, `P2M`, `P3Y`, `P1Y6M`. */
export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
}

const RE = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?)?$/;

/** Parses a duration; undefined when it is not one of the forms above or is zero. */
export function parseDuration(text: string): Duration | undefined {
  const m = RE.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const d: Duration = { years: n(1), months: n(2), days: n(3) * 7 + n(4), hours: n(5) };
  return d.years + d.months + d.days + d.hours > 0 ? d : undefined;
}

/** `at` minus the duration, in calendar terms (months and years by the calendar, UTC). */
export function subtractDuration(at: number, d: Duration): number {
  const t = new Date(at);
  t.setUTCFullYear(t.getUTCFullYear() - d.years, t.getUTCMonth() - d.months, t.getUTCDate() - d.days);
  return t.getTime() - d.hours * 3_600_000;
}

/** "12 h" / "40 d": how long ago, for card text. */
export function ageText(ms: number): string {
  const hours = Math.max(0, Math.round(ms / 3_600_000));
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}
