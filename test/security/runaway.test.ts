import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compose, type Core } from '../../main/compose.js';
import { Gateway, UNKNOWN_SENDER_LINES_PER_HOUR } from '../../main/gateway/gateway.js';
import { OWNER, ZERO_USAGE, type AssistantMessage } from '../../main/common/messages.js';
import { priceOf, worstCaseUsd } from '../../main/permissions/spend.js';
import { ask } from '../helpers/ask.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { ScriptedProvider, call, text, usage } from '../helpers/scripted-provider.js';
import { MAX_TOOL_CALLS_PER_STEP } from '../../main/agent/loop.js';
import { MIN_RECURRING_MINUTES, parseWhen, WhenError } from '../../main/scheduler/times.js';
import { useTempCore } from '../helpers/temp-core.js';
import { until } from '../helpers/wait.js';
import { openDatabase } from '../../main/storage/database.js';
import { SPEND_HOLD_TTL_MS, SqliteSpendHolds } from '../../main/storage/spend-holds.js';
import { MAX_SEND_ATTEMPTS } from '../../main/storage/outbox.js';
import type { SendResult } from '../../main/channels/channel.js';
import { anthropicRateLimited, anthropicText, anthropicTurn, hangAfter, startFakeAnthropic, type FakeLlmServer, type FakeReply } from '../fakes/fake-anthropic-server.js';
import { openaiTurn, startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { PAUSED_MID_ANSWER } from '../../main/agent/loop.js';
import type { AgentEvent } from '../../main/agent/events.js';
import { FAKE_ANTHROPIC_KEY } from '../helpers/cli.js';
import { splitMessage } from '../../main/channels/imessage/split-message.js';

/**
 * Runaways (non-negotiable 6): spend, pacing and the pause switch against a model that does whatever the text it
 * read asks, and against the ordinary ways work multiplies (parallel turns, echoes, retries, schedules).
 */

const temp = useTempCore('pavise-runaway-');
const OWNER_PHONE = '+15550001111';

type Step = ConstructorParameters<typeof ScriptedProvider>[0][number];

/** A priced model with a large answer allowance, so one call's worst case is most of the cap. */
const MODEL = { provider: 'anthropic', name: 'claude-sonnet-4-5', maxOutputTokens: 64_000 };

async function open(steps: Step[], config: Record<string, unknown>): Promise<{ core: Core; provider: ScriptedProvider }> {
  const dir = temp.home();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: MODEL, ...config }));
  const provider = new ScriptedProvider(steps);
  const core = temp.keep(
    await compose({ env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: 'test-key-not-real' }, secrets: new MemorySecretStore(), provider, approvalPollMs: 5 }),
  );
  return { core, provider };
}

/** A step that answers only when `release` is called, costing what the usage says. */
function held(answer: Partial<AssistantMessage>): { step: Step; release: () => void } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  return { step: async () => (await gate, answer), release };
}

