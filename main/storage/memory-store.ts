import type { Database } from 'better-sqlite3';
import { parseProvenance } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';
import { preparedOnce, type Prepare } from './statements.js';

export type MemoryItemKind = 'message' | 'turn' | 'note';

/** One remembered piece of text and where it came from. `at` is milliseconds since the epoch. */
export interface MemoryItemInput {
  readonly kind: MemoryItemKind;
  /** 'imessage', 'telegram', 'pavise' (local turns), 'notes'. */
  readonly channel: string;
  readonly conversation: string;
  readonly conversationName?: string | undefined;
  /** Where the item came from inside its channel: chat.db `message.guid`, Telegram `chat:message`, `note:ID`. */
  readonly guid: string;
  readonly sender: string;
  readonly senderName?: string | undefined;
  /** The owner's own words (indexed so that a query naming the owner finds them). */
  readonly fromOwner: boolean;
  readonly isGroup: boolean;
  readonly text: string;
  readonly at: number;
  readonly provenance: Provenance;
}

export interface MemoryItem extends MemoryItemInput {
  readonly id: number;
}

export interface TextMatch {
  readonly id: number;
  /** bm25: lower is better. */
  readonly score: number;
}

export interface TextSearchOptions {
  readonly limit: number;
  readonly from?: number | undefined;
  readonly to?: number | undefined;
}

/**
 * A query for `textSearch`: items matching any of the FTS5 expressions `anyOf` (and `filter`, when given), ranked by
 * bm25 over all of them.
 */
export interface TextQuery {
  readonly anyOf: readonly string[];
  readonly filter?: string | undefined;
}

/** A TextQuery as one FTS5 expression. */
export function matchExpression(query: TextQuery): string {
  const any = query.anyOf.join(' OR ');
  return query.filter === undefined ? any : `(${any}) AND ${query.filter}`;
}

export interface ImportCheckpoint {
  readonly lastRowid: number;
  readonly imported: number;
}

export interface StoredEmbedding {
  readonly id: number;
  readonly vector: Float32Array;
}

interface ItemRow {
  id: number;
  kind: MemoryItemKind;
  channel: string;
  conversation: string;
  conversation_name: string | null;
  guid: string;
  sender: string;
  sender_name: string | null;
  from_owner: number;
  is_group: number;
  text: string;
  at: number;
  provenance: string;
}

/** What the index's `who` holds for the owner's own words (main/memory/query.ts asks for it). */
export const OWNER_WORD = 'paviseowner';

const COLUMNS = 'id, kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance';
const MAX_LIMIT = 10_000;

/** How much of each item to read: `textChars` cuts its text (a ranking that reads only the start of long items). */
export interface ReadOptions {
  readonly textChars?: number | undefined;
}

/**
 * COLUMNS as a select list (of table alias `prefix`); with `read.textChars`, the text is cut to a length bound as the
 * statement's first parameter (see cutParameter).
 */
function columns(read: ReadOptions, prefix = ''): string {
  return COLUMNS.split(', ')
    .map((column) => (column === 'text' && read.textChars !== undefined ? `substr(${prefix}text, 1, ?) AS text` : `${prefix}${column}`))
    .join(', ');
}

/** The parameters `columns(read)` adds in front of a statement's own. */
function cutParameter(read: ReadOptions): number[] {
  const cut = read.textChars;
  if (cut === undefined) return [];
  if (!Number.isSafeInteger(cut) || cut < 1) throw new RangeError(`textChars must be a positive integer, not ${cut}.`);
  return [cut];
}

/**
 * A TextQuery whose alternatives together match at most this many items is ranked whole (see textSearch): bm25 over
 * every match costs a few milliseconds at most, and a store of a few thousand items is always ranked whole.
 */
const SCORE_WHOLE = 4_000;
/** Each alternative is counted up to one more than this; when all reach it, up to RAREST_COUNT_CAP. */
const COMMON_MATCHES = 5_000;
/** An alternative matching at most this many items is rare: its items are always candidates (~1 ms to score). */
const RARE_MATCHES = 1_000;
/** When every alternative is common, each is counted up to this many matches to find the rarest (~1 ms each at 1M). */
const RAREST_COUNT_CAP = 20_000;
/** The page cache of a bulk import, in KiB (see withBulkImport). */
const IMPORT_CACHE_KIB = 65_536;
/**
 * How many pages the write-ahead log may hold before a commit copies it into the database, during a bulk import
 * (SQLite's usual is 1,000, which every import batch passes). The last batches' index pages are
 * rewritten by the next ones, so copying less often copies each fewer times: about a twentieth of an import at 1M.
 */
