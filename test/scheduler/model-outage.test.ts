import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, ZERO_USAGE } from '../../main/common/messages.js';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { createProvider } from '../../main/llm/create-provider.js';
import type { ModelOutage } from '../../main/runtime/model-outage.js';
import type { Scheduler } from '../../main/scheduler/scheduler.js';
import { startScheduler } from '../../main/scheduler/service.js';
import type { Job, JobSchedule } from '../../main/storage/job-store.js';
import { anthropicCreditTooLow, anthropicOverloaded, anthropicText, startFakeAnthropic, type FakeLlmServer, type FakeReply } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/**
 * A scheduled turn due while the model cannot be reached waits for it, with the gateway's chats (one outage, one try
 * at a time), instead of failing: the owner hears once per outage, the failures do not pause the job, a one-off job
 * runs late with a note that it is late, a repeating one's run is skipped once its next time came, and the pause
 * switch and the spend cap still stop the retries.
 */

const OWNER_PHONE = '+15550001111';
/** Two attempts per model call (the provider's own retry), a millisecond apart. */
const QUICK = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 };
const settle = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let fake: FakeLlmServer;
let model: 'overloaded' | 'broke' | 'slow' | 'up' = 'up';
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  fake.reset();
  model = 'up';
});

interface Started {
  readonly core: Core;
  readonly channel: FakeChannel;
  readonly outage: ModelOutage;
  readonly alerts: string[];
  readonly scheduler: Scheduler;
  readonly home: { readonly env: NodeJS.ProcessEnv; readonly secrets: MemorySecretStore };
  stop(): Promise<void>;
}

async function start(clock: FakeClock, existing?: Started['home']): Promise<Started> {
  fake.respondWith((request): FakeReply => {
    if (model === 'overloaded') return anthropicOverloaded();
    if (model === 'broke') return anthropicCreditTooLow();
    // An answer still streaming when Pavise stops.
    if (model === 'slow') return { ...anthropicText('Done: slowly.'), frameDelayMs: 60_000 } as FakeReply;
    const prompt = JSON.stringify(request.body).match(/PROMPT (\w+)/)?.[1] ?? '?';
    return anthropicText(`Done: ${prompt}.`);
  });
  let home = existing;
  if (!home) {
    const made = tempHome({
      model: { provider: 'anthropic', baseURL: fake.url },
      channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } },
      schedule: { timeZone: 'UTC' },
    });
    stops.push(made.cleanup);
    home = { env: made.env, secrets: new MemorySecretStore() };
  }
  const core = await compose({
    env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY },
    secrets: home.secrets,
    provider: createProvider({ provider: 'anthropic', baseURL: fake.url }, QUICK),
  });
  const alerts: string[] = [];
  core.events.on('alert', (message) => alerts.push(message));
  const channel = new FakeChannel('imessage');
  const controller = new AbortController();
  // As the gateway command starts them: the scheduler shares the gateway's outage, all on the test's clock.
  const gateway = new Gateway(core, { channels: [channel], sweepMs: 20, now: () => clock.now() });
  const done = gateway.run(controller.signal);
  await channel.ready;
  const scheduler = await startScheduler(core, controller.signal, { clock, watchHome: false, modelOutage: gateway.modelOutage });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    controller.abort();
    await done;
    core.close();
  };
  stops.push(stop);
  return { core, channel, outage: gateway.modelOutage, alerts, scheduler, home, stop };
}

function addTurn(core: Core, name: string, schedule: JobSchedule, firstAt: number): Job {
  return core.jobs.add({
    kind: 'turn',
    title: name,
    payload: { prompt: `PROMPT ${name}` },
    schedule,
    timeZone: 'UTC',
    nextRunAt: firstAt,
    missedPolicy: 'once',
    urgent: true,
    provenance: OWNER,
  });
}

