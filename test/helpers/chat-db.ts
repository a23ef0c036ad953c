/**
 * Builds a Messages chat.db in a temporary folder from the real schema (tables, indexes and Apple's triggers) in
 * test/fixtures/imessage/ — see test/fixtures/SOURCES.md for where it comes from. The database is in
 * WAL mode and this connection stays open, as Messages.app keeps it.
 *
 * Three of Apple's triggers call functions Messages.app registers at run time (delete_attachment_path,
 * before_delete_attachment_path, after_delete_message_plugin). The triggers are kept as they are and this
 * connection registers no-op stand-ins with `db.function(...)`, so deletes work here exactly as the schema says.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { unixMsToAppleNanoseconds } from '../../main/channels/imessage/apple-time.js';

export const FIXTURES = resolve(import.meta.dirname, '../fixtures');
export const IMESSAGE_FIXTURES = join(FIXTURES, 'imessage');
export const TYPEDSTREAM_DIR = join(IMESSAGE_FIXTURES, 'typedstream');
export const CHAT_DB_SCHEMA = join(IMESSAGE_FIXTURES, 'chatdb-schema-with-indexes-and-triggers.sql');

export interface ManifestEntry {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly root_class: string;
  readonly length_prefix: string;
  readonly declared_len_mismatch: boolean;
  readonly text: string;
}

export function typedstreamManifest(): ManifestEntry[] {
  return JSON.parse(readFileSync(join(TYPEDSTREAM_DIR, 'MANIFEST.json'), 'utf8')) as ManifestEntry[];
}

/** A real attributedBody blob from the fixtures, e.g. `typedstreamBlob('LongMessage.bin')`. */
export function typedstreamBlob(file: string): Buffer {
  return readFileSync(join(TYPEDSTREAM_DIR, file));
}

export interface ChatInput {
  /** `iMessage;-;+15550001111`, `any;-;someone@example.com`, `any;+;chat123…`. */
  readonly guid: string;
  /** 43 for a group, 45 for a 1:1 chat; derived from the guid when omitted. */
  readonly style?: number;
  readonly handles?: readonly number[];
  readonly displayName?: string;
  readonly service?: string;
}

export interface MessageInput {
  readonly chat: number;
  /** handle ROWID of the sender (or, for is_from_me in a 1:1 chat, of the recipient). */
  readonly handle?: number;
  readonly text?: string | null;
  /** attributedBody: bytes, or a fixture file name under typedstream/. */
  readonly body?: Buffer | string | null;
  /** Milliseconds since the Unix epoch (stored as Apple-epoch nanoseconds), unless `appleDate` is given. */
  readonly date?: number;
  /** The raw message.date value (nanoseconds, or seconds as in pre-10.13 databases). */
  readonly appleDate?: number | bigint;
  readonly isFromMe?: boolean;
  readonly guid?: string;
  readonly service?: string;
  readonly account?: string | null;
  readonly destinationCallerId?: string | null;
  /** Tapbacks: 2000–2007 added, 3000–3007 removed. */
  readonly associatedMessageType?: number;
  readonly associatedMessageGuid?: string | null;
  /** Milliseconds since the Unix epoch. */
  readonly dateEdited?: number;
  readonly itemType?: number;
}

export interface AttachmentInput {
  readonly filename: string | null;
  readonly mimeType?: string | null;
  readonly transferName?: string | null;
  readonly uti?: string | null;
}

export interface ChatDbFixture {
  readonly dir: string;
  readonly path: string;
  /** The writing connection (the stand-in for Messages.app). */
  readonly db: BetterSqlite3.Database;
  addHandle(id: string, service?: string): number;
  addChat(chat: ChatInput): number;
  addMessage(message: MessageInput): { rowid: number; guid: string };
  addAttachment(messageRowid: number, attachment: AttachmentInput): number;
  close(): void;
  /** Closes the connection and removes the folder. */
  cleanup(): void;
}

const APP_FUNCTIONS = [
  ['delete_attachment_path', 1],
  ['before_delete_attachment_path', 2],
  ['after_delete_message_plugin', 2],
] as const;

let guidCounter = 0;

