import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BruteForceVectorIndex, OpenAiCompatibleEmbedder } from '../../main/memory/embeddings.js';
import { MemoryRecall } from '../../main/memory/recall.js';
import { openStorage, type Storage } from '../../main/storage/storage.js';
import { startFakeEmbeddings, type FakeEmbeddingsServer } from '../fakes/fake-embeddings-server.js';

let fake: FakeEmbeddingsServer;
let dir: string;
let storage: Storage;
beforeAll(async () => {
  fake = await startFakeEmbeddings(64);
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.dimensions = 64;
  fake.failWith = undefined;
  fake.requests.length = 0;
  dir = mkdtempSync(join(tmpdir(), 'pavise-embeddings-'));
  storage = openStorage(join(dir, 'pavise.db'), { grantTargetOf: () => '' });
  storage.memory.ingest(
    ['the ferry to the island leaves at noon', 'my sister lives by the lake', 'bring the blue umbrella tomorrow'].map((text, index) => ({
      kind: 'message' as const,
      channel: 'imessage',
      conversation: 'c',
      guid: `G-${index}`,
      sender: 'sam@example.com',
      fromOwner: false,
      isGroup: false,
      text,
      at: Date.UTC(2024, 0, 1 + index),
      provenance: { kind: 'contact' as const, contactId: 'imessage:sam@example.com' },
    })),
  );
});
afterEach(() => {
  storage.close();
  rmSync(dir, { recursive: true, force: true });
});

function recallWith(baseURL: string, key?: string) {
  const embedder = new OpenAiCompatibleEmbedder({ baseURL, model: 'nomic-embed-text', ...(key ? { apiKey: async () => key } : {}), timeoutMs: 2_000 });
  const index = new BruteForceVectorIndex(storage.memory, embedder);
  return { index, recall: new MemoryRecall({ store: storage.memory, vectors: index }) };
}

describe('embeddings (optional)', () => {
  it('embeds what is remembered, stores the vectors in SQLite and fuses the vector ranking with the text ranking', async () => {
    const { recall } = recallWith(fake.url, 'sk-test-embeddings');
    const result = await recall.search('ferry island');
    expect(result.mode).toBe('hybrid');
    expect(result.notice).toBeUndefined();
    expect(result.hits[0]?.text).toBe('the ferry to the island leaves at noon');
    expect(fake.requests[0]).toEqual({ model: 'nomic-embed-text', input: expect.arrayContaining(['my sister lives by the lake']), authorization: 'Bearer sk-test-embeddings' });
    expect(storage.memory.embeddingDimensions('nomic-embed-text')).toBe(64);
    // Every item was embedded once; a second search embeds only the query.
    const before = fake.requests.length;
    await recall.search('umbrella');
    expect(fake.requests.slice(before).map((request) => request.input)).toEqual([['umbrella']]);
  });

  it('falls back to text, and says so, when the endpoint is down', async () => {
    const { recall } = recallWith('http://127.0.0.1:9/v1');
    const result = await recall.search('ferry island');
    expect(result.mode).toBe('text');
    expect(result.hits[0]?.text).toBe('the ferry to the island leaves at noon');
    expect(result.notice).toMatch(/^Recall used text only: the embeddings endpoint http:\/\/127\.0\.0\.1:9\/v1\/embeddings could not be reached .*check memory\.embeddings\.baseURL/);
  });

  it('while Pavise is paused, sends nothing to the endpoint and falls back to text, saying why', async () => {
    let paused = true;
    const embedder = new OpenAiCompatibleEmbedder({ baseURL: fake.url, model: 'nomic-embed-text', refusal: () => (paused ? 'Pavise is paused' : undefined) });
    const recall = new MemoryRecall({ store: storage.memory, vectors: new BruteForceVectorIndex(storage.memory, embedder) });
    const result = await recall.search('ferry island');
    expect(fake.requests).toEqual([]);
    expect(result.mode).toBe('text');
    expect(result.hits[0]?.text).toBe('the ferry to the island leaves at noon');
    expect(result.notice).toContain('the embeddings endpoint was not called: Pavise is paused');
    paused = false;
    expect((await recall.search('ferry island')).mode).toBe('hybrid');
    expect(fake.requests.length).toBeGreaterThan(0);
  });

  it('falls back to text, and says so, when the endpoint answers an error', async () => {
    fake.failWith = 500;
    const result = await recallWith(fake.url).recall.search('ferry island');
    expect(result.mode).toBe('text');
    expect(result.notice).toContain('answered HTTP 500');
  });

  it('falls back to text, and says so, when the endpoint returns vectors of another dimension than those stored', async () => {
    await recallWith(fake.url).recall.search('ferry');
    fake.dimensions = 32;
    const result = await recallWith(fake.url).recall.search('ferry island');
    expect(result.mode).toBe('text');
    expect(result.hits[0]?.text).toBe('the ferry to the island leaves at noon');
    expect(result.notice).toContain('returned 32-dimensional vectors but those stored for nomic-embed-text have 64');
  });
});
