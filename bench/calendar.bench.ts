/**
 * Two figures:
 * - .ics: parse and expansion time of a year of a busy synthetic calendar: ~2,000 events across 3 time zones, a
 *   third of them recurring daily or weekly with exceptions (EXDATE and moved occurrences). Median of several runs.
 * - list_events over a synthetic 20,000-event calendar (a year, ~55 events a day, a tenth of them invitations) through
 *   the real tool, the real helper client (run-process, JSON on stdin, schema checks both ways) and the real JXA
 *   script under the fake osascript and mocked bridge: a whole year (every event crosses the protocol) and one week.
 *   On a Mac osascript and EventKit replace the fake's Node start and JSON store, so this bounds the host's share.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { nativeCalendarStore } from '../main/calendar/native/calendar-store.js';
import { NativeCalendar } from '../main/calendar/native/helper-client.js';
import { expandIcs } from '../main/calendar/ics/expand.js';
import { parseIcs } from '../main/calendar/ics/parse.js';
import { createCalendarTools } from '../main/tools/calendar.js';
import type { FakeEvent, FakeStore } from '../test/fakes/objc-bridge.js';
import { FAKE_OSASCRIPT, SCRIPT, sampleStore } from '../test/calendar/native/fake-store.js';

const RUNS = Number(process.argv[2] ?? 5);
const EVENTS = 2_000;
const ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, '');
}

/** Deterministic: event i always gets the same zone, day, hour and rule. */
function syntheticCalendar(): string {
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Pavise//bench//EN'];
  for (let i = 0; i < EVENTS; i++) {
    const zone = ZONES[i % ZONES.length] as string;
    const start = new Date(Date.UTC(2026, 0, 1 + (i % 365), 8 + (i % 10), (i % 4) * 15));
    const end = new Date(start.getTime() + (30 + (i % 3) * 30) * 60_000);
    lines.push('BEGIN:VEVENT', `UID:event-${i}@bench`, `DTSTART;TZID=${zone}:${stamp(start)}`, `DTEND;TZID=${zone}:${stamp(end)}`, `SUMMARY:Event ${i}`, `LOCATION:Room ${i % 50}`);
    const recurring = i % 3 === 0;
    if (recurring) {
      lines.push(i % 2 === 0 ? 'RRULE:FREQ=WEEKLY' : 'RRULE:FREQ=DAILY;COUNT=60');
      const skipped = new Date(start.getTime() + (i % 2 === 0 ? 14 : 3) * 86_400_000);
      lines.push(`EXDATE;TZID=${zone}:${stamp(skipped)}`);
    }
    lines.push('END:VEVENT');
    if (recurring) {
      const moved = new Date(start.getTime() + (i % 2 === 0 ? 7 : 1) * 86_400_000);
      lines.push(
        'BEGIN:VEVENT',
        `UID:event-${i}@bench`,
        `RECURRENCE-ID;TZID=${zone}:${stamp(moved)}`,
        `DTSTART;TZID=${zone}:${stamp(new Date(moved.getTime() + 2 * 3_600_000))}`,
        `DTEND;TZID=${zone}:${stamp(new Date(end.getTime() + (i % 2 === 0 ? 7 : 1) * 86_400_000 + 2 * 3_600_000))}`,
        `SUMMARY:Event ${i} (moved)`,
        'END:VEVENT',
      );
    }
  }
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

const text = syntheticCalendar();
const window = { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2027-01-01T00:00:00Z'), ownerTimeZone: 'Europe/Berlin' };
const parseMs: number[] = [];
const totalMs: number[] = [];
// CPU time of the main thread and its helpers: on a shared machine wall time also counts the waits for a core.
const totalCpuMs: number[] = [];
let occurrences = 0;
for (let run = 0; run < RUNS; run++) {
  let start = performance.now();
  parseIcs(text);
  parseMs.push(performance.now() - start);
  start = performance.now();
  const cpu = process.cpuUsage();
  const result = expandIcs(text, window);
  totalMs.push(performance.now() - start);
  const used = process.cpuUsage(cpu);
  totalCpuMs.push((used.user + used.system) / 1000);
  occurrences = result.events.length;
  if (result.warnings.length > 0) throw new Error(`unexpected warnings: ${result.warnings.slice(0, 3).join('; ')}`);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const round = (value: number) => Math.round(value * 10) / 10;

const NATIVE_EVENTS = 20_000;

/** Deterministic: 20,000 events over 2026 between 07:00 and 20:00 UTC, every tenth an invitation with attendees. */
function syntheticStore(): FakeStore {
  const store = sampleStore();
  const events: FakeEvent[] = [];
  const yearStart = Date.UTC(2026, 0, 1);
  for (let i = 0; i < NATIVE_EVENTS; i++) {
    const start = yearStart + Math.floor((i * 365) / NATIVE_EVENTS) * 86_400_000 + (7 + (i % 13)) * 3_600_000 + (i % 4) * 15 * 60_000;
    const event: FakeEvent = {
      id: `bench-${i}`, calendarId: i % 3 === 0 ? 'cal-work' : 'cal-home', title: `Event ${i}`, start: new Date(start).toISOString(),
      end: new Date(start + (30 + (i % 3) * 30) * 60_000).toISOString(), timeZone: ZONES[i % ZONES.length] as string, location: `Room ${i % 50}`,
    };
    if (i % 10 === 0) {
      event.organizer = { email: `organiser${i % 97}@partner.test`, name: `Organiser ${i % 97}`, status: 'accepted' };
      event.attendees = [{ ...event.organizer }, { email: 'me@example.com', isCurrentUser: true, status: 'pending' }, { email: `guest${i % 31}@example.net`, status: 'pending' }];
    }
    events.push(event);
  }
  return { ...store, events };
}

const dir = mkdtempSync(join(tmpdir(), 'pavise-bench-cal-'));
const listYearMs: number[] = [];
const listWeekMs: number[] = [];
let yearEvents = 0;
let weekEvents = 0;
try {
  const statePath = join(dir, 'eventkit.json');
  writeFileSync(statePath, JSON.stringify(syntheticStore()));
  const native = new NativeCalendar({
    platform: 'darwin', helper: { command: FAKE_OSASCRIPT, args: ['-l', 'JavaScript', SCRIPT] }, env: { ...process.env, PAVISE_FAKE_EVENTKIT: statePath },
  });
  const [listEvents] = createCalendarTools(nativeCalendarStore(native, 'Europe/Berlin'));
  const context = { sessionId: 'bench', callId: 'bench', signal: new AbortController().signal };
  for (let run = 0; run < RUNS; run++) {
    let start = performance.now();
    const year = await listEvents.execute({ from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' }, context);
    listYearMs.push(performance.now() - start);
    start = performance.now();
    const week = await listEvents.execute({ from: '2026-06-01T00:00:00+02:00', to: '2026-06-08T00:00:00+02:00' }, context);
    listWeekMs.push(performance.now() - start);
    const yearContent = typeof year === 'string' ? year : year.content;
    const weekContent = typeof week === 'string' ? week : week.content;
    if (typeof year !== 'string' && year.isError) throw new Error(yearContent);
    yearEvents = Number(/"more":"(\d+)/.exec(yearContent)?.[1] ?? 0) + (JSON.parse(yearContent) as { events: unknown[] }).events.length;
    weekEvents = Number(/"more":"(\d+)/.exec(weekContent)?.[1] ?? 0) + (JSON.parse(weekContent) as { events: unknown[] }).events.length;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  JSON.stringify({
    benchmark: 'calendar',
    description: 'a year of a synthetic .ics calendar: parse, and parse + expand; list_events over a 20,000-event calendar through the fake helper',
    runs: RUNS,
    events: EVENTS,
    bytes: Buffer.byteLength(text),
    occurrences,
    medianParseMs: round(median(parseMs)),
    medianParseAndExpandMs: round(median(totalMs)),
    medianExpandMs: round(median(totalMs) - median(parseMs)),
    medianParseAndExpandCpuMs: round(median(totalCpuMs)),
    listEvents: {
      calendarEvents: NATIVE_EVENTS,
      yearEvents,
      weekEvents,
      medianYearMs: round(median(listYearMs)),
      medianWeekMs: round(median(listWeekMs)),
    },
    node: process.version,
  }),
);
