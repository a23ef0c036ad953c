import ICAL from 'ical.js';
import { IcsError, parseIcs } from './parse.js';
import {
  formatDate,
  formatInstant,
  ianaCandidates,
  ianaZone,
  naiveMsToWall,
  UTC_ZONE,
  vtimezoneZone,
  wallToInstant,
  wallToNaiveMs,
  type Wall,
  type Zone,
} from './zones.js';
import { statedOffset, windowsToIana } from './windows-zones.js';

/** One occurrence of an event, as every consumer (CLI, tools) sees it. */
export interface IcsOccurrence {
  /** Null when the event has no UID (RFC 5545 requires one; some exporters omit it). */
  readonly uid: string | null;
  /** ISO 8601 with the UTC offset of the event's own zone (floating times: the owner's); all-day: YYYY-MM-DD. */
  readonly start: string;
  /** Exclusive, in the same form as `start` (an all-day event on 1 March ends 2026-03-02). */
  readonly end: string;
  readonly allDay: boolean;
  /** Text fields are someone else's data, kept verbatim (including bidi overrides and zero-width characters). */
  readonly summary: string | null;
  readonly location: string | null;
  /** The organizer's address without its `mailto:` scheme. */
  readonly organizer: string | null;
  /** For a recurring event, the occurrence's original start (an override's RECURRENCE-ID); null for single events. */
  readonly recurrenceId: string | null;
}

export interface IcsLimits {
  /** Occurrences one event may produce inside the window before expansion stops with a warning. */
  readonly maxOccurrencesPerEvent: number;
  /** Longest window, in days; a longer one is shortened with a warning. */
  readonly maxRangeDays: number;
  /** Recurrence steps one event may take (also before the window) before expansion stops with a warning. */
  readonly maxIterationsPerEvent: number;
}

export const DEFAULT_ICS_LIMITS: IcsLimits = {
  maxOccurrencesPerEvent: 5_000,
  maxRangeDays: 3_660,
  maxIterationsPerEvent: 200_000,
};

export interface ExpandOptions {
  /** The window [from, to): an occurrence is in it when it overlaps it (a zero-length one when it starts in it). */
  readonly from: Date;
  readonly to: Date;
  /** IANA zone that floating times and all-day dates are read in. */
  readonly ownerTimeZone: string;
  readonly limits?: Partial<IcsLimits>;
}

export interface IcsExpansion {
  /** Sorted by start instant, then uid. */
  readonly events: IcsOccurrence[];
  readonly warnings: string[];
  /** Set when the file is malformed; `events` then holds what could be read. */
  readonly error?: string;
}

interface CalTime {
  readonly wall: Wall;
  readonly isDate: boolean;
  /** The zone the wall clock is read in: the event's, UTC, or the owner's for floating times and dates. */
  readonly zone: Zone;
}

interface Span {
  readonly start: CalTime;
  readonly startMs: number;
  readonly endMs: number;
  readonly end: CalTime;
}

const DAY_MS = 86_400_000;
/** Groups events without a UID one by one; never shown (their `uid` is null). */
const NO_UID = '\u0000no-uid-';

function wallOf(time: ICAL.Time): Wall {
  return { year: time.year, month: time.month, day: time.day, hour: time.isDate ? 0 : time.hour, minute: time.isDate ? 0 : time.minute, second: time.isDate ? 0 : time.second };
}

function instantOf(time: CalTime): number {
  return wallToInstant(time.wall, time.zone);
}

function formatTime(time: CalTime, instantMs = instantOf(time)): string {
  return time.isDate ? formatDate(time.wall) : formatInstant(instantMs, time.zone);
}

/** Reads one calendar file's events; zones are resolved once per TZID. */
class Expander {
  private readonly zones = new Map<string, Zone>();
  readonly warnings: string[] = [];
  private readonly owner: Zone;
  private readonly vtimezones: Map<string, ICAL.Component>;

  /** The zone floating date-times are read in. */
  private readonly floating: Zone;

