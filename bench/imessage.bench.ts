/**
 * iMessage inbound, end to end through ImessageChannel into a host that stores each message and the cursor in a real
 * SQLite file (one transaction per message, synchronously, as the gateway does). Prints one JSON object.
 *
 * (a) latency: a row committed to chat.db (WAL) by a second connection in another thread, as Messages.app does, to
 *     the host having stored it; p50/p95 over realistically spaced messages. Targets: p50 < 100 ms, p95 < 250 ms.
 * (b) catch-up: a generated chat.db of 1,000,000 messages (text and attributedBody rows) read, decoded and stored
 *     from cursor 0. Target: at least 50,000 messages/s. The reader alone is measured too.
 * (c) idle CPU of the channel over 10 s with nothing arriving.
 *
 * Options: --latency-messages N (150), --messages N (1000000), --idle-seconds N (10).
 * Uses the real chat.db schema and attributedBody blobs from test/fixtures/imessage/ (see
 * test/fixtures/SOURCES.md).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { ChannelHost, ChannelStatus, InboundMessage } from '../main/channels/channel.js';
import { unixMsToAppleNanoseconds } from '../main/channels/imessage/apple-time.js';
import { ChatDbReader } from '../main/channels/imessage/chat-db-reader.js';
import { ImessageChannel } from '../main/channels/imessage/imessage-channel.js';
import { CHAT_DB_SCHEMA, createChatDb, typedstreamBlob, typedstreamManifest } from '../test/helpers/chat-db.js';

const now = () => performance.timeOrigin + performance.now();

interface WriterJob {
  readonly path: string;
  readonly count: number;
  readonly minGapMs: number;
  readonly maxGapMs: number;
}

/** The Messages.app stand-in: its own connection, in its own thread, one committed row at a time. */
async function writer(job: WriterJob): Promise<void> {
  const db = new BetterSqlite3(job.path, { timeout: 5000 });
  db.pragma('journal_mode = WAL');
  const chat = (db.prepare("SELECT ROWID AS id FROM chat WHERE guid = 'iMessage;-;+15550001111'").get() as { id: number }).id;
  const handle = (db.prepare("SELECT ROWID AS id FROM handle WHERE id = '+15550001111'").get() as { id: number }).id;
  const insert = db.prepare(
    'INSERT INTO message (guid, text, handle_id, service, date, is_from_me, is_finished, is_delivered) VALUES (?, ?, ?, ?, ?, 0, 1, 1)',
  );
  const join = db.prepare('INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)');
  const write = db.transaction((guid: string, text: string) => {
    const date = unixMsToAppleNanoseconds(Date.now());
    const rowid = insert.run(guid, text, handle, 'iMessage', date).lastInsertRowid;
    join.run(chat, rowid, date);
  });
  for (let i = 0; i < job.count; i++) {
    await new Promise((resolve) => setTimeout(resolve, job.minGapMs + Math.random() * (job.maxGapMs - job.minGapMs)));
    // The time is taken before the write starts, so the figure includes the commit itself.
    write(`LAT-${i}`, JSON.stringify({ sentAt: now() }));
  }
  db.close();
  parentPort?.postMessage('done');
}

/** The gateway stand-in: stores each message with the cursor in one transaction, synchronously, in a real file. */
class SqliteHost implements ChannelHost {
  readonly db: BetterSqlite3.Database;
  stored = 0;
  lastCursor: string | undefined;
  onStored: ((message: InboundMessage, storedAt: number) => void) | undefined;
  private readonly store: (message: InboundMessage, cursor: string) => void;
  private readonly storeBatch: (items: readonly { message: InboundMessage; cursor: string }[]) => void;
  private readonly saveCursorStatement: BetterSqlite3.Statement;
  private readonly cursorStatement: BetterSqlite3.Statement<[], { cursor: string }>;
  readonly statuses: ChannelStatus[] = [];

