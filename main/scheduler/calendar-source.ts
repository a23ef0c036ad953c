import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { NativeCalendar } from '../calendar/native/helper-client.js';
import type { CalendarEvent } from '../common/calendar.js';
import type { Provenance } from '../common/messages.js';
import { eventProvenance } from '../tools/calendar-format.js';
import type { CalendarEventLike, CalendarSource } from './sources.js';
import { instantOf } from './zoned-time.js';

export interface CalendarSourceParts {
  /** The Mac's calendars through the helper; left out, or not `available` (off a Mac), it is never asked. */
  readonly native?: Pick<NativeCalendar, 'available' | 'call'>;
  /** .ics files the owner named in config (`schedule.icsCalendars`). */
  readonly icsFiles: readonly string[];
  /** The zone floating times and all-day dates of .ics files are read in. */
  readonly ownerTimeZone: string;
}

/**
 * The calendar the briefing and calendar alerts read: the Mac's own store and the owner's .ics files, merged and
 * sorted. Every event carries whose words it is: an invitation from someone else, a subscribed calendar and an .ics
 * file are untrusted (their titles are what an outsider typed). Off a Mac with no .ics file it is "no calendar":
 * nothing is spawned and nothing read. A calendar that cannot be read throws, with what to do.
 */
export function calendarSource(parts: CalendarSourceParts): CalendarSource | undefined {
  const native = parts.native?.available ? parts.native : undefined;
  if (!native && parts.icsFiles.length === 0) return undefined;
  return {
    async eventsBetween(from, to, signal) {
      const found: CalendarEventLike[] = [];
      if (native) {
        const listed = await native.call('listEvents', { from: new Date(from).toISOString(), to: new Date(to).toISOString() }, signal);
        if (!listed.ok) throw new Error(`The Mac's calendar could not be read: ${listed.message}`);
        found.push(...listed.value.events.map(fromNative));
      }
      for (const file of parts.icsFiles) found.push(...(await icsEvents(file, from, to, parts.ownerTimeZone)));
      return found.sort((a, b) => a.start - b.start || a.title.localeCompare(b.title));
    },
  };
}

function fromNative(event: CalendarEvent): CalendarEventLike {
  return {
    title: event.title,
    start: Date.parse(event.start),
    end: Date.parse(event.end),
    ...(event.location ? { location: event.location } : {}),
    // Labelled as the calendar tools label it: an invitation, a subscribed feed or a shared calendar is not the owner's.
    provenance: eventProvenance(event),
  };
}

async function icsEvents(file: string, from: number, to: number, zone: string): Promise<CalendarEventLike[]> {
  const fix = `Fix or remove it in config (schedule.icsCalendars).`;
  let data: Buffer;
  try {
    // ical.js loads at the first .ics read, never at start-up.
    const { checkIcsSize } = await import('../calendar/ics/parse.js');
    checkIcsSize((await stat(file)).size);
    data = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new Error(`The calendar file ${file} could not be read (${why}). ${fix}`);
  }
  const { expandIcs } = await import('../calendar/ics/expand.js');
  const expanded = expandIcs(data, { from: new Date(from), to: new Date(to), ownerTimeZone: zone });
  if (expanded.error !== undefined && expanded.events.length === 0) throw new Error(`The calendar file ${file} is not a calendar Pavise can read: ${expanded.error} ${fix}`);
  // An .ics file is an export or a feed: what its events say was typed by whoever made or sent them.
  const provenance: Provenance = { kind: 'untrusted', source: 'calendar_invite', detail: `calendar file ${basename(file)}` };
  return expanded.events.map((event) => ({
    title: event.summary ?? '(no title)',
    start: icsInstant(event.start, event.allDay, zone),
    end: icsInstant(event.end, event.allDay, zone),
    ...(event.location ? { location: event.location } : {}),
    provenance,
  }));
}

/** An occurrence's start or end: ISO 8601 with an offset, or an all-day date, which begins at the owner's midnight. */
function icsInstant(value: string, allDay: boolean, zone: string): number {
  if (!allDay) return Date.parse(value);
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  return instantOf({ year, month, day, hour: 0, minute: 0, second: 0 }, zone);
}