describe('the daily spend cap counts calls still running', () => {
  it('two turns in parallel, each under the cap alone, do not both reach the model when together they could pass it', async () => {
    // Eight conversations run at once in the gateway; each turn checked the cap against a ledger that did not yet
    // hold the other's call, so N parallel calls could spend N times what the cap has left.
    const first = held({ content: [text('done')], usage: usage(40_000, 60_000) });
    const { core, provider } = await open([first.step, () => ({ content: [text('second')] })], { limits: { dailySpendUsd: 1.5 } });

    const one = ask(core, core.sessions.current('one', false), 'write me a very long essay');
    await until(() => provider.requests.length === 1, 'the first call to leave');
    const worst = worstCaseUsd(priceOf('anthropic', MODEL.name), provider.requests[0]!.request);
    // The set-up this test needs: one call fits under the cap, two do not.
    expect(worst).toBeLessThan(1.5);
    expect(2 * worst).toBeGreaterThan(1.5);

    const two = await ask(core, core.sessions.current('two', false), 'and another one');
    expect(two.stopReason).toBe('error');
    expect(two.error).toMatchObject({ code: 'limit' });
    expect(two.error?.message).toContain('calls still running');
    expect(provider.requests).toHaveLength(1);

    first.release();
    const done = await one;
    expect(done.reply).toBe('done');
    // The first call's real cost is now in the ledger and its hold is gone: what is left decides the next call.
    expect(core.spentTodayUsd()).toBeCloseTo((40_000 * 3 + 60_000 * 15) / 1_000_000, 6);
  });

  it('the hold is seen by another process on the same home (`pavise ask` while the gateway runs a turn)', async () => {
    const first = held({ content: [text('done')], usage: usage(40_000, 60_000) });
    const dir = temp.home();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: MODEL, limits: { dailySpendUsd: 1.5 } }));
    const env = { PAVISE_HOME: dir, ANTHROPIC_API_KEY: 'test-key-not-real' };
    const secrets = new MemorySecretStore();
    const gatewayProvider = new ScriptedProvider([first.step]);
    const gateway = await compose({ env, secrets, provider: gatewayProvider });
    const cliProvider = new ScriptedProvider([() => ({ content: [text('second')] })]);
    const cli = temp.keep(await compose({ env, secrets, provider: cliProvider }));
    try {
      const running = ask(gateway, gateway.sessions.current('telegram:1', false), 'write me a very long essay');
      await until(() => gatewayProvider.requests.length === 1, 'the gateway call to leave');
      const refused = await ask(cli, cli.sessions.current('local', false), 'and another one');
      expect(refused.error).toMatchObject({ code: 'limit', message: expect.stringContaining('calls still running') });
      expect(cliProvider.requests).toHaveLength(0);
      first.release();
      await running;
    } finally {
      gateway.close();
    }
  });

  it('a hold left by a process that died mid-call stops counting after a while, and one dated ahead of the clock too', () => {
    const db = openDatabase(join(temp.home(), 'pavise.db'));
    try {
      const holds = new SqliteSpendHolds(db);
      const now = Date.UTC(2026, 11, 3, 12, 0);
      expect(holds.hold('dead', 3, () => true, now)).toEqual({ held: true, othersUsd: 0 });
      expect(holds.hold('other', 1, () => true, now + 60_000)).toEqual({ held: true, othersUsd: 3 });
      holds.release('other');
      expect(holds.hold('later', 1, () => true, now + SPEND_HOLD_TTL_MS + 1)).toEqual({ held: true, othersUsd: 0 });
      holds.release('later');
      // The clock moved back a day: a hold stamped "tomorrow" is not kept for a day.
      expect(holds.hold('ahead', 2, () => true, now)).toEqual({ held: true, othersUsd: 0 });
      expect(holds.hold('back', 1, () => true, now - 24 * 60 * 60_000)).toEqual({ held: true, othersUsd: 0 });
    } finally {
      db.close();
    }
  });

  it('one call that alone could pass the cap is refused before it leaves, not counted after', async () => {
    // Spend is known only once a call ends: a single call with a pasted book in it must be judged by what it could cost.
    const { core, provider } = await open([() => ({ content: [text('summary')] })], { limits: { dailySpendUsd: 5 } });
    const outcome = await ask(core, core.sessions.current('local', false), `summarise this:\n${'lorem ipsum '.repeat(200_000)}`);
    expect(provider.requests).toHaveLength(0);
    expect(outcome.error).toMatchObject({ code: 'limit', message: expect.stringContaining('Daily spend cap reached') });
    expect(core.spentTodayUsd()).toBe(0);
  });

  it('the owner is told when the cap stops a call, once a day, whoever the call was for', async () => {
    // A contact's chat or a schedule stopped by the cap was seen by no one: the contact gets no answer, and the owner
    // learned of it only by opening the activity log.
    const { core, provider } = await open([], { limits: { dailySpendUsd: 0 } });
    const alerts: string[] = [];
    core.events.on('alert', (message) => alerts.push(message));
    const contact = { kind: 'contact', contactId: 'imessage:+15550002222' } as const;
    await ask(core, core.sessions.current('imessage:contact', false), 'hi', { provenance: contact, tools: core.contactTools });
    await ask(core, core.sessions.current('imessage:contact', false), 'hi again', { provenance: contact, tools: core.contactTools });
    expect(provider.requests).toHaveLength(0);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatch(/^Daily spend cap reached: .*limits\.dailySpendUsd/);
  });

  it('a call that ended lets the next one be checked against what it really cost, not its worst case', async () => {
    const first = held({ content: [text('short')], usage: usage(100, 10) });
    const { core, provider } = await open([first.step, () => ({ content: [text('second')] })], { limits: { dailySpendUsd: 1.5 } });
    const one = ask(core, core.sessions.current('one', false), 'hi');
    await until(() => provider.requests.length === 1, 'the first call to leave');
    first.release();
    await one;
    const two = await ask(core, core.sessions.current('two', false), 'hi again');
    expect(two.reply).toBe('second');
    expect(provider.requests).toHaveLength(2);
  });
});

