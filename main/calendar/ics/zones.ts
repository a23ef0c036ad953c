import ICAL from 'ical.js';

/** A wall-clock reading: what a calendar shows, before a time zone turns it into an instant. */
export interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** A time zone reduced to the one question expansion asks: the UTC offset (in ms) at an instant. */
export interface Zone {
  readonly id: string;
  offsetAt(instantMs: number): number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export const UTC_ZONE: Zone = { id: 'UTC', offsetAt: () => 0 };

export function wallToNaiveMs(wall: Wall): number {
  return Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
}

export function naiveMsToWall(ms: number): Wall {
  const date = new Date(ms);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
  };
}

/**
 * The instant a wall-clock time names in `zone`. An ambiguous time (the repeated hour when clocks go back) is the
 * first of its two instants; a time that does not exist (the skipped hour) is read with the offset in force before
 * the gap, as RFC 5545 §3.3.5 asks, so 02:30 on a spring-forward night becomes 03:30.
 */
export function wallToInstant(wall: Wall, zone: Zone): number {
  const naive = wallToNaiveMs(wall);
  const before = zone.offsetAt(naive - DAY_MS);
  // Almost every time lies in a stretch with one offset: no transition within a day either side.
  if (before === zone.offsetAt(naive + DAY_MS) && zone.offsetAt(naive - before) === before) return naive - before;
  const candidates = new Set([before, zone.offsetAt(naive), zone.offsetAt(naive + DAY_MS)]);
  let best: number | undefined;
  for (const offset of candidates) {
    const instant = naive - offset;
    if (zone.offsetAt(instant) === offset && (best === undefined || instant < best)) best = instant;
  }
  return best ?? naive - before;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** "00" to "99": formatting runs once per occurrence boundary, and a table lookup is far cheaper than padStart. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, value) => pad(value));

function pad2(value: number): string {
  return TWO_DIGITS[value] ?? pad(value);
}

function year4(year: number): string {
  return year >= 1000 && year <= 9999 ? String(year) : pad(year, 4);
}

export function formatDate(wall: Pick<Wall, 'year' | 'month' | 'day'>): string {
  return `${year4(wall.year)}-${pad2(wall.month)}-${pad2(wall.day)}`;
}

const offsetSuffixes = new Map<number, string>();

function offsetSuffix(offset: number): string {
  let suffix = offsetSuffixes.get(offset);
  if (suffix === undefined) {
    const minutes = Math.round(Math.abs(offset) / MINUTE_MS);
    suffix = `${offset < 0 ? '-' : '+'}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
    if (offsetSuffixes.size < 1_000) offsetSuffixes.set(offset, suffix);
  }
  return suffix;
}

/** ISO 8601 in the zone's own wall clock with its offset, e.g. 2026-03-29T09:00:00+02:00 (UTC is +00:00). */
export function formatInstant(instantMs: number, zone: Zone): string {
  const offset = zone.offsetAt(instantMs);
  const date = new Date(instantMs + offset);
  return `${year4(date.getUTCFullYear())}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}${offsetSuffix(offset)}`;
}

/**
 * Remembers offsets per UTC day: expansion asks the same zone about the same days many times, and each question to
 * the platform costs microseconds. A day whose two ends have different offsets holds a transition; its instant is
 * found once (to the second) and remembered. Assumes at most one transition per day, which every real zone meets.
 */
function cached(id: string, compute: (instantMs: number) => number): Zone {
  const days = new Map<number, number | { readonly before: number; readonly after: number; readonly atMs: number }>();
  const resolveDay = (day: number) => {
    const before = compute(day * DAY_MS);
    const after = compute((day + 1) * DAY_MS);
    if (before === after) return before;
    let lo = (day * DAY_MS) / 1000;
    let hi = ((day + 1) * DAY_MS) / 1000;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (compute(mid * 1000) === before) lo = mid;
      else hi = mid;
    }
    return { before, after, atMs: hi * 1000 };
  };
  return {
    id,
    offsetAt(instantMs) {
      const day = Math.floor(instantMs / DAY_MS);
      let entry = days.get(day);
      if (entry === undefined) {
        if (days.size > 100_000) days.clear();
        entry = resolveDay(day);
        days.set(day, entry);
      }
      if (typeof entry === 'number') return entry;
      return instantMs < entry.atMs ? entry.before : entry.after;
    },
  };
}

const ianaZones = new Map<string, Zone | undefined>();

/** An IANA zone through the platform's tz database, or undefined when the platform does not know the name. */
export function ianaZone(name: string): Zone | undefined {
  if (ianaZones.has(name)) return ianaZones.get(name);
  const zone = createIanaZone(name);
  if (ianaZones.size < 1_000) ianaZones.set(name, zone);
  return zone;
}

function createIanaZone(name: string): Zone | undefined {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
  } catch {
    return undefined;
  }
  return cached(format.resolvedOptions().timeZone, (instantMs) => {
    const parts: Record<string, string> = {};
    for (const part of format.formatToParts(new Date(instantMs))) parts[part.type] = part.value;
    const year = Number(parts.year) * (parts.era === 'BC' || parts.era === 'B' ? -1 : 1);
    const naive = Date.UTC(year, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    return naive - Math.floor(instantMs / 1000) * 1000;
  });
}

/** A zone defined by a VTIMEZONE component in the file itself. */
export function vtimezoneZone(id: string, component: ICAL.Component): Zone {
  const timezone = new ICAL.Timezone(component);
  return cached(id, (instantMs) => {
    const utc = ICAL.Time.fromData(
      { ...naiveMsToWall(instantMs), isDate: false },
      ICAL.Timezone.utcTimezone,
    );
    return timezone.utcOffset(utc.convertToZone(timezone)) * 1000;
  });
}

/**
 * Candidate IANA names for a TZID as calendars write them: quoted, or "globally unique" with a leading slash and a
 * vendor prefix (/freeassociation.sourceforge.net/Tzfile/Europe/Berlin).
 */
export function ianaCandidates(tzid: string): string[] {
  const clean = tzid.trim().replace(/^"(.*)"$/, '$1').trim();
  const names = [clean];
  const stripped = clean.replace(/^\/+/, '');
  if (stripped !== clean) names.push(stripped);
  const segments = stripped.split('/');
  for (let take = 3; take >= 2; take--) {
    if (segments.length > take) names.push(segments.slice(-take).join('/'));
  }
  return names.filter((name) => name !== '');
}