const IMPORT_WAL_PAGES = 16_384;

/** Weights of the index's columns for bm25: the words said, who said them, where. */
const BM25_WEIGHTS = '1.0, 0.5, 0.25';

/**
 * Everything remembered (migration 0006): items, their full-text index, import checkpoints and optional vectors.
 * Messages, turns and notes arrive by the triggers of migration 0006; imports and tests call `ingest`.
 */
export class MemoryStore {
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  /** Stores `items` in one transaction; an item already stored (same channel and guid) is skipped. Returns how many were new. */
  ingest(items: readonly MemoryItemInput[]): number {
    return this.db.transaction(() => this.#insertAll(items)).immediate();
  }

  /**
   * Stores a batch read from an import `source` and moves its checkpoint to `lastRowid` in the same transaction, so
   * an import stopped at any point resumes with nothing lost and nothing stored twice.
   */
  ingestBatch(source: string, items: readonly MemoryItemInput[], lastRowid: number, now = Date.now()): number {
    return this.db
      .transaction(() => {
        const added = this.#insertAll(items);
        this.#sql(
          `INSERT INTO memory_import_checkpoints (source, last_rowid, imported, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (source) DO UPDATE SET last_rowid = excluded.last_rowid, imported = imported + excluded.imported, updated_at = excluded.updated_at`,
        ).run(source, lastRowid, added, now);
        return added;
      })
      .immediate();
  }

  /**
   * Runs a bulk import with a page cache of IMPORT_CACHE_KIB and a write-ahead log of up to IMPORT_WAL_PAGES, both
   * restored when `work` settles (and the log then copied back, so it does not stay large): at 1M messages the
   * indexes outgrow the connection's usual 2 MiB, and re-reading their pages cost about 6% of the import's CPU.
   */
  async withBulkImport<T>(work: () => Promise<T>): Promise<T> {
    const usualCache = this.db.pragma('cache_size', { simple: true }) as number;
    const usualWal = this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
    this.db.pragma(`cache_size = ${-IMPORT_CACHE_KIB}`);
    this.db.pragma(`wal_autocheckpoint = ${IMPORT_WAL_PAGES}`);
    try {
      return await work();
    } finally {
      if (this.db.open) {
        this.db.pragma(`cache_size = ${usualCache}`);
        this.db.pragma(`wal_autocheckpoint = ${usualWal}`);
        // PASSIVE: copies what no reader still needs and never waits for one (the gateway may be reading).
        this.db.pragma('wal_checkpoint(PASSIVE)');
      }
    }
  }

  checkpoint(source: string): ImportCheckpoint | undefined {
    const row = this.#sql('SELECT last_rowid, imported FROM memory_import_checkpoints WHERE source = ?').get(source) as
      | { last_rowid: number; imported: number }
      | undefined;
    return row && { lastRowid: row.last_rowid, imported: row.imported };
  }

