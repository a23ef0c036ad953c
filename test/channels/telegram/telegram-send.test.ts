import { afterEach, describe, expect, it } from 'vitest';
import { TelegramChannel, type TelegramChannelOptions } from '../../../main/channels/telegram/telegram-channel.js';
import { error, startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi } from '../../fakes/fake-bot-api.js';

/**
 * Sending through the real grammY client against the fake Bot API (which parses HTML the way Telegram does).
 * Fixture origins: test/fixtures/SOURCES.md.
 */

let fake: FakeBotApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function channelFor(api: { apiRoot: string }, overrides: Partial<TelegramChannelOptions> = {}): TelegramChannel {
  return new TelegramChannel({
    token: async () => TEST_BOT_TOKEN,
    apiRoot: api.apiRoot,
    assistantNames: ['pavise'],
    retry: { baseDelayMs: 20, maxDelayMs: 2_000 },
    ...overrides,
  });
}

const signal = (): AbortSignal => new AbortController().signal;
const out = (text: string, conversationId = '5550100', idempotencyKey = `key-${Math.random()}`) => ({ conversationId, text, idempotencyKey });

describe('TelegramChannel.send', () => {
  it('sends Markdown as Telegram HTML, escaped, to the numeric chat id', async () => {
    fake = await startFakeBotApi();
    const channel = channelFor(fake);
    const result = await channel.send(
      out('**Done**: moved _lunch_ to `12:30 <b>` — see [calendar](https://calendar.example/?day=1&view=w). <script>alert(1)</script>'),
      signal(),
    );

    expect(result).toEqual({ ok: true, externalIds: [String(fake.sent[0]!.message_id)] });
    expect(fake.sent).toHaveLength(1);
    expect(fake.sent[0]).toMatchObject({
      chat_id: 5550100,
      parse_mode: 'HTML',
      text:
        '<b>Done</b>: moved <i>lunch</i> to <code>12:30 &lt;b&gt;</code> — see ' +
        '<a href="https://calendar.example/?day=1&amp;view=w">calendar</a>. &lt;script&gt;alert(1)&lt;/script&gt;',
    });
  });

  it('sends to a group chat id (negative) as a number', async () => {
    fake = await startFakeBotApi();
    await channelFor(fake).send(out('hi all', '-1001000000001'), signal());
    expect(fake.sent[0]?.chat_id).toBe(-1001000000001);
  });

  it('splits a long reply into chunks of at most 4096 characters, sent in order', async () => {
    fake = await startFakeBotApi();
    const paragraphs = ['a', 'b', 'c'].map((ch) => `**${ch}** ${ch.repeat(2990)}`);
    const result = await channelFor(fake).send(out(paragraphs.join('\n\n')), signal());

    expect(fake.sent.map((m) => m.text)).toEqual(['a', 'b', 'c'].map((ch) => `<b>${ch}</b> ${ch.repeat(2990)}`));
    expect(fake.sent.every((m) => m.text.length <= 4096 && m.parse_mode === 'HTML')).toBe(true);
    expect(result).toEqual({ ok: true, externalIds: fake.sent.map((m) => String(m.message_id)) });
  });

  it('cuts an unbroken 10 000-character reply exactly at 4096', async () => {
    fake = await startFakeBotApi();
    const text = 'x'.repeat(10_000);
    await channelFor(fake).send(out(text), signal());
    expect(fake.sent.map((m) => m.text.length)).toEqual([4096, 4096, 1808]);
    expect(fake.sent.map((m) => m.text).join('')).toBe(text);
  });

  it('resends a chunk as plain text when Telegram cannot parse its HTML', async () => {
    fake = await startFakeBotApi();
    fake.rejectHtml = true;
    const result = await channelFor(fake).send(out('**Bold** & <tag> [link](https://example.com)'), signal());

    const calls = fake.callsTo('sendMessage').map((call) => call.params);
    expect(calls).toEqual([
      { chat_id: 5550100, text: '<b>Bold</b> &amp; &lt;tag&gt; <a href="https://example.com">link</a>', parse_mode: 'HTML', link_preview_options: { is_disabled: true } },
      { chat_id: 5550100, text: 'Bold & <tag> link', link_preview_options: { is_disabled: true } },
    ]);
    expect(result).toEqual({ ok: true, externalIds: [String(fake.sent[0]!.message_id)] });
  });

  it('on 429 waits retry_after and sends again', async () => {
    fake = await startFakeBotApi();
    fake.script('sendMessage', error(429, 'Too Many Requests: retry after 1', 1));
    const result = await channelFor(fake).send(out('hello'), signal());

    expect(result.ok).toBe(true);
    const [first, second] = fake.callsTo('sendMessage');
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(fake.sent.map((m) => m.text)).toEqual(['hello']);
  });

  it('hands a 429 longer than the retry cap back to the outbox as retryable', async () => {
    fake = await startFakeBotApi();
    fake.script('sendMessage', error(429, 'Too Many Requests: retry after 30', 30));
    const started = performance.now();
    const result = await channelFor(fake).send(out('hello'), signal());
    expect(result).toEqual({ ok: false, retryable: true, message: 'Telegram rate limit: Too Many Requests: retry after 30' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('403 (the user blocked the bot) is not retryable', async () => {
    fake = await startFakeBotApi();
    fake.script('sendMessage', error(403, 'Forbidden: bot was blocked by the user'));
    const result = await channelFor(fake).send(out('hello'), signal());
    expect(result).toEqual({ ok: false, retryable: false, message: 'Telegram refused: Forbidden: bot was blocked by the user' });
  });

  it('400 chat not found is not retryable; 5xx is', async () => {
    fake = await startFakeBotApi();
    fake.script('sendMessage', error(400, 'Bad Request: chat not found'), error(502, 'Bad Gateway'));
    expect(await channelFor(fake).send(out('a'), signal())).toMatchObject({ ok: false, retryable: false });
    expect(await channelFor(fake).send(out('b'), signal())).toMatchObject({ ok: false, retryable: true });
  });

  it('a retried send resumes after the chunks already delivered (same idempotency key)', async () => {
    fake = await startFakeBotApi();
    const channel = channelFor(fake);
    const message = out(`${'a'.repeat(3000)}\n\n${'b'.repeat(3000)}`, '5550100', 'reply-42');
    fake.script('sendMessage', { kind: 'ok', result: { message_id: 1, date: 0, chat: { id: 5550100, type: 'private' }, text: 'a' } }, { kind: 'drop' });

    const first = await channel.send(message, signal());
    expect(first).toMatchObject({ ok: false, retryable: true });
    expect(JSON.stringify(first)).not.toContain(TEST_BOT_TOKEN);

    const second = await channel.send(message, signal());
    expect(second).toEqual({ ok: true, externalIds: ['1', String(fake.sent[0]!.message_id)] });
    expect(fake.sent.map((m) => m.text)).toEqual(['b'.repeat(3000)]);

    expect(await channel.send(message, signal())).toEqual(second);
    expect(fake.sent).toHaveLength(1);
  });

  it('without a token, or with a rejected one, names the secrets command and is not retryable', async () => {
    fake = await startFakeBotApi();
    expect(await channelFor(fake, { token: async () => undefined }).send(out('x'), signal())).toEqual({
      ok: false,
      retryable: false,
      message: 'No Telegram bot token is stored; add one with `pavise secrets set telegram-bot-token`.',
    });
    expect(fake.calls).toEqual([]);
    expect(await channelFor(fake, { token: async () => 'wrong' }).send(out('x'), signal())).toEqual({
      ok: false,
      retryable: false,
      message: 'The Telegram bot token was rejected; store a new one with `pavise secrets set telegram-bot-token`.',
    });
  });

  it('an unreachable API is retryable and the message does not leak the token', async () => {
    const probe = await startFakeBotApi();
    await probe.close();
    const result = await channelFor(probe).send(out('x'), signal());
    expect(result).toEqual({ ok: false, retryable: true, message: 'Telegram unreachable; the message was not sent.' });
  });

  it('an empty reply is refused without calling Telegram', async () => {
    fake = await startFakeBotApi();
    expect(await channelFor(fake).send(out('  \n '), signal())).toMatchObject({ ok: false, retryable: false });
    expect(fake.calls).toEqual([]);
  });

  it('stops waiting out a 429 when aborted', async () => {
    fake = await startFakeBotApi();
    fake.script('sendMessage', error(429, 'Too Many Requests: retry after 2', 2));
    const controller = new AbortController();
    const sending = channelFor(fake).send(out('x'), controller.signal);
    await fake.waitForCall('sendMessage');
    const started = performance.now();
    controller.abort();
    expect(await sending).toEqual({ ok: false, retryable: true, message: 'Sending was cancelled.' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('TelegramChannel.typing', () => {
  it('sends the typing chat action', async () => {
    fake = await startFakeBotApi();
    await channelFor(fake).typing('-4000000001', signal());
    expect(fake.chatActions).toEqual([{ chat_id: -4000000001, action: 'typing' }]);
  });

  it('never rejects, even when Telegram refuses', async () => {
    fake = await startFakeBotApi({ tokens: [] });
    await expect(channelFor(fake).typing('5550100', signal())).resolves.toBeUndefined();
    const probe = await startFakeBotApi();
    await probe.close();
    await expect(channelFor(probe).typing('5550100', signal())).resolves.toBeUndefined();
  });
});
