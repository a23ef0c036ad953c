import type { ChildProcess } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi } from '../fakes/fake-bot-api.js';
import { runCli, spawnCli, tempHome } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

const OWNER_ID = 5550100;
let bot: FakeBotApi;
beforeEach(async () => {
  bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
});
const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await bot.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function home() {
  const made = tempHome({ channels: { telegram: { enabled: true, owners: [OWNER_ID], apiRoot: bot.apiRoot } }, schedule: { timeZone: 'UTC' } });
  cleanups.push(made.cleanup);
  expect((await runCli(['secrets', 'set', 'telegram-bot-token'], { env: made.env, input: TEST_BOT_TOKEN })).code).toBe(0);
  return made.env;
}

function startGateway(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawnCli(['gateway'], env);
  children.push(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return { child, output: () => output };
}

async function add(env: NodeJS.ProcessEnv, text: string, when: string): Promise<{ id: number; nextRunAt: number }> {
  const added = await runCli(['schedule', 'add', text, '--at', when, '--json'], { env });
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  return (JSON.parse(added.stdout) as { job: { id: number; nextRunAt: number } }).job;
}

const reminders = () => bot.sent.filter((message) => message.text.startsWith('⏰'));

describe('pavise schedule (built binary)', () => {
  it('a reminder due in 2 minutes arrives through the Bot API within 5 s of its time', async () => {
    const env = await home();
    const gateway = startGateway(env);
    await until(() => gateway.output().includes('telegram: connected'), 'telegram connected', { output: gateway.output });
    // Added while the gateway runs: it hears of the change through the home folder, no polling.
    const job = await add(env, 'call the plumber', 'in 2 minutes');
    await until(() => reminders().length === 1, 'the reminder', { timeoutMs: 140_000, output: gateway.output });
    const arrived = Date.now();
    expect(arrived - job.nextRunAt).toBeLessThan(5_000);
    expect(arrived).toBeGreaterThanOrEqual(job.nextRunAt);
    expect(reminders()[0]).toMatchObject({ chat_id: OWNER_ID });
    expect(reminders()[0]?.text).toContain('call the plumber');
    const listed = await runCli(['schedule', 'list', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toEqual({ jobs: [] });
  }, 180_000);

  it('kill -9 of the gateway 10 s before a due time: exactly one delivery after the restart', async () => {
    const env = await home();
    const job = await add(env, 'take the bread out', 'in 25 seconds');
    const first = startGateway(env);
    await until(() => first.output().includes('telegram: connected'), 'telegram connected', { output: first.output });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, job.nextRunAt - 10_000 - Date.now())));
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(reminders()).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, job.nextRunAt + 1_000 - Date.now())));
    const second = startGateway(env);
    await until(() => reminders().length === 1, 'the reminder after the restart', { timeoutMs: 30_000, output: second.output });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    second.child.kill('SIGKILL');
    await new Promise((resolve) => second.child.once('exit', resolve));
    const third = startGateway(env);
    await until(() => third.output().includes('telegram: connected'), 'telegram connected again', { output: third.output });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(reminders().map((message) => message.text)).toEqual([expect.stringContaining('take the bread out')]);
  }, 120_000);

  it('lists, removes and explains bad input', async () => {
    const env = await home();
    const job = await add(env, 'stretch', 'weekdays at 7:30');
    const listed = await runCli(['schedule', 'list'], { env });
    expect(listed.stdout).toContain(`#${job.id}  reminder stretch  —  weekdays at 07:30`);
    const natural = await runCli(['schedule', 'add', 'remind me to water the plants tomorrow at 9'], { env });
    expect(natural.code).toBe(0);
    expect(natural.stdout).toMatch(/Reminder #\d+ “water the plants” — .* 09:00/);
    const past = await runCli(['schedule', 'add', 'pay rent', '--at', 'yesterday at 9'], { env });
    expect(past.code).toBe(2);
    expect(past.stderr).toMatch(/already past .* give a time in the future/);
    const noTime = await runCli(['schedule', 'add', 'pay rent'], { env });
    expect(noTime.code).toBe(2);
    expect(noTime.stderr).toContain('no time found in "pay rent"');
    expect((await runCli(['schedule', 'remove', String(job.id)], { env })).stdout).toBe(`Removed #${job.id}.\n`);
    const again = await runCli(['schedule', 'remove', String(job.id)], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('`pavise schedule list` shows the ids');
    expect((await runCli(['schedule', 'run', 'x'], { env })).code).toBe(2);
    const after = JSON.parse((await runCli(['schedule', 'list', '--json'], { env })).stdout) as { jobs: { title: string }[] };
    expect(after.jobs.map((item) => item.title)).toEqual(['water the plants']);
  }, 60_000);

  it('edits, pauses and resumes a reminder through the same functions as the Schedules pane, and explains bad input', async () => {
    const env = await home();
    const job = await add(env, 'stretch', 'in 2 hours');
    const edited = await runCli(['schedule', 'edit', String(job.id), '--text', 'stretch and drink water', '--at', 'in 3 hours', '--json'], { env });
    expect(edited.stderr).toBe('');
    const after = (JSON.parse(edited.stdout) as { job: { title: string; nextRunAt: number } }).job;
    expect(after.title).toBe('stretch and drink water');
    expect(after.nextRunAt - job.nextRunAt).toBeGreaterThan(50 * 60_000);
    const paused = await runCli(['schedule', 'pause', String(job.id)], { env });
    expect(paused.stdout).toBe(`Paused #${job.id} “stretch and drink water”\n`);
    expect((await runCli(['schedule', 'list'], { env })).stdout).toContain('[paused]');
    const resumed = await runCli(['schedule', 'resume', String(job.id), '--json'], { env });
    expect(JSON.parse(resumed.stdout)).toMatchObject({ job: { id: job.id, status: 'active', nextRunAt: after.nextRunAt } });

    const unreadable = await runCli(['schedule', 'edit', String(job.id), '--at', 'when pigs fly'], { env });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain('"when pigs fly" is not a time Pavise understands');
    const nothing = await runCli(['schedule', 'edit', String(job.id)], { env });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('Say what changes');
    const blank = await runCli(['schedule', 'edit', String(job.id), '--text', ' '], { env });
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain('A reminder needs some text');
    const everyNinety = await runCli(['schedule', 'add', 'drink water every 90 minutes'], { env });
    expect(everyNinety.code).toBe(2);
    expect(everyNinety.stderr).toContain('"every 90 minutes" is a repeat Pavise cannot schedule');
    const missing = await runCli(['schedule', 'pause', '999'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nothing scheduled has id #999');
    // The failed edit lost nothing.
    expect(JSON.parse((await runCli(['schedule', 'list', '--json'], { env })).stdout)).toMatchObject({ jobs: [{ title: 'stretch and drink water', nextRunAt: after.nextRunAt }] });
  }, 60_000);

  it('schedule run ID: queued beside no gateway, delivered once when it starts, and recorded delivered there', async () => {
    const env = await home();
    const job = await add(env, 'check the smoke alarm', 'every monday at 10');
    const ran = await runCli(['schedule', 'run', String(job.id)], { env });
    expect(ran.code).toBe(0);
    expect(ran.stdout).toBe(`Ran #${job.id}: queued; the gateway delivers it (pavise gateway)\n`);
    const gateway = startGateway(env);
    await until(() => reminders().length === 1, 'the manual run', { timeoutMs: 30_000, output: gateway.output });
    expect(reminders()[0]?.text).toContain('check the smoke alarm');
    const listed = JSON.parse((await runCli(['schedule', 'list', '--json'], { env })).stdout) as { jobs: { id: number; nextRunAt: number }[] };
    // The schedule itself is unchanged by a manual run.
    expect(listed.jobs).toEqual([expect.objectContaining({ id: job.id, nextRunAt: job.nextRunAt })]);
    // "Delivered" names what Telegram returned: the message_id of the message the Bot API accepted.
    const messageId = String(reminders()[0]?.message_id);
    let lastRun: unknown;
    for (let tries = 0; tries < 20; tries++) {
      const jobs = (JSON.parse((await runCli(['schedule', 'list', '--json'], { env })).stdout) as { jobs: { lastRun: { status: string } | null }[] }).jobs;
      lastRun = jobs[0]?.lastRun;
      if (jobs[0]?.lastRun?.status === 'delivered') break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(lastRun).toMatchObject({ status: 'delivered', channel: 'telegram', channelMessageIds: [messageId], detail: expect.stringMatching(new RegExp(`^telegram accepted it: message id ${messageId} \\(outbox #\\d+\\)$`)) });
  }, 60_000);
});
