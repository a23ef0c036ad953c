import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { InboundKind } from '../channel.js';
import { SETTINGS_URLS } from '../../common/settings-urls.js';
import { appleTimeToUnixMs } from './apple-time.js';
import { decodeAttributedBody } from './typedstream.js';

/**
 * Reads Messages' chat.db without ever writing to it: the connection is read-only and query-only, waits at most a
 * moment for Messages' locks, and every read is one short statement (no read transaction is held between calls, so
 * Messages' checkpoints are never blocked). Values reach SQL only as bound parameters.
 */

export interface ChatDbAttachment {
  /** `attachment.filename` with a leading `~` expanded. Listed, never opened. */
  readonly path: string | null;
  readonly mimeType: string | null;
  /** `attachment.transfer_name`: the file name the sender chose. */
  readonly name: string | null;
}

export interface ChatDbMessage {
  readonly rowid: number;
  readonly guid: string;
  /** Milliseconds since the Unix epoch. */
  readonly date: number;
  /** `handle.id` of whoever wrote it; for the owner's own messages, the account they were sent from ('' if unknown). */
  readonly sender: string;
  /** `chat.guid` (`iMessage;-;+1555…`, `any;+;chat…`); null when the message belongs to no chat. */
  readonly chatId: string | null;
  readonly isGroup: boolean;
  readonly isFromMe: boolean;
  /** `message.text`, else the decoded `attributedBody`; '' when neither gives text. */
  readonly text: string;
  /** Why `attributedBody` could not be decoded (then `text` is ''). */
  readonly decodeError?: string;
  readonly attachments: readonly ChatDbAttachment[];
  /** Tapbacks (associated_message_type 2000–3007) are reactions; a message with date_edited set is an edit. */
  readonly kind: InboundKind;
  /** 'iMessage', 'SMS', 'RCS'… */
  readonly service: string | null;
  /** For a reaction, the guid of the message it reacts to (with Apple's `p:0/` part prefix). */
  readonly associatedMessageGuid: string | null;
  /** 0 for a message; other values are group events (renamed, joined, left…) that carry no text. */
  readonly itemType: number;
}

export type ChatDbAccessReason = 'full_disk_access' | 'missing' | 'not_readable' | 'not_a_database';

export const FULL_DISK_ACCESS_MESSAGE =
  'Pavise cannot read chat.db: give it Full Disk Access in System Settings → Privacy & Security → Full Disk Access ' +
  `(${SETTINGS_URLS['full-disk-access']}), then restart it.`;

/** chat.db cannot be read for a reason the owner has to fix; `message` says how. */
export class ChatDbAccessError extends Error {
  override readonly name = 'ChatDbAccessError';