  constructor(path: string) {
    this.db = new BetterSqlite3(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS inbound_messages (
        id INTEGER PRIMARY KEY, channel TEXT NOT NULL, external_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
        is_group INTEGER NOT NULL, sender TEXT NOT NULL, is_from_me INTEGER NOT NULL, kind TEXT NOT NULL,
        text TEXT NOT NULL, attachments_json TEXT NOT NULL, addresses_assistant INTEGER NOT NULL, sent_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL, UNIQUE (channel, external_id)) STRICT;
      CREATE TABLE IF NOT EXISTS channel_cursors (channel TEXT PRIMARY KEY, cursor TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;`);
    const insert = this.db.prepare(`
      INSERT OR IGNORE INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, is_from_me, kind, text,
        attachments_json, addresses_assistant, sent_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.saveCursorStatement = this.db.prepare(
      'INSERT INTO channel_cursors (channel, cursor, updated_at) VALUES (?, ?, ?) ON CONFLICT (channel) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at',
    );
    this.cursorStatement = this.db.prepare("SELECT cursor FROM channel_cursors WHERE channel = 'imessage'");
    this.store = this.db.transaction((message: InboundMessage, cursor: string) => {
      const receivedAt = Date.now();
      insert.run(
        message.channel,
        message.externalId,
        message.conversationId,
        message.isGroup ? 1 : 0,
        message.sender,
        message.isFromMe ? 1 : 0,
        message.kind,
        message.text,
        JSON.stringify(message.attachments),
        message.addressesAssistant ? 1 : 0,
        message.sentAt,
        receivedAt,
      );
      this.saveCursorStatement.run(message.channel, cursor, receivedAt);
    });
    // The same rows, many per transaction: what the gateway's deliverBatch does during a catch-up.
    this.storeBatch = this.db.transaction((items: readonly { message: InboundMessage; cursor: string }[]) => {
      for (const { message, cursor } of items) this.store(message, cursor);
    });
  }

  async deliverBatch(items: readonly { message: InboundMessage; cursor: string }[]): Promise<void> {
    this.storeBatch(items);
    this.stored += items.length;
    const last = items.at(-1);
    if (last) this.lastCursor = last.cursor;
    const at = now();
    for (const item of items) this.onStored?.(item.message, at);
  }

  async deliver(message: InboundMessage, cursor: string): Promise<void> {
    this.store(message, cursor);
    this.stored++;
    this.lastCursor = cursor;
    this.onStored?.(message, now());
  }

  cursor(): string | undefined {
    return this.cursorStatement.get()?.cursor;
  }

  saveCursor(channel: string, cursor: string): void {
    this.saveCursorStatement.run(channel, cursor, Date.now());
    this.lastCursor = cursor;
  }

  status(status: ChannelStatus): void {
    this.statuses.push(status);
  }

  close(): void {
    this.db.close();
  }
}

const noSender = { send: async () => ({ ok: false as const, retryable: false, message: 'benchmark' }) };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`benchmark: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function latency(work: string, count: number) {
  const fixture = createChatDb({ dir: mkdtempSync(join(work, 'latency-')) });
  const alice = fixture.addHandle('+15550001111');
  fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [alice] });
  const host = new SqliteHost(join(fixture.dir, 'pavise.db'));
  const samples: number[] = [];
  host.onStored = (message, storedAt) => {
    const sentAt = (JSON.parse(message.text) as { sentAt: number }).sentAt;
    samples.push(storedAt - sentAt);
  };
  const controller = new AbortController();
  const channel = new ImessageChannel({ chatDbPath: fixture.path, owners: [], assistantNames: ['pavise'], sender: noSender });
  const running = channel.run(host, controller.signal);
  await waitFor(() => host.statuses.some((status) => status.state === 'connected'), 10_000, 'the channel to connect');
  const job: WriterJob = { path: fixture.path, count, minGapMs: 20, maxGapMs: 150 };
  const thread = new Worker(new URL(import.meta.url), { workerData: job });
  await new Promise<void>((resolve, reject) => {
    thread.on('message', () => resolve());
    thread.on('error', reject);
  });
  await waitFor(() => host.stored >= count, 30_000, 'every message to be stored');
  controller.abort();
  await running;
  await thread.terminate();
  host.close();
  fixture.cleanup();
  const sorted = samples.sort((a, b) => a - b);
  return {
    messages: sorted.length,
    spacingMs: [job.minGapMs, job.maxGapMs],
    p50Ms: round(percentile(sorted, 50)),
    p95Ms: round(percentile(sorted, 95)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? 0),
    targetP50Ms: 100,
    targetP95Ms: 250,
  };
}

/** A chat.db of `count` messages on the real schema, written in one transaction with prepared statements. */
function generate(work: string, count: number) {
  const started = now();
  const fixture = createChatDb({ dir: mkdtempSync(join(work, 'catchup-')) });
  const db = fixture.db;
  // Bulk load: no journal, and message's own indexes built once at the end from the schema's CREATE INDEX lines
  // (faster than updating a dozen B-trees a million times). The join tables keep theirs: Apple's triggers, which
  // stay, look rows up through them. Back to WAL afterwards, as Messages keeps it.
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const indexes = readFileSync(CHAT_DB_SCHEMA, 'utf8')
    .split('\n')
    .filter((line) => /^CREATE INDEX \w+ ON message\(/.test(line));
  for (const line of indexes) db.exec(`DROP INDEX ${/^CREATE INDEX (\w+) /.exec(line)?.[1] ?? ''}`);
  const handles = Array.from({ length: 200 }, (_, i) => fixture.addHandle(i % 4 === 0 ? `friend${i}@example.com` : `+1555${String(1_000_000 + i).slice(1)}`));
  const chats = handles.map((handle, i) => fixture.addChat({ guid: `${i % 2 ? 'iMessage' : 'any'};-;${handle}`, handles: [handle] }));
  for (let g = 0; g < 20; g++) chats.push(fixture.addChat({ guid: `any;+;chat${String(100_000_000 + g)}`, handles: handles.slice(g * 5, g * 5 + 5) }));
  const blobs = typedstreamManifest()
    .filter((entry) => entry.text.replace(/\uFFFC/g, '').trim().length > 0)
    .map((entry) => typedstreamBlob(entry.file));
  const insert = db.prepare(
    'INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, date, is_from_me, is_finished, is_delivered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1)',
  );
  const joinChat = db.prepare('INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)');
  const insertAttachment = db.prepare(
    "INSERT INTO attachment (ROWID, guid, original_guid, filename, mime_type, transfer_name) VALUES (?, ?, ?, ?, 'image/heic', ?)",
  );
  const joinAttachment = db.prepare('INSERT INTO message_attachment_join (message_id, attachment_id) VALUES (?, ?)');
  const startDate = unixMsToAppleNanoseconds(Date.UTC(2020, 0, 1));
  let attachments = 0;
  db.transaction(() => {
    for (let rowid = 1; rowid <= count; rowid++) {
      const chatIndex = rowid % chats.length;
      const chat = chats[chatIndex] as number;
      const handle = handles[chatIndex < handles.length ? chatIndex : rowid % handles.length] as number;
      const date = startDate + BigInt(rowid) * 30_000_000_000n;
      const withBody = rowid % 2 === 0;
      const fromMe = rowid % 5 === 0 ? 1 : 0;
      const guid = `B0000000-0000-4000-8000-${String(rowid).padStart(12, '0')}`;
      insert.run(
        rowid,
        guid,
        withBody ? null : `Message number ${rowid}: are we still on for dinner on Friday?`,
        withBody ? blobs[rowid % blobs.length] : null,
        fromMe ? 0 : handle,
        'iMessage',
        date,
        fromMe,
      );
      joinChat.run(chat, rowid, date);
      if (rowid % 100 === 0) {
        attachments++;
        const guidA = `at_0_${String(rowid).padStart(12, '0')}`;
        insertAttachment.run(attachments, guidA, guidA, `~/Library/Messages/Attachments/${guidA}/IMG_${rowid}.HEIC`, `IMG_${rowid}.HEIC`);
        joinAttachment.run(rowid, attachments);
      }
    }
  })();
  for (const line of indexes) db.exec(line);
  db.pragma('synchronous = NORMAL');
  db.pragma('journal_mode = WAL');
  return { fixture, generateMs: now() - started, attachments };
}

async function channelOnly(path: string, count: number): Promise<number> {
  let cursor = '0';
  const host: ChannelHost = {
    deliver: async (_message, next) => {
      cursor = next;
    },
    cursor: () => cursor,
    saveCursor: (_channel, next) => {
      cursor = next;
    },
    status: () => {},
  };
  const controller = new AbortController();
  const channel = new ImessageChannel({ chatDbPath: path, owners: [], assistantNames: ['pavise'], sender: noSender });
  const started = now();
  const running = channel.run(host, controller.signal);
  await waitFor(() => cursor === String(count), 600_000, 'the no-op catch-up to finish');
  const seconds = (now() - started) / 1000;
  controller.abort();
  await running;
  return seconds;
}

async function catchUp(work: string, count: number) {
  const { fixture, generateMs, attachments } = generate(work, count);
  const sizeMb = statSync(fixture.path).size / 1e6;

  // The reader alone: read and decode every row in batches, as the channel does.
  const reader = ChatDbReader.open(fixture.path);
  let readerMs = now();
  let read = 0;
  let decodeErrors = 0;
  for (let position = 0; ; ) {
    const batch = reader.readSince(position, 500);
    if (batch.length === 0) break;
    read += batch.length;
    for (const message of batch) if (message.decodeError !== undefined) decodeErrors++;
    position = (batch.at(-1) as { rowid: number }).rowid;
  }
  readerMs = now() - readerMs;
  reader.close();

  // The channel with a host that stores nothing: what the channel itself can feed.
  const noopSeconds = await channelOnly(fixture.path, count);

  // The whole path: channel → host storing each message with its cursor.
  const host = new SqliteHost(join(fixture.dir, 'pavise.db'));
  host.saveCursor('imessage', '0');
  const controller = new AbortController();
  const channel = new ImessageChannel({ chatDbPath: fixture.path, owners: [], assistantNames: ['pavise'], sender: noSender });
  const started = now();
  let finished = 0;
  host.onStored = () => {
    if (host.lastCursor === String(count)) finished = now();
  };
  const running = channel.run(host, controller.signal);
  await waitFor(() => host.lastCursor === String(count), 600_000, 'the catch-up to finish');
  if (finished === 0) finished = now();
  controller.abort();
  await running;
  const storedRows = (host.db.prepare('SELECT count(*) AS n FROM inbound_messages').get() as { n: number }).n;
  host.close();

  // The host alone, for scale: the same store (one transaction per message) fed directly, without the channel.
  const alone = new SqliteHost(join(fixture.dir, 'host-only.db'));
  const sample = Math.min(count, 200_000);
  let hostMs = now();
  for (let i = 1; i <= sample; i++) {
    await alone.deliver(
      {
        channel: 'imessage',
        externalId: `C0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        conversationId: 'iMessage;-;+15550001111',
        isGroup: false,
        sender: '+15550001111',
        text: `Message number ${i}: are we still on for dinner on Friday?`,
        sentAt: Date.now(),
        isFromMe: false,
        kind: 'message',
        attachments: [],
        addressesAssistant: true,
      },
      String(i),
    );
  }
  hostMs = now() - hostMs;
  alone.close();
  fixture.cleanup();
  const seconds = (finished - started) / 1000;
  return {
    messages: count,
    attributedBodyRows: Math.floor(count / 2),
    attachments,
    chatDbMb: round(sizeMb),
    generateSeconds: round(generateMs / 1000, 2),
    readerOnlyMessagesPerSecond: Math.round(read / (readerMs / 1000)),
    channelToNoopHostMessagesPerSecond: Math.round(count / noopSeconds),
    decodeErrors,
    seconds: round(seconds, 2),
    messagesPerSecond: Math.round(count / seconds),
    storedRows,
    hostOnlyMessagesPerSecond: Math.round(sample / (hostMs / 1000)),
    targetMessagesPerSecond: 50_000,
  };
}