  constructor(ownerTimeZone: string, vtimezones: ICAL.Component[], calendarTimeZone: string | undefined) {
    const owner = ianaZone(ownerTimeZone);
    if (!owner) throw new IcsError(`Unknown owner time zone "${ownerTimeZone}": give an IANA name such as Europe/Berlin.`);
    this.owner = owner;
    // X-WR-TIMEZONE (Google and Apple exports) is not in RFC 5545, but it is the calendar's own statement of where its
    // floating times happen, and Google, Apple and Outlook all read floating times in it: a shared calendar's 09:00
    // stays the author's 09:00 for an owner elsewhere. Only floating times: UTC and TZID times are exact already,
    // and all-day dates are days wherever one is.
    this.floating = owner;
    if (calendarTimeZone !== undefined) {
      const zone = ianaCandidates(calendarTimeZone).map((name) => ianaZone(name)).find((found) => found !== undefined);
      if (zone) this.floating = zone;
      else this.warnings.push(`The calendar's X-WR-TIMEZONE "${calendarTimeZone}" is no known zone; floating times are read in ${ownerTimeZone}.`);
    }
    this.vtimezones = new Map();
    for (const component of vtimezones) {
      const tzid = component.getFirstPropertyValue('tzid');
      if (typeof tzid === 'string') this.vtimezones.set(tzid, component);
    }
  }

  /**
   * The platform's tz database first (it knows every past and future rule), then the file's own VTIMEZONE (custom
   * zones, Outlook's names with their rules), then a common Windows zone or Outlook display name, then an offset the
   * name states ("UTC+01"), then UTC with a warning: an unknown zone never stops the file from being read.
   */
  private zone(tzid: string): Zone {
    let zone = this.zones.get(tzid);
    if (zone) return zone;
    for (const name of ianaCandidates(tzid)) {
      zone = ianaZone(name);
      if (zone) break;
    }
    const component = zone ? undefined : this.vtimezones.get(tzid);
    if (component) {
      try {
        zone = vtimezoneZone(tzid, component);
        zone.offsetAt(Date.now());
      } catch (error) {
        zone = undefined;
        this.warnings.push(`The VTIMEZONE "${tzid}" could not be read (${error instanceof Error ? error.message : String(error)}).`);
      }
    }
    if (!zone) {
      const windows = windowsToIana(tzid);
      zone = windows === undefined ? undefined : ianaZone(windows);
    }
    if (!zone) {
      const offset = statedOffset(tzid);
      if (offset !== undefined) {
        zone = { id: tzid, offsetAt: () => offset };
        this.warnings.push(`The time zone "${tzid}" has no definition in the file; its times are read at that fixed offset, without daylight saving.`);
      }
    }
    if (!zone) {
      this.warnings.push(`Unknown time zone "${tzid}" (no IANA or Windows zone of that name and no VTIMEZONE in the file); its times are read as UTC.`);
      zone = UTC_ZONE;
    }
    this.zones.set(tzid, zone);
    return zone;
  }

  time(property: ICAL.Property, value: ICAL.Time): CalTime {
    if (value.isDate) return { wall: wallOf(value), isDate: true, zone: this.owner };
    if (value.zone === ICAL.Timezone.utcTimezone) return { wall: wallOf(value), isDate: false, zone: UTC_ZONE };
    const tzid = property.getParameter('tzid');
    const zone = typeof tzid === 'string' && tzid !== '' ? this.zone(tzid) : this.floating;
    return { wall: wallOf(value), isDate: false, zone };
  }

  property(component: ICAL.Component, name: string): CalTime | undefined {
    const property = component.getFirstProperty(name);
    if (!property) return undefined;
    const value = property.getFirstValue();
    if (!(value instanceof ICAL.Time)) throw new Error(`${name.toUpperCase()} is not a date or date-time`);
    return this.time(property, value);
  }

