/**
 * Memory at scale. (a) A generated chat.db of `messages` messages on the real schema (200 people, 20 groups, text
 * drawn from a Zipf-distributed vocabulary of 5,000 words) imported through the CLI's import path into a fresh
 * Pavise database: messages/s (target ≥ 50,000). (b) Text recall over the result, 200 queries of 2–4 words (some
 * naming a person or a month), limit 10: p50/p95 (target p95 < 20 ms at 1M). (c) Hybrid recall (text fused with
 * vectors) with `vectors` stored 384-dimensional vectors from a deterministic fake embedder (no HTTP, so the figure
 * is the index's own): p50/p95 (target p95 < 50 ms at 100k).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unixMsToAppleNanoseconds } from '../../main/channels/imessage/apple-time.js';
import { ChatDbReader } from '../../main/channels/imessage/chat-db-reader.js';
import { runImport } from '../../main/cli/commands/imessage-import.js';
import { SecretBroker } from '../../main/permissions/secret-broker.js';
import { loadConfig } from '../../main/config/config.js';
import { BruteForceVectorIndex, normalise, type Embedder } from '../../main/memory/embeddings.js';
import { MemoryRecall } from '../../main/memory/recall.js';
import { matchExpression, type MemoryStore } from '../../main/storage/memory-store.js';
import { openStorage } from '../../main/storage/storage.js';
import { CHAT_DB_SCHEMA, createChatDb } from '../../test/helpers/chat-db.js';

const DIMENSIONS = 384;
const VOCABULARY = 5_000;

/** A small deterministic generator (mulberry32), so every run builds the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ra', 'to', 'vu', 'si', 'de', 'po', 'ba', 'ge', 'hu', 'ji', 'ro', 'ta', 'en', 'ol', 'ar', 'is'];
const words = Array.from({ length: VOCABULARY }, (_, index) => {
  let word = '';
  let n = index + 1;
  do {
    word += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return word;
});
/** Zipf: word i drawn with weight 1/(i+1). */
const cumulative = (() => {
  const weights = words.map((_, index) => 1 / (index + 1));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  let running = 0;
  return weights.map((weight) => (running += weight / total));
})();
function word(next: () => number): string {
  const target = next();
  let low = 0;
  let high = cumulative.length - 1;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (cumulative[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return words[low]!;
}

export function generate(dir: string, count: number): { path: string; ms: number } {
  const started = performance.now();
  const fixture = createChatDb({ dir });
  const db = fixture.db;
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const indexes = readFileSync(CHAT_DB_SCHEMA, 'utf8')
    .split('\n')
    .filter((line) => /^CREATE INDEX \w+ ON message\(/.test(line));
  for (const line of indexes) db.exec(`DROP INDEX ${/^CREATE INDEX (\w+) /.exec(line)?.[1] ?? ''}`);
  const handles = Array.from({ length: 200 }, (_, i) => fixture.addHandle(i % 4 === 0 ? `friend${i}@example.com` : `+1555${String(1_000_000 + i).slice(1)}`));
  const chats = handles.map((handle, i) => fixture.addChat({ guid: `iMessage;-;${i}`, handles: [handle] }));
  for (let g = 0; g < 20; g++) chats.push(fixture.addChat({ guid: `any;+;chat${String(100_000_000 + g)}`, handles: handles.slice(g * 5, g * 5 + 5) }));
  const insert = db.prepare('INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me, is_finished, is_delivered) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1)');
  const joinChat = db.prepare('INSERT INTO chat_message_join (chat_id, message_id, message_date) VALUES (?, ?, ?)');
  const next = random(7);
  const start = Date.UTC(2019, 0, 1);
  db.transaction(() => {
    for (let rowid = 1; rowid <= count; rowid++) {
      const chatIndex = rowid % chats.length;
      const fromMe = rowid % 3 === 0 ? 1 : 0;
      const length = 4 + Math.floor(next() * 14);
      const text = Array.from({ length }, () => word(next)).join(' ');
      const date = unixMsToAppleNanoseconds(start + rowid * 90_000);
      insert.run(rowid, `S0000000-0000-4000-8000-${String(rowid).padStart(12, '0')}`, text, fromMe ? 0 : handles[chatIndex % handles.length], 'iMessage', date, fromMe);
      joinChat.run(chats[chatIndex], rowid, date);
    }
  })();
  for (const line of indexes) db.exec(line);
  db.pragma('journal_mode = WAL');
  fixture.close();
  return { path: fixture.path, ms: performance.now() - started };
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!);
}

function round(value: number, digits = 2): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export function queries(count: number): string[] {
  const next = random(99);
  const months = ['March', 'May 2021', 'last June', 'in 2020'];
  return Array.from({ length: count }, (_, index) => {
    // Mid-frequency words, as a real question's content words are: neither "the" nor never-seen.
    const picked = Array.from({ length: 2 + (index % 3) }, () => words[20 + Math.floor(next() * 2_000)]!);
    if (index % 5 === 0) picked.push('friend12');
    if (index % 7 === 0) picked.push(months[index % months.length]!);
    return picked.join(' ');
  });
}

/** Deterministic 384-d vectors from a text's words (hashing trick), unit length. */
class FakeEmbedder implements Embedder {
  readonly model = 'fake-hash-384';
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    return texts.map((text) => {
      const vector = new Float32Array(DIMENSIONS);
      for (const token of text.toLowerCase().split(/\W+/)) {
        if (!token) continue;
        let hash = 2166136261;
        for (let i = 0; i < token.length; i++) hash = Math.imul(hash ^ token.charCodeAt(i), 16777619);
        vector[(hash >>> 0) % DIMENSIONS]! += 1;
        vector[(hash >>> 9) % DIMENSIONS]! += 0.5;
      }
      return normalise(vector);
    });
  }
}

/** Wall time and this process's CPU time per query: on a machine loaded by others, CPU time is the steadier figure. */
async function timed(run: (query: string) => Promise<unknown>, list: readonly string[]): Promise<{ p50Ms: number; p95Ms: number; cpuP50Ms: number; cpuP95Ms: number; queries: number }> {
  for (const query of list.slice(0, 10)) await run(query);
  const times: number[] = [];
  const cpu: number[] = [];
  for (const query of list) {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    await run(query);
    const used = process.cpuUsage(cpuStarted);
    times.push(performance.now() - started);
    cpu.push((used.user + used.system) / 1000);
  }
  return { p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95), cpuP50Ms: percentile(cpu, 0.5), cpuP95Ms: percentile(cpu, 0.95), queries: list.length };
}

