import { randomUUID } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { toolCallsOf, type AssistantMessage, type Message, type Usage } from '../common/messages.js';

export interface SessionInfo {
  readonly id: string;
  /** Where the conversation lives: 'local' or 'cli', later 'telegram:<chat id>' and the like. */
  readonly key: string;
  readonly title: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface AppendedMessage {
  /** Row id in `messages`. */
  readonly messageId: number;
  /** Position in the session, from 1. */
  readonly seq: number;
}

/** Token totals for one provider and model. */
export interface ModelUsage extends Usage {
  readonly provider: string;
  readonly model: string;
}

export interface SessionStoreOptions {
  readonly now?: () => number;
  readonly newId?: () => string;
}

const MAX_LIST = 1000;

interface SessionRow {
  id: string;
  key: string;
  title: string | null;
  created_at: number;
  updated_at: number;
}

interface UsageRow {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

const SESSION_COLUMNS = 'id, key, title, created_at, updated_at';
const USAGE_SUMS = `COALESCE(SUM(input_tokens), 0) AS inputTokens, COALESCE(SUM(output_tokens), 0) AS outputTokens,
  COALESCE(SUM(cache_read_tokens), 0) AS cacheReadTokens, COALESCE(SUM(cache_write_tokens), 0) AS cacheWriteTokens`;

/**
 * Conversations, stored message by message as they happen, so a turn cut off by a crash continues on the next
 * start with any provider. `messages.content` is the whole Message as JSON and `messages()` returns exactly what
 * was appended (for JSON-representable values); `tool_calls` and `usage` rows are derived in the same transaction.
 */
export class SessionStore {
  readonly #now: () => number;
  readonly #newId: () => string;
  readonly #insertSession: Statement<[string, string, string | null, number, number]>;
  readonly #getSession: Statement<[string], SessionRow>;
  readonly #latestSession: Statement<[string], SessionRow>;
  readonly #listAll: Statement<[number], SessionRow>;
  readonly #listByKey: Statement<[string, number], SessionRow>;
  readonly #touchSession: Statement<[number, string]>;
  readonly #nextSeq: Statement<[string], { seq: number }>;
  readonly #insertMessage: Statement<[string, number, string, string | null, string, number]>;
  readonly #insertToolCall: Statement<[string, number, string, string, string, number]>;
  readonly #finishToolCall: Statement<[number, number, string, string]>;
  readonly #insertUsage: Statement<[string, number, string, string, number, number, number, number, number]>;
  readonly #selectMessages: Statement<[string], { content: string }>;
  readonly #sessionUsage: Statement<[string], UsageRow>;
  readonly #usageSince: Statement<[number], ModelUsage>;
  readonly #append: (sessionId: string, message: Message, encoded: EncodedMessage) => AppendedMessage;

