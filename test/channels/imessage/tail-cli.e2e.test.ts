/**
 * `pavise imessage tail` through the built binary, on a chat.db built from the real Messages schema and real
 * attributedBody blobs (test/fixtures/imessage/; see test/fixtures/SOURCES.md).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_DISK_ACCESS_MESSAGE } from '../../../main/channels/imessage/chat-db-reader.js';
import { createChatDb, type ChatDbFixture } from '../../helpers/chat-db.js';
import { runCli, tempHome } from '../../helpers/cli.js';

const T0 = Date.UTC(2025, 2, 14, 9, 30, 0, 250);
const KEYS = ['rowid', 'guid', 'date', 'sender', 'chatId', 'isGroup', 'isFromMe', 'text', 'attachments'];

let fixture: ChatDbFixture;
let home: ReturnType<typeof tempHome>;

beforeAll(() => {
  fixture = createChatDb();
  const alice = fixture.addHandle('+15550001111');
  const bob = fixture.addHandle('bob@example.com');
  const direct = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [alice] });
  const group = fixture.addChat({ guid: 'any;+;chat123456789', handles: [alice, bob] });
  for (let i = 1; i <= 25; i++) fixture.addMessage({ chat: direct, handle: alice, text: `filler ${i}`, date: T0 + i * 1000 });
  fixture.addMessage({ chat: direct, handle: alice, text: null, body: 'WeirdText.bin', date: T0 + 100_000 });
  const photo = fixture.addMessage({ chat: group, handle: bob, text: null, body: 'Attachment.bin', date: T0 + 101_000 });
  fixture.addAttachment(photo.rowid, { filename: '~/Library/Messages/Attachments/aa/IMG_1.HEIC', mimeType: 'image/heic', transferName: 'IMG_1.HEIC' });
  fixture.addMessage({ chat: direct, handle: alice, text: 'from me', isFromMe: true, destinationCallerId: 'owner@example.com', date: T0 + 102_000 });
  fixture.addMessage({ chat: direct, handle: alice, text: null, body: Buffer.from('garbage'), date: T0 + 103_000 });
  fixture.addMessage({ chat: group, handle: bob, text: 'evil \u001b]0;pwned\u0007 title', date: T0 + 104_000 });
  home = tempHome();
});

afterAll(() => {
  fixture.cleanup();
  home.cleanup();
});

const tail = (args: string[], env = home.env) => runCli(['imessage', 'tail', ...args], { env: { ...env, HOME: '/Users/owner' } });

describe('pavise imessage tail', () => {
  it('prints the last 20 messages as JSON lines with exactly the documented keys', async () => {
    const result = await tail(['--db', fixture.path, '--json']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(20);
    for (const line of lines) expect(Object.keys(line)).toEqual(KEYS);
    expect(lines.map((line) => line.rowid)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
    const weird = lines.find((line) => line.rowid === 26);
    expect(weird).toEqual({
      rowid: 26,
      guid: expect.stringMatching(/^[0-9A-F-]{36}$/),
      date: new Date(T0 + 100_000).toISOString(),
      sender: '+15550001111',
      chatId: 'iMessage;-;+15550001111',
      isGroup: false,
      isFromMe: false,
      text: '𝖍𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉',
      attachments: [],
    });
    expect(lines.find((line) => line.rowid === 27)).toMatchObject({
      chatId: 'any;+;chat123456789',
      isGroup: true,
      sender: 'bob@example.com',
      attachments: [{ path: '/Users/owner/Library/Messages/Attachments/aa/IMG_1.HEIC', mimeType: 'image/heic', name: 'IMG_1.HEIC' }],
    });
    expect(lines.find((line) => line.rowid === 28)).toMatchObject({ isFromMe: true, sender: 'owner@example.com', text: 'from me' });
    expect(lines.find((line) => line.rowid === 29)).toMatchObject({ text: '' });
    expect(result.stderr).toMatch(/^pavise: message 29: cannot decode attributedBody: /m);
  });

  it('reads after --since, up to --limit', async () => {
    const result = await tail(['--db', fixture.path, '--json', '--since', '3', '--limit', '2']);
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(['filler 4', 'filler 5']);
    const none = await tail(['--db', fixture.path, '--json', '--since', '1000']);
    expect(none).toMatchObject({ code: 0, stdout: '' });
  });

  it('prints readable lines without passing terminal escapes through', async () => {
    const result = await tail(['--db', fixture.path, '--limit', '3']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('#28 2025-03-14 09:31:42Z iMessage;-;+15550001111 me (owner@example.com): from me');
    expect(result.stdout).toContain('[text could not be decoded]');
    expect(result.stdout).toContain('evil \\u{1b}]0;pwned\\u{7} title');
    expect(result.stdout).not.toContain('\u001b');
  });

  it('uses channels.imessage.chatDbPath from config.json when --db is not given', async () => {
    const configured = tempHome({ channels: { imessage: { chatDbPath: fixture.path } } });
    try {
      const result = await tail(['--json', '--limit', '1'], configured.env);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ rowid: 30 });
    } finally {
      configured.cleanup();
    }
  });

  it('reports a broken config.json clearly', async () => {
    const broken = tempHome({ channels: { imessage: { chatDbPath: 42 } } });
    try {
      const result = await tail(['--json'], broken.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^pavise: .*config\.json is invalid — channels\.imessage\.chatDbPath is 42/);
    } finally {
      broken.cleanup();
    }
  });

  it('exits 1 with a clear message when there is no chat.db at the path', async () => {
    const missing = join(fixture.dir, 'nope', 'chat.db');
    const result = await tail(['--db', missing, '--json']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      `pavise: There is no chat.db at ${missing}: open Messages and sign in to iMessage on this Mac, or set channels.imessage.chatDbPath to the right file.\n`,
    );
    expect(FULL_DISK_ACCESS_MESSAGE).toContain('Privacy_AllFiles');
  });

  it('exits 1 when the file is not a Messages database', async () => {
    const result = await tail(['--db', join(fixture.dir, 'chat.db-wal')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pavise: .*(not a readable SQLite database|not a Messages database)/);
  });

  it('exits 1 and says so when Messages holds chat.db locked', async () => {
    const locked = createChatDb();
    try {
      const handle = locked.addHandle('+15550001111');
      const chat = locked.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
      locked.db.pragma('locking_mode = EXCLUSIVE');
      locked.addMessage({ chat, handle, text: 'mine alone', date: T0 });
      const result = await tail(['--db', locked.path, '--json']);
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr).toBe(`pavise: ${locked.path} is busy (Messages is writing to it); try again in a moment.\n`);
    } finally {
      locked.cleanup();
    }
  });

  it.each([
    [['--limit', '0'], /--limit must be a whole number from 1/],
    [['--limit', 'ten'], /--limit must be a whole number/],
    [['--since', '-3'], /--since/],
    [['--bogus'], /Unknown option '--bogus'.*Usage: pavise imessage tail/],
    [['extra'], /Usage: pavise imessage tail/],
    [['--db', ''], /--db needs a path/],
  ])('exits 2 on bad flags: %j', async (args, message) => {
    const result = await tail(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('exits 2 without a subcommand, or with an unknown one', async () => {
    for (const args of [['imessage'], ['imessage', 'follow']]) {
      const result = await runCli(args, { env: home.env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/Usage: pavise imessage tail \[--db PATH\] \[--since ROWID\] \[--limit N\] \[--json\]/);
    }
  });
});
