import { afterEach, describe, expect, it } from 'vitest';
import { TelegramChannel } from '../../main/channels/telegram/telegram-channel.js';
import { compose, type Core } from '../../main/compose.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi, type SentMessage } from '../fakes/fake-bot-api.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { until } from '../helpers/wait.js';

/**
 * The owner is never left in silence: a turn from Telegram that stops for an approval sends a notice to that chat,
 * and the owner's own paired account can decide it there (risk low or medium), through buttons bound to the
 * approval and a single-use nonce. Everything else that taps does nothing. Real gateway, gate, SQLite and
 * TelegramChannel against the fake Bot API.
 */
const OWNER = 424242;
const STRANGER = 999001;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

interface Running {
  readonly bot: FakeBotApi;
  readonly llm: FakeLlmServer;
  readonly services: Core;
  /** The owner writes in their private chat with the bot. */
  say(text: string, extra?: Record<string, unknown>): void;
  /** The next message the bot sends, after the `count` it had sent before. */
  nextSent(count: number): Promise<SentMessage>;
}

/** `platform`: where the gateway runs (the notices name where to decide there); a Mac unless a test says otherwise. */
async function start(config: Record<string, unknown> = {}, platform: NodeJS.Platform = 'darwin'): Promise<Running> {
  const bot = await startFakeBotApi();
  const llm = await startFakeAnthropic();
  const home = tempHome({
    model: { provider: 'anthropic', baseURL: llm.url },
    channels: { telegram: { enabled: true, owners: [String(OWNER)] } },
    permissions: { alwaysAsk: ['write_local'] },
    ...config,
  });
  const services = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), approvalPollMs: 20 });
  const telegram = new TelegramChannel({ token: async () => TEST_BOT_TOKEN, apiRoot: bot.apiRoot, assistantNames: ['pavise'], pollTimeoutSeconds: 1, retry: { baseDelayMs: 20, maxDelayMs: 500 } });
  const controller = new AbortController();
  const done = new Gateway(services, { channels: [telegram], sweepMs: 50, platform }).run(controller.signal);
  stops.push(async () => {
    controller.abort();
    await done;
    services.close();
    await bot.close();
    await llm.close();
    home.cleanup();
  });
  // The first run reads only the newest update (history is never answered); after that, updates are delivered.
  await bot.waitForCall('getUpdates', 2);
  let messageId = 100;
  let updateId = 500;
  return {
    bot,
    llm,
    services,
    say(text, extra = {}) {
      bot.queueUpdates({
        update_id: updateId++,
        message: { message_id: messageId++, from: { id: OWNER, is_bot: false, first_name: 'Alex' }, chat: { id: OWNER, type: 'private', first_name: 'Alex' }, date: Math.floor(Date.now() / 1000), text, ...extra },
      });
    },
    async nextSent(count) {
      await until(() => bot.sent.length > count, 'a message from the bot');
      return bot.sent[count] as SentMessage;
    },
  };
}

const buttonTexts = (message: SentMessage): string[] => message.reply_markup?.inline_keyboard.flat().map((button) => button.text) ?? [];