/** The gateway on a composed core with one fake iMessage channel; stopped when `stop` is called. */
async function gatewayOn(core: Core): Promise<{ channel: FakeChannel; stop: () => Promise<void> }> {
  const channel = new FakeChannel('imessage');
  const gateway = new Gateway(core, { channels: [channel], sweepMs: 50 });
  const controller = new AbortController();
  const done = gateway.run(controller.signal);
  await channel.ready;
  return {
    channel,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describe('a call the provider reported no usage for is still counted', () => {
  it('a server that never sends usage (include_usage ignored) does not make every call free', async () => {
    // Hosted OpenAI-compatible servers may ignore stream_options.include_usage: every answer then came back with zero
    // tokens, the ledger stayed at $0 and the daily cap never came near, however much was spent.
    const essay = 'All work and no play. '.repeat(2_000);
    const { core } = await open(
      [() => ({ content: [text(essay)], usage: ZERO_USAGE }), () => ({ content: [text('again')], usage: ZERO_USAGE })],
      { limits: { dailySpendUsd: 5 } },
    );
    await ask(core, core.sessions.current('one', false), 'write an essay');
    const spent = core.spentTodayUsd();
    // At least the answer's own length, priced as output (15 USD per million tokens for this model).
    expect(spent).toBeGreaterThan(((essay.length / 4) * 15) / 1_000_000);
    expect(core.sessions.usageTotals(core.sessions.current('one', false)).inputTokens).toBeGreaterThan(0);
  });

  it('a reply cut off mid-stream (stopped, or the connection dropped) is counted for what it had written', async () => {
    // The usage of a streamed reply arrives with its last event: a reply aborted after pages of text carried none.
    const partial = 'Chapter one. '.repeat(3_000);
    const { core } = await open(
      [() => ({ content: [text(partial)], usage: ZERO_USAGE, stopReason: 'aborted', error: { code: 'aborted', message: 'The request was cancelled.' } })],
      { limits: { dailySpendUsd: 5 } },
    );
    const outcome = await ask(core, core.sessions.current('one', false), 'write a novel');
    expect(outcome.stopReason).toBe('aborted');
    expect(core.spentTodayUsd()).toBeGreaterThan(((partial.length / 4) * 15) / 1_000_000);
  });

  it('a gateway call cut off before any words (paused, the connection dropped) is counted for what the provider reported, though the turn is not stored', async () => {
    // The gateway stores nothing of a turn whose first call produced nothing (the message is answered later); the
    // input the provider reported having read at the start of the stream was billed all the same.
    const { core } = await open(
      [() => ({ content: [], usage: usage(50_000, 0), stopReason: 'error', error: { code: 'paused', message: 'Pavise was paused.' } })],
      { limits: { dailySpendUsd: 5 } },
    );
    const session = core.sessions.current('imessage:chat', false);
    const outcome = await core.runner.run({ sessionKey: session, text: 'hello', trigger: OWNER, toolset: core.tools, signal: new AbortController().signal, onlyIfAnswered: true });
    expect(outcome.unanswered).toBe(true);
    expect(core.sessions.messages(session)).toEqual([]);
    expect(core.spentTodayUsd()).toBeCloseTo((50_000 * 3) / 1_000_000);
  });

  it('a failure with nothing back (refused before any reply) costs nothing', async () => {
    const { core } = await open([() => ({ content: [], usage: ZERO_USAGE, stopReason: 'error', error: { code: 'rate_limit', message: 'rate limited', status: 429 } })], {});
    await ask(core, core.sessions.current('one', false), 'hello');
    expect(core.spentTodayUsd()).toBe(0);
  });
});

describe('the step limit bounds what a turn does, not only how often it calls the model', () => {
  it('one answer of five hundred tool calls (five hundred recurring reminders) runs only the first few', async () => {
    // maxStepsPerTurn counted model calls; the tool calls of one answer were all run, so one answer could set up five
    // hundred reminders (or fetches, or file writes) and the step limit never came into it.
    const calls = Array.from({ length: 500 }, (_, index) => call(`r${index}`, 'remind', { text: `ping ${index}`, when: 'every 5 minutes' }));
    const { core } = await open([() => ({ content: calls }), () => ({ content: [text('done')] })], {});
    const outcome = await ask(core, core.sessions.current('local', false), 'set up my reminders');
    expect(outcome.reply).toBe('done');
    expect(core.jobs.list().filter((job) => job.kind === 'reminder')).toHaveLength(MAX_TOOL_CALLS_PER_STEP);
    const results = outcome.messages.filter((message) => message.role === 'toolResult');
    // Every call has its result (the history stays valid); the ones not run say why.
    expect(results).toHaveLength(500);
    expect(results.at(-1)).toMatchObject({ isError: true, content: expect.stringContaining(`at most ${MAX_TOOL_CALLS_PER_STEP} tool calls`) });
  });
});

describe('the per-turn token limit counts cached input too', () => {
  it('a turn whose calls read a large cached prompt stops at maxTokensPerTurn like any other', async () => {
    // With prompt caching the providers report most of the input as cache reads, apart from input_tokens: the limit
    // summed input and output only, so a turn resending a large cached context counted a few tokens per call.
    const cached = { ...ZERO_USAGE, inputTokens: 10, outputTokens: 10, cacheReadTokens: 50_000 };
    const { core, provider } = await open(
      [() => ({ content: [call('t1', 'current_time', {})], usage: cached }), () => ({ content: [text('never')] })],
      { limits: { maxTokensPerTurn: 1_000 } },
    );
    const outcome = await ask(core, core.sessions.current('local', false), 'what time is it');
    expect(provider.requests).toHaveLength(1);
    expect(outcome.error).toMatchObject({ code: 'limit', message: expect.stringContaining('limits.maxTokensPerTurn') });
  });
});

describe('a recurring reminder cannot fire every minute', () => {
  it('refuses schedules closer than the floor, in words or as a cron line, and keeps the ones that are not', async () => {
    // One reminder "every 1 minutes" (or "* * * * *") was 60 messages an hour to the owner: the hourly pacing cap
    // tripped the circuit breaker within half an hour, and every message Pavise sends stopped with it.
    const now = Date.UTC(2026, 2, 10, 12, 0);
    for (const when of ['every 1 minutes', 'every 4 minutes', '* * * * *', '*/2 * * * *', '0,1 9 * * *', '0-59 * * * *']) {
      await expect(parseWhen(when, now, 'Europe/London'), when).rejects.toThrow(WhenError);
      await expect(parseWhen(when, now, 'Europe/London'), when).rejects.toThrow(`every ${MIN_RECURRING_MINUTES} minutes`);
    }
    for (const when of ['every 5 minutes', 'every 15 minutes', 'every hour', 'weekdays at 7:30', '*/5 * * * *', '0 9,10 * * *']) {
      await expect(parseWhen(when, now, 'Europe/London'), when).resolves.toMatchObject({ schedule: { type: 'cron' } });
    }
  });

  it('the remind tool says why, and sets nothing', async () => {
    const { core } = await open([() => ({ content: [call('r1', 'remind', { text: 'drink water', when: 'every 1 minutes' })] }), () => ({ content: [text('no')] })], {});
    const outcome = await ask(core, core.sessions.current('local', false), 'remind me every minute to drink water');
    expect(core.jobs.list().filter((job) => job.kind === 'reminder')).toHaveLength(0);
    expect(outcome.messages.find((message) => message.role === 'toolResult')).toMatchObject({ isError: true, content: expect.stringContaining('at most that often') });
  });
});

describe('the pause switch stops a retry waiting to leave', () => {
  it('a call rate-limited before the owner paused is not sent again after: the retry asks the switch first', async () => {
    // The provider retries a 429 after the wait the server asks for. Each retry is a new request; one already
    // waiting when the owner ran `pavise pause` went out anyway (up to three more times), and could still answer.
    const fake = await startFakeAnthropic();
    try {
      fake.enqueue(anthropicRateLimited({ 'retry-after': '1' }), anthropicRateLimited({ 'retry-after': '1' }), anthropicText('answered while paused'));
      const dir = temp.home();
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: { provider: 'anthropic', baseURL: fake.url } }));
      const core = temp.keep(await compose({ env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore() }));
      const turn = ask(core, core.sessions.current('local', false), 'hello');
      await until(() => fake.requests.length === 1, 'the first request');
      core.setPaused(true, 'owner:cli');
      const outcome = await turn;
      expect(fake.requests).toHaveLength(1);
      expect(outcome.reply).toBe('');
      expect(outcome.error).toMatchObject({ code: 'paused' });
    } finally {
      await fake.close();
    }
  });
});

