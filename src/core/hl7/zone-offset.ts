/**
 * UTC offset (`+hh:mm`) in force in IANA zone `timeZone` at a local wall-clock time, or undefined
 * when the zone is unknown. Used when a DTM/TS carries no offset and the sender's zone is configured.
 * In a daylight-saving gap or overlap the offset before the transition is used.
 */
export function zoneOffsetAt(
  timeZone: string,
  local: { year: number; month: number; day: number; hour: number; minute: number; second: number },
): string | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
  } catch {
    return undefined;
  }
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  const first = offsetMinutes(format, wall);
  const second = offsetMinutes(format, wall - first * 60_000);
  return formatOffset(offsetMinutes(format, wall - second * 60_000) === second ? second : first);
}

function offsetMinutes(format: Intl.DateTimeFormat, epoch: number): number {
  const name = format.formatToParts(new Date(epoch)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** Formats minutes east of UTC as `+hh:mm`. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
