/**
 * Memory of `pavise gateway` under a flood: while the built gateway runs (iMessage on a chat.db made from the real
 * schema, Telegram long polling the fake Bot API, replies through the fake osascript recorder), BURST messages from
 * SENDERS senders land in chat.db in a few transactions, as Messages.app commits a backlog. The gateway's RSS
 * (/proc/PID/status VmRSS) is sampled every 100 ms until every message is stored and handled; then a second burst.
 * Every tenth sender is an owner (their messages are answered by the fake Anthropic API); the rest are strangers.
 * Targets: peak ≤ 150 MB, and the second burst adds < 5 MB.
 *
 * Usage: npm run bench -- flood [BURST] [SENDERS]   (defaults 10000, 2500)
 * Checks printed with the figures: every message stored; each stranger got at most one line; each owner's
 * messages were answered in the order they arrived.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import BetterSqlite3 from 'better-sqlite3';
import { unixMsToAppleNanoseconds } from '../main/channels/imessage/apple-time.js';
import { anthropicText, startFakeAnthropic } from '../test/fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN } from '../test/fakes/fake-bot-api.js';
import { createChatDb } from '../test/helpers/chat-db.js';
import { FAKE_ANTHROPIC_KEY, runCli, spawnCli, tempHome } from '../test/helpers/cli.js';

const BURST = Number(process.argv[2] ?? 10_000);
const SENDERS = Number(process.argv[3] ?? 2_500);
const TRANSACTIONS = 5;
const OWNER_EVERY = 10;
const STRANGER_LINE = 'This is an automated assistant; the owner has been told you wrote.';
const RECORDER = resolve(import.meta.dirname, '../test/fakes/osascript-recorder.mjs');

if (!Number.isSafeInteger(BURST) || BURST < 1 || !Number.isSafeInteger(SENDERS) || SENDERS < 1) {
  throw new Error('Usage: npm run bench -- flood [BURST] [SENDERS]   (positive integers, e.g. 10000 2500)');
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

const round = (value: number) => Math.round(value * 10) / 10;

const llm = await startFakeAnthropic();
llm.respondWith(() => anthropicText('Noted.'));
const bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
const chatDb = createChatDb();
const senders = Array.from({ length: SENDERS }, (_, i) => `+1555${String(2_000_000 + i).padStart(7, '0')}`);
const owners = senders.filter((_, i) => i % OWNER_EVERY === 0);
const chats = senders.map((sender) => {
  const handle = chatDb.addHandle(sender);
  return { handle, chat: chatDb.addChat({ guid: `iMessage;-;${sender}`, handles: [handle] }) };
});
const made = tempHome({
  model: { provider: 'anthropic', baseURL: llm.url },
  limits: { dailySpendUsd: 1000 },
  channels: {
    unknownSenderReply: STRANGER_LINE,
    imessage: { enabled: true, owners, chatDbPath: chatDb.path },
    telegram: { enabled: true, owners: [1], apiRoot: bot.apiRoot },
  },
});
const env = {
  ...made.env,
  ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
  PAVISE_OSASCRIPT: RECORDER,
  PAVISE_OSASCRIPT_LOG: join(made.home, 'osascript.log'),
  // For diagnosis, e.g. PAVISE_BENCH_NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 (the gateway only).
  ...(process.env.PAVISE_BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.PAVISE_BENCH_NODE_OPTIONS } : {}),
};

/** Messages.app's side: the burst in a few large transactions on the writing connection. */
const insert = chatDb.db.prepare(
  'INSERT INTO message (guid, text, handle_id, service, date, is_from_me, is_finished, is_delivered) VALUES (?, ?, ?, ?, ?, 0, 1, 1)',
);
const join_ = chatDb.db.prepare('INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)');
let written = 0;
const writeRange = chatDb.db.transaction((from: number, to: number) => {
  for (let i = from; i < to; i++) {
    const target = chats[i % SENDERS] as { handle: number; chat: number };
    const date = unixMsToAppleNanoseconds(Date.now());
    const rowid = insert.run(`FLOOD-${String(i).padStart(10, '0')}`, `flood message ${i}`, target.handle, 'iMessage', date).lastInsertRowid;
    join_.run(target.chat, rowid, date);
  }
});

async function burst(): Promise<void> {
  const size = Math.ceil(BURST / TRANSACTIONS);
  for (let from = 0; from < BURST; from += size) {
    writeRange(written + from, written + Math.min(BURST, from + size));
    await sleep(20); // separate commits, as Messages.app makes them
  }
  written += BURST;
}

await runCli(['secrets', 'set', 'telegram-bot-token'], { env, input: TEST_BOT_TOKEN });
const child = spawnCli(['gateway'], env);
let output = '';
child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
const pid = child.pid as number;
let pavise: BetterSqlite3.Database | undefined;