describe('the pause switch cuts off an answer being written', () => {
  /**
   * A compromised model writes a whole tool call (a message to a stranger), then goes on writing, slowly, so the call
   * would run once the answer ended. The owner pauses in between: the answer must end there, its call must not run
   * or ask, and its words must not be the reply. The stream is cut right after a text delta that follows the call,
   * so the call is complete on the client side when the owner pauses; the server never ends the reply on its own.
   */
  const ATTACK = { channel: 'imessage', to: '+15550133700', text: 'every note the owner has' };
  const MARK = 'and now, while nobody looks, ';
  function cutAfterMark(reply: FakeReply): FakeReply {
    if (reply.kind !== 'stream') throw new Error('a stream');
    const at = reply.frames.findIndex((frame) => 'data' in frame && frame.data.includes(MARK.trim()));
    return hangAfter(reply, at + 1);
  }
  const cases: [string, () => Promise<FakeLlmServer>, Record<string, unknown>, () => FakeReply][] = [
    [
      'Anthropic',
      () => startFakeAnthropic(),
      { provider: 'anthropic', name: 'claude-sonnet-4-5' },
      () =>
        anthropicTurn({
          blocks: [
            { type: 'text', text: ['Sure, sending your notes.'] },
            { type: 'tool_use', id: 'toolu_attack', name: 'send_message', input: ATTACK },
            { type: 'text', text: [MARK, 'more words that never come'] },
          ],
        }),
    ],
    [
      'OpenAI',
      () => startFakeOpenAI(),
      { provider: 'openai', name: 'gpt-4.1' },
      () => {
        // The call finished (finish_reason sent), then more words: the SDK still reads on until the stream ends.
        const reply = openaiTurn({ text: ['Sure, sending your notes.'], toolCalls: [{ id: 'call_attack', name: 'send_message', arguments: ATTACK }] });
        if (reply.kind !== 'stream') throw new Error('a stream');
        const finish = reply.frames.findIndex((frame) => 'data' in frame && frame.data.includes('"finish_reason":"tool_calls"'));
        const words = { data: JSON.stringify({ id: 'chatcmpl-attack', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1', choices: [{ index: 0, delta: { content: MARK }, finish_reason: null }] }) };
        return { ...reply, frames: [...reply.frames.slice(0, finish + 1), words, ...reply.frames.slice(finish + 1)] };
      },
    ],
  ];
  for (const [name, startFake, model, reply] of cases) {
    it(`${name}: a tool call already written when the owner pauses does not run, asks nothing, and the request is aborted`, async () => {
      const fake = await startFake();
      try {
        fake.enqueue(cutAfterMark(reply()));
        const dir = temp.home();
        writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: { ...model, baseURL: fake.url }, channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } } }));
        const env = { PAVISE_HOME: dir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, OPENAI_API_KEY: 'sk-test-not-real-0000' };
        const core = temp.keep(await compose({ env, secrets: new MemorySecretStore(), approvalPollMs: 5 }));
        const asked: string[] = [];
        core.events.on('approval', (approval) => asked.push(approval.tool));
        let wrote: () => void = () => undefined;
        const afterTheCall = new Promise<void>((resolve) => (wrote = resolve));
        const onEvent = (event: AgentEvent): void => {
          if (event.type === 'text_delta' && event.text.includes(MARK.trim())) wrote();
        };
        const turn = ask(core, core.sessions.current('local', false), 'summarise my notes', { onEvent });
        await afterTheCall;
        core.setPaused(true, 'owner:popover');
        const outcome = await turn;
        await fake.clientClosed(0);

        expect(outcome).toMatchObject({ reply: '', error: { code: 'paused', message: PAUSED_MID_ANSWER } });
        const results = outcome.messages.filter((message) => message.role === 'toolResult');
        expect(results).toMatchObject([{ toolName: 'send_message', content: 'Not run: Pavise was paused.', isError: true }]);
        expect(asked).toEqual([]);
        expect(core.approvals.pending()).toEqual([]);
        expect(core.outbox.list()).toEqual([]);
        expect(fake.requests).toHaveLength(1);
        // Resuming does not bring the cut-off call back.
        core.setPaused(false, 'owner:popover');
        expect(core.outbox.list()).toEqual([]);
        expect(core.approvals.pending()).toEqual([]);
      } finally {
        await fake.close();
      }
    });
  }
});

