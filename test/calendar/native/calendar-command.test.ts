import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { calendarCommand } from '../../../main/cli/commands/calendar.js';
import type { CliIO } from '../../../main/cli/io.js';
import { fakeHelperHome, sampleStore } from './fake-store.js';

/** `pavise calendar events --calendar NAME` over the helper: the .ics command's shape, from the Mac's own store. */
const store = sampleStore();
store.events.push({ id: 'ev-floating', calendarId: 'cal-work', title: 'Standup \u202Eevil', start: '2026-12-02T08:00:00.000Z', end: '2026-12-02T08:15:00.000Z', timeZone: 'floating' });
const home = fakeHelperHome(store);
afterAll(() => home.close());

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const stream = (key: 'stdout' | 'stderr') => {
    const pass = new PassThrough();
    pass.setEncoding('utf8').on('data', (chunk: string) => (out[key] += chunk));
    return pass;
  };
  const io = { stdin: new PassThrough(), stdout: stream('stdout'), stderr: stream('stderr'), env: { TZ: 'Europe/Berlin' } } as unknown as CliIO;
  const code = await calendarCommand(args, io, { native: home.calendar });
  return { code, ...out };
}

describe('pavise calendar events --calendar NAME', () => {
  it('lists one calendar\'s events as the .ics command does: offsets in each event\'s zone, organiser, no raw bidi', async () => {
    const json = await run(['events', '--calendar', 'work', '--from', '2026-12-01T00:00:00Z', '--to', '2026-12-05T00:00:00Z', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { events: { uid: string; start: string; organizer: string | null; summary: string }[]; warnings: string[] };
    expect(parsed.events.map((event) => [event.uid, event.start, event.organizer])).toEqual([
      ['ev-floating', expect.stringMatching(/^2026-12-02T\d\d:00:00[+-]\d\d:00$/), null],
      ['ev-board', '2026-12-03T13:00:00+00:00', 'me@example.com'],
      ['ev-invite', '2026-12-04T10:00:00+00:00', 'organiser@partner.test'],
    ]);
    const table = await run(['events', '--calendar', 'Work', '--from', '2026-12-01T00:00:00Z', '--to', '2026-12-05T00:00:00Z']);
    expect(table.stdout).toContain('Quarterly sync');
    expect(table.stdout).not.toContain('\u202E');
  });

  it('an unknown calendar name fails with the helper\'s words', async () => {
    const result = await run(['events', '--calendar', 'Nope', '--from', '2026-12-01', '--to', '2026-12-05']);
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'pavise: No calendar is called "Nope".\n' });
  });
});
