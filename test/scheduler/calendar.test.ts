import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NativeCalendarOptions } from '../../main/calendar/native/helper-client.js';
import { NO_CALENDAR } from '../../main/scheduler/sources.js';
import { fakeHelperHome, sampleStore, type FakeHelperHome } from '../calendar/native/fake-store.js';
import { anthropicText } from '../fakes/fake-anthropic-server.js';
import { tempHome } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OWNER_CHAT, pause, scheduledGateways } from '../helpers/scheduled-gateway.js';
import { until } from '../helpers/wait.js';

/**
 * The briefing's "today" and the "if a meeting moves" alerts read the calendar compose wires for every process: the
 * Mac's store through the calendar helper (here the real helper script under the fake osascript, over a fake
 * EventKit store) and the owner's .ics files. Off a Mac with no .ics file there is no calendar, and nothing is run.
 */
const gateways = scheduledGateways();

function helper(): FakeHelperHome {
  const made = fakeHelperHome(sampleStore());
  gateways.defer(made.close);
  return made;
}

function start(clock: FakeClock, options: { schedule?: Record<string, unknown>; calendar?: NativeCalendarOptions; platform?: NodeJS.Platform } = {}) {
  return gateways.start({
    clock,
    config: { owner: { emails: ['me@example.com'] }, schedule: { timeZone: 'Europe/London', ...options.schedule } },
    compose: { scheduleNow: () => clock.now(), ...(options.platform ? { platform: options.platform } : {}), ...(options.calendar ? { calendar: options.calendar } : {}) },
  });
}

const promptOf = (index: number) => JSON.stringify(gateways.fake.requests[index]?.body);