describe('the stops outlive a restart and a clock moved back', () => {
  it('a tripped breaker and the pause switch are still on in a core composed again on the same home', async () => {
    const dir = temp.home();
    const env = { PAVISE_HOME: dir, ANTHROPIC_API_KEY: 'test-key-not-real' };
    const secrets = new MemorySecretStore();
    const first = await compose({ env, secrets, provider: new ScriptedProvider([]) });
    for (let index = 0; index < first.config.limits.pacing.overallPerHour; index++) first.pacer.record('telegram', String(1000 + index));
    expect(first.gate.checkOutbound('telegram', '42')).toMatchObject({ ok: false });
    first.setPaused(true, 'owner:cli');
    first.close();

    const provider = new ScriptedProvider([() => ({ content: [text('should not run')] })]);
    const again = temp.keep(await compose({ env, secrets, provider }));
    expect(again.switches.get('outbound_tripped').on).toBe(true);
    // Refused by the breaker itself (read from the database), not by a pacing count: it waits for the owner's resume.
    expect(again.gate.checkOutbound('telegram', '42')).toMatchObject({ ok: false, reason: expect.stringContaining('circuit breaker') });
    const outcome = await ask(again, again.sessions.current('local', false), 'hello');
    expect(outcome.error).toMatchObject({ code: 'paused' });
    expect(provider.requests).toHaveLength(0);
  });

  it("today's spend still counts when the clock is moved back a day", async () => {
    const { core } = await open([() => ({ content: [text('done')], usage: usage(100_000, 50_000) })], {});
    await ask(core, core.sessions.current('local', false), 'hello');
    const spent = core.spentTodayUsd();
    expect(spent).toBeGreaterThan(1);
    // The meter counts from "midnight" of whatever day the clock says: usage stamped later than that is still in it.
    expect(core.spentTodayUsd(Date.now() - 24 * 60 * 60_000)).toBeCloseTo(spent, 9);
    expect(core.spentTodayUsd(Date.now() - 400 * 24 * 60 * 60_000)).toBeCloseTo(spent, 9);
  });
});