/** Samples RSS every 100 ms while `work` runs; returns the peak and the last sample. */
async function sampled<T>(work: () => Promise<T>): Promise<{ result: T; peakMiB: number; endMiB: number }> {
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  try {
    const result = await work();
    const end = rssMiB(pid);
    return { result, peakMiB: Math.max(peak, end), endMiB: end };
  } finally {
    clearInterval(timer);
  }
}

function counts(db: BetterSqlite3.Database): { stored: number; unhandled: number } {
  return db
    .prepare<[], { stored: number; unhandled: number }>(
      "SELECT count(*) AS stored, coalesce(sum(status IN ('stored', 'processing')), 0) AS unhandled FROM inbound_messages WHERE channel = 'imessage'",
    )
    .get() as { stored: number; unhandled: number };
}

/** Writes one burst and waits until the gateway has stored and handled all of it. */
async function floodOnce(): Promise<{ storedSeconds: number; handledSeconds: number }> {
  const db = pavise as BetterSqlite3.Database;
  const started = performance.now();
  await burst();
  let storedAt = 0;
  const deadline = Date.now() + 600_000;
  for (;;) {
    const now = counts(db);
    if (storedAt === 0 && now.stored >= written) storedAt = performance.now();
    if (storedAt !== 0 && now.unhandled === 0) break;
    if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}):\n${output.slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`timed out: ${now.stored} of ${written} stored, ${now.unhandled} unhandled`);
    await sleep(100);
  }
  return { storedSeconds: round((storedAt - started) / 1000), handledSeconds: round((performance.now() - started) / 1000) };
}

/** What the rules promise, read back from the gateway's own database. */
function checks(db: BetterSqlite3.Database) {
  const ownerSet = new Set(owners);
  const lines = db
    .prepare<[string], { conversation_id: string; n: number }>("SELECT conversation_id, count(*) AS n FROM outbox WHERE text = ? GROUP BY conversation_id")
    .all(STRANGER_LINE);
  const linesToOwners = lines.filter((row) => ownerSet.has(row.conversation_id.split(';').at(-1) ?? '')).length;
  const replies = db
    .prepare<[], { conversation_id: string; inbound: number }>(
      "SELECT conversation_id, CAST(substr(idempotency_key, 7) AS INTEGER) AS inbound FROM outbox WHERE idempotency_key LIKE 'reply:%' ORDER BY id",
    )
    .all();
  const lastSeen = new Map<string, number>();
  let outOfOrder = 0;
  for (const reply of replies) {
    if ((lastSeen.get(reply.conversation_id) ?? 0) > reply.inbound) outOfOrder++;
    lastSeen.set(reply.conversation_id, reply.inbound);
  }
  const byStatus = Object.fromEntries(
    db
      .prepare<[], { status: string; n: number }>("SELECT status, count(*) AS n FROM inbound_messages WHERE channel = 'imessage' GROUP BY status")
      .all()
      .map((row) => [row.status, row.n]),
  );
  const ownerMessages = (written / SENDERS) * owners.length;
  return {
    stored: counts(db).stored,
    written,
    byStatus,
    strangersWithMoreThanOneLine: lines.filter((row) => row.n > 1).length,
    strangerLinesToOwners: linesToOwners,
    ownerMessages,
    ownerReplies: replies.length,
    repliesOutOfOrder: outOfOrder,
  };
}

try {
  const deadline = Date.now() + 30_000;
  while (!(output.includes('imessage: connected') && output.includes('telegram: connected'))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start:\n${output}`);
    await sleep(50);
  }
  await sleep(2_000); // let start-up work settle
  pavise = new BetterSqlite3(join(made.home, 'pavise.db'), { readonly: true, timeout: 5_000 });
  const idleMiB = rssMiB(pid);
  const first = await sampled(floodOnce);
  await sleep(2_000);
  const settledMiB = rssMiB(pid);
  const second = await sampled(floodOnce);
  await sleep(2_000);
  const afterMiB = rssMiB(pid);
  const result = checks(pavise);
  console.log(
    JSON.stringify({
      benchmark: 'flood',
      description: `pavise gateway while ${BURST} iMessages from ${SENDERS} senders (every ${OWNER_EVERY}th an owner) land in chat.db, twice`,
      idleRssMiB: round(idleMiB),
      first: { ...first.result, peakRssMiB: round(first.peakMiB), endRssMiB: round(first.endMiB) },
      settledRssMiB: round(settledMiB),
      second: { ...second.result, peakRssMiB: round(second.peakMiB), endRssMiB: round(second.endMiB) },
      afterRssMiB: round(afterMiB),
      secondBurstAddsMiB: round(afterMiB - settledMiB),
      checks: result,
      llmRequests: llm.requests.length,
      targetPeakMiB: 150,
      targetSecondBurstAddsMiB: 5,
    }),
  );
} finally {
  pavise?.close();
  // A clean stop (time to write a --cpu-prof or heap profile asked for through PAVISE_BENCH_NODE_OPTIONS).
  const exited = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
  chatDb.cleanup();
  made.cleanup();
  await bot.close();
  await llm.close();
}
