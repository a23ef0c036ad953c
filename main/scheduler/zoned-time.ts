/** Wall-clock time in an IANA zone, without a library: Intl knows every zone's offsets and transitions. */

export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  /** 0 = Sunday. */
  readonly weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        weekday: 'short',
      });
    } catch {
      throw new RangeError(`"${zone}" is not a known IANA time zone; use a name like "Europe/Berlin" or "America/New_York".`);
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

export function isTimeZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function wallTime(instant: number, zone: string): WallTime {
  const fields: Record<string, string> = {};
  for (const part of formatterFor(zone).formatToParts(new Date(instant))) fields[part.type] = part.value;
  return {
    year: Number(fields.year),
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
    weekday: WEEKDAYS.indexOf(fields.weekday ?? ''),
  };
}

/** The zone's offset from UTC at `instant`, in milliseconds. */
export function offsetAt(instant: number, zone: string): number {
  const wall = wallTime(instant, zone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall-clock time names in `zone`. A time the clocks skip (a DST gap) moves forward by the gap
 * (02:30 on a spring-forward night is 03:30); a time that happens twice (the repeated hour) is the first one.
 */
export function instantOf(wall: Omit<WallTime, 'weekday'>, zone: string): number {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  const before = offsetAt(asUtc - 36 * 3_600_000, zone);
  const after = offsetAt(asUtc + 36 * 3_600_000, zone);
  const candidates = [...new Set([before, after])]
    .map((offset) => asUtc - offset)
    .filter((instant) => {
      const seen = wallTime(instant, zone);
      return seen.year === wall.year && seen.month === wall.month && seen.day === wall.day && seen.hour === wall.hour && seen.minute === wall.minute;
    })
    .sort((a, b) => a - b);
  return candidates[0] ?? asUtc - before;
}

/** "HH:MM" to minutes after midnight. */
export function minutesOf(clock: string): number {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(clock);
  if (!match) throw new RangeError(`"${clock}" is not a time of day; write it as HH:MM, e.g. "07:30".`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/**
 * When a delivery due at `instant` may go out, given quiet hours from `start` to `end` ("22:00"–"07:00"): the instant
 * itself outside them, else the end of the quiet period it falls in.
 */
export function afterQuietHours(instant: number, zone: string, quiet: { readonly start: string; readonly end: string } | undefined): number {
  if (!quiet) return instant;
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === end) return instant;
  const wall = wallTime(instant, zone);
  const minute = wall.hour * 60 + wall.minute;
  const inside = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!inside) return instant;
  // The end is today when it is still ahead on the clock, else tomorrow.
  const endToday = minute < end;
  const day = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + (endToday ? 0 : 1)));
  return instantOf(
    { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate(), hour: Math.floor(end / 60), minute: end % 60, second: 0 },
    zone,
  );
}