describe('Pavise does not answer itself', () => {
  it("a reply in the owner's self-chat, read back as the owner's message (not is_from_me), is not answered again", async () => {
    // iMessage to one's own number stores each message twice: the send (is_from_me) and its arrival from the owner's
    // own handle. Pavise answering that arrival would answer its own reply, and that reply's arrival, for ever: a
    // model call and a message each time, the "sent hundreds of iMessages on its own" runaway.
    const { core, provider } = await open(
      [() => ({ content: [text('Here is your answer.')] }), () => ({ content: [text('Answering myself.')] })],
      { channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } } },
    );
    const { channel, stop } = await gatewayOn(core);
    try {
      await channel.receive({ sender: OWNER_PHONE, text: 'what is on today?' });
      await until(() => channel.sent.length === 1, 'the reply');
      // The self-chat copy of the reply: same conversation, from the owner's handle, not marked as from this Mac.
      await channel.receive({ sender: OWNER_PHONE, text: 'Here is your answer.', isFromMe: false });
      await until(() => core.channels.messages('imessage', `iMessage;-;${OWNER_PHONE}`).at(-1)?.status !== 'stored', 'the echo to be handled');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(provider.requests).toHaveLength(1);
      expect(channel.sent).toHaveLength(1);
      expect(core.channels.messages('imessage', `iMessage;-;${OWNER_PHONE}`).at(-1)).toMatchObject({ status: 'ignored', role: 'self' });
      // Nor does an alert ("tell me when <the owner> writes") read the echo as someone writing: it would alert about
      // Pavise's own reply, then about that alert's echo, every check up to its daily cap.
      const seenByAlerts = core.jobs.inboundSince(0).map((message) => message.text);
      expect(seenByAlerts).toContain('what is on today?');
      expect(seenByAlerts).not.toContain('Here is your answer.');

      // The owner's own next words are still answered, even short ones found inside the reply.
      await channel.receive({ sender: OWNER_PHONE, text: 'your answer' });
      await until(() => channel.sent.length === 2, 'the second reply');
      expect(provider.requests).toHaveLength(2);
    } finally {
      await stop();
    }
  });
});

