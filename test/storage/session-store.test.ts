import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  OWNER,
  type AssistantMessage,
  type Message,
  type ToolResultMessage,
  type UserMessage,
} from '../../main/common/messages.js';
import { openDatabase, type Database } from '../../main/storage/database.js';
import { SessionStore } from '../../main/storage/session-store.js';

let dir: string;
let path: string;
let db: Database;
let clock: number;
let ids: number;
const store = (database: Database = db) =>
  new SessionStore(database, { now: () => clock, newId: () => `session-${++ids}` });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pavise-sessions-'));
  path = join(dir, 'pavise.db');
  db = openDatabase(path);
  clock = 1_700_000_000_000;
  ids = 0;
});
afterEach(() => {
  if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

const user = (content: string, timestamp = 1): UserMessage => ({ role: 'user', content, provenance: OWNER, timestamp });

/** user → assistant with two tool calls → two tool results (one failed, one from untrusted content) → answer. */
function toolConversation(): Message[] {
  const toolTurn: AssistantMessage = {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Let me check.' },
      { type: 'toolCall', id: 'toolu_01', name: 'current_time', input: { timezone: 'Europe/Berlin' } },
      { type: 'toolCall', id: 'toolu_02', name: 'list_notes', input: { query: "50% off_'; DROP TABLE notes;--", limit: 5 } },
    ],
    stopReason: 'toolUse',
    usage: { inputTokens: 120, outputTokens: 40, cacheReadTokens: 1000, cacheWriteTokens: 0 },
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    timestamp: 1_700_000_000_100,
  };
  const timeResult: ToolResultMessage = {
    role: 'toolResult',
    toolCallId: 'toolu_01',
    toolName: 'current_time',
    content: '{"iso":"2023-11-14T23:13:20+01:00"}',
    isError: false,
    provenance: OWNER,
    timestamp: 1_700_000_000_200,
  };
  const notesResult: ToolResultMessage = {
    role: 'toolResult',
    toolCallId: 'toolu_02',
    toolName: 'list_notes',
    content: 'The notes store is unavailable.',
    isError: true,
    provenance: { kind: 'untrusted', source: 'tool_output', detail: 'list_notes' },
    timestamp: 1_700_000_000_300,
  };
  const answer: AssistantMessage = {
    role: 'assistant',
    content: [{ type: 'text', text: 'It is 23:13 in Berlin. 🕚 I could not read your notes.' }],
    stopReason: 'stop',
    usage: { inputTokens: 300, outputTokens: 25, cacheReadTokens: 1000, cacheWriteTokens: 64 },
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    timestamp: 1_700_000_000_400,
  };
  return [user('What time is it in Berlin, and what are my notes?', 1_700_000_000_000), toolTurn, timeResult, notesResult, answer];
}

describe('SessionStore', () => {
  it('creates sessions and finds them by id, by key (most recently updated) and in lists', () => {
    const sessions = store();
    const first = sessions.create('cli', 'First');
    clock += 10;
    const second = sessions.create('cli');
    clock += 10;
    const other = sessions.create('telegram:12345');

    expect(first).toEqual({ id: 'session-1', key: 'cli', title: 'First', createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000 });
    expect(sessions.get('session-1')).toEqual(first);
    expect(sessions.get('missing')).toBeUndefined();
    expect(sessions.latest('cli')?.id).toBe(second.id);
    expect(sessions.latest('nobody')).toBeUndefined();

    clock += 10;
    sessions.append(first.id, user('back to the first one'));
    expect(sessions.latest('cli')?.id).toBe(first.id);
    expect(sessions.get(first.id)?.updatedAt).toBe(clock);

    expect(sessions.list('cli', 10).map((session) => session.id)).toEqual([first.id, second.id]);
    expect(sessions.list(undefined, 2).map((session) => session.id)).toEqual([first.id, other.id]);
    expect(sessions.list().length).toBe(3);
    expect(() => sessions.list('cli', 0)).toThrow(RangeError);
    expect(() => sessions.create('')).toThrow(/must not be empty/);
  });

  it('round-trips a multi-step tool conversation exactly', () => {
    const sessions = store();
    const { id } = sessions.create('cli');
    const conversation = toolConversation();
    const appended = conversation.map((message) => sessions.append(id, message));

    expect(appended.map((row) => row.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(sessions.messages(id)).toStrictEqual(conversation);
    expect(sessions.messages('other')).toEqual([]);
  });

  it('writes one tool_calls row per call and settles it when its result arrives', () => {
    const sessions = store();
    const { id } = sessions.create('cli');
    const [, toolTurn, timeResult, notesResult] = toolConversation().map((message) => sessions.append(id, message));

    const calls = db
      .prepare('SELECT session_id, message_id, call_id, name, input, is_error, result_message_id FROM tool_calls ORDER BY id')
      .all();
    expect(calls).toEqual([
      {
        session_id: id,
        message_id: toolTurn?.messageId,
        call_id: 'toolu_01',
        name: 'current_time',
        input: '{"timezone":"Europe/Berlin"}',
        is_error: 0,
        result_message_id: timeResult?.messageId,
      },
      {
        session_id: id,
        message_id: toolTurn?.messageId,
        call_id: 'toolu_02',
        name: 'list_notes',
        input: JSON.stringify({ query: "50% off_'; DROP TABLE notes;--", limit: 5 }),
        is_error: 1,
        result_message_id: notesResult?.messageId,
      },
    ]);
    expect(db.prepare('SELECT role, provenance FROM messages ORDER BY seq').all()).toEqual([
      { role: 'user', provenance: '{"kind":"owner"}' },
      { role: 'assistant', provenance: null },
      { role: 'toolResult', provenance: '{"kind":"owner"}' },
      { role: 'toolResult', provenance: '{"kind":"untrusted","source":"tool_output","detail":"list_notes"}' },
      { role: 'assistant', provenance: null },
    ]);
  });

  it('leaves a call open until its result arrives, and settles reused call ids newest first', () => {
    const sessions = store();
    const { id } = sessions.create('local');
    const call = (timestamp: number): AssistantMessage => ({
      role: 'assistant',
      content: [{ type: 'toolCall', id: 'call_0', name: 'current_time', input: undefined }],
      stopReason: 'toolUse',
      usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      provider: 'openai-compatible',
      model: 'llama',
      timestamp,
    });
    const result = (timestamp: number): ToolResultMessage => ({
      role: 'toolResult',
      toolCallId: 'call_0',
      toolName: 'current_time',
      content: 'now',
      isError: false,
      provenance: OWNER,
      timestamp,
    });
    sessions.append(id, call(1));
    const open = db.prepare('SELECT input, is_error, result_message_id FROM tool_calls').all();
    expect(open).toEqual([{ input: 'null', is_error: null, result_message_id: null }]);

    const first = sessions.append(id, result(2));
    sessions.append(id, call(3));
    const second = sessions.append(id, result(4));
    expect(db.prepare('SELECT result_message_id FROM tool_calls ORDER BY id').all()).toEqual([
      { result_message_id: first.messageId },
      { result_message_id: second.messageId },
    ]);
  });

  it('records usage per assistant message and totals it', () => {
    const sessions = store();
    const { id } = sessions.create('cli');
    for (const message of toolConversation()) sessions.append(id, message);

    expect(db.prepare('SELECT provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens FROM usage ORDER BY id').all()).toEqual([
      { provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 120, output_tokens: 40, cache_read_tokens: 1000, cache_write_tokens: 0 },
      { provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 300, output_tokens: 25, cache_read_tokens: 1000, cache_write_tokens: 64 },
    ]);
    expect(sessions.usageTotals(id)).toEqual({ inputTokens: 420, outputTokens: 65, cacheReadTokens: 2000, cacheWriteTokens: 64 });
    expect(sessions.usageTotals('none')).toEqual({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('keeps a conversation whose messages came from two providers', () => {
    const sessions = store();
    const { id } = sessions.create('cli');
    const fromOpenAi: AssistantMessage = {
      role: 'assistant',
      content: [{ type: 'text', text: 'Picking up where Claude left off.' }],
      stopReason: 'stop',
      usage: { inputTokens: 500, outputTokens: 12, cacheReadTokens: 256, cacheWriteTokens: 0 },
      provider: 'openai',
      model: 'gpt-5',
      timestamp: 1_700_000_000_600,
    };
    const failed: AssistantMessage = {
      role: 'assistant',
      content: [],
      stopReason: 'error',
      usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
      provider: 'openai',
      model: 'gpt-5',
      error: { code: 'rate_limit', message: 'Too many requests', status: 429 },
      timestamp: 1_700_000_000_700,
    };
    const conversation = [...toolConversation(), user('And with the other model?', 1_700_000_000_500), fromOpenAi, failed];
    clock = 1_000;
    for (const message of conversation.slice(0, 5)) sessions.append(id, message);
    clock = 2_000;
    for (const message of conversation.slice(5)) sessions.append(id, message);

    expect(sessions.messages(id)).toStrictEqual(conversation);
    expect(sessions.usageTotals(id)).toEqual({ inputTokens: 920, outputTokens: 77, cacheReadTokens: 2256, cacheWriteTokens: 64 });
    expect(sessions.usageSince(0)).toEqual([
      { provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 420, outputTokens: 65, cacheReadTokens: 2000, cacheWriteTokens: 64 },
      { provider: 'openai', model: 'gpt-5', inputTokens: 500, outputTokens: 12, cacheReadTokens: 256, cacheWriteTokens: 0 },
    ]);
    expect(sessions.usageSince(2_000).map((row) => row.provider)).toEqual(['openai']);
  });

  it('continues a session after the database is closed and reopened', () => {
    const conversation = toolConversation();
    const before = store();
    const { id } = before.create('cli', 'Berlin');
    for (const message of conversation.slice(0, 3)) before.append(id, message);
    db.close();

    db = openDatabase(path);
    const after = store();
    const resumed = after.latest('cli');
    expect(resumed?.id).toBe(id);
    expect(resumed?.title).toBe('Berlin');
    expect(after.messages(id)).toStrictEqual(conversation.slice(0, 3));

    const rest = conversation.slice(3).map((message) => after.append(id, message));
    expect(rest.map((row) => row.seq)).toEqual([4, 5]);
    expect(after.messages(id)).toStrictEqual(conversation);
    expect(db.prepare('SELECT COUNT(*) AS n FROM tool_calls WHERE result_message_id IS NOT NULL').get()).toEqual({ n: 2 });
  });

  it('refuses to append to a session that does not exist', () => {
    const sessions = store();
    expect(() => sessions.append('ghost', user('hello'))).toThrow('Session "ghost" does not exist');
    expect(db.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 0 });
  });

  it('stores a message and its derived rows in one transaction', () => {
    const sessions = store();
    const { id, updatedAt } = sessions.create('cli');
    db.exec("CREATE TRIGGER fail_usage BEFORE INSERT ON usage BEGIN SELECT RAISE(ABORT, 'usage write failed'); END");
    clock += 50;

    expect(() => sessions.append(id, toolConversation()[1] as Message)).toThrow('usage write failed');
    for (const table of ['messages', 'tool_calls', 'usage']) {
      expect(db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    }
    expect(sessions.get(id)?.updatedAt).toBe(updatedAt);
  });

  it('stores SQL-looking keys, titles and content as plain data', () => {
    const sessions = store();
    const hostile = "x'); DROP TABLE sessions;--";
    const { id } = sessions.create(hostile, hostile);
    sessions.append(id, user(hostile));
    expect(sessions.latest(hostile)?.title).toBe(hostile);
    expect(sessions.messages(id)).toStrictEqual([user(hostile)]);
  });

  it('never hands out the same seq to two writers on separate connections', () => {
    const other = openDatabase(path);
    try {
      const a = store();
      const b = store(other);
      const { id } = a.create('cli');
      const seqs = [a.append(id, user('a1')), b.append(id, user('b1')), a.append(id, user('a2'))].map((row) => row.seq);
      expect(seqs).toEqual([1, 2, 3]);
      expect(b.messages(id).map((message) => (message as UserMessage).content)).toEqual(['a1', 'b1', 'a2']);
    } finally {
      other.close();
    }
  });
});
