/**
 * ImessageChannel against a chat.db built from the real Messages schema (test/fixtures/imessage/; see
 * test/fixtures/SOURCES.md), written by a second connection as Messages.app would. The fallback poll is set
 * to an hour, so every delivery after the start is the file watcher's doing.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChannelHost, ChannelStatus, InboundMessage, SendResult } from '../../../main/channels/channel.js';
import { ImessageChannel, type ImessageSender } from '../../../main/channels/imessage/imessage-channel.js';
import type { ImessageSendTarget } from '../../../main/channels/imessage/target.js';
import { createChatDb, type ChatDbFixture } from '../../helpers/chat-db.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 2, 14, 9, 30, 0);

interface Delivery {
  readonly message: InboundMessage;
  readonly cursor: string;
}

class FakeHost implements ChannelHost {
  readonly delivered: Delivery[] = [];
  readonly attempts: string[] = [];
  readonly statuses: ChannelStatus[] = [];
  readonly saved: string[] = [];
  stored: string | undefined;
  /** Replaced by tests to fail or hold a delivery. */
  beforeStore: (message: InboundMessage) => Promise<void> = async () => {};
  private waiters: { predicate: () => boolean; resolve: () => void }[] = [];

  constructor(cursor?: string) {
    this.stored = cursor;
  }

  async deliver(message: InboundMessage, cursor: string): Promise<void> {
    this.attempts.push(message.externalId);
    this.check();
    await this.beforeStore(message);
    this.delivered.push({ message, cursor });
    this.stored = cursor;
    this.check();
  }

  cursor(): string | undefined {
    return this.stored;
  }

  saveCursor(_channel: string, cursor: string): void {
    this.saved.push(cursor);
    this.stored = cursor;
    this.check();
  }

  status(status: ChannelStatus): void {
    this.statuses.push(status);
    this.check();
  }

  /** Resolves once the predicate holds (checked on every host call), or rejects after `ms`. */
  until(predicate: () => boolean, what: string, ms = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  deliveredCount(count: number): Promise<void> {
    return this.until(() => this.delivered.length >= count, `${count} deliveries`);
  }

  state(state: ChannelStatus['state']): Promise<void> {
    return this.until(() => this.statuses.some((status) => status.state === state), `state ${state}`);
  }

  private check(): void {
    const ready = this.waiters.filter((waiter) => waiter.predicate());
    this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
    for (const waiter of ready) waiter.resolve();
  }
}

class FakeSender implements ImessageSender {
  readonly calls: { target: ImessageSendTarget; text: string }[] = [];
  result: SendResult | Error = { ok: true, externalIds: [] };

  async send(target: ImessageSendTarget, text: string): Promise<SendResult> {
    this.calls.push({ target, text });
    if (this.result instanceof Error) throw this.result;
    return this.result;
  }
}

