import type { MemoryStore } from '../storage/memory-store.js';
import type { VectorRanker } from './recall.js';

/** Turns texts into vectors (one per text, same order). Throws with a message for the owner when it cannot. */
export interface Embedder {
  readonly model: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

export interface OpenAiEmbedderOptions {
  /** e.g. "https://api.openai.com/v1" or "http://localhost:11434/v1"; `/embeddings` is appended. */
  readonly baseURL: string;
  readonly model: string;
  /** Read at the moment a request leaves (the Keychain), never stored here. */
  readonly apiKey?: () => Promise<string | undefined>;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Any OpenAI-compatible `POST /v1/embeddings` (OpenAI, Ollama, LM Studio). */
export class OpenAiCompatibleEmbedder implements Embedder {
  readonly model: string;
  readonly #options: OpenAiEmbedderOptions;

  constructor(options: OpenAiEmbedderOptions) {
    this.model = options.model;
    this.#options = options;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const url = `${this.#options.baseURL.replace(/\/+$/, '')}/embeddings`;
    const key = await this.#options.apiKey?.();
    const timeout = AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    let response: Response;
    try {
      response = await (this.#options.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: this.model, input: texts, encoding_format: 'float' }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'it did not answer in time' : error instanceof Error ? error.message : String(error);
      throw new Error(`the embeddings endpoint ${url} could not be reached (${reason}); check memory.embeddings.baseURL and that the server is running.`);
    }
    if (!response.ok) throw new Error(`the embeddings endpoint ${url} answered HTTP ${response.status}; check memory.embeddings.model and its key.`);
    const body = (await response.json().catch(() => undefined)) as { data?: { index?: number; embedding?: unknown }[] } | undefined;
    const data = body?.data;
    if (!Array.isArray(data) || data.length !== texts.length) throw new Error(`the embeddings endpoint ${url} did not return one vector per text.`);
    const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return ordered.map((entry) => {
      if (!Array.isArray(entry.embedding) || entry.embedding.length === 0 || !entry.embedding.every((value) => typeof value === 'number' && Number.isFinite(value))) {
        throw new Error(`the embeddings endpoint ${url} returned something that is not a vector.`);
      }
      return normalise(Float32Array.from(entry.embedding as number[]));
    });
  }
}

export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const length = Math.sqrt(sum) || 1;
  for (let index = 0; index < vector.length; index++) vector[index]! /= length;
  return vector;
}

export interface VectorIndexOptions {
  /** Items embedded per search call before ranking (the backlog is worked off a little at a time). */
  readonly backfillPerSearch?: number;
  readonly batchSize?: number;
}

/**
 * Brute-force cosine over the stored float32 vectors (unit length, so a dot product), held in one contiguous array
 * and refreshed when new vectors are stored. Chosen over sqlite-vec: vec0's KNN is an exact scan too (no ANN
 * index), so it would do the same work in C instead of JS; this needs no native extension loaded into the database
 * (nothing extra to sign, notarise and ship per architecture) and the vectors stay plain float32 blobs in
 * `memory_embeddings`, which sqlite-vec can read later if the scan becomes the bottleneck. Measured by
 * `npm run bench -- memory --section scale` (sqlite-vec itself not measured yet).
 */
export class BruteForceVectorIndex implements VectorRanker {
  readonly #store: MemoryStore;
  readonly #embedder: Embedder;
  readonly #options: Required<VectorIndexOptions>;
  #matrix: Float32Array = new Float32Array(0);
  #ids: number[] = [];
  #dimensions = 0;
  #stale = true;

  constructor(store: MemoryStore, embedder: Embedder, options: VectorIndexOptions = {}) {
    this.#store = store;
    this.#embedder = embedder;
    this.#options = { backfillPerSearch: options.backfillPerSearch ?? 256, batchSize: options.batchSize ?? 64 };
  }

  /** Embeds up to `max` remembered items that have no vector yet; returns how many. */
  async backfill(max: number, signal?: AbortSignal): Promise<number> {
    let done = 0;
    while (done < max) {
      const items = this.#store.withoutEmbedding(this.#embedder.model, Math.min(this.#options.batchSize, max - done));
      if (items.length === 0) break;
      const vectors = await this.#embedder.embed(items.map((item) => item.text), signal);
      this.#checkDimensions(vectors[0]!.length);
      this.#store.putEmbeddings(this.#embedder.model, items.map((item, index) => ({ id: item.id, vector: vectors[index]! })));
      done += items.length;
      this.#stale = true;
    }
    return done;
  }

  async rank(query: string, limit: number, signal?: AbortSignal): Promise<number[]> {
    if (this.#options.backfillPerSearch > 0) await this.backfill(this.#options.backfillPerSearch, signal);
    const [vector] = await this.#embedder.embed([query], signal);
    this.#checkDimensions(vector!.length);
    this.#load(vector!.length);
    return this.nearest(vector!, limit);
  }

  /** The `limit` stored vectors nearest `query` (unit length). */
  nearest(query: Float32Array, limit: number): number[] {
    this.#load(query.length);
    const dims = this.#dimensions;
    const count = this.#ids.length;
    const best: { id: number; score: number }[] = [];
    let floor = -Infinity;
    const matrix = this.#matrix;
    for (let row = 0; row < count; row++) {
      const offset = row * dims;
      // Four running sums: independent additions the CPU can overlap (about twice as fast as one sum).
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      let index = 0;
      for (; index + 3 < dims; index += 4) {
        a += matrix[offset + index]! * query[index]!;
        b += matrix[offset + index + 1]! * query[index + 1]!;
        c += matrix[offset + index + 2]! * query[index + 2]!;
        d += matrix[offset + index + 3]! * query[index + 3]!;
      }
      for (; index < dims; index++) a += matrix[offset + index]! * query[index]!;
      const dot = a + b + c + d;
      if (best.length < limit || dot > floor) {
        best.push({ id: this.#ids[row]!, score: dot });
        if (best.length > limit * 2) {
          best.sort((a, b) => b.score - a.score);
          best.length = limit;
          floor = best[limit - 1]!.score;
        }
      }
    }
    return best
      .sort((a, b) => b.score - a.score)
      .slice(0, limit)
      .map((entry) => entry.id);
  }

  #checkDimensions(dimensions: number): void {
    if (this.#dimensions !== 0 && dimensions !== this.#dimensions) {
      throw new Error(
        `the embeddings endpoint returned ${dimensions}-dimensional vectors but those stored for ${this.#embedder.model} have ${this.#dimensions}; ` +
          'check memory.embeddings.model (a different model needs its own vectors).',
      );
    }
    const stored = this.#store.embeddingDimensions(this.#embedder.model);
    if (stored !== undefined && stored !== dimensions) {
      throw new Error(
        `the embeddings endpoint returned ${dimensions}-dimensional vectors but those stored for ${this.#embedder.model} have ${stored}; ` +
          'check memory.embeddings.model (a different model needs its own vectors).',
      );
    }
  }

  #load(dimensions: number): void {
    if (!this.#stale && this.#dimensions === dimensions) return;
    const stored = this.#store.embeddings(this.#embedder.model, dimensions);
    const matrix = new Float32Array(stored.length * dimensions);
    stored.forEach((entry, row) => matrix.set(entry.vector, row * dimensions));
    this.#matrix = matrix;
    this.#ids = stored.map((entry) => entry.id);
    this.#dimensions = dimensions;
    this.#stale = false;
  }
}
