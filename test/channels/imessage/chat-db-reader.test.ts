/**
 * ChatDbReader on a chat.db built from the real Messages schema with Apple's indexes and triggers, and real
 * attributedBody blobs (both from test/fixtures/imessage/; see test/fixtures/SOURCES.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { APPLE_EPOCH_MS, unixMsToAppleSeconds } from '../../../main/channels/imessage/apple-time.js';
import {
  ChatDbAccessError,
  ChatDbReader,
  classifyChatDbError,
  FULL_DISK_ACCESS_MESSAGE,
} from '../../../main/channels/imessage/chat-db-reader.js';
import { createChatDb, typedstreamBlob, type ChatDbFixture } from '../../helpers/chat-db.js';

const T0 = Date.UTC(2025, 2, 14, 9, 30, 0, 250);

describe('ChatDbReader', () => {
  let fixture: ChatDbFixture;
  let reader: ChatDbReader | undefined;

  beforeEach(() => {
    fixture = createChatDb();
  });
  afterEach(() => {
    reader?.close();
    reader = undefined;
    fixture.cleanup();
  });

  const open = () => (reader = ChatDbReader.open(fixture.path, { home: '/Users/owner' }));

  it('reads 1:1 and group chats in their GUID forms', () => {
    const alice = fixture.addHandle('+15550001111');
    const bob = fixture.addHandle('Bob@Example.com');
    const oneToOne = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [alice] });
    const anyOneToOne = fixture.addChat({ guid: 'any;-;bob@example.com', handles: [bob] });
    const group = fixture.addChat({ guid: 'any;+;chat123456789012345678', handles: [alice, bob], displayName: 'Climbing' });
    const styledGroup = fixture.addChat({ guid: 'iMessage;-;chat987654321', style: 43, handles: [alice, bob] });
    fixture.addMessage({ chat: oneToOne, handle: alice, text: 'one', date: T0 });
    fixture.addMessage({ chat: anyOneToOne, handle: bob, text: 'two', date: T0 + 1 });
    fixture.addMessage({ chat: group, handle: bob, text: 'three', date: T0 + 2 });
    fixture.addMessage({ chat: styledGroup, handle: alice, text: 'four', date: T0 + 3, service: 'SMS' });

    const messages = open().readSince(0, 10);
    expect(messages.map((m) => [m.rowid, m.chatId, m.isGroup, m.sender, m.text, m.service])).toEqual([
      [1, 'iMessage;-;+15550001111', false, '+15550001111', 'one', 'iMessage'],
      [2, 'any;-;bob@example.com', false, 'bob@example.com', 'two', 'iMessage'],
      [3, 'any;+;chat123456789012345678', true, 'bob@example.com', 'three', 'iMessage'],
      [4, 'iMessage;-;chat987654321', true, '+15550001111', 'four', 'SMS'],
    ]);
    expect(messages.map((m) => m.date)).toEqual([T0, T0 + 1, T0 + 2, T0 + 3]);
    expect(messages[0]).toMatchObject({ kind: 'message', isFromMe: false, attachments: [], itemType: 0 });
    expect(messages[0]?.guid).toMatch(/^[0-9A-F-]{36}$/);
  });

  it('reads in ROWID order after the given ROWID, a batch at a time', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    for (let i = 1; i <= 7; i++) fixture.addMessage({ chat, handle, text: `m${i}`, date: T0 + i });
    open();
    expect(reader?.latestRowId()).toBe(7);
    expect(reader?.readSince(0, 3).map((m) => m.text)).toEqual(['m1', 'm2', 'm3']);
    expect(reader?.readSince(3, 3).map((m) => m.text)).toEqual(['m4', 'm5', 'm6']);
    expect(reader?.readSince(6, 3).map((m) => m.text)).toEqual(['m7']);
    expect(reader?.readSince(7, 3)).toEqual([]);
    expect(reader?.readLatest(2).map((m) => m.rowid)).toEqual([6, 7]);
    expect(() => reader?.readSince(-1, 3)).toThrow(RangeError);
    expect(() => reader?.readSince(0, 0)).toThrow(RangeError);
  });

  it('reports 0 as the newest ROWID of an empty database', () => {
    expect(open().latestRowId()).toBe(0);
    expect(reader?.readSince(0, 10)).toEqual([]);
  });

  it('decodes attributedBody when text is NULL, and prefers text when both are there', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    fixture.addMessage({ chat, handle, text: null, body: 'LongMessage.bin', date: T0 });
    fixture.addMessage({ chat, handle, text: null, body: 'WeirdText.bin', date: T0 });
    fixture.addMessage({ chat, handle, text: 'from the text column', body: 'Code.bin', date: T0 });
    fixture.addMessage({ chat, handle, text: null, body: null, date: T0 });
    const [long, weird, both, empty] = open().readSince(0, 10);
    expect(long?.text).toMatch(/^Sed nibh velit, sodales et facilisis ut/);
    expect(long?.text.endsWith('Curabitur consectetur cursus sem nec accumsan.')).toBe(true);
    expect(weird?.text).toBe('𝖍𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉');
    expect(both?.text).toBe('from the text column');
    expect(empty).toMatchObject({ text: '' });
    expect(empty).not.toHaveProperty('decodeError');
  });

  it('gives a truncated or garbage attributedBody an error of its own and reads on', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    const code = typedstreamBlob('Code.bin');
    for (const cut of [1, 12, 40, 130, code.length - 1]) fixture.addMessage({ chat, handle, body: code.subarray(0, cut), date: T0 });
    fixture.addMessage({ chat, handle, body: Buffer.from('this is not a typedstream at all'), date: T0 });
    fixture.addMessage({ chat, handle, body: 'Code.bin', date: T0 });
    const messages = open().readSince(0, 100);
    expect(messages).toHaveLength(7);
    for (const broken of messages.slice(0, 6)) {
      expect(broken.text).toBe('');
      expect(broken.decodeError).toMatch(/^cannot decode attributedBody: /);
    }
    expect(messages[0]?.decodeError).toContain('truncated');
    expect(messages[5]?.decodeError).toContain('not a typedstream');
    expect(messages[6]).toMatchObject({ text: "000123 is your security code. Don't share your code." });
    expect(messages[6]).not.toHaveProperty('decodeError');
  });

  it('lists attachments with ~ expanded, in order, without opening them', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    const photo = fixture.addMessage({ chat, handle, body: 'Attachment.bin', date: T0 });
    // A FIFO: opening it to read would block until a writer came, hanging the test.
    const fifo = join(fixture.dir, 'voice.caf');
    execFileSync('mkfifo', [fifo]);
    fixture.addAttachment(photo.rowid, {
      filename: '~/Library/Messages/Attachments/1a/10/at_0_2E5F12C3/Messages Image(785748029).png',
      mimeType: 'image/png',
      transferName: 'Messages Image(785748029).png',
      uti: 'public.png',
    });
    fixture.addAttachment(photo.rowid, { filename: fifo, mimeType: 'audio/x-caf', transferName: 'Audio Message.caf' });
    fixture.addAttachment(photo.rowid, { filename: null, mimeType: null, transferName: null });
    fixture.addMessage({ chat, handle, text: 'no attachments', date: T0 });

    const [withFiles, plain] = open().readSince(0, 10);
    expect(withFiles?.text).toBe('￼This is how the notes look to me fyi, in case it helps make sense of anything');
    expect(withFiles?.attachments).toEqual([
      {
        path: '/Users/owner/Library/Messages/Attachments/1a/10/at_0_2E5F12C3/Messages Image(785748029).png',
        mimeType: 'image/png',
        name: 'Messages Image(785748029).png',
      },
      { path: fifo, mimeType: 'audio/x-caf', name: 'Audio Message.caf' },
      { path: null, mimeType: null, name: null },
    ]);
    expect(plain?.attachments).toEqual([]);
    // A history import asks for text only: the same messages, attachment lists left unread.
    const textOnly = open().readSince(0, 10, { attachments: false });
    expect(textOnly.map((message) => message.attachments)).toEqual([[], []]);
    expect(textOnly.map(({ attachments: _, ...rest }) => rest)).toEqual([withFiles, plain].map((message) => {
      const { attachments: _, ...rest } = message!;
      return rest;
    }));
  });

  it('recognises tapbacks as reactions and edited messages as edits', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    const original = fixture.addMessage({ chat, handle, text: 'dinner at 8?', date: T0 });
    const target = `p:0/${original.guid}`;
    fixture.addMessage({ chat, handle, text: 'Loved “dinner at 8?”', associatedMessageType: 2000, associatedMessageGuid: target, date: T0 + 1 });
    fixture.addMessage({ chat, handle, text: 'Emphasized “dinner at 8?”', associatedMessageType: 2004, associatedMessageGuid: target, date: T0 + 2 });
    fixture.addMessage({ chat, handle, text: 'Removed a heart from “dinner at 8?”', associatedMessageType: 3000, associatedMessageGuid: target, date: T0 + 3 });
    fixture.addMessage({ chat, handle, text: null, body: 'EditedWithFormatting.bin', dateEdited: T0 + 60_000, date: T0 + 4 });
    fixture.addMessage({ chat, handle, text: 'a reply in a thread', associatedMessageType: 0, date: T0 + 5 });
    const kinds = open().readSince(0, 10).map((m) => [m.kind, m.text, m.associatedMessageGuid]);
    expect(kinds).toEqual([
      ['message', 'dinner at 8?', null],
      ['reaction', 'Loved “dinner at 8?”', target],
      ['reaction', 'Emphasized “dinner at 8?”', target],
      ['reaction', 'Removed a heart from “dinner at 8?”', target],
      ['edit', 'Test', null],
      ['message', 'a reply in a thread', null],
    ]);
  });

  it("names the owner's own account as the sender of is_from_me messages", () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    const group = fixture.addChat({ guid: 'any;+;chat42', handles: [handle] });
    fixture.addMessage({ chat, handle, text: 'sent from my Mac', isFromMe: true, destinationCallerId: 'Owner@iCloud.com', date: T0 });
    fixture.addMessage({ chat: group, text: 'to the group', isFromMe: true, account: 'p:+15559990000', date: T0 });
    fixture.addMessage({ chat, handle, text: 'no account known', isFromMe: true, account: null, date: T0 });
    const messages = open().readSince(0, 10);
    expect(messages.map((m) => [m.isFromMe, m.sender, m.isGroup])).toEqual([
      [true, 'owner@icloud.com', false],
      [true, '+15559990000', true],
      [true, '', false],
    ]);
  });

  it('marks group events (item_type ≠ 0) so they can be skipped', () => {
    const handle = fixture.addHandle('+15550001111');
    const group = fixture.addChat({ guid: 'any;+;chat42', handles: [handle] });
    fixture.addMessage({ chat: group, handle, text: null, itemType: 2, date: T0 });
    expect(open().readSince(0, 10)[0]).toMatchObject({ itemType: 2, text: '' });
  });

  it('reads dates stored in seconds (databases from before macOS 10.13)', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    fixture.addMessage({ chat, handle, text: 'old', appleDate: unixMsToAppleSeconds(T0) });
    expect(open().readSince(0, 1)[0]?.date).toBe(T0 - 250);
  });

  it('reads a schema without the newer columns', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pavise-oldchatdb-'));
    try {
      const path = join(dir, 'chat.db');
      const db = new BetterSqlite3(path);
      db.exec(`
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, handle_id INTEGER DEFAULT 0, date INTEGER, is_from_me INTEGER DEFAULT 0);
        CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, service TEXT NOT NULL);
        CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER);
        CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER, PRIMARY KEY (chat_id, message_id));
        CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, filename TEXT, mime_type TEXT, transfer_name TEXT);
        CREATE TABLE message_attachment_join (message_id INTEGER, attachment_id INTEGER);
        INSERT INTO handle (id, service) VALUES ('+15550001111', 'iMessage');
        INSERT INTO chat (guid, style) VALUES ('iMessage;-;+15550001111', 45);
        INSERT INTO message (guid, text, handle_id, date) VALUES ('OLD-1', 'from 2012', 1, 350000000);
        INSERT INTO chat_message_join VALUES (1, 1);
      `);
      db.close();
      const old = ChatDbReader.open(path);
      try {
        expect(old.readSince(0, 5)).toEqual([
          expect.objectContaining({ guid: 'OLD-1', text: 'from 2012', kind: 'message', date: APPLE_EPOCH_MS + 350_000_000_000, service: null }),
        ]);
      } finally {
        old.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds no read transaction between reads: Messages can still checkpoint and truncate its WAL', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    for (let i = 0; i < 50; i++) fixture.addMessage({ chat, handle, text: `m${i}`, date: T0 });
    open().readSince(0, 10);
    reader?.latestRowId();
    const [result] = fixture.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
    expect(result?.busy).toBe(0);
    fixture.addMessage({ chat, handle, text: 'after the checkpoint', date: T0 });
    expect(reader?.readSince(50, 10).map((m) => m.text)).toEqual(['after the checkpoint']);
  });

  it('never writes: the connection is read-only', () => {
    const handle = fixture.addHandle('+15550001111');
    const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [handle] });
    fixture.addMessage({ chat, handle, text: 'hi', date: T0 });
    open();
    const db = (reader as unknown as { db: BetterSqlite3.Database }).db;
    expect(db.readonly).toBe(true);
    expect(() => db.prepare("INSERT INTO handle (id, service) VALUES ('+15550002222', 'iMessage')").run()).toThrow(/readonly|read-only|query_only/i);
  });
});

describe('chat.db access errors', () => {
  it('says when there is no chat.db at the path', () => {
    const missing = join(tmpdir(), 'pavise-no-such-dir', 'chat.db');
    let caught: unknown;
    try {
      ChatDbReader.open(missing);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ChatDbAccessError);
    expect(caught).toMatchObject({ reason: 'missing', message: expect.stringContaining(`There is no chat.db at ${missing}`) });
  });

  it('says a file that is not a Messages database is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pavise-notchatdb-'));
    try {
      writeFileSync(join(dir, 'garbage.db'), 'x'.repeat(4096));
      expect(() => ChatDbReader.open(join(dir, 'garbage.db'))).toThrow(expect.objectContaining({ name: 'ChatDbAccessError', reason: 'not_a_database' }));
      const other = new BetterSqlite3(join(dir, 'other.db'));
      other.exec('CREATE TABLE notes (id INTEGER)');
      other.close();
      expect(() => ChatDbReader.open(join(dir, 'other.db'))).toThrow(/is not a Messages database \(it has no message, handle, chat/);
      expect(() => ChatDbReader.open(dir)).toThrow(expect.objectContaining({ reason: 'not_a_database' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on macOS, names the Full Disk Access pane for a refused read', () => {
    const refusals = [
      Object.assign(new Error('EPERM: operation not permitted, stat'), { code: 'EPERM', syscall: 'stat' }),
      Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }),
      new BetterSqlite3.SqliteError('unable to open database file', 'SQLITE_CANTOPEN'),
      new BetterSqlite3.SqliteError('authorization denied', 'SQLITE_AUTH'),
    ];
    for (const refusal of refusals) {
      const classified = classifyChatDbError(refusal, '/Users/owner/Library/Messages/chat.db', 'darwin');
      expect(classified).toMatchObject({ name: 'ChatDbAccessError', reason: 'full_disk_access', message: FULL_DISK_ACCESS_MESSAGE });
    }
    expect(FULL_DISK_ACCESS_MESSAGE).toBe(
      'Pavise cannot read chat.db: give it Full Disk Access in System Settings → Privacy & Security → Full Disk Access ' +
        '(x-apple.systempreferences:com.apple.preference.security?Privacy_AllFiles), then restart it.',
    );
    expect(classifyChatDbError(refusals[0], '/x/chat.db', 'linux')).toMatchObject({ reason: 'not_readable', message: expect.stringContaining('EPERM') });
  });

  it('leaves passing trouble (a busy or locked database) to be retried', () => {
    expect(classifyChatDbError(new BetterSqlite3.SqliteError('database is locked', 'SQLITE_BUSY'), '/x/chat.db', 'darwin')).toBeUndefined();
    expect(classifyChatDbError(new BetterSqlite3.SqliteError('locked', 'SQLITE_LOCKED_SHAREDCACHE'), '/x/chat.db', 'darwin')).toBeUndefined();
    expect(classifyChatDbError(new Error('something else'), '/x/chat.db', 'darwin')).toBeUndefined();
  });
});
