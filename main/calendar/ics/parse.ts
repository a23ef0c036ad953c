import ICAL from 'ical.js';

/** Larger files are refused before parsing: a calendar export of many years is a few MB. */
export const MAX_ICS_BYTES = 20 * 1024 * 1024;

export class IcsError extends Error {
  override readonly name = 'IcsError';
}

export interface ParsedCalendar {
  readonly events: ICAL.Component[];
  readonly timezones: ICAL.Component[];
  /** The calendar's X-WR-TIMEZONE, when it has one. */
  readonly calendarTimeZone?: string;
  /** Set when the file as a whole could not be read; `events` then holds every block that could. */
  readonly error?: string;
  readonly warnings: string[];
}

/** Bytes of `text` in UTF-8, without copying it. */
function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

export function checkIcsSize(bytes: number): void {
  if (bytes > MAX_ICS_BYTES) {
    throw new IcsError(
      `The .ics file is ${(bytes / 1024 / 1024).toFixed(1)} MB; the limit is ${MAX_ICS_BYTES / 1024 / 1024} MB. ` +
        'Export a shorter date range or a single calendar and try again.',
    );
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'unknown error';
}

/**
 * Reads .ics text into its VEVENT and VTIMEZONE components. A file that does not parse as a whole is read again
 * block by block, so one broken event costs only itself: its problem becomes a warning and `error` says the file
 * is malformed.
 */
export function parseIcs(input: string | Uint8Array): ParsedCalendar {
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  checkIcsSize(typeof input === 'string' ? utf8Length(input) : input.byteLength);
  if (!/BEGIN:VCALENDAR/i.test(text)) {
    throw new IcsError('This is not an iCalendar file: it has no BEGIN:VCALENDAR line. Pass a .ics file.');
  }
  try {
    const root = new ICAL.Component(ICAL.parse(text));
    const calendars = root.name === 'vcalendar' ? [root] : root.getAllSubcomponents('vcalendar');
    const calendarTimeZone = calendars.map((calendar) => calendar.getFirstPropertyValue('x-wr-timezone')).find((value) => typeof value === 'string' && value.trim() !== '');
    return {
      ...(typeof calendarTimeZone === 'string' ? { calendarTimeZone: calendarTimeZone.trim() } : {}),
      // Events are detached from the calendar: ical.js otherwise looks each TZID up by scanning every component of
      // the calendar whenever a date is read (quadratic in the file). Zones are resolved by the expander instead.
      events: calendars.flatMap((calendar) => calendar.getAllSubcomponents('vevent').map((event) => new ICAL.Component(event.jCal))),
      timezones: calendars.flatMap((calendar) => calendar.getAllSubcomponents('vtimezone')),
      warnings: [],
    };
  } catch (error) {
    return parseBlocks(text, describe(error));
  }
}

const BLOCK = /^BEGIN:(VEVENT|VTIMEZONE)\r?$([\s\S]*?)^END:\1\r?$/gim;

function parseBlocks(text: string, fileError: string): ParsedCalendar {
  const events: ICAL.Component[] = [];
  const timezones: ICAL.Component[] = [];
  const warnings: string[] = [];
  let index = 0;
  for (const match of text.matchAll(BLOCK)) {
    const kind = (match[1] ?? '').toUpperCase();
    if (kind === 'VEVENT') index++;
    const line = text.slice(0, match.index).split('\n').length;
    try {
      const wrapped = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\n${match[0].trim()}\r\nEND:VCALENDAR\r\n`;
      const component = new ICAL.Component(ICAL.parse(wrapped)).getFirstSubcomponent(kind.toLowerCase());
      if (component) (kind === 'VEVENT' ? events : timezones).push(component);
    } catch (error) {
      warnings.push(`${kind === 'VEVENT' ? `Event #${index}` : 'A time zone'} at line ${line} could not be read and was skipped: ${describe(error)}`);
    }
  }
  const calendarTimeZone = /^X-WR-TIMEZONE(?:;[^:\r\n]*)?:(.+?)\r?$/im.exec(text)?.[1]?.trim();
  return {
    events,
    timezones,
    ...(calendarTimeZone ? { calendarTimeZone } : {}),
    warnings,
    error: `The .ics file is malformed (${fileError}); ${events.length} event(s) could still be read.`,
  };
}
