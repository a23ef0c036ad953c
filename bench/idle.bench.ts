/**
 * Zero tokens while idle: a gateway with both channels (iMessage on a chat.db in WAL mode, Telegram long polling a
 * local Bot API), a morning briefing and three alerts scheduled (one reads an .ics calendar through the composed
 * calendar source), and its scheduler on a fake clock moved through 10
 * minutes (two precondition checks of each alert) over a real quiet window. Reports model calls (target 0), the
 * checks that ran, and CPU and RSS of the process (which also hosts the fake Bot API and model server).
 * Usage: npm run bench -- idle [SECONDS]   (default 30)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compose } from '../main/compose.js';
import { createChannels } from '../main/channels/registry.js';
import { Gateway } from '../main/gateway/gateway.js';
import { createScheduling } from '../main/scheduler/scheduling.js';
import { startScheduler } from '../main/scheduler/service.js';
import { startFakeAnthropic } from '../test/fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN } from '../test/fakes/fake-bot-api.js';
import { createChatDb } from '../test/helpers/chat-db.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../test/helpers/cli.js';
import { FakeClock } from '../test/helpers/fake-clock.js';
import { MemorySecretStore } from '../test/helpers/memory-secret-store.js';

const SECONDS = Number(process.argv[2] ?? 30);
const FAKE_MINUTES = 10;

const llm = await startFakeAnthropic();
const bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
const chatDb = createChatDb();
const owner = '+15550001111';
const handle = chatDb.addHandle(owner);
chatDb.addChat({ guid: `iMessage;-;${owner}`, handles: [handle] });
// The calendar alert reads a real calendar: an .ics file with a weekly meeting, as the owner configures one.
const calendarDir = tempHome();
const icsPath = join(calendarDir.home, 'work.ics');
writeFileSync(
  icsPath,
  ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//bench//EN', 'BEGIN:VEVENT', 'UID:weekly@bench', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260101T100000Z', 'DTEND:20260101T110000Z', 'RRULE:FREQ=DAILY', 'SUMMARY:Stand-up', 'END:VEVENT', 'END:VCALENDAR'].join('\r\n'),
);
const made = tempHome({
  model: { provider: 'anthropic', baseURL: llm.url },
  channels: { imessage: { enabled: true, owners: [owner], chatDbPath: chatDb.path }, telegram: { enabled: true, owners: [1], apiRoot: bot.apiRoot } },
  schedule: { timeZone: 'UTC', icsCalendars: [icsPath], briefing: { enabled: true, times: { mon: '07:30', tue: '07:30', wed: '07:30', thu: '07:30', fri: '07:30', sat: '09:00', sun: '09:00' } } },
});
const env = { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, PAVISE_OSASCRIPT: '/bin/true' };
const secrets = new MemorySecretStore();
await secrets.set('telegram-bot-token', TEST_BOT_TOKEN);
const core = await compose({ env, secrets, loadProviderAtFirstCall: true });
const clock = new FakeClock('2026-06-03T12:00:00Z');
const controller = new AbortController();
const channels = createChannels(core, env);
const gateway = new Gateway(core, { channels });
const done = gateway.run(controller.signal);
try {
  const deadline = Date.now() + 20_000;
  while (!gateway.statuses().every((status) => status.state === 'connected') || gateway.statuses().length < 2) {
    if (Date.now() > deadline) throw new Error(`channels did not connect: ${JSON.stringify(gateway.statuses())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const scheduling = createScheduling({ config: core.config, home: core.paths.home, jobs: core.jobs, channels: core.channels, now: () => clock.now() });
  const scheduler = await startScheduler({ ...core, scheduling }, controller.signal, { clock, watchHome: false });
  const session = core.sessions.current('bench');
  scheduling.addAlert({ rule: 'message_from', who: 'Sam' }, {}, session);
  scheduling.addAlert({ rule: 'message_from', who: '+15550002222' }, {}, session);
  scheduling.addAlert({ rule: 'calendar_change', day: 'tomorrow' }, {}, session);
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // let start-up work settle
  const requestsBefore = llm.requests.length;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  // The fake clock walks through 10 minutes in even steps across the real window.
  const steps = FAKE_MINUTES * 6;
  for (let step = 0; step < steps; step += 1) {
    await clock.advance(10_000, () => new Promise((resolve) => setImmediate(resolve)));
    await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / steps));
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const used = (cpu.user + cpu.system) / 1e6;
  const runs = core.jobs.runs(undefined, 1000);
  console.log(
    JSON.stringify({
      benchmark: 'idle',
      description: 'gateway with iMessage and Telegram, a briefing and 3 alerts; 10 fake-clock minutes of idle over a real window',
      seconds: Math.round(elapsed),
      fakeMinutes: FAKE_MINUTES,
      modelCalls: llm.requests.length - requestsBefore,
      preconditionChecks: runs.filter((run) => run.status === 'nothing').length,
      deliveries: runs.filter((run) => run.status !== 'nothing').length,
      timersArmed: clock.armed.length,
      nextDue: new Date(scheduler.armedFor() ?? 0).toISOString(),
      cpuSeconds: Math.round(used * 100) / 100,
      cpuPercent: Math.round((used / elapsed) * 10_000) / 100,
      rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
      telegramPolls: bot.callsTo('getUpdates').length,
      targetModelCalls: 0,
    }),
  );
} finally {
  controller.abort();
  await done.catch(() => undefined);
  core.close();
  chatDb.cleanup();
  made.cleanup();
  calendarDir.cleanup();
  await bot.close();
  await llm.close();
}