describe('the briefing and alerts read the composed calendar', () => {
  it("a briefing at its time lists today's events from the Mac's calendar, in the owner's zone, as the owner's own", async () => {
    const calendar = helper();
    const clock = new FakeClock('2026-12-03T07:00:00Z'); // a Thursday; London is on UTC in December
    const { channel } = await start(clock, { schedule: { briefing: { enabled: true, times: { thu: '07:30' } } }, calendar: calendar.options });
    gateways.fake.enqueue(anthropicText('Morning! Dentist at 09:00, then the board meeting at 13:00.'));
    await clock.advance(31 * 60_000, pause);
    await until(() => channel.sent.some((message) => message.text.startsWith('Morning!')), 'the briefing', { output: () => JSON.stringify(gateways.fake.requests.length) });
    expect(gateways.fake.requests).toHaveLength(1);
    expect(promptOf(0)).toContain('• Today: 09:00 Dentist; 13:00 Board meeting (private)');
    // Tomorrow's invitation is not today's.
    expect(promptOf(0)).not.toContain('Quarterly sync');
    const briefing = channel.sent.find((message) => message.text.startsWith('Morning!'));
    expect(briefing?.conversationId).toBe(OWNER_CHAT);
    // The owner's own events, nothing else: the briefing is not marked as someone else's words.
    expect(briefing?.text).not.toContain('not yours');
    const asked = calendar.requests() as { op: string; from?: string; to?: string }[];
    expect(asked.filter((request) => request.op === 'listEvents')).toEqual([
      expect.objectContaining({ from: '2026-12-03T00:00:00.000Z', to: '2026-12-04T00:00:00.000Z' }),
    ]);
  }, 30_000);

  it('"if a meeting moves tomorrow": one alert when the invitation moves, none for a second move inside the cooldown, no model call', async () => {
    const calendar = helper();
    const clock = new FakeClock('2026-12-03T08:00:00Z');
    const { core, channel } = await start(clock, { calendar: calendar.options });
    const alert = core.scheduling.addAlert({ rule: 'calendar_change', day: 'tomorrow' }, { cooldownMinutes: 60 }, core.sessions.current('local', false));
    const alerts = () => channel.sent.filter((message) => message.text.startsWith('Alert —'));
    const checks = () => core.jobs.runs(alert.id).length;

    await clock.advance(5 * 60_000, pause); // the first check learns the day
    await until(() => checks() === 1 && core.jobs.runs(alert.id)[0]?.status === 'nothing', 'the first check');
    const moved = calendar.state();
    moved.events = moved.events.map((event) => (event.id === 'ev-invite' ? { ...event, start: '2026-12-04T11:00:00.000Z', end: '2026-12-04T12:00:00.000Z' } : event));
    calendar.write(moved);

    await clock.advance(5 * 60_000, pause);
    await until(() => alerts().length === 1, 'the alert', { output: () => JSON.stringify(core.jobs.runs(alert.id)) });
    const [sent] = alerts();
    expect(sent?.conversationId).toBe(OWNER_CHAT);
    expect(sent?.text).toContain('“Quarterly sync” moved from 10:00 to 11:00');
    // The title is the organiser's words: the alert says so.
    expect(sent?.text).toContain('Made from words that were not yours — calendar invite from Olive Organiser');

    const again = calendar.state();
    again.events = again.events.map((event) => (event.id === 'ev-invite' ? { ...event, start: '2026-12-04T15:00:00.000Z', end: '2026-12-04T16:00:00.000Z' } : event));
    calendar.write(again);
    await clock.advance(5 * 60_000, pause);
    await until(() => checks() === 3 && core.jobs.runs(alert.id).every((run) => run.status !== 'running'), 'the third check');
    await pause(200);
    expect(alerts()).toHaveLength(1);
    expect(core.jobs.runs(alert.id).map((run) => run.status).sort()).toEqual(['delivered', 'nothing', 'nothing']);
    expect(gateways.fake.requests).toHaveLength(0);
  }, 60_000);

  it('off a Mac with no .ics file there is no calendar: nothing is spawned, the briefing says no events', async () => {
    const clock = new FakeClock('2026-12-03T07:29:00Z');
    const { core, channel } = await start(clock, { platform: 'linux', schedule: { briefing: { enabled: true, times: { thu: '07:30' } } } });
    expect(core.scheduleSources.calendar).toBe(NO_CALENDAR);
    gateways.fake.enqueue(anthropicText('Morning! A clear day.'));
    await clock.advance(2 * 60_000, pause);
    await until(() => channel.sent.some((message) => message.text.startsWith('Morning!')), 'the briefing');
    expect(promptOf(0)).toContain('No events today.');
  }, 30_000);

  it(".ics files the owner configured are read too, their events labelled as someone else's words; a missing one is named in the briefing", async () => {
    const clock = new FakeClock('2026-12-03T07:29:00Z');
    const dir = tempHome();
    gateways.defer(dir.cleanup);
    const ics = join(dir.home, 'team.ics');
    writeFileSync(
      ics,
      [
        'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN',
        'BEGIN:VEVENT', 'UID:standup@team.test', 'DTSTAMP:20261201T000000Z', 'DTSTART:20261203T091500Z', 'DTEND:20261203T093000Z', 'SUMMARY:Team stand-up', 'RRULE:FREQ=DAILY', 'END:VEVENT',
        'BEGIN:VEVENT', 'UID:offsite@team.test', 'DTSTAMP:20261201T000000Z', 'DTSTART;VALUE=DATE:20261203', 'DTEND;VALUE=DATE:20261204', 'SUMMARY:Offsite', 'END:VEVENT',
        'END:VCALENDAR',
      ].join('\r\n'),
    );
    const missing = join(dir.home, 'gone.ics');
    const { channel } = await start(clock, { platform: 'linux', schedule: { icsCalendars: [ics], briefing: { enabled: true, times: { thu: '07:30' } } } });
    gateways.fake.enqueue(anthropicText('Morning! Stand-up at 09:15 and the offsite.'));
    await clock.advance(2 * 60_000, pause);
    await until(() => channel.sent.some((message) => message.text.startsWith('Morning!')), 'the briefing');
    expect(promptOf(0)).toContain('• Today: 00:00 Offsite; 09:15 Team stand-up');
    // Other people's words go to the model fenced, and the delivery is marked.
    expect(promptOf(0)).toContain('<untrusted');
    expect(channel.sent.find((message) => message.text.startsWith('Morning!'))?.text).toContain('not yours — calendar file team.ics');

    const secondClock = new FakeClock('2026-12-03T07:29:00Z');
    const second = await start(secondClock, { platform: 'linux', schedule: { icsCalendars: [missing], briefing: { enabled: true, times: { thu: '07:30' } } } });
    gateways.fake.enqueue(anthropicText('Morning again.'));
    await secondClock.advance(2 * 60_000, pause);
    await until(() => second.channel.sent.some((message) => message.text.startsWith('Morning again.')), 'the second briefing');
    // The rest of the briefing still goes, and says what to fix.
    expect(promptOf(1)).toMatch(/Your calendar could not be read: The calendar file .*gone\.ics could not be read \(there is no such file\)\. Fix or remove it in config \(schedule\.icsCalendars\)\./);
  }, 30_000);
});
