import type { MemoryStore } from '../storage/memory-store.js';
import type { VectorRanker } from './recall.js';
import { vectorRows, type VectorRows } from './vector-scan.js';

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
  /** Asked before each request: why it may not leave now (the pause switch), or undefined. */
  readonly refusal?: () => string | undefined;
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
    const refused = this.#options.refusal?.();
    if (refused !== undefined) throw new Error(`the embeddings endpoint was not called: ${refused}`);
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
 * Brute-force cosine over the stored float32 vectors: unit length, so a dot product, scanned by a WebAssembly SIMD
 * loop over one contiguous copy in memory (main/memory/vector-scan.ts), loaded from SQLite once and extended as
 * vectors are stored here. Chosen over sqlite-vec after measuring both at 30,000 × 384 on this project's Linux
 * machine: vec0's KNN (an exact scan too; it has no ANN index) took 19.5 ms CPU a query, vec_distance_cosine over
 * the blobs 36 ms, the plain JS loop 8.7 ms; and at 100,000 the SIMD scan takes ~10 ms against the JS loop's ~35.
 * It also needs no native extension loaded into the database (nothing extra to sign, notarise and ship per
 * architecture), and the vectors stay plain float32 blobs in `memory_embeddings`. Measured by
 * `npm run bench -- memory --section scale`.
 */
export class BruteForceVectorIndex implements VectorRanker {
  readonly #store: MemoryStore;
  readonly #embedder: Embedder;
  readonly #options: Required<VectorIndexOptions>;
  #rows: VectorRows | undefined;
  #ids: number[] = [];
  #dimensions = 0;

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
      // The loaded rows grow by what was just stored (an item has one vector, and these had none).
      if (this.#rows && this.#dimensions === vectors[0]!.length) {
        const added = new Float32Array(vectors.length * this.#dimensions);
        vectors.forEach((vector, row) => added.set(vector, row * this.#dimensions));
        this.#rows.append(added);
        this.#ids.push(...items.map((item) => item.id));
      }
    }
    return done;
  }

  async rank(query: string, limit: number, signal?: AbortSignal): Promise<number[]> {
    if (this.#options.backfillPerSearch > 0) await this.backfill(this.#options.backfillPerSearch, signal);
    const [vector] = await this.#embedder.embed([query], signal);
    this.#checkDimensions(vector!.length);
    return this.nearest(vector!, limit);
  }

  /** The `limit` stored vectors nearest `query` (unit length), best first. */
  nearest(query: Float32Array, limit: number): number[] {
    const rows = this.#load(query.length);
    if (rows.rows === 0) return [];
    const scores = rows.scores(query);
    // The best `limit` rows: a list twice that long is cut back whenever it fills, so few rows are ever sorted.
    let best: number[] = [];
    let floor = -Infinity;
    for (let row = 0; row < scores.length; row++) {
      if (scores[row]! <= floor) continue;
      best.push(row);
      if (best.length >= limit * 2) {
        best = best.sort((a, b) => scores[b]! - scores[a]!).slice(0, limit);
        floor = scores[best.at(-1)!]!;
      }
    }
    return best
      .sort((a, b) => scores[b]! - scores[a]!)
      .slice(0, limit)
      .map((row) => this.#ids[row]!);
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

  #load(dimensions: number): VectorRows {
    if (this.#rows && this.#dimensions === dimensions) return this.#rows;
    const stored = this.#store.embeddings(this.#embedder.model, dimensions);
    const matrix = new Float32Array(stored.length * dimensions);
    stored.forEach((entry, row) => matrix.set(entry.vector, row * dimensions));
    this.#rows = vectorRows(matrix, dimensions);
    this.#ids = stored.map((entry) => entry.id);
    this.#dimensions = dimensions;
    return this.#rows;
  }
}
