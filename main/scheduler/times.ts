import type { JobSchedule } from '../storage/job-store.js';
import { instantOf, wallTime } from './zoned-time.js';

/** What a phrase like "tomorrow at 9" or "weekdays at 7:30" means, with a description the owner can check. */
export interface ParsedWhen {
  readonly schedule: JobSchedule;
  readonly firstRunAt: number;
  readonly description: string;
}

export class WhenError extends Error {
  override readonly name = 'WhenError';
}

const EXAMPLES = 'e.g. "in 20 minutes", "tomorrow at 9", "friday 17:30", "weekdays at 7:30", "every monday at 9" or a cron line "30 7 * * 1-5"';

const DAY_NAMES: Readonly<Record<string, number>> = {
  sun: 0, sunday: 0, sundays: 0, mon: 1, monday: 1, mondays: 1, tue: 2, tues: 2, tuesday: 2, tuesdays: 2,
  wed: 3, wednesday: 3, wednesdays: 3, thu: 4, thur: 4, thurs: 4, thursday: 4, thursdays: 4,
  fri: 5, friday: 5, fridays: 5, sat: 6, saturday: 6, saturdays: 6,
};

const CRON_LINE = /^\s*[\d*/,-]+(\s+[\d*/,A-Za-z?-]+){4}\s*$/;

/**
 * Parses a time the owner wrote, read in `zone`. One-shot times go through chrono-node; recurring ones become a cron
 * expression evaluated by croner in the zone (both loaded at first use). A time already past is an error, never
 * silently moved.
 */
export async function parseWhen(text: string, now: number, zone: string): Promise<ParsedWhen> {
  const phrase = text.trim().toLowerCase();
  if (phrase.length === 0) throw new WhenError(`No time given; say when, ${EXAMPLES}.`);
  const recurring = recurringCron(phrase) ?? (CRON_LINE.test(phrase) ? { expression: phrase.replace(/\s+/g, ' '), description: `cron "${phrase}"` } : undefined);
  if (recurring) {
    const first = await nextCronRun(recurring.expression, zone, now);
    if (first === undefined) throw new WhenError(`"${text}" never comes around; ${EXAMPLES}.`);
    // "every N minutes" is judged by N: its cron line's last gap before the hour is shorter ("*/7": 56 → 0).
    if ('everyMinutes' in recurring && recurring.everyMinutes !== undefined) {
      if (recurring.everyMinutes < MIN_RECURRING_MINUTES) throw tooOften(text);
    } else await checkInterval(text, recurring.expression, zone, first);
    return { schedule: { type: 'cron', expression: recurring.expression, description: recurring.description }, firstRunAt: first, description: recurring.description };
  }
  // "every 90 minutes" or "every 2 hours" would otherwise be read by chrono as one time ("in 90 minutes"): the
  // repeat the owner asked for would be dropped without a word.
  if (/^(?:every|each)\s/.test(phrase)) throw new WhenError(`"${text}" is a repeat Pavise cannot schedule; ${EXAMPLES}.`);
  const at = await parseOneShot(text, now, zone);
  if (at <= now) throw new WhenError(`"${text}" is already past (${describeInstant(at, zone)}); give a time in the future.`);
  return { schedule: { type: 'once', at }, firstRunAt: at, description: describeInstant(at, zone) };
}

/**
 * The shortest time between two runs of a recurring job. A reminder every minute is 60 messages an hour: it trips the
 * hourly pacing cap within half an hour and the circuit breaker then stops every message Pavise sends.
 */
export const MIN_RECURRING_MINUTES = 5;
/** How many gaps between runs are looked at ("0,1 9 * * *" is closer than it looks only once a day). */
const GAPS_CHECKED = 48;

async function checkInterval(text: string, expression: string, zone: string, first: number): Promise<void> {
  let previous = first;
  for (let index = 0; index < GAPS_CHECKED; index++) {
    const next = await nextCronRun(expression, zone, previous);
    if (next === undefined) return;
    if (next - previous < MIN_RECURRING_MINUTES * 60_000) throw tooOften(text);
    previous = next;
  }
}

function tooOften(text: string): WhenError {
  return new WhenError(`"${text}" comes round more often than every ${MIN_RECURRING_MINUTES} minutes; a recurring reminder may repeat at most that often.`);
}

