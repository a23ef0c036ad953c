import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';

const { home, env, cleanup } = tempHome();
const childEnv = { ...env, TZ: 'Europe/Berlin' };
afterAll(cleanup);

const ics = join(home, 'work.ics');
writeFileSync(
  ics,
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'BEGIN:VEVENT',
    'UID:standup',
    'DTSTART;TZID=Europe/Berlin:20260325T090000',
    'DTEND;TZID=Europe/Berlin:20260325T091500',
    'RRULE:FREQ=WEEKLY;COUNT=3',
    'SUMMARY:Standup \u202Eevil',
    'LOCATION:Room 4',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n'),
);

describe('pavise calendar events', () => {
  it('--json prints the occurrences and warnings of an .ics file', async () => {
    const result = await runCli(['calendar', 'events', '--ics', ics, '--from', '2026-03-20', '--to', '2026-04-30', '--json'], { env: childEnv });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as { events: { start: string; summary: string }[]; warnings: string[] };
    expect(output.events.map((event) => event.start)).toEqual(['2026-03-25T09:00:00+01:00', '2026-04-01T09:00:00+02:00', '2026-04-08T09:00:00+02:00']);
    expect(output.events[0]?.summary).toBe('Standup \u202Eevil');
    expect(output.warnings).toEqual([]);
  });

  it('prints a readable table with someone else\'s control characters escaped', async () => {
    const result = await runCli(['calendar', 'events', '--ics', ics, '--from', '2026-03-20', '--to', '2026-03-30'], { env: childEnv });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^start\s+end\s+summary\s+location\n2026-03-25T09:00:00\+01:00\s+2026-03-25T09:15:00\+01:00\s+Standup \\u\{202e\}evil\s+Room 4\n$/);
    expect(result.stdout).not.toContain('\u202E');
  });

  it.skipIf(process.platform === 'darwin')('--calendar off a Mac says it needs one and names --ics', async () => {
    const result = await runCli(['calendar', 'events', '--calendar', 'Work', '--from', '2026-03-20', '--to', '2026-03-30'], { env: childEnv });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/need a Mac.*--ics FILE/);
    expect(result.stdout).toBe('');
  });

  it('refuses --ics and --calendar together', async () => {
    const result = await runCli(['calendar', 'events', '--ics', ics, '--calendar', 'Work', '--from', '2026-03-20', '--to', '2026-03-30'], { env: childEnv });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/either --ics FILE or --calendar NAME, not both/);
  });

  it.each([
    [['--ics', ics, '--from', '2026-02-30', '--to', '2026-03-30'], /--from must be a date such as 2026-03-01/],
    [['--ics', ics, '--from', 'tomorrow', '--to', '2026-03-30'], /--from must be a date/],
    [['--ics', ics, '--from', '2026-03-30', '--to', '2026-03-01'], /--to \(2026-03-01\) must be after --from/],
    [['--ics', ics, '--to', '2026-03-30'], /--from is required/],
    [['--ics', join(home, 'missing.ics'), '--from', '2026-03-01', '--to', '2026-03-30'], /No such file: .*missing\.ics\. Check the path given to --ics/],
    [['--from', '2026-03-01', '--to', '2026-03-30'], /Give the calendar with --ics FILE/],
  ])('exits 2 with what to do for %j', async (args, message) => {
    const result = await runCli(['calendar', 'events', ...args], { env: childEnv });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('lists what it could read from a malformed file and exits 1', async () => {
    const broken = join(home, 'broken.ics');
    writeFileSync(broken, 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bad\r\nNO COLON HERE\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20260301T090000Z\r\nSUMMARY:Fine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n');
    const result = await runCli(['calendar', 'events', '--ics', broken, '--from', '2026-03-01', '--to', '2026-03-02', '--json'], { env: childEnv });
    expect(result.code).toBe(1);
    const output = JSON.parse(result.stdout) as { events: { uid: string }[]; warnings: string[] };
    expect(output.events.map((event) => event.uid)).toEqual(['ok']);
    expect(output.warnings[0]).toMatch(/malformed/);
    expect(result.stderr).toMatch(/malformed/);
  });
});