/** The try a timer started has ended: the model is up, or its next try is ahead of the clock. */
function tryEnded(outage: ModelOutage, clock: FakeClock): boolean {
  const down = outage.current();
  return !down || down.nextTryAt > clock.now();
}

/** Moves the clock in steps of `stepMs`, letting each step's model call finish before the next. */
async function advance(clock: FakeClock, outage: ModelOutage, totalMs: number, stepMs: number): Promise<void> {
  for (let passed = 0; passed < totalMs; passed += stepMs) {
    await clock.advance(stepMs, settle);
    await until(() => tryEnded(outage, clock), 'the try to end');
    await settle();
  }
}

const held = (core: Core, job: Job): boolean => core.jobs.runs(job.id).some((run) => run.status === 'running' && run.detail === 'waiting for the model');
const reachAlerts = (alerts: readonly string[]): string[] => alerts.filter((alert) => alert.startsWith("Pavise couldn't reach the model"));
const requestsFor = (name: string): number => fake.requests.filter((request) => JSON.stringify(request.body).includes(`PROMPT ${name}`)).length;

describe('scheduler: the model cannot be reached when a scheduled turn is due', () => {
  it('one-off jobs wait, the owner hears once for all of them, and they run late when the model is back, saying so', async () => {
    const clock = new FakeClock('2026-12-03T08:59:00Z');
    const { core, channel, outage, alerts, scheduler } = await start(clock);
    model = 'overloaded';
    const call = addTurn(core, 'mum', { type: 'once', at: Date.parse('2026-12-03T09:00:00Z') }, Date.parse('2026-12-03T09:00:00Z'));
    const plants = addTurn(core, 'plants', { type: 'once', at: Date.parse('2026-12-03T09:02:00Z') }, Date.parse('2026-12-03T09:02:00Z'));
    await scheduler.wake();
    await clock.advance(60_000, settle);
    await until(() => held(core, call), 'the first job to wait for the model');
    await advance(clock, outage, 2 * 60_000, 30_000);
    await until(() => held(core, plants), 'the second job to wait for the model');
    expect(reachAlerts(alerts)).toEqual([
      expect.stringMatching(/^Pavise couldn't reach the model \(it is overloaded\), so turn #\d+ \(mum\) has not run yet\. Scheduled work waits for the model/),
    ]);

    // Three hours down: the tries follow the outage's wait (up to 10 minutes apart), never one per job or per minute.
    await advance(clock, outage, 3 * 3_600_000, 5 * 60_000);
    expect(fake.requests.length / QUICK.maxAttempts).toBeLessThanOrEqual(3 * 6 + 6);
    expect(reachAlerts(alerts)).toHaveLength(1);
    expect(alerts.filter((alert) => alert.startsWith('Pavise could not deliver'))).toEqual([]);
    for (const job of [call, plants]) expect(core.jobs.get(job.id)).toMatchObject({ failures: 0, status: 'done' });
    expect(channel.sent).toEqual([]);

    model = 'up';
    await advance(clock, outage, 10 * 60_000, 5 * 60_000);
    await until(() => channel.sent.length === 2, 'both jobs delivered');
    expect(channel.sent.map((message) => message.text)).toEqual([
      '(Late: this was due Thu 3 Dec, 09:00 UTC; the model could not be reached then.)\n\nDone: mum.',
      '(Late: this was due Thu 3 Dec, 09:02 UTC; the model could not be reached then.)\n\nDone: plants.',
    ]);
    await until(() => [call, plants].every((job) => core.jobs.runs(job.id)[0]?.status === 'delivered'), 'both runs delivered');
    // The session holds each prompt once: the attempts that could not reach the model stored nothing.
    const last = fake.requests.filter((request) => JSON.stringify(request.body).includes('PROMPT mum')).at(-1);
    expect(JSON.stringify(last?.body).split('PROMPT mum')).toHaveLength(2);
    expect(requestsFor('plants')).toBeGreaterThan(0);
  });

  it('a repeating job is not paused by an outage; a run that waited past its next time is skipped, the latest runs', async () => {
    const clock = new FakeClock('2026-12-03T08:59:00Z');
    const { core, channel, outage, alerts, scheduler } = await start(clock);
    model = 'overloaded';
    const hourly = addTurn(core, 'hourly', { type: 'cron', expression: '0 * * * *' }, Date.parse('2026-12-03T09:00:00Z'));
    await scheduler.wake();
    await advance(clock, outage, 3 * 3_600_000 + 60_000 + 60_000, 5 * 60_000);
    expect(core.jobs.get(hourly.id)).toMatchObject({ status: 'active', failures: 0 });
    expect(reachAlerts(alerts)).toHaveLength(1);

    model = 'up';
    await advance(clock, outage, 10 * 60_000, 5 * 60_000);
    await until(() => channel.sent.length === 1, 'the latest run delivered');
    // Due at 12:00, run at the next try after the model came back: late, and it says so.
    expect(channel.sent[0]?.text).toBe('(Late: this was due Thu 3 Dec, 12:00 UTC; the model could not be reached then.)\n\nDone: hourly.');
    const runs = core.jobs.runs(hourly.id).sort((a, b) => a.dueAt - b.dueAt);
    expect(runs.map((run) => [new Date(run.dueAt).toISOString().slice(11, 16), run.status])).toEqual([
      ['09:00', 'skipped'],
      ['10:00', 'skipped'],
      ['11:00', 'skipped'],
      ['12:00', 'delivered'],
    ]);
    expect(runs[0]?.detail).toBe('the model could not be reached before its next time came');
    // A repeating job's skipped runs are in the activity log, not alerts: the one outage notice was enough.
    expect(alerts.filter((alert) => alert.startsWith('Skipped'))).toEqual([]);
    expect(core.jobs.get(hourly.id)).toMatchObject({ status: 'active', failures: 0 });
  });

  it('a held job does not try again while paused, and not over the spend cap: no model call either way', async () => {
    const clock = new FakeClock('2026-12-03T08:59:00Z');
    const { core, channel, alerts, scheduler } = await start(clock);
    model = 'overloaded';
    const job = addTurn(core, 'capped', { type: 'once', at: Date.parse('2026-12-03T09:00:00Z') }, Date.parse('2026-12-03T09:00:00Z'));
    await scheduler.wake();
    await clock.advance(60_000, settle);
    await until(() => held(core, job), 'the job to wait for the model');
    const before = fake.requests.length;

    core.setPaused(true, 'test');
    model = 'up';
    for (let step = 0; step < 6; step++) await clock.advance(5 * 60_000, settle);
    await settle(200);
    expect(fake.requests).toHaveLength(before);
    expect(held(core, job)).toBe(true);

    // Over the cap before resuming: the retry asks the cap first and does not leave.
    const spent = core.sessions.create('elsewhere').id;
    core.sessions.append(spent, {
      role: 'assistant',
      content: [],
      stopReason: 'stop',
      usage: { ...ZERO_USAGE, inputTokens: 50_000_000 },
      provider: 'anthropic',
      model: core.config.model.name,
      timestamp: Date.now(),
    });
    core.setPaused(false, 'test');
    await clock.advance(5 * 60_000, settle);
    await until(() => core.jobs.runs(job.id)[0]?.status === 'failed', 'the run stopped by the cap');
    expect(core.jobs.runs(job.id)[0]?.detail).toMatch(/spend cap/i);
    expect(alerts.some((alert) => /^Pavise could not deliver turn #\d+ \(capped\): .*spend cap/i.test(alert))).toBe(true);
    expect(fake.requests).toHaveLength(before);
    expect(channel.sent).toEqual([]);
  });

  it('a job waiting for the model when Pavise stops goes on waiting after it starts again, and runs, instead of failing as interrupted', async () => {
    const clock = new FakeClock('2026-12-03T08:59:00Z');
    const first = await start(clock);
    model = 'overloaded';
    const job = addTurn(first.core, 'restart', { type: 'once', at: Date.parse('2026-12-03T09:00:00Z') }, Date.parse('2026-12-03T09:00:00Z'));
    await first.scheduler.wake();
    await clock.advance(60_000, settle);
    await until(() => held(first.core, job), 'the job to wait for the model');
    await first.stop();

    model = 'up';
    clock.set('2026-12-03T09:30:00Z');
    const second = await start(clock, first.home);
    await clock.advance(60_000, settle);
    await until(() => second.channel.sent.length === 1, 'the job run after the restart');
    expect(second.channel.sent[0]?.text).toBe('(Late: this was due Thu 3 Dec, 09:00 UTC; the model could not be reached then.)\n\nDone: restart.');
    await until(() => second.core.jobs.runs(job.id)[0]?.status === 'delivered', 'the run delivered');
    expect(second.core.jobs.get(job.id)?.failures).toBe(0);
    expect(second.alerts.filter((alert) => alert.startsWith('Pavise could not deliver'))).toEqual([]);
  });

  it('a held run the model is asked for again no longer waits: a restart then fails it as interrupted, and its turn is not run twice', async () => {
    const clock = new FakeClock('2026-12-03T08:59:00Z');
    const first = await start(clock);
    model = 'overloaded';
    const job = addTurn(first.core, 'again', { type: 'once', at: Date.parse('2026-12-03T09:00:00Z') }, Date.parse('2026-12-03T09:00:00Z'));
    await first.scheduler.wake();
    await clock.advance(60_000, settle);
    await until(() => held(first.core, job), 'the job to wait for the model');
    model = 'slow';
    const asked = requestsFor('again');
    await clock.advance(10 * 60_000, settle);
    await until(() => requestsFor('again') > asked, 'the retry to reach the model');
    expect(held(first.core, job)).toBe(false);
    await first.stop();

    model = 'up';
    const second = await start(clock, first.home);
    await clock.advance(60_000, settle);
    await until(() => second.core.jobs.runs(job.id)[0]?.status === 'failed', 'the interrupted run to fail');
    expect(second.core.jobs.runs(job.id)[0]?.detail).toMatch(/interrupted by a restart/);
    expect(second.channel.sent).toEqual([]);
    expect(requestsFor('again')).toBe(asked + 1);
  });

  it('an account out of credit: one notice saying what to do, no call until the longest wait, and the job runs once there is credit', async () => {
    const clock = new FakeClock('2026-12-03T08:59:00Z');
    const { core, channel, alerts, scheduler } = await start(clock);
    model = 'broke';
    const job = addTurn(core, 'billing', { type: 'once', at: Date.parse('2026-12-03T09:00:00Z') }, Date.parse('2026-12-03T09:00:00Z'));
    await scheduler.wake();
    await clock.advance(60_000, settle);
    await until(() => held(core, job), 'the job to wait for the model');
    expect(fake.requests).toHaveLength(1);
    expect(alerts).toEqual([
      "Pavise can't use the model: Anthropic reports that the credit balance of the account is too low (400); add credit under Plans & Billing in the Anthropic Console. What waits for it is done once it works again.",
    ]);
    // Not every 30 s: the next call is after the longest wait.
    for (let step = 0; step < 9; step++) await clock.advance(60_000, settle);
    await settle(100);
    expect(fake.requests).toHaveLength(1);

    model = 'up';
    await clock.advance(2 * 60_000, settle);
    await until(() => channel.sent.length === 1, 'the job run once there is credit');
    expect(channel.sent[0]?.text).toBe('(Late: this was due Thu 3 Dec, 09:00 UTC; the model could not be reached then.)\n\nDone: billing.');
    expect(alerts).toHaveLength(1);
    expect(core.jobs.get(job.id)?.failures).toBe(0);
  });
});