async function parseOneShot(text: string, now: number, zone: string): Promise<number> {
  const chrono = await import('chrono-node');
  const offsetMinutes = Math.round((Date.UTC(...wallFields(now, zone)) - Math.floor(now / 1000) * 1000) / 60_000);
  const [result] = chrono.parse(text, { instant: new Date(now), timezone: offsetMinutes }, { forwardDate: true });
  if (!result) throw new WhenError(`"${text}" is not a time Pavise understands; ${EXAMPLES}.`);
  const start = result.start;
  // A relative time ("in 20 minutes") or one with its own zone is an exact instant; a wall-clock time ("tomorrow at
  // 9") is read again in the owner's zone on that day, so a DST change between now and then is honoured.
  if (start.isCertain('timezoneOffset')) return start.date().getTime();
  const wall = {
    year: start.get('year') ?? 1970,
    month: start.get('month') ?? 1,
    day: start.get('day') ?? 1,
    hour: start.isCertain('hour') ? (start.get('hour') ?? 9) : 9,
    minute: start.isCertain('hour') ? (start.get('minute') ?? 0) : 0,
    second: 0,
  };
  let at = instantOf(wall, zone);
  // "at 5pm" said at 6pm means tomorrow.
  if (at <= now && !start.isCertain('day')) {
    const next = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + 1));
    at = instantOf({ ...wall, year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, zone);
  }
  return at;
}

function wallFields(instant: number, zone: string): [number, number, number, number, number, number] {
  const wall = wallTime(instant, zone);
  return [wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second];
}

/** "weekdays at 7:30", "every day at 8", "every monday and thursday at 18:00", "every 15 minutes", "every hour". */
function recurringCron(phrase: string): { expression: string; description: string; everyMinutes?: number } | undefined {
  const minutes = /^every\s+(\d{1,2})\s*(?:min|mins|minutes)$/.exec(phrase);
  if (minutes) {
    const step = Number(minutes[1]);
    if (step < 1 || step > 59) return undefined;
    return { expression: `*/${step} * * * *`, description: `every ${step} minutes`, everyMinutes: step };
  }
  if (/^(every\s+hour|hourly)$/.test(phrase)) return { expression: '0 * * * *', description: 'every hour' };
  const match = /^(every\s+|each\s+|on\s+)?(day|daily|morning|evening|weekday|weekdays|weekend|weekends|(?:(?:sun|mon|tue|tues|wed|thu|thur|thurs|fri|sat)[a-z]*(?:\s*(?:,|and|&)\s*)?)+)(?:\s+(?:at\s+)?(.+))?$/.exec(phrase);
  if (!match) return undefined;
  const dayWords = match[2] ?? '';
  // Without "every" or "each" only a plural ("mondays", "weekdays") or "daily" repeats: "on friday" and "monday at 9"
  // are one day, read as a one-shot time.
  if (!/^(every|each)\s/.test(match[1] ?? '') && !repeatsByItself(dayWords)) return undefined;
  const time = clockOf(match[3] ?? (dayWords === 'evening' ? '18:00' : '9:00'));
  if (!time) return undefined;
  let days: string;
  let label: string;
  if (/^(day|daily|morning|evening)$/.test(dayWords)) [days, label] = ['*', 'every day'];
  else if (/^weekdays?$/.test(dayWords)) [days, label] = ['1-5', 'weekdays'];
  else if (/^weekends?$/.test(dayWords)) [days, label] = ['0,6', 'weekends'];
  else {
    const numbers = dayWords
      .split(/\s*(?:,|and|&)\s*|\s+/)
      .filter(Boolean)
      .map((word) => DAY_NAMES[word]);
    if (numbers.some((day) => day === undefined)) return undefined;
    const unique = [...new Set(numbers as number[])].sort((a, b) => a - b);
    days = unique.join(',');
    label = `every ${unique.map((day) => ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][day]).join(', ')}`;
  }
  const hh = String(time.hour).padStart(2, '0');
  const mm = String(time.minute).padStart(2, '0');
  return { expression: `${time.minute} ${time.hour} * * ${days}`, description: `${label} at ${hh}:${mm}` };
}

function repeatsByItself(dayWords: string): boolean {
  if (/^(daily|weekdays?|weekends?)$/.test(dayWords)) return true;
  const words = dayWords.split(/\s*(?:,|and|&)\s*|\s+/).filter(Boolean);
  return words.length > 0 && words.every((word) => word.endsWith('s') && word !== 'tues' && word !== 'thurs');
}

