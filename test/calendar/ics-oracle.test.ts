/**
 * Our expansion against an independent oracle: test/fixtures/ics/expected/ holds what the Python library
 * recurring-ical-events (dateutil underneath) produced for every fixture, in the window recorded in each file
 * (regenerate with test/fixtures/ics/expected/generate.py). Every field of every occurrence must agree.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandIcs, type IcsOccurrence } from '../../main/calendar/ics/expand.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/ics');
const EXPECTED = join(FIXTURES, 'expected');

interface Expected {
  readonly ownerTimeZone: string;
  readonly window?: { readonly from: string; readonly to: string };
  readonly events?: IcsOccurrence[];
  readonly oracleError?: string;
}

/**
 * Files where the oracle is wrong or the file itself is broken, with the reason (checked against RFC 5545). Only
 * these files are skipped; every other file is compared in full.
 */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  // The oracle fails on the file (the file breaks RFC 5545, or the oracle has a bug).
  'icaljs/google_birthday.ics': 'broken file: RDATE value "20131210Z" is neither a DATE nor a DATE-TIME; the oracle refuses the file',
  'icaljs/timezones__Makebelieve__RDATE_test.ics': 'oracle bug: it refuses RDATE;VALUE=DATE inside a VTIMEZONE',
  'icaljs/timezones__Makebelieve__RDATE_utc_test.ics': 'oracle bug: it refuses RDATE;VALUE=DATE inside a VTIMEZONE',
  'node-ical/bad_custom_ms_tz.ics': 'broken file: DURATION "-PT1W1D2H3M4S" mixes weeks with other units (RFC 5545 §3.3.6); the oracle refuses it',
  'node-ical/bad_custom_ms_tz2.ics': 'broken file: DURATION "-PT1W1D2H3M4S" mixes weeks with other units (RFC 5545 §3.3.6); the oracle refuses it',
  'node-ical/test_date_duration.ics': 'broken file: DURATION "PT1W" puts weeks after T (RFC 5545 §3.3.6); the oracle refuses it',
  'node-ical/ms_timezones.ics': 'oracle crash (AttributeError) on a value it cannot type; file mixes value types',
  'node-ical/multi-event-basic.ics': 'broken file: DTSTART is a DATE-TIME and DTEND a DATE (RFC 5545 §3.8.2.2); the oracle crashes',
  'node-ical/test_with_multiple_tzids_in_vtimezone.ics': 'broken file: a VTIMEZONE with two TZIDs; the oracle crashes',
  // The file breaks RFC 5545 and the two readings differ; ours is the one we chose, with a warning where it guesses.
  'node-ical/mixed-timezone-handling.ics': 'broken file: DTSTART "20021028" lacks VALUE=DATE (DTSTART defaults to DATE-TIME); ical.js rejects it, so we skip that event with a warning, the oracle reads a date',
  'node-ical/daily-count-exdate-recurrence-id.ics': "broken file: the override's DTEND is before its DTSTART (§3.8.2.2); the oracle keeps the backwards end, we keep the series' length with a warning",
  'node-ical/tv-show-episode.ics': 'broken file: two different episodes share one UID without RECURRENCE-ID; as revisions of one event the last (equal SEQUENCE) wins for us, the first for the oracle',
  'node-ical/non-utc-until-ny.ics': "broken file: a floating UNTIL with a TZID DTSTART (§3.3.10 requires UTC); we read it in DTSTART's zone and keep 15 March 14:00 EDT, the oracle reads it as UTC and drops it",
  'node-ical/exchange_whole_day_moved_recurrence.ics': 'broken file: a DATE-TIME UNTIL on an all-day series (§3.3.10: same type); it equals the local midnight of 2026-08-18, so that day is the last instance for us, the oracle cuts UNTIL to its UTC date and drops it',
  'node-ical/exchange_whole_day_moved_recurrence_offset_tz.ics': 'broken file: as exchange_whole_day_moved_recurrence (UNTIL), and TZID "UTC+01" without VTIMEZONE, read by us at its stated offset with a warning',
  'node-ical/music-school-weekly-until.ics': 'broken file: TZID "(GMT +01:00)" without VTIMEZONE (§3.2.19); we read the fixed offset it states, with a warning, the oracle reads it as floating (owner zone, +02:00 in summer)',
  'node-ical/germany_at_end_of_day_repeating.ics': 'broken file: TZID "Europe/Germany" is no zone and has no VTIMEZONE; we read UTC with a warning (the documented fallback), the oracle reads it as floating (owner zone)',
  // Outlook display names without VTIMEZONE: we map them to IANA zones (windows-zones.ts), the oracle reads them as
  // floating (owner zone).
  'node-ical/Office-2012-owa.ics': 'TZIDs "(UTC-05:00) Eastern Time (US & Canada)" and "(GMT+10:00) Canberra, Melbourne, Sydney": we use America/New_York and Australia/Sydney, the oracle the owner zone',
  'node-ical/windows-quoted-tz-rrule.ics': 'TZID "(UTC-05:00) Eastern Time (US and Canada)": we use America/New_York (so its EXDATEs, 12:00 Los Angeles, match no occurrence), the oracle guesses another zone',
};

const files = ['icaljs', 'node-ical'].flatMap((dir) =>
  readdirSync(join(EXPECTED, dir))
    .filter((name) => name.endsWith('.ics.json'))
    .map((name) => `${dir}/${name.replace(/\.json$/, '')}`),
);

function sortKey(occurrence: IcsOccurrence): string {
  const instant = occurrence.allDay ? occurrence.start : new Date(occurrence.start).toISOString();
  return `${instant}\u0000${occurrence.uid}\u0000${occurrence.end}\u0000${occurrence.summary ?? ''}`;
}

function sorted(events: readonly IcsOccurrence[]): IcsOccurrence[] {
  return [...events].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

describe('.ics expansion agrees with the recurring-ical-events oracle', () => {
  it('has an expected file for the fixtures, and every exception names a real file', () => {
    expect(files.length).toBeGreaterThan(50);
    for (const file of Object.keys(EXCEPTIONS)) expect(files).toContain(file);
  });

  it.each(files.filter((file) => !Object.hasOwn(EXCEPTIONS, file)))('%s', (file) => {
    const expected = JSON.parse(readFileSync(join(EXPECTED, `${file}.json`), 'utf8')) as Expected;
    expect(expected.oracleError, 'the oracle failed on this file: list it in EXCEPTIONS with the reason').toBeUndefined();
    if (!expected.window || !expected.events) throw new Error(`${file}.json has no window or events`);
    const ours = expandIcs(readFileSync(join(FIXTURES, file)), {
      from: new Date(expected.window.from),
      to: new Date(expected.window.to),
      ownerTimeZone: expected.ownerTimeZone,
    });
    const actual = sorted(ours.events);
    const wanted = sorted(expected.events);
    for (let index = 0; index < Math.max(actual.length, wanted.length); index++) {
      expect(actual[index], `occurrence #${index} of ${file}`).toEqual(wanted[index]);
    }
  });
});