/**
 * How far the common-terms ranking (MemoryStore.textSearch) strays from bm25 over the whole query: the queries whose
 * top 10 is the same, and the share of top-10 hits both rankings return.
 */
async function againstExactRanking(store: MemoryStore, recall: MemoryRecall, list: readonly string[]): Promise<{ sameTop10AsExact: number; top10OverlapWithExact: number }> {
  const approximate: number[][] = [];
  for (const query of list) approximate.push((await recall.search(query, { limit: 10 })).hits.map((hit) => hit.id));
  const rank = store.textSearch.bind(store);
  store.textSearch = (match, options) => rank(typeof match === 'string' ? match : matchExpression(match), options);
  try {
    let same = 0;
    let shared = 0;
    for (const [index, query] of list.entries()) {
      const exact = (await recall.search(query, { limit: 10 })).hits.map((hit) => hit.id);
      if (exact.join() === approximate[index]!.join()) same++;
      shared += exact.filter((id) => approximate[index]!.includes(id)).length;
    }
    return { sameTop10AsExact: same, top10OverlapWithExact: round(shared / (10 * list.length), 3) };
  } finally {
    store.textSearch = rank;
  }
}

/**
 * The import scrubs every message of the secrets Pavise holds, as `pavise imessage import` does; a home holds a few:
 * a model API key, a Telegram bot token, the activity log's key, a mail password (values of their real shapes).
 */