export function createChatDb(options: { dir?: string } = {}): ChatDbFixture {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'pavise-chatdb-'));
  const path = join(dir, 'chat.db');
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  for (const [name, arity] of APP_FUNCTIONS) {
    db.function(name, { varargs: false, deterministic: false }, arity === 1 ? (_a: unknown) => null : (_a: unknown, _b: unknown) => null);
  }
  db.exec(readFileSync(CHAT_DB_SCHEMA, 'utf8'));

  const insertHandle = db.prepare('INSERT INTO handle (id, service, country, uncanonicalized_id) VALUES (?, ?, ?, ?)');
  const insertChat = db.prepare(
    'INSERT INTO chat (guid, style, state, chat_identifier, service_name, room_name, display_name) VALUES (?, ?, 3, ?, ?, ?, ?)',
  );
  const joinChatHandle = db.prepare('INSERT INTO chat_handle_join (chat_id, handle_id) VALUES (?, ?)');
  const insertMessage = db.prepare(`
    INSERT INTO message (guid, text, attributedBody, handle_id, service, account, destination_caller_id, date, date_read,
      date_delivered, is_from_me, is_finished, is_sent, is_delivered, associated_message_type, associated_message_guid,
      date_edited, item_type)
    VALUES (@guid, @text, @body, @handle, @service, @account, @callerId, @date, 0, 0, @fromMe, 1, @fromMe, 1, @assocType,
      @assocGuid, @edited, @itemType)`);
  const joinChatMessage = db.prepare('INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)');
  const insertAttachment = db.prepare(`
    INSERT INTO attachment (guid, original_guid, filename, uti, mime_type, transfer_name, transfer_state, total_bytes)
    VALUES (?, ?, ?, ?, ?, ?, 5, 1024)`);
  const joinMessageAttachment = db.prepare('INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (?, ?)');

  const addMessage = db.transaction((message: MessageInput): { rowid: number; guid: string } => {
    const guid = message.guid ?? `F1A2B3C4-0000-4000-8000-${String(++guidCounter).padStart(12, '0')}`;
    const body = typeof message.body === 'string' ? typedstreamBlob(message.body) : (message.body ?? null);
    const date = message.appleDate ?? unixMsToAppleNanoseconds(message.date ?? Date.now());
    const result = insertMessage.run({
      guid,
      text: message.text === undefined ? null : message.text,
      body,
      handle: message.handle ?? 0,
      service: message.service ?? 'iMessage',
      account: message.account === undefined ? (message.isFromMe ? 'E:owner@example.com' : null) : message.account,
      callerId: message.destinationCallerId ?? null,
      date,
      fromMe: message.isFromMe ? 1 : 0,
      assocType: message.associatedMessageType ?? 0,
      assocGuid: message.associatedMessageGuid ?? null,
      edited: message.dateEdited === undefined ? 0 : unixMsToAppleNanoseconds(message.dateEdited),
      itemType: message.itemType ?? 0,
    });
    const rowid = Number(result.lastInsertRowid);
    joinChatMessage.run(message.chat, rowid, date);
    return { rowid, guid };
  });

  const fixture: ChatDbFixture = {
    dir,
    path,
    db,
    addHandle(id, service = 'iMessage') {
      return Number(insertHandle.run(id, service, id.startsWith('+1') ? 'us' : null, id).lastInsertRowid);
    },
    addChat(chat) {
      const style = chat.style ?? (chat.guid.includes(';+;') ? 43 : 45);
      const identifier = chat.guid.split(';').at(-1) ?? chat.guid;
      const chatId = Number(
        insertChat.run(chat.guid, style, identifier, chat.service ?? 'iMessage', style === 43 ? identifier : null, chat.displayName ?? null)
          .lastInsertRowid,
      );
      for (const handle of chat.handles ?? []) joinChatHandle.run(chatId, handle);
      return chatId;
    },
    addMessage: (message) => addMessage(message),
    addAttachment(messageRowid, attachment) {
      const guid = `at_0_${String(++guidCounter).padStart(8, '0')}`;
      const id = Number(
        insertAttachment.run(guid, guid, attachment.filename, attachment.uti ?? null, attachment.mimeType ?? null, attachment.transferName ?? null)
          .lastInsertRowid,
      );
      joinMessageAttachment.run(messageRowid, id);
      return id;
    },
    close() {
      if (db.open) db.close();
    },
    cleanup() {
      fixture.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
