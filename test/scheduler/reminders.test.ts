import { describe, expect, it } from 'vitest';
import { anthropicText, anthropicToolUse, anthropicUnauthorized } from '../fakes/fake-anthropic-server.js';
import type { FakeChannel } from '../helpers/fake-channel.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { OWNER_CHAT, OWNER_PHONE, pause, scheduledGateways } from '../helpers/scheduled-gateway.js';
import { until } from '../helpers/wait.js';

const SAM = '+15550002222';

const gateways = scheduledGateways();

function start(schedule: Record<string, unknown>, clock: FakeClock) {
  return gateways.start({ clock, config: { schedule }, compose: { scheduleNow: () => clock.now() } });
}

const replies = (channel: FakeChannel) => channel.sent.filter((message) => message.idempotencyKey.startsWith('reply:'));
const reminders = (channel: FakeChannel) => channel.sent.filter((message) => message.text.startsWith('⏰'));

describe('reminders asked for in a chat', () => {
  it('"remind me…" in a chat is delivered there in its own words, and "snooze 10 min" brings it back once', async () => {
    const clock = new FakeClock(Date.now());
    const { core, channel } = await start({}, clock);
    gateways.fake.enqueue(anthropicToolUse('t1', 'remind', { text: 'call Sam about the lease', when: 'in 20 minutes' }));
    gateways.fake.enqueue(anthropicText('I will remind you in 20 minutes.'));
    await channel.receive({ sender: OWNER_PHONE, text: 'remind me in 20 minutes to call Sam about the lease' });
    await until(() => replies(channel).length === 1, 'the reply');
    const [job] = core.jobs.list();
    expect(job).toMatchObject({ kind: 'reminder', provenance: { kind: 'owner' }, deliverTo: { channel: 'imessage', conversationId: OWNER_CHAT } });
    const requests = gateways.fake.requests.length;

    await clock.advance(20 * 60_000, pause);
    await until(() => reminders(channel).length === 1, 'the reminder');
    expect(reminders(channel)[0]).toMatchObject({ conversationId: OWNER_CHAT });
    expect(reminders(channel)[0]?.text).toContain('call Sam about the lease');
    expect(gateways.fake.requests.length).toBe(requests); // delivering a reminder calls no model

    gateways.fake.enqueue(anthropicToolUse('t2', 'snooze_reminder', { minutes: 10 }));
    gateways.fake.enqueue(anthropicText('Snoozed for 10 minutes.'));
    await channel.receive({ sender: OWNER_PHONE, text: 'snooze 10 min' });
    await until(() => replies(channel).length === 2, 'the snooze reply');
    expect(core.jobs.get(job?.id as number)).toMatchObject({ status: 'active', nextRunAt: clock.now() + 10 * 60_000 });
    await clock.advance(9 * 60_000, pause);
    await pause(100);
    expect(reminders(channel)).toHaveLength(1);
    await clock.advance(60_000, pause);
    await until(() => reminders(channel).length === 2, 'the snoozed reminder');
  });

  it('a paused one-shot reminder is listed with its time, not as "done"', async () => {
    const clock = new FakeClock('2026-06-03T09:00:00Z');
    const { core } = await start({ timeZone: 'UTC' }, clock);
    const added = await core.scheduling.remindOwner('water the plants', 'at 17:00');
    const paused = await core.scheduling.setPaused(added.id, true);
    expect(paused).toMatchObject({ status: 'paused', when: added.when });
    expect(paused?.when).not.toBe('done');
  });

  it('the morning briefing: assembled without the model, phrased by it once, held by quiet hours until they end', async () => {
    const clock = new FakeClock('2026-06-03T05:00:00Z'); // a Wednesday
    const { core, channel, scheduler } = await start(
      { quietHours: { start: '22:00', end: '07:00' }, briefing: { enabled: true, times: { wed: '06:30' }, important: ['Sam'] } },
      clock,
    );
    await channel.receive({ sender: SAM, senderName: 'Sam Lee', text: 'Lunch at 1?' });
    await core.scheduling.remindOwner('pick up the dry cleaning', 'at 17:00');
    await scheduler.wake();
    expect(scheduler.armedFor()).toBe(Date.parse('2026-06-03T07:00:00Z')); // 06:30 falls in quiet hours
    gateways.fake.enqueue(anthropicText('Morning! Sam asked about lunch at 1, and the dry cleaning is due at 17:00.'));
    await clock.advance(2 * 3_600_000, pause);
    await until(() => channel.sent.some((message) => message.text.startsWith('Morning!')), 'the briefing', { timeoutMs: 5_000, output: () => JSON.stringify({ runs: core.jobs.runs(), jobs: core.jobs.list({ includeFinished: true }), sent: channel.sent, requests: gateways.fake.requests.length }) });
    expect(gateways.fake.requests).toHaveLength(1);
    const prompt = JSON.stringify(gateways.fake.requests[0]?.body);
    expect(prompt).toContain('pick up the dry cleaning');
    expect(prompt).toContain('Lunch at 1?');
    // Other people's words went to the model fenced, as data.
    expect(prompt).toContain('<untrusted');
    const briefing = channel.sent.find((message) => message.text.startsWith('Morning!'));
    expect(briefing?.conversationId).toBe(OWNER_CHAT);
    expect(briefing?.text).toContain('Made from words that were not yours');
  });

  it('the briefing keeps to its token budget: the answer is capped in the request, the input cut to fit, no history carried over', async () => {
    const clock = new FakeClock('2026-06-03T06:00:00Z'); // a Wednesday
    const { core, channel } = await start({ briefing: { enabled: true, times: { wed: '06:30', thu: '06:30' }, important: ['Sam'], maxTokens: 100 } }, clock);
    for (let index = 1; index <= 4; index++) await channel.receive({ sender: SAM, senderName: 'Sam Lee', text: `Message ${index}: ${'a long note about the quarterly plan '.repeat(4)}` });
    gateways.fake.enqueue(anthropicText('Morning! Sam wrote four times about the plan.'));
    await clock.advance(31 * 60_000, pause);
    await until(() => gateways.fake.requests.length === 1 && channel.sent.some((message) => message.text.startsWith('Morning!')), 'the first briefing', { timeoutMs: 15_000 });
    gateways.fake.enqueue(anthropicText('Morning again!'));
    await clock.advance(24 * 3_600_000, pause);
    await until(() => gateways.fake.requests.length === 2 && channel.sent.some((message) => message.text.startsWith('Morning again!')), 'the second briefing', { timeoutMs: 15_000 });
    for (const request of gateways.fake.requests) {
      const body = request.body as { max_tokens: number; messages: { role: string; content: unknown }[] };
      // The configured model cap is 4096; the briefing's own budget is what the request carries.
      expect(body.max_tokens).toBe(100);
      // One user message each day: yesterday's briefing is not carried as history.
      expect(body.messages.filter((message) => message.role === 'user')).toHaveLength(1);
      const facts = JSON.stringify(body.messages[0]?.content);
      expect(facts).toContain('Message 1');
      expect(facts).toContain('…');
      expect(facts).not.toContain('Message 4');
    }
    const plainFacts = JSON.stringify((gateways.fake.requests[0]?.body as { messages: { content: unknown }[] }).messages[0]?.content);
    // The cut facts are at most 100 tokens of about four characters; the instruction and the untrusted fence add a little.
    expect(plainFacts.length).toBeLessThan(400 + 700);
    expect(core.jobs.runs().filter((run) => run.status === 'delivered')).toHaveLength(2);
  }, 60_000);

  it('the briefing still arrives, unphrased, when the model does not answer', async () => {
    const clock = new FakeClock('2026-06-03T06:29:00Z');
    const { core, channel } = await start({ briefing: { enabled: true, times: { wed: '06:30' } } }, clock);
    gateways.fake.enqueue(anthropicUnauthorized());
    await clock.advance(2 * 60_000, pause);
    await until(() => channel.sent.some((message) => message.text.startsWith('Good morning.')), 'the plain briefing', { timeoutMs: 15_000, output: () => JSON.stringify({ runs: core.jobs.runs(), sent: channel.sent, requests: gateways.fake.requests.length }) });
    expect(channel.sent.find((message) => message.text.startsWith('Good morning.'))?.text).toContain('No events today.');
  }, 30_000);
});
