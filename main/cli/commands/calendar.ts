import { readFile, stat } from 'node:fs/promises';
import { expandIcs, type IcsOccurrence } from '../../calendar/ics/expand.js';
import { checkIcsSize, IcsError } from '../../calendar/ics/parse.js';
import { ianaZone, naiveMsToWall, UTC_ZONE, wallToInstant } from '../../calendar/ics/zones.js';
import { NativeCalendar } from '../../calendar/native/helper-client.js';
import { isoInZone } from '../../tools/calendar-format.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const USAGE = 'events (--ics FILE | --calendar NAME) --from DATE --to DATE [--json]';

/**
 * `pavise calendar events`: the occurrences of a calendar in [from, to): an .ics file (--ics), or one of the Mac's
 * calendars by name (--calendar, through the EventKit helper; subscribed calendars included).
 */
export async function calendarCommand(args: string[], io: CliIO, deps: { readonly native?: NativeCalendar } = {}): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'events') {
    throw new UsageError(sub === undefined ? `Usage: pavise calendar ${USAGE}` : `Unknown calendar command "${sub}". Usage: pavise calendar ${USAGE}`);
  }
  const { values } = parseCommandArgs(
    'calendar',
    rest,
    { ics: { type: 'string' }, calendar: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean' } },
    { min: 0, max: 0, usage: USAGE },
  );
  if (values.calendar !== undefined && values.ics !== undefined) throw new UsageError(`Give either --ics FILE or --calendar NAME, not both. Usage: pavise calendar ${USAGE}`);
  if (values.calendar !== undefined && values.calendar.trim() === '') throw new UsageError(`--calendar needs the calendar's name as Calendar shows it. Usage: pavise calendar ${USAGE}`);
  if (values.calendar === undefined && (values.ics === undefined || values.ics.trim() === '')) {
    throw new UsageError(`Give the calendar with --ics FILE or --calendar NAME. Usage: pavise calendar ${USAGE}`);
  }
  const ownerTimeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const from = dateOption('--from', values.from, ownerTimeZone);
  const to = dateOption('--to', values.to, ownerTimeZone);
  if (to.getTime() <= from.getTime()) throw new UsageError(`--to (${values.to}) must be after --from (${values.from}).`);
  if (values.calendar !== undefined) return nativeEvents(deps.native ?? new NativeCalendar(), values.calendar, from, to, ownerTimeZone, values.json === true, io);
  if (values.ics === undefined) throw new UsageError(`Give the calendar with --ics FILE. Usage: pavise calendar ${USAGE}`);

  let data: Buffer;
  try {
    const info = await stat(values.ics);
    if (!info.isFile()) throw new UsageError(`${values.ics} is not a file. Pass an .ics file with --ics FILE.`);
    checkIcsSize(info.size);
    data = await readFile(values.ics);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`No such file: ${values.ics}. Check the path given to --ics.`);
    if (code === 'EACCES') throw new UsageError(`Cannot read ${values.ics} (permission denied). Check the path given to --ics.`);
    if (error instanceof IcsError) throw new UsageError(error.message);
    throw error;
  }

  let result;
  try {
    result = expandIcs(data, { from, to, ownerTimeZone });
  } catch (error) {
    if (error instanceof IcsError) {
      io.stderr.write(`pavise: ${error.message}\n`);
      return EXIT.failure;
    }
    throw error;
  }
  const warnings = result.error === undefined ? result.warnings : [result.error, ...result.warnings];
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ events: result.events, warnings }, null, 2)}\n`);
  } else {
    io.stdout.write(formatTable(result.events));
    for (const warning of warnings) io.stderr.write(`pavise: warning: ${printable(warning)}\n`);
  }
  if (result.error !== undefined) {
    if (values.json) io.stderr.write(`pavise: ${result.error}\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

/** One of the Mac's calendars through the helper, in the same shape as an .ics file's occurrences. */
async function nativeEvents(native: NativeCalendar, name: string, from: Date, to: Date, ownerTimeZone: string, json: boolean, io: CliIO): Promise<number> {
  const listed = await native.call('listEvents', { from: from.toISOString(), to: to.toISOString(), calendars: [name] });
  if (!listed.ok) {
    io.stderr.write(`pavise: ${listed.message}\n`);
    return EXIT.failure;
  }
  const events = listed.value.events.map((event): IcsOccurrence => {
    const zone = event.timeZone === 'floating' ? ownerTimeZone : event.timeZone;
    const start = isoInZone(event.start, zone);
    const end = isoInZone(event.end, zone);
    return {
      uid: event.id,
      start: event.allDay ? start.slice(0, 10) : start,
      end: event.allDay ? end.slice(0, 10) : end,
      allDay: event.allDay,
      summary: event.title,
      location: event.location ?? null,
      organizer: event.organizer?.email ?? null,
      recurrenceId: null,
    };
  });
  const warnings = listed.value.truncated ? ['More events than the helper returns at once; ask for a shorter range.'] : [];
  if (json) io.stdout.write(`${JSON.stringify({ events, warnings }, null, 2)}\n`);
  else {
    io.stdout.write(formatTable(events));
    for (const warning of warnings) io.stderr.write(`pavise: warning: ${warning}\n`);
  }
  return EXIT.ok;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A day (YYYY-MM-DD, local midnight in the owner's zone) or a full ISO 8601 date-time with an offset. Anything else
 * is refused rather than guessed.
 */
function dateOption(flag: string, text: string | undefined, ownerTimeZone: string): Date {
  if (text === undefined) throw new UsageError(`${flag} is required (a day such as 2026-03-01). Usage: pavise calendar ${USAGE}`);
  const day = DATE.exec(text);
  let date: Date | undefined;
  if (day) {
    const [year, month, dayOfMonth] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const naive = Date.UTC(year, month - 1, dayOfMonth);
    const check = new Date(naive);
    const zone = ianaZone(ownerTimeZone) ?? UTC_ZONE;
    if (check.getUTCMonth() === month - 1 && check.getUTCDate() === dayOfMonth) date = new Date(wallToInstant(naiveMsToWall(naive), zone));
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const parsed = new Date(text);
    if (Number.isFinite(parsed.getTime())) date = parsed;
  }
  if (!date) {
    throw new UsageError(`${flag} must be a date such as 2026-03-01 or 2026-03-01T09:00:00+01:00, not "${text}".`);
  }
  return date;
}

/** Event text is someone else's: control and bidi characters are shown as escapes, never sent to the terminal. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu, (char) => `\\u{${char.codePointAt(0)?.toString(16)}}`);
}

function formatTable(events: readonly IcsOccurrence[]): string {
  if (events.length === 0) return 'No events in this range.\n';
  const rows = events.map((event) => [
    event.allDay ? `${event.start} (all day)` : event.start,
    event.end,
    printable(event.summary ?? '(no title)'),
    printable(event.location ?? ''),
  ]);
  const header = ['start', 'end', 'summary', 'location'];
  const widths = header.map((title, column) => Math.min(60, Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length))));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