  constructor(db: Database, options: SessionStoreOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#newId = options.newId ?? randomUUID;
    this.#insertSession = db.prepare(
      'INSERT INTO sessions (id, key, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#getSession = db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = ?`);
    this.#latestSession = db.prepare(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE key = ? ORDER BY updated_at DESC, rowid DESC LIMIT 1`,
    );
    this.#listAll = db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY updated_at DESC, rowid DESC LIMIT ?`);
    this.#listByKey = db.prepare(
      `SELECT ${SESSION_COLUMNS} FROM sessions WHERE key = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?`,
    );
    this.#touchSession = db.prepare('UPDATE sessions SET updated_at = MAX(updated_at, ?) WHERE id = ?');
    this.#nextSeq = db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM messages WHERE session_id = ?');
    this.#insertMessage = db.prepare(
      'INSERT INTO messages (session_id, seq, role, provenance, content, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#insertToolCall = db.prepare(
      'INSERT INTO tool_calls (session_id, message_id, call_id, name, input, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // Call ids are not unique across a session (some OpenAI-compatible servers reuse them), so a result settles
    // the newest still-open call with its id.
    this.#finishToolCall = db.prepare(
      `UPDATE tool_calls SET is_error = ?, result_message_id = ?
       WHERE id = (SELECT id FROM tool_calls WHERE session_id = ? AND call_id = ? AND result_message_id IS NULL
                   ORDER BY id DESC LIMIT 1)`,
    );
    this.#insertUsage = db.prepare(
      `INSERT INTO usage (session_id, message_id, provider, model, input_tokens, output_tokens, cache_read_tokens,
                          cache_write_tokens, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#selectMessages = db.prepare('SELECT content FROM messages WHERE session_id = ? ORDER BY seq');
    this.#sessionUsage = db.prepare(`SELECT ${USAGE_SUMS} FROM usage WHERE session_id = ?`);
    // Model calls made outside turns (memory extraction) count too.
    this.#usageSince = db.prepare(
      `SELECT provider, model, ${USAGE_SUMS} FROM (
         SELECT provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, created_at FROM usage
         UNION ALL
         SELECT provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, created_at FROM background_usage
       ) WHERE created_at >= ? GROUP BY provider, model ORDER BY provider, model`,
    );

    const append = db.transaction((sessionId: string, message: Message, encoded: EncodedMessage): AppendedMessage => {
      const now = this.#now();
      if (this.#touchSession.run(now, sessionId).changes === 0) {
        throw new Error(`Session "${sessionId}" does not exist; create it before appending messages.`);
      }
      const { seq } = this.#nextSeq.get(sessionId) ?? { seq: 1 };
      const messageId = Number(
        this.#insertMessage.run(sessionId, seq, message.role, encoded.provenance, encoded.content, now).lastInsertRowid,
      );
      if (message.role === 'assistant') {
        encoded.toolCalls.forEach((call) => {
          this.#insertToolCall.run(sessionId, messageId, call.id, call.name, call.input, now);
        });
        const usage = message.usage;
        this.#insertUsage.run(
          sessionId,
          messageId,
          message.provider,
          message.model,
          usage.inputTokens,
          usage.outputTokens,
          usage.cacheReadTokens,
          usage.cacheWriteTokens,
          now,
        );
      } else if (message.role === 'toolResult') {
        this.#finishToolCall.run(message.isError ? 1 : 0, messageId, sessionId, message.toolCallId);
      }
      return { messageId, seq };
    });
    // IMMEDIATE: take the write lock before reading the next seq, so two processes never pick the same one.
    this.#append = (sessionId, message, encoded) => append.immediate(sessionId, message, encoded);
  }

  create(key: string, title?: string): SessionInfo {
    if (key.length === 0) throw new Error('A session key must not be empty.');
    const id = this.#newId();
    const now = this.#now();
    this.#insertSession.run(id, key, title ?? null, now, now);
    return { id, key, title, createdAt: now, updatedAt: now };
  }

  get(id: string): SessionInfo | undefined {
    const row = this.#getSession.get(id);
    return row && toInfo(row);
  }

  /** The most recently updated session with this key. */
  /** The id of the most recent session under `key`, or of a new one (always new when `fresh`). */
  current(key: string, fresh = false): string {
    const latest = fresh ? undefined : this.latest(key);
    return latest?.id ?? this.create(key).id;
  }

  latest(key: string): SessionInfo | undefined {
    const row = this.#latestSession.get(key);
    return row && toInfo(row);
  }

  /** Most recently updated first; all keys when `key` is undefined. */
  list(key?: string, limit = 50): SessionInfo[] {
    checkLimit(limit);
    const rows = key === undefined ? this.#listAll.all(limit) : this.#listByKey.all(key, limit);
    return rows.map(toInfo);
  }

  /**
   * Stores one message atomically with its derived rows: for an assistant message one `tool_calls` row per tool
   * call and one `usage` row; for a tool result, the result fields of the matching open tool call. Throws when the
   * session does not exist or the message cannot be encoded as JSON.
   */
  append(sessionId: string, message: Message): AppendedMessage {
    return this.#append(sessionId, message, encode(message));
  }

  /** The session's messages in the order they were appended. */
  messages(sessionId: string): Message[] {
    // The rows were written by `append` from typed Messages; the JSON column is the record itself.
    return this.#selectMessages.all(sessionId).map((row) => JSON.parse(row.content) as Message);
  }

  usageTotals(sessionId: string): Usage {
    return toUsage(this.#sessionUsage.get(sessionId));
  }

  /** Token totals per provider and model for usage recorded at or after `since` (ms), for the spend cap. */
  usageSince(since: number): ModelUsage[] {
    return this.#usageSince.all(since).map((row) => ({ provider: row.provider, model: row.model, ...toUsage(row) }));
  }
}

interface EncodedMessage {
  readonly content: string;
  readonly provenance: string | null;
  readonly toolCalls: readonly { readonly id: string; readonly name: string; readonly input: string }[];
}

function encode(message: Message): EncodedMessage {
  const content = JSON.stringify(message);
  if (typeof content !== 'string') throw new Error('A message must be a JSON-encodable object.');
  return {
    content,
    provenance: message.role === 'assistant' && message.provenance === undefined ? null : JSON.stringify(message.provenance),
    toolCalls: message.role === 'assistant' ? encodeToolCalls(message) : [],
  };
}

function encodeToolCalls(message: AssistantMessage): EncodedMessage['toolCalls'] {
  // `undefined` input (a model that sent no arguments) is stored as JSON null: the column holds valid JSON.
  return toolCallsOf(message).map((call) => ({ id: call.id, name: call.name, input: JSON.stringify(call.input) ?? 'null' }));
}

function toInfo(row: SessionRow): SessionInfo {
  return { id: row.id, key: row.key, title: row.title ?? undefined, createdAt: row.created_at, updatedAt: row.updated_at };
}

function toUsage(row: UsageRow | undefined): Usage {
  return {
    inputTokens: row?.inputTokens ?? 0,
    outputTokens: row?.outputTokens ?? 0,
    cacheReadTokens: row?.cacheReadTokens ?? 0,
    cacheWriteTokens: row?.cacheWriteTokens ?? 0,
  };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_LIST}, not ${limit}.`);
  }
}