  count(): number {
    return (this.#sql('SELECT count(*) AS n FROM memory_items').get() as { n: number }).n;
  }

  get(id: number): MemoryItem | undefined {
    const row = this.#sql(`SELECT ${COLUMNS} FROM memory_items WHERE id = ?`).get(id) as ItemRow | undefined;
    return row && toItem(row);
  }

  /** The item remembered for a channel's message (its guid), if memory kept it. */
  byGuid(channel: string, guid: string): MemoryItem | undefined {
    const row = this.#sql(`SELECT ${COLUMNS} FROM memory_items WHERE channel = ? AND guid = ?`).get(channel, guid) as ItemRow | undefined;
    return row && toItem(row);
  }

  /** The items with these ids, in the order given (missing ids are left out). */
  getMany(ids: readonly number[], read: ReadOptions = {}): MemoryItem[] {
    if (ids.length === 0) return [];
    const rows = this.#sql(`SELECT ${columns(read)} FROM memory_items WHERE id IN (SELECT value FROM json_each(?))`).all(...cutParameter(read), JSON.stringify(ids)) as ItemRow[];
    const byId = new Map(rows.map((row) => [row.id, toItem(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Full-text matches of an FTS5 `match` expression or TextQuery (built by main/memory from the owner's words, never
   * spliced into the SQL), best first, within [from, to] when given.
   *
   * bm25 costs about a microsecond for every item a query matches, and at 1M items three ordinary words together
   * match ~10,000. So a TextQuery whose alternatives together match over SCORE_WHOLE items is ranked as a
   * common-terms query (see #commonTermsPlan): the candidates are the items saying one of its rarer alternatives or
   * at least two of its alternatives, each with its exact bm25 for the whole query; items saying only one of the
   * commoner alternatives are left out. When fewer than `limit` items are candidates, the whole query is ranked.
   */
  textSearch(match: string | TextQuery, options: TextSearchOptions): TextMatch[] {
    checkLimit(options.limit);
    if (typeof match === 'string') return this.#rank(match, options);
    const plan = this.#commonTermsPlan(match.anyOf, options.limit);
    if (plan !== undefined) {
      const within = (expression: string) => (match.filter === undefined ? expression : `(${expression}) AND ${match.filter}`);
      const ranked = this.#bestOf(plan.map(within), options);
      if (ranked.length === options.limit) return ranked;
    }
    return this.#rank(matchExpression(match), options);
  }

  #rank(match: string, options: TextSearchOptions): TextMatch[] {
    if (options.from === undefined && options.to === undefined) {
      return this.#sql(
        `SELECT rowid AS id, bm25(memory_fts, ${BM25_WEIGHTS}) AS score FROM memory_fts WHERE memory_fts MATCH ? ORDER BY score LIMIT ?`,
      ).all(match, options.limit) as TextMatch[];
    }
    return this.#sql(
      `SELECT f.rowid AS id, bm25(memory_fts, ${BM25_WEIGHTS}) AS score FROM memory_fts f JOIN memory_items i ON i.id = f.rowid
       WHERE memory_fts MATCH ? AND i.at BETWEEN ? AND ? ORDER BY score LIMIT ?`,
    ).all(match, options.from ?? Number.MIN_SAFE_INTEGER, options.to ?? Number.MAX_SAFE_INTEGER, options.limit) as TextMatch[];
  }

  /**
   * The best `limit` items of several rankings, each item at its best score (lowest bm25). Each item is scored
   * exactly by at least one of a plan's expressions and no better by the others (see #commonTermsPlan), so an item
   * outside the best `limit` of every ranking has `limit` items at least as good: merging the short lists is exact,
   * where grouping in SQL sorted every item matching the rare alternatives.
   */
  #bestOf(expressions: readonly string[], options: TextSearchOptions): TextMatch[] {
    const best = new Map<number, number>();
    for (const expression of expressions) {
      for (const match of this.#rank(expression, options)) {
        const score = best.get(match.id);
        if (score === undefined || match.score < score) best.set(match.id, match.score);
      }
    }
    return [...best]
      .map(([id, score]) => ({ id, score }))
      .sort((a, b) => a.score - b.score)
      .slice(0, options.limit);
  }

  /**
   * The FTS5 expressions of a common-terms ranking of `anyOf`, or undefined when the whole query is ranked: its
   * alternatives together match at most SCORE_WHOLE items, or every one is as rare as the rarest.
   *
   * The rare alternatives R are the rarest, any matching at most RARE_MATCHES items, and the next rarest while R
   * matches fewer than `limit`; the others are common, C.
   * The expressions: R alone; (R) AND (C); and for each bit of a common alternative's index, (those with the bit
   * clear) AND (those with it set, or R). Any two common alternatives differ in some bit, so every item saying two
   * alternatives, or one of R, is matched by some expression. FTS5 counts a phrase toward bm25 only where its branch
   * of the expression matches the item: under an AND of two OR groups both match, so every phrase of the query the
   * item says is counted and its score is exact. Under R alone an item that also says a common word scores less
   * (bm25 adds a share per phrase) but is scored exactly by (R) AND (C). Measured at 1M items: "vuen sitolo kaen"
   * (3,628 + 2,250 + 3,570 items) ranked whole 8.7 ms, as these three expressions ~5 ms.
   */
  #commonTermsPlan(anyOf: readonly string[], limit: number): string[] | undefined {
    if (anyOf.length < 2) return undefined;
    let counts = anyOf.map((part) => this.#matchCount(part, COMMON_MATCHES + 1));
    if (counts.reduce((sum, count) => sum + count, 0) <= SCORE_WHOLE) return undefined;
    if (counts.every((count) => count > COMMON_MATCHES)) counts = anyOf.map((part) => this.#matchCount(part, RAREST_COUNT_CAP));
    const byRarity = anyOf.map((part, index) => ({ part, count: counts[index]! })).sort((a, b) => a.count - b.count);
    // Rare: the rarest, any matching at most RARE_MATCHES, and the next rarest while they match fewer than `limit`.
    let rareCount = 0;
    const rare: string[] = [];
    for (const { part, count } of byRarity) {
      if (rare.length > 0 && count > RARE_MATCHES && rareCount >= limit) break;
      rare.push(part);
      rareCount += count;
    }
    const common = anyOf.filter((part) => !rare.includes(part));
    // Every alternative as rare as the rarest (at the cap, which is rarer is unknown).
    if (common.length === 0 || byRarity.every(({ count }) => count === byRarity[0]!.count)) return undefined;
    const group = (parts: readonly string[]) => `(${parts.join(' OR ')})`;
    const plan = [group(rare), `${group(rare)} AND ${group(common)}`];
    for (let bit = 1; bit < common.length; bit *= 2) {
      const clear = common.filter((_, index) => (index & bit) === 0);
      const set = common.filter((_, index) => (index & bit) !== 0);
      plan.push(`${group(clear)} AND ${group([...set, ...rare])}`);
    }
    return plan;
  }

  /** How many items the FTS5 expression `match` matches, counting at most `cap` (reads at most that many). */
  #matchCount(match: string, cap: number): number {
    return (this.#sql('SELECT count(*) AS n FROM (SELECT 1 FROM memory_fts WHERE memory_fts MATCH ? LIMIT ?)').get(match, cap) as { n: number }).n;
  }

  /** Whether `word` is part of some sender's name or handle in the index (a query word naming a person). */
  isSenderWord(word: string): boolean {
    const quoted = `"${word.replaceAll('"', '""')}"`;
    return this.#sql('SELECT 1 FROM memory_fts WHERE memory_fts MATCH ? LIMIT 1').get(`who : ${quoted}`) !== undefined;
  }

  /** Up to `before` items just before and `after` just after `item` in its conversation, in order. */
  neighbours(item: MemoryItem, before: number, after: number): MemoryItem[] {
    return this.neighboursOf([item.id], before, after).get(item.id) ?? [];
  }

  /**
   * For each of the items `ids`, up to `before` items just before it and `after` just after it in its conversation,
   * in order (the item itself left out). One statement for all of them: recall widens dozens of hits per query.
   */
  neighboursOf(ids: readonly number[], before: number, after: number, read: ReadOptions = {}): Map<number, MemoryItem[]> {
    const around = new Map<number, MemoryItem[]>();
    if (ids.length === 0) return around;
    const rows = this.#sql(
      `SELECT h.value AS hit, ${columns(read, 'n.')}
       FROM json_each(?) h JOIN memory_items c ON c.id = h.value
       JOIN memory_items n ON n.id IN (SELECT x.id FROM memory_items x WHERE x.channel = c.channel AND x.conversation = c.conversation
           AND (x.at, x.id) < (c.at, c.id) ORDER BY x.at DESC, x.id DESC LIMIT ?)
         OR n.id IN (SELECT y.id FROM memory_items y WHERE y.channel = c.channel AND y.conversation = c.conversation
           AND (y.at, y.id) > (c.at, c.id) ORDER BY y.at, y.id LIMIT ?)
       ORDER BY h.key, n.at, n.id`,
    ).all(...cutParameter(read), JSON.stringify(ids), before, after) as (ItemRow & { hit: number })[];
    for (const row of rows) {
      const list = around.get(row.hit) ?? [];
      list.push(toItem(row));
      around.set(row.hit, list);
    }
    return around;
  }

  /** Items (oldest first) that have no vector from `model` yet. */
  withoutEmbedding(model: string, limit: number): MemoryItem[] {
    checkLimit(limit);
    return (
      this.#sql(
        `SELECT ${COLUMNS} FROM memory_items i WHERE NOT EXISTS (SELECT 1 FROM memory_embeddings e WHERE e.item_id = i.id AND e.model = ?)
         ORDER BY id LIMIT ?`,
      ).all(model, limit) as ItemRow[]
    ).map(toItem);
  }

  putEmbeddings(model: string, vectors: readonly { id: number; vector: Float32Array }[]): void {
    const put = this.#sql(
      `INSERT INTO memory_embeddings (item_id, model, dimensions, vector) VALUES (?, ?, ?, ?)
       ON CONFLICT (item_id) DO UPDATE SET model = excluded.model, dimensions = excluded.dimensions, vector = excluded.vector`,
    );
    this.db
      .transaction(() => {
        for (const { id, vector } of vectors) put.run(id, model, vector.length, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
      })
      .immediate();
  }

  /** The length of the vectors stored for `model`, if any are. */
  embeddingDimensions(model: string): number | undefined {
    return (this.#sql('SELECT dimensions FROM memory_embeddings WHERE model = ? LIMIT 1').get(model) as { dimensions: number } | undefined)?.dimensions;
  }

  /** Every stored vector of `model` with `dimensions` entries. */
  embeddings(model: string, dimensions: number): StoredEmbedding[] {
    const rows = this.#sql('SELECT item_id, vector FROM memory_embeddings WHERE model = ? AND dimensions = ?').all(model, dimensions) as {
      item_id: number;
      vector: Buffer;
    }[];
    return rows.map((row) => ({
      id: row.item_id,
      vector: new Float32Array(row.vector.buffer.slice(row.vector.byteOffset, row.vector.byteOffset + row.vector.byteLength)),
    }));
  }

  /**
   * Inserts the new items row by row, then indexes them all with one statement: a row inserted now gets an id above
   * every id stored before (SQLite's max(rowid) + 1, and the caller's transaction keeps other writers out), so the
   * items to index are exactly those above the maximum read first. One INSERT … SELECT tokenizes a batch inside
   * SQLite instead of binding every text a second time from JS (a sixth of an import's time at 1M messages).
   */
  #insertAll(items: readonly MemoryItemInput[]): number {
    const insert = this.#sql(
      `INSERT INTO memory_items (kind, channel, conversation, conversation_name, guid, sender, sender_name, from_owner, is_group, text, at, provenance)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel, guid) DO NOTHING`,
    );
    const before = (this.#sql('SELECT coalesce(max(id), 0) AS id FROM memory_items').get() as { id: number }).id;
    const labels = new Map<Provenance, string>();
    let added = 0;
    for (const item of items) {
      // Imports hand the same label object to every message of a sender: stringified once.
      let provenance = labels.get(item.provenance);
      if (provenance === undefined) labels.set(item.provenance, (provenance = JSON.stringify(item.provenance)));
      added += insert.run(
        item.kind,
        item.channel,
        item.conversation,
        item.conversationName ?? null,
        item.guid,
        item.sender,
        item.senderName ?? null,
        item.fromOwner ? 1 : 0,
        item.isGroup ? 1 : 0,
        item.text,
        item.at,
        provenance,
      ).changes;
    }
    // The same values as migration 0006's FTS_VALUES.
    if (added > 0) {
      this.#sql(
        `INSERT INTO memory_fts (rowid, text, who, place)
         SELECT i.id, i.text, CASE WHEN i.from_owner = 1 THEN ? || ' ' ELSE '' END || coalesce(i.sender_name, '') || ' ' || i.sender, coalesce(i.conversation_name, '')
         FROM memory_items i WHERE i.id > ?`,
      ).run(OWNER_WORD, before);
    }
    return added;
  }
}

/**
 * Parsed labels by their stored text. A search reads hundreds of rows whose labels are a handful of distinct strings,
 * and validating each took a tenth of a search at 1M items. Frozen, as they are shared; cleared when full.
 */
const labelCache = new Map<string, Provenance>();
const LABEL_CACHE_SIZE = 1_000;

function label(text: string): Provenance {
  let parsed = labelCache.get(text);
  if (parsed === undefined) {
    if (labelCache.size >= LABEL_CACHE_SIZE) labelCache.clear();
    labelCache.set(text, (parsed = Object.freeze(parseProvenance(text))));
  }
  return parsed;
}

function toItem(row: ItemRow): MemoryItem {
  return {
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    conversation: row.conversation,
    conversationName: row.conversation_name ?? undefined,
    guid: row.guid,
    sender: row.sender,
    senderName: row.sender_name ?? undefined,
    fromOwner: row.from_owner === 1,
    isGroup: row.is_group === 1,
    text: row.text,
    at: row.at,
    provenance: label(row.provenance),
  };
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new RangeError(`limit must be an integer from 1 to ${MAX_LIMIT}, not ${limit}.`);
}