describe('review: the echo of a long reply sent in chunks', () => {
  it("the short last chunk of a long reply, read back in the owner's self-chat, is not answered", async () => {
    // iMessage sends a reply over 2000 characters as several messages; each comes back in a self-chat. The last one
    // may be short: it is a whole message of its own, not a part of one found inside another.
    const long = `${'Something to say about the day ahead and the plans in it, '.repeat(35)}\n\nThat is all for today.`;
    const chunks = splitMessage(long);
    expect(chunks.length).toBeGreaterThan(1);
    const tail = chunks.at(-1) as string;
    expect(tail.trim().length).toBeLessThan(100);
    const { core, provider } = await open(
      [() => ({ content: [text(long)] }), () => ({ content: [text('Answering myself.')] })],
      { channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } } },
    );
    const { channel, stop } = await gatewayOn(core);
    try {
      await channel.receive({ sender: OWNER_PHONE, text: 'tell me everything' });
      await until(() => channel.sent.length === 1, 'the reply');
      for (const chunk of chunks) await channel.receive({ sender: OWNER_PHONE, text: chunk, isFromMe: false });
      await until(() => core.channels.messages('imessage', `iMessage;-;${OWNER_PHONE}`).every((message) => message.status !== 'stored' && message.status !== 'processing'), 'the echoes to be handled');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(provider.requests).toHaveLength(1);
      expect(channel.sent).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});

describe('review: no echo where none comes back', () => {
  it("on Telegram (a bot never receives its own messages) the owner repeating Pavise's short reply is answered", async () => {
    const { core, provider } = await open(
      [() => ({ content: [text('Good morning!')] }), () => ({ content: [text('What can I do for you?')] })],
      { channels: { telegram: { enabled: true, owners: ['424242'] } } },
    );
    const channel = new FakeChannel('telegram');
    const controller = new AbortController();
    const done = new Gateway(core, { channels: [channel], sweepMs: 50 }).run(controller.signal);
    await channel.ready;
    try {
      await channel.receive({ sender: '424242', conversationId: '424242', text: 'morning' });
      await until(() => channel.sent.length === 1, 'the reply');
      await channel.receive({ sender: '424242', conversationId: '424242', text: 'Good morning!' });
      await until(() => channel.sent.length === 2, 'the second reply');
      expect(provider.requests).toHaveLength(2);
    } finally {
      controller.abort();
      await done;
    }
  });
});

describe('a flood from one chat does not spend the cap on answers that cannot be sent', () => {
  it("a contact's burst past the hourly cap for their chat gets no more model calls; the messages wait, stored", async () => {
    // Replies past the chat's hourly cap are held by the outbox (and trip the breaker), but each message still got a
    // turn first: five hundred messages from one contact were five hundred model calls for replies nobody received.
    const CONTACT = '+15550002222';
    const replies = Array.from({ length: 10 }, (_, index): Step => () => ({ content: [text(`reply ${index}`)] }));
    const { core, provider } = await open(replies, {
      channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } },
      limits: { pacing: { perRecipientPerMinute: 10, perRecipientPerHour: 3, overallPerHour: 100 } },
    });
    core.channels.addIdentity('imessage', CONTACT, 'contact', 'owner:test', 'Sam');
    const { channel, stop } = await gatewayOn(core);
    try {
      for (let index = 0; index < 3; index++) {
        await channel.receive({ sender: CONTACT, text: `question ${index}` });
        await until(() => channel.sent.length === index + 1, `reply ${index}`);
      }
      for (let index = 3; index < 10; index++) await channel.receive({ sender: CONTACT, text: `question ${index}` });
      const chat = `iMessage;-;${CONTACT}`;
      await until(() => core.channels.messages('imessage', chat).length === 10, 'the burst to be stored');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(provider.requests).toHaveLength(3);
      expect(channel.sent).toHaveLength(3);
      expect(core.channels.messages('imessage', chat).slice(3).map((message) => message.status)).toEqual(Array(7).fill('stored'));

      // Resumed by the owner (the breaker reset), the chat is still at its hourly cap: nothing more is spent on it yet.
      core.setPaused(false, 'owner:cli');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(provider.requests).toHaveLength(3);
    } finally {
      await stop();
    }
  });
});

