import { afterEach, describe, expect, it } from 'vitest';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import type { Scheduler } from '../../main/scheduler/scheduler.js';
import { createScheduling, type Scheduling } from '../../main/scheduler/scheduling.js';
import { startScheduler } from '../../main/scheduler/service.js';
import { FakeClock } from '../helpers/fake-clock.js';
import type { OutboundMessage, SendResult } from '../../main/channels/channel.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

const OWNER_PHONE = '+15550001111';
const OWNER_CHAT = `iMessage;-;${OWNER_PHONE}`;
const ZONE = 'America/New_York';
const pause = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  readonly core: Core;
  /** The core's scheduling on the fake clock. */
  readonly scheduling: Scheduling;
  readonly channel: FakeChannel;
  readonly scheduler: Scheduler;
  readonly clock: FakeClock;
  readonly alerts: string[];
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function home(schedule: Record<string, unknown> = {}) {
  const made = tempHome({ channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } }, schedule: { timeZone: ZONE, ...schedule } });
  cleanups.push(made.cleanup);
  return { env: made.env, secrets: new MemorySecretStore() };
}

/** A core, a gateway with a fake iMessage channel, and the scheduler on `clock`; `failSends` makes the channel refuse. */
async function start(made: ReturnType<typeof home>, clock: FakeClock, channel = new FakeChannel('imessage')): Promise<Running> {
  const core = await compose({ env: made.env, secrets: made.secrets, loadProviderAtFirstCall: true });
  const controller = new AbortController();
  const alerts: string[] = [];
  core.events.on('alert', (message) => alerts.push(message));
  const done = new Gateway(core, { channels: [channel], sweepMs: 50 }).run(controller.signal);
  await channel.ready;
  const scheduling = createScheduling({ config: core.config, home: core.paths.home, jobs: core.jobs, channels: core.channels, now: () => clock.now() });
  const scheduler = await startScheduler({ ...core, scheduling }, controller.signal, { clock, watchHome: false });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    controller.abort();
    await done;
    core.close();
  };
  cleanups.push(stop);
  return { core, scheduling, channel, scheduler, clock, alerts, stop };
}