async function scrubberAsAtHome(): Promise<SecretBroker> {
  const broker = new SecretBroker({ list: () => Promise.resolve([]), get: () => Promise.resolve(undefined), set: () => Promise.resolve(), delete: () => Promise.resolve(false) });
  await broker.load({
    anthropic: `sk-ant-api03-${'Q'.repeat(86)}AA`,
    telegram: `7312345678:AAF${'x'.repeat(32)}`,
    'activity-log-key': 'f'.repeat(64),
    'mail-password': 'correct-horse-battery',
  });
  return broker;
}

export async function scale(options: { messages: number; vectors: number }): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), 'pavise-bench-memory-'));
  try {
    const generated = generate(work, options.messages);
    const home = join(work, 'home');
    mkdirSync(home, { mode: 0o700 });
    writeFileSync(join(home, 'config.json'), JSON.stringify({ owner: { name: 'Robin Example' } }));
    const config = loadConfig(join(home, 'config.json'));
    const storage = openStorage(join(home, 'pavise.db'), { grantTargetOf: () => '' });
    const reader = ChatDbReader.open(generated.path);
    const broker = await scrubberAsAtHome();
    let started = performance.now();
    const cpuStarted = process.cpuUsage();
    const outcome = await runImport(reader, storage, config, { redact: (text) => broker.redact(text) });
    const importMs = performance.now() - started;
    const importCpu = process.cpuUsage(cpuStarted);
    const importCpuMs = (importCpu.user + importCpu.system) / 1000;
    reader.close();
    const items = storage.memory.count();

    const list = queries(200);
    const text = new MemoryRecall({ store: storage.memory, ownerName: 'Robin Example' });
    const textSearch = await timed((query) => text.search(query, { limit: 10 }), list);
    const exactness = await againstExactRanking(storage.memory, text, list);

    const embedder = new FakeEmbedder();
    started = performance.now();
    const subset = storage.memory.withoutEmbedding(embedder.model, Math.min(options.vectors, 10_000));
    let stored = 0;
    let after = 0;
    while (stored < options.vectors) {
      const batch = subset.length > 0 && stored === 0 ? subset : storage.memory.withoutEmbedding(embedder.model, Math.min(10_000, options.vectors - stored));
      if (batch.length === 0 || batch[0]!.id <= after) break;
      const vectors = await embedder.embed(batch.map((item) => item.text));
      storage.memory.putEmbeddings(embedder.model, batch.map((item, index) => ({ id: item.id, vector: vectors[index]! })));
      stored += batch.length;
      after = batch.at(-1)!.id;
    }
    const embedMs = performance.now() - started;
    const index = new BruteForceVectorIndex(storage.memory, embedder, { backfillPerSearch: 0 });
    const hybrid = new MemoryRecall({ store: storage.memory, ownerName: 'Robin Example', vectors: index });
    const hybridSearch = await timed((query) => hybrid.search(query, { limit: 10 }), list);
    const vectorOnly = await timed(async (query) => index.nearest((await embedder.embed([query]))[0]!, 150), list);
    storage.close();
    return {
      import: {
        messages: options.messages,
        items,
        imported: outcome.imported,
        ms: Math.round(importMs),
        messagesPerSecond: Math.round((options.messages / importMs) * 1000),
        cpuMs: Math.round(importCpuMs),
        messagesPerCpuSecond: Math.round((options.messages / importCpuMs) * 1000),
        target: 50_000,
        chatDbMB: round(statSync(generated.path).size / 1e6, 1),
        paviseDbMB: round(statSync(join(home, 'pavise.db')).size / 1e6, 1),
        generateMs: Math.round(generated.ms),
      },
      textSearch: { ...textSearch, ...exactness, items, targetP95Ms: 20 },
      hybridSearch: { ...hybridSearch, vectors: stored, dimensions: DIMENSIONS, embedMsForSubset: Math.round(embedMs), targetP95Ms: 50, store: 'brute-force cosine: float32 blobs in SQLite, scanned in memory by a WebAssembly SIMD loop' },
      vectorScanOnly: { ...vectorOnly, vectors: stored },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