describe('a model outage and a flood of messages', () => {
  it('cost one model call per retry wait, not one per message, and at most one notice in the chat', async () => {
    // Each message whose turn found the model unreachable was answered with the error, and the next message called
    // the model again: an outage during a burst was one failing call (with the provider's retries) per message, and
    // one error message back per message, each remembered as something Pavise said.
    const down: Step = () => ({ stopReason: 'error', error: { code: 'overloaded', message: 'Anthropic is overloaded (529).', status: 529 } });
    const { core, provider } = await open([...Array.from({ length: 200 }, () => down), () => ({ content: [text('all read')] })], {
      channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } },
    });
    const channel = new FakeChannel('imessage');
    const controller = new AbortController();
    const done = new Gateway(core, { channels: [channel], sweepMs: 10, modelRetryMs: { firstMs: 100, maxMs: 200 } }).run(controller.signal);
    await channel.ready;
    try {
      const started = Date.now();
      for (let index = 0; index < 300; index++) await channel.receive({ sender: OWNER_PHONE, text: `message ${index}` });
      await until(() => core.channels.unhandled().length === 300 && core.channels.unhandled().every((message) => message.status === 'waiting_model'), 'the flood to wait');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const elapsed = Date.now() - started;
      // The first turn, then one try per wait (100 ms, then 200 ms): bounded by time, not by the 300 messages.
      expect(provider.requests.length).toBeGreaterThanOrEqual(2);
      expect(provider.requests.length).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 200));
      expect(channel.sent.map((message) => message.text)).toEqual([expect.stringMatching(/^Pavise couldn't reach the model/)]);
      expect(core.outbox.list(500).filter((entry) => entry.notice)).toHaveLength(1);
    } finally {
      controller.abort();
      await done;
    }
  });
});

describe("strangers cannot make Pavise write to hundreds of people, or switch its messages off", () => {
  it('a flood of new senders gets the unknown-sender line only a few times an hour; the breaker stays off and the owner is answered', async () => {
    // channels.unknownSenderReply went to every new sender: a spam wave was Pavise sending a message to each, on its
    // own, until the overall hourly cap tripped the breaker and stopped every message, the owner's replies too.
    const { core, provider } = await open([() => ({ content: [text('owner answered')] })], {
      channels: { imessage: { enabled: true, owners: [OWNER_PHONE] }, unknownSenderReply: 'This number is handled by an assistant.' },
      limits: { pacing: { perRecipientPerMinute: 5, perRecipientPerHour: 30, overallPerHour: 20 } },
    });
    const { channel, stop } = await gatewayOn(core);
    try {
      for (let index = 0; index < 40; index++) await channel.receive({ sender: `+1555010${String(index).padStart(4, '0')}`, text: 'hi' });
      await until(() => core.channels.conversations(100).filter((item) => item.conversationId !== `iMessage;-;${OWNER_PHONE}`).length === 40, 'the strangers to be stored');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(channel.sent.length).toBeLessThanOrEqual(UNKNOWN_SENDER_LINES_PER_HOUR);
      expect(core.switches.get('outbound_tripped').on).toBe(false);
      await channel.receive({ sender: OWNER_PHONE, text: 'anything new?' });
      await until(() => channel.sent.some((message) => message.text === 'owner answered'), 'the answer to the owner');
      expect(provider.requests).toHaveLength(1);
    } finally {
      await stop();
    }
  });
});

/** A channel whose every send times out (Messages busy): the kind of failure after which the message may have gone. */
class TimingOutChannel extends FakeChannel {
  attempts = 0;
  override async send(): Promise<SendResult> {
    this.attempts++;
    return { ok: false, retryable: true, message: 'Messages did not answer within 30 s (it may be starting or busy).' };
  }
}

describe('a send that keeps failing is not retried for ever', () => {
  it('a message whose sends time out is tried a few times, further and further apart, then marked failed', async () => {
    // A retryable failure went back to pending and was tried again at every sweep (5 s), for ever: when Messages
    // sends but answers too late, each retry is the same iMessage again, hundreds of times.
    const { core } = await open([], { channels: { imessage: { enabled: true, owners: [OWNER_PHONE] } } });
    let now = Date.now();
    const channel = new TimingOutChannel('imessage');
    const gateway = new Gateway(core, { channels: [channel], sweepMs: 20, now: () => now });
    const controller = new AbortController();
    const done = gateway.run(controller.signal);
    try {
      await channel.ready;
      const entry = core.outbox.enqueue({ channel: 'imessage', conversationId: `iMessage;-;${OWNER_PHONE}`, text: 'your reminder', idempotencyKey: 'test:timeout' }, now);
      await until(() => channel.attempts === 1, 'the first attempt');
      // Many sweeps later, no time has passed: nothing is tried again yet.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(channel.attempts).toBe(1);
      for (let step = 0; step < 40 && core.outbox.get(entry.id)?.status !== 'failed'; step++) {
        now += 60_000;
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      expect(core.outbox.get(entry.id)).toMatchObject({ status: 'failed', attempts: MAX_SEND_ATTEMPTS, error: expect.stringContaining(`gave up after ${MAX_SEND_ATTEMPTS} attempts`) });
      now += 60 * 60_000;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(channel.attempts).toBe(MAX_SEND_ATTEMPTS);
    } finally {
      controller.abort();
      await done;
    }
  });
});