  constructor(
    readonly reason: ChatDbAccessReason,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

function errorCode(error: unknown): string | undefined {
  if (error instanceof BetterSqlite3.SqliteError) return error.code;
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string') return (error as NodeJS.ErrnoException).code;
  return undefined;
}

/**
 * Sorts a failure to open or read chat.db: a `ChatDbAccessError` when the owner must act (on macOS a refused
 * read means Full Disk Access is missing), or undefined when it is worth retrying (SQLITE_BUSY, a passing I/O error).
 */
export function classifyChatDbError(error: unknown, path: string, platform: NodeJS.Platform = process.platform): ChatDbAccessError | undefined {
  if (error instanceof ChatDbAccessError) return error;
  const code = errorCode(error) ?? '';
  if (code === 'ENOENT') {
    return new ChatDbAccessError(
      'missing',
      path,
      `There is no chat.db at ${path}: open Messages and sign in to iMessage on this Mac, or set channels.imessage.chatDbPath to the right file.`,
      { cause: error },
    );
  }
  if (code === 'EPERM' || code === 'EACCES' || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_AUTH') || code.startsWith('SQLITE_PERM')) {
    if (platform === 'darwin') return new ChatDbAccessError('full_disk_access', path, FULL_DISK_ACCESS_MESSAGE, { cause: error });
    return new ChatDbAccessError('not_readable', path, `Pavise cannot read ${path} (${code}); check that the file and its folder are readable.`, {
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
    return new ChatDbAccessError('not_a_database', path, `${path} is not a readable SQLite database (${code}); point Pavise at Messages' chat.db.`, {
      cause: error,
    });
  }
  return undefined;
}

const REQUIRED_TABLES = ['message', 'handle', 'chat', 'chat_message_join', 'attachment', 'message_attachment_join'] as const;

/** Columns that older (or newer) chat.db schemas may lack, and what stands in for them. Fixed text only. */
const OPTIONAL_COLUMNS = {
  attributedBody: 'NULL',
  service: 'NULL',
  account: 'NULL',
  destination_caller_id: 'NULL',
  associated_message_type: '0',
  associated_message_guid: 'NULL',
  date_edited: '0',
  item_type: '0',
} as const;

const MAX_BATCH = 100_000;
const DEFAULT_BUSY_TIMEOUT_MS = 250;

export interface ChatDbReaderOptions {
  /** What `~` in attachment paths expands to; the current user's home by default. */
  readonly home?: string;
  /** How long a read waits for Messages' lock before failing with SQLITE_BUSY. */
  readonly busyTimeoutMs?: number;
  readonly platform?: NodeJS.Platform;
}

interface Row {
  rowid: number;
  guid: string;
  text: string | null;
  body: Buffer | null;
  date: number | null;
  fromMe: number;
  service: string | null;
  account: string | null;
  callerId: string | null;
  assocType: number | null;
  assocGuid: string | null;
  edited: number | null;
  itemType: number | null;
  handle: string | null;
  chatGuid: string | null;
  chatStyle: number | null;
  attachments: string | null;
}

type Statement = BetterSqlite3.Statement<unknown[], Row>;

export class ChatDbReader {
  private readonly since: Statement;
  private readonly sinceWithoutAttachments: Statement;
  private readonly latest: Statement;
  private readonly maxRowId: BetterSqlite3.Statement<[], { rowid: number | null }>;
  private readonly home: string;
  private readonly platform: NodeJS.Platform;

  private constructor(
    private readonly db: BetterSqlite3.Database,
    readonly path: string,
    options: ChatDbReaderOptions,
  ) {
    this.home = options.home ?? homedir();
    this.platform = options.platform ?? process.platform;
    const columns = new Set(db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('message')").all().map((row) => row.name));
    const column = (name: keyof typeof OPTIONAL_COLUMNS) => (columns.has(name) ? `m.${name}` : OPTIONAL_COLUMNS[name]);
    const attachments = `(SELECT json_group_array(json_array(f.filename, f.mime_type, f.transfer_name)) FROM (
           SELECT a.filename, a.mime_type, a.transfer_name FROM message_attachment_join j
           JOIN attachment a ON a.ROWID = j.attachment_id WHERE j.message_id = m.ROWID ORDER BY a.ROWID) f)`;
    const select = (withAttachments: boolean) => `
      SELECT m.ROWID AS rowid, m.guid AS guid, m.text AS text, ${column('attributedBody')} AS body, m.date AS date,
        m.is_from_me AS fromMe, ${column('service')} AS service, ${column('account')} AS account,
        ${column('destination_caller_id')} AS callerId, ${column('associated_message_type')} AS assocType,
        ${column('associated_message_guid')} AS assocGuid, ${column('date_edited')} AS edited, ${column('item_type')} AS itemType,
        h.id AS handle, c.guid AS chatGuid, c.style AS chatStyle, ${withAttachments ? attachments : 'NULL'} AS attachments
      FROM message m
      LEFT JOIN handle h ON h.ROWID = m.handle_id
      LEFT JOIN chat c ON c.ROWID = (SELECT cmj.chat_id FROM chat_message_join cmj WHERE cmj.message_id = m.ROWID ORDER BY cmj.chat_id LIMIT 1)`;
    this.since = db.prepare<unknown[], Row>(`${select(true)} WHERE m.ROWID > ? ORDER BY m.ROWID LIMIT ?`);
    this.sinceWithoutAttachments = db.prepare<unknown[], Row>(`${select(false)} WHERE m.ROWID > ? ORDER BY m.ROWID LIMIT ?`);
    this.latest = db.prepare<unknown[], Row>(`${select(true)} ORDER BY m.ROWID DESC LIMIT ?`);
    this.maxRowId = db.prepare<[], { rowid: number | null }>('SELECT MAX(ROWID) AS rowid FROM message');
  }

  /** Opens chat.db read-only. Throws a `ChatDbAccessError` when the owner has to do something about it. */
  static open(path: string, options: ChatDbReaderOptions = {}): ChatDbReader {
    const platform = options.platform ?? process.platform;
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new RangeError(`busyTimeoutMs must be a non-negative integer, not ${busyTimeoutMs}.`);
    let db: BetterSqlite3.Database | undefined;
    try {
      // Tells "missing" apart from "not allowed": SQLite reports both as SQLITE_CANTOPEN.
      if (!statSync(path).isFile()) {
        throw new ChatDbAccessError('not_a_database', path, `${path} is not a file; point Pavise at Messages' chat.db.`);
      }
      db = new BetterSqlite3(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs });
      db.pragma('query_only = ON');
      // Reads only move forward through new rows: a small page cache (better-sqlite3's default is 16 MiB) is enough.
      db.pragma('cache_size = -1024');
      const present = new Set(
        db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((row) => row.name),
      );
      const missing = REQUIRED_TABLES.filter((table) => !present.has(table));
      if (missing.length > 0) {
        throw new ChatDbAccessError(
          'not_a_database',
          path,
          `${path} is not a Messages database (it has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}); point Pavise at Messages' chat.db.`,
        );
      }
      return new ChatDbReader(db, path, options);
    } catch (error) {
      db?.close();
      throw classifyChatDbError(error, path, platform) ?? error;
    }
  }

  /** The newest message's ROWID; 0 for an empty database. */
  latestRowId(): number {
    return this.read(() => this.maxRowId.get()?.rowid ?? 0);
  }

  /**
   * Up to `limit` messages with ROWID greater than `rowid`, oldest first. `attachments: false` leaves every message's
   * attachment list empty without reading it (a history import keeps only text; the lookups were an eighth of its
   * reading).
   */
  readSince(rowid: number, limit: number, options: { readonly attachments?: boolean } = {}): ChatDbMessage[] {
    if (!Number.isSafeInteger(rowid) || rowid < 0) throw new RangeError(`rowid must be a non-negative integer, not ${rowid}.`);
    checkLimit(limit);
    const statement = options.attachments === false ? this.sinceWithoutAttachments : this.since;
    return this.read(() => statement.all(rowid, limit)).map((row) => this.decode(row));
  }

  /** The newest `limit` messages, oldest first. */
  readLatest(limit: number): ChatDbMessage[] {
    checkLimit(limit);
    return this.read(() => this.latest.all(limit))
      .reverse()
      .map((row) => this.decode(row));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw classifyChatDbError(error, this.path, this.platform) ?? error;
    }
  }

  private decode(row: Row): ChatDbMessage {
    const isFromMe = row.fromMe === 1;
    let text = row.text ?? '';
    let decodeError: string | undefined;
    if (text.length === 0 && row.body !== null && row.body.length > 0) {
      const decoded = decodeAttributedBody(row.body);
      if (decoded.ok) text = decoded.text;
      else decodeError = decoded.error;
    }
    const assocType = row.assocType ?? 0;
    const kind: InboundKind = assocType >= 2000 && assocType <= 3007 ? 'reaction' : (row.edited ?? 0) > 0 ? 'edit' : 'message';
    const chatId = row.chatGuid;
    const message: ChatDbMessage = {
      rowid: row.rowid,
      guid: row.guid,
      date: row.date ? appleTimeToUnixMs(row.date) : 0,
      sender: isFromMe ? ownAccount(row) : normaliseHandle(row.handle ?? ''),
      chatId,
      isGroup: row.chatStyle === 43 || (chatId !== null && chatId.includes(';+;')),
      isFromMe,
      text,
      attachments: row.attachments === null || row.attachments === '[]' ? [] : this.attachments(row.attachments),
      kind,
      service: row.service,
      associatedMessageGuid: row.assocGuid,
      itemType: row.itemType ?? 0,
    };
    return decodeError === undefined ? message : { ...message, decodeError };
  }

  private attachments(json: string): ChatDbAttachment[] {
    const list = JSON.parse(json) as [string | null, string | null, string | null][];
    return list.map(([filename, mimeType, name]) => ({ path: filename === null ? null : this.expandHome(filename), mimeType, name }));
  }

  private expandHome(filename: string): string {
    if (filename === '~') return this.home;
    return filename.startsWith('~/') ? join(this.home, filename.slice(2)) : filename;
  }
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_BATCH) throw new RangeError(`limit must be an integer from 1 to ${MAX_BATCH}, not ${limit}.`);
}

/** Emails compare lower-cased; phone numbers are stored in E.164 already. */
function normaliseHandle(handle: string): string {
  return handle.includes('@') ? handle.toLowerCase() : handle;
}

/** The owner's address a message was sent from: `destination_caller_id`, else `account` without its `E:`/`P:` prefix. */
function ownAccount(row: Row): string {
  if (row.callerId) return normaliseHandle(row.callerId);
  if (row.account) return normaliseHandle(row.account.replace(/^[A-Za-z]:/, ''));
  return '';
}