function clockOf(text: string): { hour: number; minute: number } | undefined {
  if (/^noon$/.test(text.trim())) return { hour: 12, minute: 0 };
  const match = /^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/.exec(text.trim());
  if (!match) return undefined;
  let hour = Number(match[1]);
  const minute = Number(match[2] ?? 0);
  const meridiem = match[3]?.[0];
  if (meridiem && (hour < 1 || hour > 12)) return undefined;
  if (meridiem === 'p' && hour < 12) hour += 12;
  if (meridiem === 'a' && hour === 12) hour = 0;
  if (hour > 23 || minute > 59) return undefined;
  return { hour, minute };
}

/**
 * The first run of a cron expression strictly after `after`, in `zone` (croner, loaded at first use). A time in a
 * DST gap runs once, at the moment the clocks jump; a repeated hour runs once, the first time.
 */
export async function nextCronRun(expression: string, zone: string, after: number): Promise<number | undefined> {
  const { Cron } = await import('croner');
  let cron: InstanceType<typeof Cron>;
  try {
    cron = new Cron(expression, { timezone: zone, paused: true, legacyMode: true });
  } catch (error) {
    throw new WhenError(`"${expression}" is not a cron line croner accepts (${error instanceof Error ? error.message : String(error)}); ${EXAMPLES}.`);
  }
  const next = cron.nextRun(new Date(after));
  cron.stop();
  return next ? next.getTime() : undefined;
}

export function describeInstant(instant: number, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(new Date(instant));
}

/**
 * Splits "call mum tomorrow at 9" (or "remind me to call mum tomorrow at 9") into what to remember and when. A
 * recurring phrase at the end or the start wins; otherwise chrono-node finds the time. Undefined when there is no time in it.
 */
export async function splitReminder(sentence: string, now: number): Promise<{ text: string; when: string } | undefined> {
  const cleaned = sentence.trim().replace(/^remind me\s+(?:to\s+|that\s+|about\s+)?/i, '');
  const recurring = /\s+((?:every|each|on)\s+.+|(?:weekdays?|weekends?|daily|hourly)(?:\s+at\s+.+)?)$/i.exec(cleaned);
  if (recurring?.[1] && recurringCron(recurring[1].toLowerCase())) return clean(cleaned.slice(0, recurring.index), recurring[1]);
  // A repeat not understood ("every 90 minutes") is passed on whole, for parseWhen to refuse, not cut to a one-shot.
  // Only a repeat by a count or a unit: "water each plant tomorrow at 9" is a one-shot whose text says "each".
  const unknownRepeat =
    /\s+((?:every|each)\s+(?:(?:\d+|other|second|third|few|couple\s+of)\s+)?(?:min(?:ute)?s?|hours?|hrs?|days?|nights?|weeks?|fortnights?|months?|years?)\b.*)$/i.exec(
      cleaned,
    );
  if (unknownRepeat?.[1]) return clean(cleaned.slice(0, unknownRepeat.index), unknownRepeat[1]);
  const chrono = await import('chrono-node');
  // ... or at the start ("weekdays at 7:30 stand-up"): the longest run of leading words that is a recurring time.
  // A bare leading word with a time of its own in the rest is part of the text ("daily standup notes tomorrow at 9").
  const words = cleaned.split(/\s+/);
  if (/^(?:every|each|weekdays?|weekends?|daily|hourly)$/i.test(words[0] ?? '')) {
    for (let count = words.length - 1; count > 0; count -= 1) {
      const when = words.slice(0, count).join(' ');
      const rest = words.slice(count).join(' ');
      if (recurringCron(when.toLowerCase())) {
        if (count === 1 && chrono.parse(rest, new Date(now), { forwardDate: true }).length > 0) break;
        return clean(rest, when);
      }
    }
  }
  const found = chrono.parse(cleaned, new Date(now), { forwardDate: true }).at(-1);
  if (!found) return undefined;
  return clean(cleaned.slice(0, found.index) + cleaned.slice(found.index + found.text.length), found.text);
}

function clean(text: string, when: string): { text: string; when: string } | undefined {
  const what = text.replace(/\s+/g, ' ').replace(/^\s*(?:to|that)\s+/i, '').replace(/[\s,]+(?:at|on|in)?\s*$/i, '').trim();
  return what ? { text: what, when: when.trim() } : undefined;
}