async function idle(work: string, seconds: number) {
  const fixture = createChatDb({ dir: mkdtempSync(join(work, 'idle-')) });
  const alice = fixture.addHandle('+15550001111');
  const chat = fixture.addChat({ guid: 'iMessage;-;+15550001111', handles: [alice] });
  for (let i = 0; i < 1000; i++) fixture.addMessage({ chat, handle: alice, text: `history ${i}` });
  const host = new SqliteHost(join(fixture.dir, 'pavise.db'));
  const controller = new AbortController();
  const channel = new ImessageChannel({ chatDbPath: fixture.path, owners: [], assistantNames: ['pavise'], sender: noSender });
  const running = channel.run(host, controller.signal);
  await waitFor(() => host.statuses.some((status) => status.state === 'connected'), 10_000, 'the channel to connect');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = process.cpuUsage();
  const wallStart = now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = process.cpuUsage(before);
  const wallMs = now() - wallStart;
  controller.abort();
  await running;
  host.close();
  fixture.cleanup();
  const cpuMs = (used.user + used.system) / 1000;
  return {
    seconds,
    pollIntervalMs: 15_000,
    cpuMs: round(cpuMs, 2),
    cpuPercent: round((cpuMs / wallMs) * 100, 3),
    note: 'this process only (channel, idle watchers, one poll); the whole gateway is measured separately',
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { 'latency-messages': { type: 'string' }, messages: { type: 'string' }, 'idle-seconds': { type: 'string' } },
  });
  const latencyMessages = Number(values['latency-messages'] ?? 150);
  const messages = Number(values.messages ?? 1_000_000);
  const idleSeconds = Number(values['idle-seconds'] ?? 10);
  const work = mkdtempSync(join(tmpdir(), 'pavise-bench-imessage-'));
  try {
    const idleResult = await idle(work, idleSeconds);
    const latencyResult = await latency(work, latencyMessages);
    const catchUpResult = await catchUp(work, messages);
    console.log(
      JSON.stringify({
        benchmark: 'imessage',
        description: 'chat.db → ImessageChannel → host storing message + cursor in SQLite',
        latency: latencyResult,
        catchUp: catchUpResult,
        idle: idleResult,
        node: process.version,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (isMainThread) await main();
else await writer(workerData as WriterJob);