  /** Every DATE / DATE-TIME (and PERIOD) value of a multi-valued property such as EXDATE or RDATE. */
  times(component: ICAL.Component, name: string): { time: CalTime; periodEnd?: CalTime; duration?: ICAL.Duration }[] {
    const result: { time: CalTime; periodEnd?: CalTime; duration?: ICAL.Duration }[] = [];
    for (const property of component.getAllProperties(name)) {
      let values: unknown[];
      try {
        values = property.getValues() as unknown[];
      } catch (error) {
        // One unreadable EXDATE or RDATE line costs only itself, not the whole series.
        this.warnings.push(`An ${name.toUpperCase()} of ${text(component, 'uid') ?? 'an event'} could not be read and was ignored: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      for (const value of values) {
        if (value instanceof ICAL.Time) result.push({ time: this.time(property, value) });
        else if (value instanceof ICAL.Period) {
          const start = this.time(property, value.start);
          if (value.end) result.push({ time: start, periodEnd: this.time(property, value.end) });
          else result.push({ time: start, ...(value.duration ? { duration: value.duration } : {}) });
        } else throw new Error(`${name.toUpperCase()} holds a value that is not a date`);
      }
    }
    return result;
  }

  get ownerZone(): Zone {
    return this.owner;
  }
}

/** Adds a DURATION: weeks and days on the wall clock (nominal, RFC 5545 §3.3.6), hours and less exactly. */
function addDuration(start: CalTime, startMs: number, duration: ICAL.Duration): { end: CalTime; endMs: number } {
  const sign = duration.isNegative ? -1 : 1;
  const days = sign * (duration.weeks * 7 + duration.days);
  const exact = sign * ((duration.hours * 60 + duration.minutes) * 60 + duration.seconds) * 1000;
  const wall = naiveMsToWall(wallToNaiveMs(start.wall) + days * DAY_MS);
  if (start.isDate && exact === 0) return { end: { ...start, wall }, endMs: Math.max(startMs, wallToInstant(wall, start.zone)) };
  const endMs = Math.max(startMs, wallToInstant(wall, start.zone) + exact);
  return { end: { wall: naiveMsToWall(endMs + start.zone.offsetAt(endMs)), isDate: false, zone: start.zone }, endMs };
}

type Length =
  | { readonly kind: 'wall'; readonly ms: number; readonly zone: Zone; readonly isDate: boolean }
  | { readonly kind: 'exact'; readonly ms: number }
  | { readonly kind: 'duration'; readonly duration: ICAL.Duration };

/**
 * How long each occurrence lasts, from DTEND or DURATION; undefined when the component has neither. A DTEND before
 * DTSTART is broken (RFC 5545 §3.8.2.2): with a `fallback` (an override's master) that is used instead, with a
 * warning; otherwise the occurrence has no length.
 */
function explicitLength(expander: Expander, component: ICAL.Component, start: CalTime, fallback?: Length): Length | undefined {
  const end = expander.property(component, 'dtend');
  if (end) {
    const wall = start.isDate || (end.zone === start.zone && end.isDate === start.isDate);
    const ms = wall ? wallToNaiveMs(end.wall) - wallToNaiveMs(start.wall) : instantOf(end) - instantOf(start);
    if (ms < 0 && fallback) {
      expander.warnings.push(`A changed occurrence of ${text(component, 'uid') ?? 'an event'} ends before it starts; it keeps the series' length.`);
      return fallback;
    }
    return wall ? { kind: 'wall', ms: Math.max(0, ms), zone: start.zone, isDate: start.isDate } : { kind: 'exact', ms: Math.max(0, ms) };
  }
  const duration = component.getFirstPropertyValue('duration');
  return duration instanceof ICAL.Duration ? { kind: 'duration', duration } : undefined;
}

/** The RFC's defaults without DTEND or DURATION: a day for dates, zero otherwise (§3.6.1). */
function defaultLength(start: CalTime): Length {
  return start.isDate ? { kind: 'wall', ms: DAY_MS, zone: start.zone, isDate: true } : { kind: 'exact', ms: 0 };
}

function lengthOf(expander: Expander, component: ICAL.Component, start: CalTime): Length {
  return explicitLength(expander, component, start) ?? defaultLength(start);
}

function spanOf(start: CalTime, length: Length): Span {
  const startMs = instantOf(start);
  if (length.kind === 'duration') {
    const { end, endMs } = addDuration(start, startMs, length.duration);
    return { start, startMs, end, endMs };
  }
  if (length.kind === 'wall') {
    const wall = naiveMsToWall(wallToNaiveMs(start.wall) + length.ms);
    const end: CalTime = { wall, isDate: start.isDate, zone: start.zone };
    return { start, startMs, end, endMs: Math.max(startMs, instantOf(end)) };
  }
  const endMs = startMs + length.ms;
  return { start, startMs, end: { wall: naiveMsToWall(endMs + start.zone.offsetAt(endMs)), isDate: false, zone: start.zone }, endMs };
}

function inWindow(span: Span, fromMs: number, toMs: number): boolean {
  if (span.startMs === span.endMs) return span.startMs >= fromMs && span.startMs < toMs;
  return span.startMs < toMs && span.endMs > fromMs;
}

function text(component: ICAL.Component, name: string): string | null {
  const value = component.getFirstPropertyValue(name);
  return typeof value === 'string' ? value : null;
}

function organizerOf(component: ICAL.Component): string | null {
  const value = text(component, 'organizer');
  return value === null ? null : value.replace(/^mailto:/i, '');
}

function sequenceOf(component: ICAL.Component): number {
  const value = component.getFirstPropertyValue('sequence');
  return typeof value === 'number' ? value : 0;
}

function latest(components: readonly ICAL.Component[]): ICAL.Component | undefined {
  return components.reduce<ICAL.Component | undefined>((best, next) => (best && sequenceOf(best) > sequenceOf(next) ? best : next), undefined);
}

function label(uid: string, component: ICAL.Component): string {
  const summary = text(component, 'summary');
  return summary ? `"${summary.slice(0, 60)}" (${uid})` : uid;
}

/**
 * Expands an .ics file into the occurrences that overlap [from, to). Never throws for what is inside the file: an
 * unknown zone, a broken event or a runaway rule become warnings (a broken file also sets `error`). Throws IcsError
 * only for a file over the size limit, text that is not iCalendar, or a bad window or owner zone.
 */
export function expandIcs(input: string | Uint8Array, options: ExpandOptions): IcsExpansion {
  const limits = { ...DEFAULT_ICS_LIMITS, ...options.limits };
  const fromMs = options.from.getTime();
  let toMs = options.to.getTime();
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw new IcsError('The window needs valid from and to dates.');
  if (toMs <= fromMs) throw new IcsError('The window is empty: "to" must come after "from".');
  const parsed = parseIcs(input);
  const expander = new Expander(options.ownerTimeZone, parsed.timezones, parsed.calendarTimeZone);
  const warnings = [...parsed.warnings];
  if (toMs - fromMs > limits.maxRangeDays * DAY_MS) {
    toMs = fromMs + limits.maxRangeDays * DAY_MS;
    warnings.push(
      `The range is limited to ${limits.maxRangeDays} days; occurrences after ${new Date(toMs).toISOString()} are not listed. Ask for a later range separately.`,
    );
  }

  const groups = new Map<string, { masters: ICAL.Component[]; overrides: ICAL.Component[] }>();
  parsed.events.forEach((component, index) => {
    const uid = text(component, 'uid') ?? `${NO_UID}${index + 1}`;
    let group = groups.get(uid);
    if (!group) groups.set(uid, (group = { masters: [], overrides: [] }));
    (component.hasProperty('recurrence-id') ? group.overrides : group.masters).push(component);
  });

  const events: { occurrence: IcsOccurrence; startMs: number }[] = [];
  for (const [uid, group] of groups) {
    const recurring = group.overrides.length > 0 || group.masters.some((master) => master.hasProperty('rrule') || master.hasProperty('rdate'));
    // Duplicate UIDs without RECURRENCE-ID are revisions of one event: the highest SEQUENCE (then the last) wins.
    const master = latest(group.masters);
    let masterStart: CalTime | undefined;
    let masterLength: Length | undefined;
    try {
      masterStart = master ? expander.property(master, 'dtstart') : undefined;
      masterLength = master && masterStart ? lengthOf(expander, master, masterStart) : undefined;
    } catch {
      masterStart = undefined;
    }

    // One override per RECURRENCE-ID: a re-sent change carries a higher SEQUENCE and replaces the earlier one.
    const overrides = new Map<number, { recurrence: CalTime; recurrenceMs: number; component: ICAL.Component }>();
    for (const override of group.overrides) {
      try {
        const recurrence = expander.property(override, 'recurrence-id');
        if (!recurrence) continue;
        const recurrenceMs = instantOf(recurrence);
        const known = overrides.get(recurrenceMs);
        if (!known || sequenceOf(override) >= sequenceOf(known.component)) overrides.set(recurrenceMs, { recurrence, recurrenceMs, component: override });
      } catch (error) {
        warnings.push(`The changed occurrence of ${label(uid, override)} could not be read and was skipped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }

    const replaced = new Set<number>();
    // An all-day series changed through a date-time RECURRENCE-ID (Exchange writes local midnight in its own zone),
    // or the reverse: the occurrence is the one on that calendar day.
    const replacedDates = new Set<string>();
    for (const { recurrence, recurrenceMs, component: override } of overrides.values()) {
      try {
        replaced.add(recurrenceMs);
        if (masterStart && recurrence.isDate !== masterStart.isDate) replacedDates.add(formatDate(recurrence.wall));
        const start = expander.property(override, 'dtstart') ?? recurrence;
        // Without its own DTEND or DURATION a changed occurrence keeps the series' length.
        const fallback = masterLength && masterStart?.isDate === start.isDate ? masterLength : undefined;
        const length = explicitLength(expander, override, start, fallback) ?? fallback ?? defaultLength(start);
        const span = spanOf(start, length);
        if (inWindow(span, fromMs, toMs)) {
          events.push({ occurrence: occurrenceOf(detailsOf(uid, override), span, formatTime(recurrence, recurrenceMs)), startMs: span.startMs });
        }
      } catch (error) {
        warnings.push(`The changed occurrence of ${label(uid, override)} could not be read and was skipped: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (!master) continue;
    try {
      const details = detailsOf(uid, master);
      for (const span of expandMaster(expander, uid, master, fromMs, toMs, limits, warnings)) {
        if (replaced.has(span.startMs) || (replacedDates.size > 0 && replacedDates.has(formatDate(span.start.wall)))) continue;
        events.push({ occurrence: occurrenceOf(details, span, recurring ? OWN_START : null), startMs: span.startMs });
      }
    } catch (error) {
      warnings.push(`The event ${label(uid, master)} could not be read and was skipped: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  warnings.push(...expander.warnings);
  events.sort((a, b) => a.startMs - b.startMs || ((a.occurrence.uid ?? '') < (b.occurrence.uid ?? '') ? -1 : (a.occurrence.uid ?? '') > (b.occurrence.uid ?? '') ? 1 : 0));
  return { events: events.map((event) => event.occurrence), warnings, ...(parsed.error !== undefined ? { error: parsed.error } : {}) };
}

/** A series' unchanged occurrence: its recurrence id is its own start. */
const OWN_START = Symbol('own start');

type Details = Pick<IcsOccurrence, 'uid' | 'summary' | 'location' | 'organizer'>;

/** The fields every occurrence of one component shares, read once rather than per occurrence. */
function detailsOf(uid: string, component: ICAL.Component): Details {
  return { uid: uid.startsWith(NO_UID) ? null : uid, summary: text(component, 'summary'), location: text(component, 'location'), organizer: organizerOf(component) };
}

function occurrenceOf(details: Details, span: Span, recurrenceId: string | typeof OWN_START | null): IcsOccurrence {
  const start = formatTime(span.start, span.startMs);
  return {
    uid: details.uid,
    start,
    end: formatTime(span.end, span.endMs),
    allDay: span.start.isDate,
    summary: details.summary,
    location: details.location,
    organizer: details.organizer,
    recurrenceId: recurrenceId === OWN_START ? start : recurrenceId,
  };
}

/** The master's occurrences in the window: DTSTART, each RRULE and RDATE, minus EXDATE, bounded by `limits`. */
function expandMaster(expander: Expander, uid: string, master: ICAL.Component, fromMs: number, toMs: number, limits: IcsLimits, warnings: string[]): Span[] {
  const start = expander.property(master, 'dtstart');
  if (!start) throw new Error('it has no DTSTART');
  const length = lengthOf(expander, master, start);
  const excluded = new Set<number>();
  const excludedDates = new Set<string>();
  for (const { time } of expander.times(master, 'exdate')) {
    if (time.isDate && !start.isDate) excludedDates.add(formatDate(time.wall));
    else excluded.add(instantOf(time));
  }
  const seen = new Set<number>();
  const spans: Span[] = [];
  let capped = false;
  const consider = (span: Span): void => {
    if (seen.has(span.startMs) || excluded.has(span.startMs) || (excludedDates.size > 0 && excludedDates.has(formatDate(span.start.wall)))) return;
    seen.add(span.startMs);
    if (!inWindow(span, fromMs, toMs)) return;
    if (spans.length >= limits.maxOccurrencesPerEvent) {
      if (!capped) warnings.push(`${label(uid, master)} has more than ${limits.maxOccurrencesPerEvent} occurrences in the range; only the first ${limits.maxOccurrencesPerEvent} are listed. Ask for a shorter range.`);
      capped = true;
      return;
    }
    spans.push(span);
  };

  consider(spanOf(start, length));
  for (const property of master.getAllProperties('rrule')) {
    const rule = property.getFirstValue();
    if (!(rule instanceof ICAL.Recur)) continue;
    iterateRule(uid, master, rule, start, length, fromMs, toMs, limits, warnings, consider, () => capped);
  }
  for (const rdate of expander.times(master, 'rdate')) {
    const time = rdate.time;
    if (rdate.periodEnd) {
      const startMs = instantOf(time);
      consider({ start: time, startMs, end: rdate.periodEnd, endMs: Math.max(startMs, instantOf(rdate.periodEnd)) });
    } else if (rdate.duration) consider(spanOf(time, { kind: 'duration', duration: rdate.duration }));
    else consider(spanOf(time, length));
  }
  return spans;
}

function iterateRule(
  uid: string,
  master: ICAL.Component,
  recur: ICAL.Recur,
  start: CalTime,
  length: Length,
  fromMs: number,
  toMs: number,
  limits: IcsLimits,
  warnings: string[],
  consider: (span: Span) => void,
  capped: () => boolean,
): void {
  const rule = recur.clone();
  const until = rule.until;
  rule.until = null;
  // UNTIL is compared as an instant (a DATE as a day), in DTSTART's zone when it has none of its own.
  const untilMs = until && !until.isDate ? instantOf(until.zone === ICAL.Timezone.utcTimezone ? { wall: wallOf(until), isDate: false, zone: UTC_ZONE } : { wall: wallOf(until), isDate: false, zone: start.zone }) : undefined;
  const untilDate = until?.isDate ? formatDate(wallOf(until)) : undefined;
  /** False once the rule has ended (UNTIL, the window's end, or the occurrence cap). */
  const emit = (time: CalTime): boolean => {
    const span = spanOf(time, length);
    if (untilMs !== undefined && span.startMs > untilMs) return false;
    if (untilDate !== undefined && formatDate(time.wall) > untilDate) return false;
    if (span.startMs >= toMs || capped()) return false;
    consider(span);
    return true;
  };

  // A plain daily or weekly rule (no BY* parts: the bulk of real calendars) is a fixed step on the wall clock, so
  // it starts right before the window instead of walking ical.js's iterator from DTSTART.
  if ((rule.freq === 'DAILY' || rule.freq === 'WEEKLY') && Object.keys(rule.parts).length === 0) {
    const stepMs = (rule.freq === 'WEEKLY' ? 7 : 1) * Math.max(1, rule.interval || 1) * DAY_MS;
    const first = spanOf(start, length);
    const slackMs = first.endMs - first.startMs + 2 * DAY_MS;
    const base = wallToNaiveMs(start.wall);
    const count = rule.count ?? Number.POSITIVE_INFINITY;
    for (let index = Math.max(0, Math.floor((fromMs - slackMs - first.startMs) / stepMs)); index < count; index++) {
      if (!emit({ wall: naiveMsToWall(base + index * stepMs), isDate: start.isDate, zone: start.zone })) return;
    }
    return;
  }

  const iterator = rule.iterator(ICAL.Time.fromData({ ...start.wall, isDate: start.isDate }));
  let steps = 0;
  for (let next = iterator.next(); next; next = iterator.next()) {
    const time: CalTime = { wall: wallOf(next), isDate: start.isDate, zone: start.zone };
    const span = spanOf(time, length);
    if (untilMs !== undefined && span.startMs > untilMs) return;
    if (untilDate !== undefined && formatDate(time.wall) > untilDate) return;
    if (span.startMs >= toMs || capped()) return;
    if (++steps > limits.maxIterationsPerEvent) {
      warnings.push(`${label(uid, master)} repeats too often to expand up to the range (over ${limits.maxIterationsPerEvent} steps); later occurrences are not listed.`);
      return;
    }
    consider(span);
  }
}