describe('ImessageChannel', () => {
  let fixture: ChatDbFixture;
  let controller: AbortController;
  let running: Promise<void> | undefined;
  let alice: number;
  let bob: number;
  let direct: number;
  let group: number;

  beforeEach(() => {
    fixture = createChatDb();
    controller = new AbortController();
    alice = fixture.addHandle('+15550001111');
    bob = fixture.addHandle('bob@example.com');
    direct = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [alice] });
    group = fixture.addChat({ guid: 'any;+;chat123456789', handles: [alice, bob] });
  });

  afterEach(async () => {
    controller.abort();
    await running;
    running = undefined;
    fixture.cleanup();
  });

  function start(host: FakeHost, options: Partial<ConstructorParameters<typeof ImessageChannel>[0]> = {}) {
    const sender = new FakeSender();
    const channel = new ImessageChannel({
      chatDbPath: fixture.path,
      owners: ['+15559990000', 'owner@example.com'],
      assistantNames: ['pavise', 'Shelly'],
      sender,
      pollIntervalMs: HOUR,
      home: '/Users/owner',
      ...options,
    });
    running = channel.run(host, controller.signal);
    return { channel, sender };
  }

  it('starts at the newest message on first start and answers nothing from history', async () => {
    for (let i = 0; i < 3; i++) fixture.addMessage({ chat: direct, handle: alice, text: `old ${i}`, date: T0 + i });
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    expect(host.saved).toEqual(['3']);
    expect(host.delivered).toEqual([]);

    fixture.addMessage({ chat: direct, handle: alice, text: 'new one', date: T0 + 10 });
    await host.deliveredCount(1);
    expect(host.delivered.map((d) => [d.message.text, d.cursor])).toEqual([['new one', '4']]);
    expect(host.statuses[0]).toEqual({ channel: 'imessage', state: 'starting' });
  });

  it('on an empty chat.db, saves cursor 0 and then delivers the first message', async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    expect(host.saved).toEqual(['0']);
    fixture.addMessage({ chat: direct, handle: alice, text: 'first ever', date: T0 });
    await host.deliveredCount(1);
    expect(host.delivered[0]?.cursor).toBe('1');
  });

  it('catches up from the stored cursor in ROWID order, across batches, with each cursor', async () => {
    const rows = [];
    for (let i = 0; i < 12; i++) rows.push(fixture.addMessage({ chat: i % 2 ? group : direct, handle: i % 3 ? alice : bob, text: `m${i}`, date: T0 + i }));
    const host = new FakeHost('2');
    start(host, { batchSize: 4 });
    await host.deliveredCount(10);
    expect(host.delivered.map((d) => [d.message.text, d.cursor])).toEqual(rows.slice(2).map((row, i) => [`m${i + 2}`, String(row.rowid)]));
    expect(host.saved).toEqual([]);
    const first = host.delivered[0]?.message;
    expect(first).toEqual({
      channel: 'imessage',
      externalId: rows[2]?.guid,
      conversationId: 'iMessage;-;+15550001111',
      isGroup: false,
      sender: '+15550001111',
      text: 'm2',
      sentAt: T0 + 2,
      isFromMe: false,
      kind: 'message',
      attachments: [],
      addressesAssistant: true,
    });
  });

  it('wakes on a write to the WAL well within a second (the poll is an hour away)', async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    for (let i = 0; i < 5; i++) {
      const written = performance.now();
      fixture.addMessage({ chat: direct, handle: alice, text: `ping ${i}`, date: T0 + i });
      await host.deliveredCount(i + 1);
      expect(performance.now() - written).toBeLessThan(500);
    }
  });

  it('advances only after deliver resolves: one message at a time, and a rejected one comes again on the next wake', async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');

    let release: () => void = () => {};
    host.beforeStore = () => new Promise<void>((resolve) => (release = resolve));
    const first = fixture.addMessage({ chat: direct, handle: alice, text: 'held', date: T0 });
    await host.until(() => host.attempts.length === 1, 'the first attempt');
    fixture.addMessage({ chat: direct, handle: alice, text: 'queued', date: T0 + 1 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(host.attempts).toEqual([first.guid]);
    expect(host.stored).toBe('0');
    host.beforeStore = async () => {};
    release();
    await host.deliveredCount(2);
    expect(host.delivered.map((d) => [d.message.text, d.cursor])).toEqual([
      ['held', '1'],
      ['queued', '2'],
    ]);

    let failures = 0;
    host.beforeStore = async (message) => {
      if (message.text === 'fails once' && failures++ === 0) throw new Error('database is locked');
    };
    const failing = fixture.addMessage({ chat: direct, handle: alice, text: 'fails once', date: T0 + 2 });
    await host.state('retrying');
    expect(host.stored).toBe('2');
    expect(host.statuses.at(-1)).toMatchObject({ state: 'retrying', detail: expect.stringContaining('database is locked') });
    fixture.addMessage({ chat: direct, handle: alice, text: 'after it', date: T0 + 3 });
    await host.deliveredCount(4);
    expect(host.attempts.filter((guid) => guid === failing.guid)).toHaveLength(2);
    expect(host.delivered.slice(2).map((d) => [d.message.text, d.cursor])).toEqual([
      ['fails once', '3'],
      ['after it', '4'],
    ]);
    await host.until(() => host.statuses.at(-1)?.state === 'connected', 'connected again');
  });

  it("delivers the owner's own messages with isFromMe, but not the owner's tapbacks", async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    const mine = fixture.addMessage({ chat: direct, handle: alice, text: 'sent by Pavise or me', isFromMe: true, destinationCallerId: 'owner@example.com', date: T0 });
    fixture.addMessage({ chat: direct, handle: alice, text: 'Liked “hi”', isFromMe: true, associatedMessageType: 2001, associatedMessageGuid: `p:0/${mine.guid}`, date: T0 + 1 });
    fixture.addMessage({ chat: direct, handle: alice, text: 'Loved “sent by Pavise or me”', associatedMessageType: 2000, associatedMessageGuid: `p:0/${mine.guid}`, date: T0 + 2 });
    await host.deliveredCount(2);
    expect(host.delivered.map((d) => [d.message.isFromMe, d.message.sender, d.message.kind, d.message.addressesAssistant, d.cursor])).toEqual([
      [true, 'owner@example.com', 'message', true, '1'],
      [false, '+15550001111', 'reaction', false, '3'],
    ]);
  });

  it('skips rows that are not messages and moves the saved cursor past them', async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    fixture.addMessage({ chat: group, handle: bob, text: 'pavise: hi all', date: T0 });
    fixture.addMessage({ chat: group, handle: bob, text: null, itemType: 2, date: T0 + 1 });
    fixture.addMessage({ chat: group, handle: bob, text: null, body: null, date: T0 + 2 });
    await host.deliveredCount(1);
    await host.until(() => host.saved.includes('3'), 'the cursor past the skipped rows');
    expect(host.delivered).toHaveLength(1);
  });

  it('passes attachments and decode failures on, with the attachment placeholder removed from the text', async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    const photo = fixture.addMessage({ chat: direct, handle: alice, text: null, body: 'Attachment.bin', date: T0 });
    fixture.addAttachment(photo.rowid, { filename: '~/Library/Messages/Attachments/aa/IMG_1.HEIC', mimeType: 'image/heic', transferName: 'IMG_1.HEIC' });
    fixture.addMessage({ chat: direct, handle: alice, text: null, body: Buffer.from('garbage blob'), date: T0 + 1 });
    await host.deliveredCount(2);
    expect(host.delivered[0]?.message).toMatchObject({
      text: 'This is how the notes look to me fyi, in case it helps make sense of anything',
      attachments: [{ path: '/Users/owner/Library/Messages/Attachments/aa/IMG_1.HEIC', mimeType: 'image/heic', name: 'IMG_1.HEIC' }],
    });
    expect(host.delivered[1]?.message).toMatchObject({ text: '', attachments: [] });
  });

  it('in a group, addresses Pavise only when named; in 1:1 always', async () => {
    const host = new FakeHost();
    const { channel } = start(host);
    await host.state('connected');
    const texts = ['pavise, what time is it?', 'Hey PAVISE!', 'ask @pavise', 'pavises are shells', 'nothing for it', 'shelly: remind me', 'Ask Shelly.'];
    for (const [i, text] of texts.entries()) fixture.addMessage({ chat: group, handle: bob, text, date: T0 + i });
    fixture.addMessage({ chat: direct, handle: alice, text: 'nothing named', date: T0 + 99 });
    await host.deliveredCount(texts.length + 1);
    expect(host.delivered.map((d) => [d.message.text, d.message.isGroup, d.message.addressesAssistant])).toEqual([
      ['pavise, what time is it?', true, true],
      ['Hey PAVISE!', true, true],
      ['ask @pavise', true, true],
      ['pavises are shells', true, false],
      ['nothing for it', true, false],
      ['shelly: remind me', true, true],
      ['Ask Shelly.', true, true],
      ['nothing named', false, true],
    ]);
    const odd = new ImessageChannel({ chatDbPath: fixture.path, owners: [], assistantNames: ['c.a+p (bot)'], sender: new FakeSender() });
    expect(odd.addressesAssistant('hi c.a+p (bot) there', true)).toBe(true);
    expect(odd.addressesAssistant('hi cxa+p (bot) there', true)).toBe(false);
    expect(channel.addressesAssistant('anything', false)).toBe(true);
  });

  it('reports needs_setup while chat.db cannot be read, never rejects, and connects once it can', async () => {
    const path = join(fixture.dir, 'later', 'chat.db');
    const host = new FakeHost();
    start(host, { chatDbPath: path, setupRetryMs: 50 });
    await host.state('needs_setup');
    expect(host.statuses.find((status) => status.state === 'needs_setup')).toEqual({
      channel: 'imessage',
      state: 'needs_setup',
      detail: expect.stringContaining(`There is no chat.db at ${path}`),
    });
    mkdirSync(join(fixture.dir, 'later'));
    const later = createChatDb({ dir: join(fixture.dir, 'later') });
    try {
      await host.state('connected');
      expect(host.saved).toEqual(['0']);
    } finally {
      controller.abort();
      await running;
      later.cleanup();
      rmSync(join(fixture.dir, 'later'), { recursive: true, force: true });
    }
  });

  it('reports retrying while Messages holds chat.db locked, then carries on', async () => {
    fixture.addMessage({ chat: direct, handle: alice, text: 'before', date: T0 });
    const host = new FakeHost('1');
    fixture.db.pragma('locking_mode = EXCLUSIVE');
    fixture.addMessage({ chat: direct, handle: alice, text: 'while locked', date: T0 + 1 });
    start(host);
    await host.state('retrying');
    expect(host.statuses.find((status) => status.state === 'retrying')?.detail).toMatch(/SQLITE_BUSY|locked/);
    fixture.db.pragma('locking_mode = NORMAL');
    fixture.db.prepare('SELECT count(*) FROM message').get();
    await host.deliveredCount(1);
    expect(host.delivered[0]?.message.text).toBe('while locked');
  });

  it('starts from the newest message when the stored cursor is past it (chat.db was replaced)', async () => {
    for (let i = 0; i < 3; i++) fixture.addMessage({ chat: direct, handle: alice, text: `old ${i}`, date: T0 + i });
    const host = new FakeHost('99');
    start(host);
    await host.state('connected');
    expect(host.saved).toEqual(['3']);
    fixture.addMessage({ chat: direct, handle: alice, text: 'after the restore', date: T0 + 10 });
    await host.deliveredCount(1);
    expect(host.delivered.map((d) => [d.message.text, d.cursor])).toEqual([['after the restore', '4']]);
  });

  it('never rejects, even when the host fails to take a status report', async () => {
    const host = new FakeHost();
    const report = host.status.bind(host);
    host.status = (status) => {
      report(status);
      throw new Error('status sink is broken');
    };
    start(host);
    await host.state('connected');
    fixture.addMessage({ chat: direct, handle: alice, text: 'still arrives', date: T0 });
    await host.deliveredCount(1);
    controller.abort();
    await expect(running).resolves.toBeUndefined();
  });

  it('stops promptly when aborted, with status stopped', async () => {
    const host = new FakeHost();
    start(host);
    await host.state('connected');
    const abortedAt = performance.now();
    controller.abort();
    await running;
    expect(performance.now() - abortedAt).toBeLessThan(200);
    expect(host.statuses.at(-1)).toEqual({ channel: 'imessage', state: 'stopped' });
  });

  it('sends to the chat the conversation id names, through the injected sender', async () => {
    const sender = new FakeSender();
    const channel = new ImessageChannel({ chatDbPath: fixture.path, owners: [], assistantNames: ['pavise'], sender });
    const signal = new AbortController().signal;
    sender.result = { ok: true, externalIds: ['x'] };
    await expect(channel.send({ conversationId: 'any;+;chat123456789', text: 'hello group', idempotencyKey: 'k1' }, signal)).resolves.toEqual({
      ok: true,
      externalIds: ['x'],
    });
    expect(sender.calls).toEqual([{ target: { chatGuid: 'any;+;chat123456789' }, text: 'hello group' }]);
    await expect(channel.send({ conversationId: ' ', text: 'x', idempotencyKey: 'k2' }, signal)).resolves.toMatchObject({ ok: false, retryable: false });
    sender.result = new Error('osascript crashed');
    await expect(channel.send({ conversationId: 'iMessage;-;+15550001111', text: 'x', idempotencyKey: 'k3' }, signal)).resolves.toEqual({
      ok: false,
      retryable: true,
      message: 'Sending the iMessage failed: osascript crashed',
    });
  });

  it('uses no timers faster than the poll while idle', async () => {
    const host = new FakeHost();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      start(host, { pollIntervalMs: 15_000 });
      await host.state('connected');
      await new Promise((resolve) => setImmediate(resolve));
      const delays = setTimeoutSpy.mock.calls.map((call) => Number(call[1] ?? 0));
      expect(delays.filter((delay) => delay < 15_000 && delay !== 5_000)).toEqual([]);
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });
});