describe('approval notices on Telegram', () => {
  it('the notice comes first, with Approve / Deny; the owner’s tap approves, the notice shows it, and the turn’s reply follows', async () => {
    const { bot, llm, services, say, nextSent } = await start();
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'buy milk' }));
    llm.enqueue(anthropicText('Saved: buy milk.'));
    say('save a note: buy milk');
    const notice = await nextSent(0);
    expect(notice.chat_id).toBe(OWNER);
    expect(notice.text).toContain('Waiting for your approval: Save a note: "buy milk". Approve or deny here');
    expect(buttonTexts(notice)).toEqual(['Approve', 'Deny']);
    const [pending] = services.approvals.pending();
    expect(pending?.risk).toBe('low');
    for (const button of notice.reply_markup?.inline_keyboard.flat() ?? []) {
      expect(button.callback_data).toContain(pending?.id);
      expect(Buffer.byteLength(button.callback_data ?? '')).toBeLessThanOrEqual(64);
    }

    bot.tap(notice, { button: 'Approve' });
    const reply = await nextSent(1);
    expect(reply.text).toBe('Saved: buy milk.');
    expect(bot.answers.map((answer) => answer.text)).toEqual(['Approved']);
    expect(bot.edits).toHaveLength(1);
    expect(bot.edits[0]).toMatchObject({ chat_id: OWNER, message_id: notice.message_id });
    expect(bot.edits[0]?.text).toMatch(/Approved from Telegram\.$/);
    expect(bot.edits[0]?.reply_markup).toBeUndefined();
    // The notice names the action (a link in it included): Telegram builds no preview of it when it is edited either.
    expect(bot.callsTo('editMessageText')[0]?.params.link_preview_options).toEqual({ is_disabled: true });
    expect(services.approvals.get(pending?.id ?? '')).toMatchObject({ status: 'used', decidedBy: 'telegram' });
    expect(services.notes.list().map((note) => note.text)).toEqual(['buy milk']);
    const decided = services.activity.list({ kind: 'approval_decided' });
    expect(decided.map((row) => row.actor)).toEqual(['owner:telegram']);
  });

  it('a tap from someone else, one in a group, and a replayed one do nothing; the owner’s deny stands', async () => {
    const { bot, llm, services, say, nextSent } = await start();
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'door code 4711' }));
    llm.enqueue(anthropicText('I did not save it.'));
    say('save the door code');
    const notice = await nextSent(0);
    const [pending] = services.approvals.pending();
    const id = pending?.id ?? '';

    bot.tap(notice, { button: 'Approve', from: STRANGER });
    await until(() => bot.answers.length === 1, 'the stranger’s answer');
    bot.tap(notice, { button: 'Approve', from: OWNER, chat: { id: -100123, type: 'group' } });
    await until(() => bot.answers.length === 2, 'the group answer');
    expect(bot.answers.map((answer) => answer.text)).toEqual(['Only Pavise’s owner can decide this.', 'Approvals are decided only in your private chat with Pavise.']);
    expect(services.approvals.get(id)?.status).toBe('pending');
    expect(bot.edits).toHaveLength(0);

    bot.tap(notice, { button: 'Deny' });
    await nextSent(1);
    bot.tap(notice, { button: 'Approve' });
    await until(() => bot.answers.length === 4, 'the replay’s answer');
    expect(bot.answers.slice(2).map((answer) => answer.text)).toEqual(['Denied', 'This button is no longer valid; decide on the Mac.']);
    expect(services.approvals.get(id)).toMatchObject({ status: 'denied', decidedBy: 'telegram' });
    expect(services.notes.list()).toHaveLength(0);
    expect(bot.sent[1]?.text).toBe('I did not save it.');
  });

  it('an expired approval’s button does nothing but say so; the turn goes on and its reply arrives', async () => {
    const { bot, llm, services, say, nextSent } = await start();
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'later' }));
    llm.enqueue(anthropicText('It expired, so I did nothing.'));
    say('save a note: later');
    const notice = await nextSent(0);
    const [pending] = services.approvals.pending();
    expect(services.approvals.expire(pending?.id ?? '')).toBe(true);
    bot.tap(notice, { button: 'Approve' });
    await until(() => bot.answers.length === 1, 'the answer');
    expect(bot.answers[0]?.text).toBe('This approval is expired.');
    expect(services.approvals.get(pending?.id ?? '')?.status).toBe('expired');
    await until(() => bot.sent.some((message) => message.text === 'It expired, so I did nothing.'), 'the reply');
    expect(services.notes.list()).toHaveLength(0);
  });

  it('decided on the Mac, the notice says so and loses its buttons; so does one that expires', async () => {
    const { bot, llm, services, say, nextSent } = await start();
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'on the mac' }));
    llm.enqueue(anthropicText('Saved.'));
    say('save a note: on the mac');
    const notice = await nextSent(0);
    const [pending] = services.approvals.pending();
    expect(services.gate.decide(pending?.id ?? '', 'approve', 'popover').ok).toBe(true);
    await until(() => bot.edits.length === 1, 'the notice updated');
    expect(bot.edits[0]).toMatchObject({ chat_id: OWNER, message_id: notice.message_id });
    expect(bot.edits[0]?.text).toBe(`${notice.text}\n\nApproved on the Mac.`);
    expect(bot.edits[0]?.reply_markup).toBeUndefined();
    await nextSent(1);

    llm.enqueue(anthropicToolUse('t2', 'save_note', { text: 'never' }));
    llm.enqueue(anthropicText('It expired.'));
    say('save a note: never');
    const second = await nextSent(2);
    const [waiting] = services.approvals.pending();
    expect(services.approvals.expire(waiting?.id ?? '')).toBe(true);
    await until(() => bot.edits.length === 2, 'the expired notice updated');
    expect(bot.edits[1]).toMatchObject({ message_id: second.message_id });
    expect(bot.edits[1]?.text).toMatch(/Expired without an answer \(expiry means no\)\.$/);
    // The old button now only says so; nothing is decided by it.
    bot.tap(second, { button: 'Approve' });
    await until(() => bot.answers.length === 1, 'the answer');
    expect(bot.answers[0]?.text).toBe('This approval is expired.');
    expect(services.notes.list().map((note) => note.text)).toEqual(['on the mac']);
  });

  it('a high-risk approval’s notice has no buttons and says to decide on the Mac', async () => {
    const { llm, services, say, nextSent } = await start();
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'from a forward' }));
    llm.enqueue(anthropicText('Denied.'));
    say('Save this', { forward_origin: { type: 'hidden_user', sender_user_name: 'Someone', date: 1 } });
    const notice = await nextSent(0);
    const [pending] = services.approvals.pending();
    expect(pending?.risk).toBe('high');
    expect(notice.reply_markup).toBeUndefined();
    expect(notice.text).toContain('decide on the Mac');
    expect(notice.text).toContain('Touch ID');
    services.gate.decide(pending?.id ?? '', 'deny', 'popover');
    expect((await nextSent(1)).text).toBe('Denied.');
  });

  it('with approvals.remote false the notice still comes, without buttons', async () => {
    const { llm, services, say, nextSent } = await start({ approvals: { remote: false } });
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'x' }));
    llm.enqueue(anthropicText('ok'));
    say('save a note: x');
    const notice = await nextSent(0);
    expect(notice.reply_markup).toBeUndefined();
    expect(notice.text).toContain('Decide on the Mac');
    const [pending] = services.approvals.pending();
    expect(pending?.status).toBe('pending');
    services.gate.decide(pending?.id ?? '', 'deny', 'popover');
  });

  it('off a Mac (a headless Linux gateway), the notices, the answers to taps and the endings name `pavise approvals`, never the menu bar or Touch ID', async () => {
    const { bot, llm, services, say, nextSent } = await start({}, 'linux');
    // Taps come last: the fake numbers a tap's update after the newest one, where the next `say` would also go.
    llm.enqueue(anthropicToolUse('t1', 'save_note', { text: 'eggs' }));
    llm.enqueue(anthropicText('Saved.'));
    say('save a note: eggs');
    const first = await nextSent(0);
    const [approved] = services.approvals.pending();
    const approvedId = approved?.id ?? '';
    expect(first.text).toBe(
      // Telegram shows the commands as code (the channel sends the notice's backticks as <code>).
      `Waiting for your approval: Save a note: "eggs". Approve or deny here, or on the computer Pavise runs on: <code>pavise approvals approve ${approvedId}</code> or <code>pavise approvals deny ${approvedId}</code>.`,
    );
    expect(buttonTexts(first)).toEqual(['Approve', 'Deny']);
    expect(services.gate.decide(approvedId, 'approve', 'cli').ok).toBe(true);
    await until(() => bot.edits.length === 1, 'the notice updated');
    expect(bot.edits[0]?.text).toMatch(/\n\nApproved on the computer Pavise runs on\.$/);
    await nextSent(1);

    llm.enqueue(anthropicToolUse('t2', 'save_note', { text: 'from a forward' }));
    llm.enqueue(anthropicText('Denied.'));
    say('Save this', { forward_origin: { type: 'hidden_user', sender_user_name: 'Someone', date: 1 } });
    const high = await nextSent(2);
    const [risky] = services.approvals.pending();
    expect(risky?.risk).toBe('high');
    expect(high.reply_markup).toBeUndefined();
    expect(high.text).toContain(`High risk: decide on the computer Pavise runs on: <code>pavise approvals approve ${risky?.id ?? ''}</code> or <code>pavise approvals deny ${risky?.id ?? ''}</code>.`);
    services.gate.decide(risky?.id ?? '', 'deny', 'cli');
    expect((await nextSent(3)).text).toBe('Denied.');

    llm.enqueue(anthropicToolUse('t3', 'save_note', { text: 'buy milk' }));
    llm.enqueue(anthropicText('Not saved.'));
    say('save a note: buy milk');
    const last = await nextSent(4);
    bot.tap(last, { button: 'Deny' });
    await nextSent(5);
    bot.tap(last, { button: 'Approve' });
    await until(() => bot.answers.length === 2, 'the answer to the spent button');
    expect(bot.answers.map((answer) => answer.text)).toEqual(['Denied', 'This button is no longer valid; decide on the computer Pavise runs on (`pavise approvals`).']);
    const shown = [...bot.sent.map((message) => message.text), ...bot.edits.map((edit) => edit.text), ...bot.answers.map((answer) => answer.text)];
    for (const text of shown) expect(text).not.toMatch(/Mac|menu bar|Touch ID/);
  });
});
