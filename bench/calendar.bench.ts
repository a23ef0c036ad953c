/**
 * Parse and expansion time of a year of a busy synthetic calendar: ~2,000 events across 3 time zones, a third of
 * them recurring daily or weekly with exceptions (EXDATE and moved occurrences). Median of several runs.
 */
import { performance } from 'node:perf_hooks';
import { expandIcs } from '../main/calendar/ics/expand.js';
import { parseIcs } from '../main/calendar/ics/parse.js';

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
console.log(
  JSON.stringify({
    benchmark: 'calendar',
    description: 'a year of a synthetic calendar: parse, and parse + expand',
    runs: RUNS,
    events: EVENTS,
    bytes: Buffer.byteLength(text),
    occurrences,
    medianParseMs: round(median(parseMs)),
    medianParseAndExpandMs: round(median(totalMs)),
    medianExpandMs: round(median(totalMs) - median(parseMs)),
    medianParseAndExpandCpuMs: round(median(totalCpuMs)),
    node: process.version,
  }),
);