describe('scheduler', () => {
  it('delivers a reminder in its own words at its time, through the outbox, and records it delivered only once the channel accepted it', async () => {
    const clock = new FakeClock('2026-06-01T14:00:00Z');
    const made = home();
    const { core, scheduling, channel, scheduler } = await start(made, clock);
    const item = await scheduling.remindOwner('call the plumber about the leak', 'in 2 minutes');
    await scheduler.wake();
    expect(scheduler.armedFor()).toBe(Date.parse('2026-06-01T14:02:00Z'));
    await clock.advance(119_000, pause);
    await pause(100);
    expect(channel.sent).toHaveLength(0);
    await clock.advance(1_000, pause);
    await until(() => channel.sent.length === 1, 'the reminder');
    expect(channel.sent[0]).toMatchObject({ conversationId: OWNER_CHAT });
    expect(channel.sent[0]?.text).toContain('call the plumber about the leak');
    await until(() => core.jobs.runs(item.id)[0]?.status === 'delivered', 'the run recorded as delivered');
    expect(core.jobs.runs(item.id)[0]).toMatchObject({ detail: expect.stringMatching(/^imessage accepted it: message id out-1 \(outbox #\d+\)$/), deliveredVia: 'imessage', channelMessageIds: ['out-1'] });
    expect(core.jobs.get(item.id)?.status).toBe('done');
    // Nothing more is armed: a done one-shot leaves no timer, and no model was ever loaded.
    expect(scheduler.armedFor()).toBeUndefined();
  });

  it('never fires an occurrence twice across a restart, and fires a reminder missed while down exactly once', async () => {
    const clock = new FakeClock('2026-06-01T14:00:00Z');
    const made = home();
    const first = await start(made, clock);
    const item = await first.scheduling.remindOwner('take the bread out', 'in 1 minute');
    await clock.advance(50_000, pause);
    await first.stop(); // down 10 s before it is due
    clock.set('2026-06-01T14:20:00Z');
    const second = await start(made, clock);
    await until(() => second.channel.sent.length === 1, 'the missed reminder after the restart');
    await until(() => second.core.jobs.runs(item.id)[0]?.status === 'delivered', 'delivered');
    await second.stop();
    const third = await start(made, clock);
    await clock.advance(3_600_000, pause);
    await pause(200);
    expect(third.channel.sent).toHaveLength(0);
    expect(third.core.jobs.runs(item.id)).toHaveLength(1);
    expect(third.core.outbox.list().filter((entry) => entry.idempotencyKey.startsWith(`job:${item.id}:`))).toHaveLength(1);
  });

  it('delivers a run claimed just before a crash (claimed, not yet in the outbox) once, with the same key', async () => {
    const clock = new FakeClock('2026-06-01T14:00:00Z');
    const made = home();
    const first = await start(made, clock);
    const item = await first.scheduling.remindOwner('feed the cat', 'in 5 minutes');
    await first.stop();
    // What a crash between the claim and the enqueue leaves behind.
    const core = await compose({ env: made.env, secrets: made.secrets, loadProviderAtFirstCall: true });
    const dueAt = core.jobs.get(item.id)?.nextRunAt as number;
    expect(core.jobs.claim(item.id, dueAt, undefined, dueAt)).toBe(true);
    expect(core.jobs.claim(item.id, dueAt, undefined, dueAt)).toBe(false);
    core.close();
    clock.set(dueAt + 1_000);
    const second = await start(made, clock);
    await until(() => second.channel.sent.length === 1, 'the interrupted reminder');
    await pause(200);
    expect(second.channel.sent).toHaveLength(1);
  });

  it('fires a daily time in the DST gap once (when the clocks jump) and a time in the repeated hour once', async () => {
    const clock = new FakeClock('2026-03-07T12:00:00Z');
    const made = home();
    const { core, scheduling, channel } = await start(made, clock);
    const gap = await scheduling.remindOwner('water the plants', 'every day at 2:30');
    expect(gap.nextRunAt).toBe(Date.parse('2026-03-08T07:30:00Z')); // 02:30 does not exist on 8 March: 03:30 EDT
    await clock.advance(36 * 3_600_000, pause);
    await until(() => channel.sent.length === 1, 'the one run on the night of the jump');
    await pause(100);
    expect(channel.sent).toHaveLength(1);
    expect(core.jobs.get(gap.id)?.nextRunAt).toBe(Date.parse('2026-03-09T06:30:00Z'));

    const fallClock = new FakeClock('2026-10-31T12:00:00Z');
    const autumn = await start(home(), fallClock);
    const repeated = await autumn.scheduling.remindOwner('back up the laptop', 'every day at 1:30');
    expect(repeated.nextRunAt).toBe(Date.parse('2026-11-01T05:30:00Z')); // the first 01:30 (EDT)
    await fallClock.advance(30 * 3_600_000, pause);
    await until(() => autumn.channel.sent.length === 1, 'the run in the repeated hour');
    await pause(100);
    expect(autumn.channel.sent).toHaveLength(1);
    expect(autumn.core.jobs.runs(repeated.id).map((run) => run.dueAt)).toEqual([Date.parse('2026-11-01T05:30:00Z')]);
  });

  it('holds a non-urgent alert in quiet hours and releases it when they end', async () => {
    const clock = new FakeClock('2026-06-02T02:50:00Z'); // 22:50 in New York
    const made = home({ quietHours: { start: '22:00', end: '07:00' } });
    const { core, scheduling, channel, scheduler } = await start(made, clock);
    const session = core.sessions.current('test');
    const alert = scheduling.addAlert({ rule: 'message_from', who: 'Sam' }, {}, session);
    await clock.advance(60_000, pause);
    await channel.receive({ sender: '+15550002222', senderName: 'Sam Lee', text: 'are we still on for tomorrow?' });
    await scheduler.wake();
    expect(scheduler.armedFor()).toBe(Date.parse('2026-06-02T11:00:00Z')); // 07:00 local
    await clock.advance(8 * 3_600_000 - 60_000, pause);
    await pause(100);
    expect(channel.sent.filter((message) => message.text.includes('Sam'))).toHaveLength(0);
    await clock.advance(10 * 60_000, pause);
    await until(() => channel.sent.some((message) => message.text.includes('Sam Lee wrote')), 'the alert after quiet hours');
    expect(channel.sent.find((message) => message.text.includes('Sam Lee wrote'))?.text).toContain('are we still on for tomorrow?');
    expect(core.jobs.get(alert.id)?.status).toBe('active');
  });

  it("keeps to an alert's daily cap, and counts again on the owner's next day", async () => {
    const clock = new FakeClock('2026-06-02T14:00:00Z'); // 10:00 in New York
    const { core, scheduling, channel } = await start(home(), clock);
    const alert = scheduling.addAlert({ rule: 'message_from', who: 'Sam' }, { cooldownMinutes: 0, dailyCap: 2 }, core.sessions.current('test'));
    const fired = () => channel.sent.filter((message) => message.text.includes('Sam Lee wrote')).length;
    const settled = (count: number) => core.jobs.runs(alert.id).length === count && core.jobs.runs(alert.id).every((run) => run.status !== 'running');
    await channel.receive({ sender: '+15550002222', senderName: 'Sam Lee', text: 'one' });
    for (let check = 1; check <= 3; check += 1) {
      await clock.advance(5 * 60_000, pause);
      await until(() => settled(check), `check ${check}`);
    }
    await pause(100);
    expect(fired()).toBe(2);
    expect(core.jobs.runs(alert.id).map((run) => run.status).sort()).toEqual(['delivered', 'delivered', 'nothing']);
    // Just after midnight in New York a new count starts (the checks missed meanwhile are skipped, not run late).
    clock.set('2026-06-03T04:10:00Z');
    for (let minute = 0; minute < 12 && fired() < 3; minute += 1) {
      await clock.advance(60_000, pause);
      await pause(50);
    }
    await until(() => fired() === 3, 'the alert on the next day');
  }, 30_000);

  it('a scheduled turn counts against the daily spend cap: refused before any model call, the run failed and the owner told', async () => {
    const made = tempHome({ channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } }, schedule: { timeZone: ZONE }, limits: { dailySpendUsd: 0 } });
    cleanups.push(made.cleanup);
    const clock = new FakeClock('2026-06-02T14:00:00Z');
    const { core, channel, alerts, scheduler } = await start({ env: { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore() }, clock);
    const job = core.jobs.add({
      kind: 'turn',
      title: 'weekly digest',
      payload: { prompt: 'summarise my week' },
      schedule: { type: 'once', at: clock.now() + 60_000 },
      timeZone: ZONE,
      nextRunAt: clock.now() + 60_000,
      missedPolicy: 'once',
      urgent: true,
      provenance: { kind: 'owner' },
    });
    await scheduler.wake();
    await clock.advance(2 * 60_000, pause);
    await until(() => core.jobs.runs(job.id)[0]?.status === 'failed', 'the refused run');
    expect(core.jobs.runs(job.id)[0]?.detail).toContain('Daily spend cap reached');
    expect(alerts.at(-1)).toMatch(/could not deliver turn #\d+ \(weekly digest\): .*Daily spend cap reached/);
    expect(core.activity.list({ since: 0, limit: 50 }).filter((row) => row.kind === 'model_call_refused')).toHaveLength(1);
    expect(channel.sent).toEqual([]);
  }, 30_000);

  it('follows the missed-run policy: skip records the misses, "all" catches up each one', async () => {
    const clock = new FakeClock('2026-06-01T12:00:00Z');
    const made = home();
    const first = await start(made, clock);
    const skip = await first.scheduling.remindOwner('stand up', 'every 15 minutes');
    const all = await first.scheduling.remindOwner('log the reading', 'every 15 minutes');
    await first.stop();
    const core = await compose({ env: made.env, secrets: made.secrets, loadProviderAtFirstCall: true });
    core.jobs.setMissedPolicy(skip.id, 'skip');
    core.jobs.setMissedPolicy(all.id, 'all');
    core.close();
    clock.set('2026-06-01T13:01:00Z'); // four occurrences missed
    const second = await start(made, clock);
    await until(() => second.channel.sent.length === 4, 'four catch-up runs of the "all" job');
    await pause(200);
    expect(second.channel.sent.every((message) => message.text.includes('log the reading'))).toBe(true);
    expect(second.core.jobs.runs(skip.id).map((run) => run.status)).toEqual(['skipped']);
    expect(second.core.jobs.get(skip.id)?.nextRunAt).toBe(Date.parse('2026-06-01T13:15:00Z'));
    expect(second.core.jobs.get(all.id)?.nextRunAt).toBe(Date.parse('2026-06-01T13:15:00Z'));
  });

  it('marks a refused delivery failed, tells the owner in the app, and pauses a job that keeps failing', async () => {
    const clock = new FakeClock('2026-06-01T12:00:00Z');
    const made = home();
    const { core, scheduling, channel, alerts } = await start(made, clock);
    const item = await scheduling.remindOwner('stretch', 'every 15 minutes');
    for (let round = 1; round <= 3; round += 1) {
      channel.failNextSend = { ok: false, retryable: false, message: 'Messages is not signed in' };
      await clock.advance(15 * 60_000, pause);
      await until(() => core.jobs.runs(item.id).filter((run) => run.status === 'failed').length === round, `failed run ${round}`);
    }
    expect(channel.sent).toHaveLength(0);
    expect(alerts.at(-1)).toMatch(/could not deliver reminder #\d+ \(stretch\): imessage: Messages is not signed in.*paused/s);
    expect(core.jobs.get(item.id)?.status).toBe('paused');
    await clock.advance(60 * 60_000, pause);
    expect(core.jobs.runs(item.id)).toHaveLength(3);
  });

  it('fires nothing while paused, and the due reminder goes out once on resume', async () => {
    const clock = new FakeClock('2026-06-01T12:00:00Z');
    const made = home();
    const { core, scheduling, channel } = await start(made, clock);
    await scheduling.remindOwner('check the oven', 'in 1 minute');
    core.setPaused(true, 'test');
    await clock.advance(5 * 60_000, pause);
    await pause(100);
    expect(channel.sent).toHaveLength(0);
    core.setPaused(false, 'test');
    await clock.advance(60_000, pause);
    await until(() => channel.sent.length === 1, 'the reminder after resume');
  });

  it('arms one timer for the soonest job and calls no model while idle', async () => {
    const clock = new FakeClock('2026-06-01T12:00:00Z');
    const made = home();
    const { scheduling, scheduler, clock: armedClock } = await start(made, clock);
    await scheduling.remindOwner('later', 'in 3 hours');
    await scheduling.remindOwner('sooner', 'in 1 hour');
    await scheduler.wake();
    expect(scheduler.armedFor()).toBe(Date.parse('2026-06-01T13:00:00Z'));
    expect(armedClock.pending()).toBe(1);
  });

  it('tries the owner’s next chat when one refuses, and calls the run delivered only there', async () => {
    const clock = new FakeClock('2026-06-01T12:00:00Z');
    const made = tempHome({ channels: { imessage: { enabled: true, owners: [OWNER_PHONE] }, telegram: { enabled: true, owners: [4242] } }, schedule: { timeZone: ZONE } });
    cleanups.push(made.cleanup);
    const core = await compose({ env: made.env, secrets: new MemorySecretStore(), loadProviderAtFirstCall: true, scheduleNow: () => clock.now() });
    const imessage = new FakeChannel('imessage');
    const telegram = new FakeChannel('telegram');
    const controller = new AbortController();
    const done = new Gateway(core, { channels: [imessage, telegram], sweepMs: 50 }).run(controller.signal);
    cleanups.push(async () => {
      controller.abort();
      await done;
      core.close();
    });
    await Promise.all([imessage.ready, telegram.ready]);
    await startScheduler(core, controller.signal, { clock, watchHome: false });
    const item = await core.scheduling.remindOwner('renew the passport', 'in 5 minutes');
    imessage.failNextSend = { ok: false, retryable: false, message: 'Not signed in to Messages' };
    await clock.advance(5 * 60_000, pause);
    await until(() => telegram.sent.length === 1, 'the reminder on Telegram');
    expect(telegram.sent[0]).toMatchObject({ conversationId: '4242' });
    expect(imessage.sent).toHaveLength(0);
    await until(() => core.jobs.runs(item.id)[0]?.status === 'delivered', 'delivered');
    expect(core.jobs.runs(item.id)[0]).toMatchObject({ detail: expect.stringMatching(/^telegram accepted it: message id out-1/), deliveredVia: 'telegram', channelMessageIds: ['out-1'] });
  });

  it('an iMessage run is delivered on osascript\'s exit 0, and says it has no message id rather than inventing one', async () => {
    /** As the real iMessage sender answers: accepted, with no id (AppleScript's send returns none). */
    class OsascriptLikeChannel extends FakeChannel {
      override async send(message: OutboundMessage): Promise<SendResult> {
        const result = await super.send(message);
        return result.ok ? { ok: true, externalIds: [] } : result;
      }
    }
    const clock = new FakeClock('2026-06-01T14:00:00Z');
    const { core, scheduling, channel, scheduler } = await start(home(), clock, new OsascriptLikeChannel('imessage'));
    const item = await scheduling.remindOwner('water the plants', 'in 1 minute');
    await scheduler.wake();
    await clock.advance(60_000, pause);
    await until(() => channel.sent.length === 1, 'the reminder');
    await until(() => core.jobs.runs(item.id)[0]?.status === 'delivered', 'delivered');
    const [run] = core.jobs.runs(item.id);
    expect(run).toMatchObject({ deliveredVia: 'imessage', channelMessageIds: [] });
    expect(run?.detail).toMatch(/^imessage accepted it: osascript exited 0 \(iMessage returns no message id\) \(outbox #\d+\)$/);
    expect(core.outbox.byKey(run?.outboxKey ?? '')?.externalIds).toEqual([]);
  });
});
