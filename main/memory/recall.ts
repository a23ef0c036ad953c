import type { Provenance } from '../common/messages.js';
import type { MemoryItem, MemoryStore } from '../storage/memory-store.js';
import { OWNER_TOKEN, parseQuery, speakersOf, toMatch, whoWords, wordSet, type DateParser } from './query.js';
import { mmr } from './rerank.js';

/** One recalled item, as the CLI, the `recall` tool and the Memory pane show it. `at` is ms since the epoch. */
export interface RecallHit {
  readonly id: number;
  readonly text: string;
  readonly at: number;
  readonly provenance: Provenance;
  /** Who said it: the owner's handle, a contact's or stranger's handle, 'pavise'. */
  readonly sender: string;
  readonly senderName?: string | undefined;
  readonly fromOwner: boolean;
  readonly ref: { readonly channel: string; readonly conversation: string; readonly guid: string };
}

export interface RecallOptions {
  /** How many hits (default 10, at most 100). */
  readonly limit?: number | undefined;
  /** Only items at or after / at or before these times (ms since the epoch). */
  readonly from?: number | undefined;
  readonly to?: number | undefined;
  /** Only items whose sender (name or handle) has these words; the owner's name means the owner. */
  readonly who?: string | undefined;
}

export interface RecallResult {
  readonly hits: RecallHit[];
  /** 'text' (FTS5 only) or 'hybrid' (fused with embeddings). */
  readonly mode: 'text' | 'hybrid';
  /** Why recall fell back to text, when it did (endpoint down, wrong dimension). */
  readonly notice?: string | undefined;
}

/** Vector ranking fused with the text ranking when embeddings are configured (main/memory/embeddings.ts). */
export interface VectorRanker {
  /** Item ids nearest the query, best first; throws (with a message for the owner) when it cannot. */
  rank(query: string, limit: number, signal?: AbortSignal): Promise<number[]>;
}

export interface RecallDeps {
  readonly store: MemoryStore;
  /** `config.owner.name`: a query naming it finds the owner's own messages. */
  readonly ownerName?: string | undefined;
  readonly now?: () => number;
  /** Reads dates in queries; `chronoDateParser()` by default, loaded at first use. */
  readonly parseDate?: DateParser;
  readonly vectors?: VectorRanker | undefined;
  /** Ranking constants other than the measured defaults (the benchmark's tuning runs). */
  readonly tuning?: Partial<RecallTuning>;
}

export const DEFAULT_RECALL_LIMIT = 10;
export const MAX_RECALL_LIMIT = 100;

/** How the ranking is tuned; fixed here, measured by `npm run bench -- memory`. */
export const TUNING = {
  candidates: 150,
  /** Hits whose neighbours are looked at, and how far either side. */
  widenTop: 40,
  widenBefore: 3,
  widenAfter: 3,
  /** Share of a hit's score its neighbours gain (an answer is often the reply to the matching line), over distance^decay. */
  neighbourShare: 0.5,
  /** Score multiplier for items inside the period a query names. */
  periodBoost: 1.6,
  /** Up to this much extra for the newest items, fading over `recencyHalfLifeDays`. */
  recencyWeight: 0.1,
  recencyHalfLifeDays: 180,
  /** MMR: relevance against novelty. */
  lambda: 0.8,
  rrfK: 60,
  /** Score multiplier for items said by the person a question asks about (the speaker, of several named). */
  personBoost: 2,
  /** 1: a sender's name in a query also matches the words said. */
  nameInText: 0,
  /** 1: an item gains from every strong neighbour (a window's score), 0: from its strongest only. */
  lendSum: 1,
  /** How fast a neighbour's share fades with distance (0: not at all). */
  distanceDecay: 1,
};

export type RecallTuning = typeof TUNING;

/**
 * What ranking reads of each candidate: the first 2,000 characters. MMR compares items by their words, and
 * near-duplicates differ early; reading whole items made a query over imported multi-megabyte pastes take seconds
 * (forty hits and their neighbours held hundreds of megabytes). The hits returned are read whole.
 */
const RANKING_READ = { textChars: 2_000 } as const;

/**
 * Recall over everything remembered: FTS5 bm25 over the words, who said them and where; the period a question names
 * boosts items inside it, and so does being said by the person it asks about; each strong hit lends part of its
 * score to its neighbouring turns (an answer is often the reply to the matching line); newer items gain a little;
 * MMR keeps the list diverse. With embeddings configured, the vector ranking is fused in (RRF); when the endpoint
 * fails, recall is text only and says why.
 */
export class MemoryRecall {
  readonly #store: MemoryStore;
  readonly #ownerName: string | undefined;
  readonly #now: () => number;
  readonly #vectors: VectorRanker | undefined;
  #parseDate: DateParser | undefined;
  readonly #tuning: RecallTuning;

  constructor(deps: RecallDeps) {
    this.#tuning = { ...TUNING, ...deps.tuning };
    this.#store = deps.store;
    this.#ownerName = deps.ownerName;
    this.#now = deps.now ?? Date.now;
    this.#vectors = deps.vectors;
    this.#parseDate = deps.parseDate;
  }

  async search(query: string, options: RecallOptions = {}, signal?: AbortSignal): Promise<RecallResult> {
    const limit = checkLimit(options.limit ?? DEFAULT_RECALL_LIMIT);
    this.#parseDate ??= await chronoDateParser();
    const textRanked = this.#textRanking(query, options, limit);
    if (!this.#vectors) return { hits: this.#whole(textRanked.slice(0, limit)).map(toHit), mode: 'text' };
    let vectorIds: number[];
    try {
      vectorIds = await this.#vectors.rank(query, this.#tuning.candidates, signal);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { hits: this.#whole(textRanked.slice(0, limit)).map(toHit), mode: 'text', notice: `Recall used text only: ${reason}` };
    }
    const allowed = (item: MemoryItem) =>
      (options.from === undefined || item.at >= options.from) && (options.to === undefined || item.at <= options.to) && this.#whoMatches(item, options.who);
    const vectorItems = this.#store.getMany(vectorIds, RANKING_READ).filter(allowed);
    return { hits: this.#whole(fuse(textRanked, vectorItems, limit, this.#tuning.rrfK)).map(toHit), mode: 'hybrid' };
  }

  /** The hits with their whole text: ranking reads only the start of each item (RANKING_READ). */
  #whole(items: readonly MemoryItem[]): MemoryItem[] {
    return this.#store.getMany(items.map((item) => item.id));
  }

  /** The text ranking alone (synchronous once the date parser is loaded; tests and the bench use it through search). */
  #textRanking(query: string, options: RecallOptions, limit: number): MemoryItem[] {
    // A filter that names no one matches no one: it is never dropped.
    if (options.who !== undefined && !this.#isOwnerName(options.who) && whoWords(options.who).length === 0) return [];
    const now = this.#now();
    const parsed = parseQuery(query, { ownerName: this.#ownerName, now, parseDate: this.#parseDate });
    const people = new Set(parsed.terms.filter((term) => this.#store.isSenderWord(term)));
    const match = toMatch(parsed, this.#whoExpression(options.who), this.#tuning.nameInText ? new Set() : people);
    if (match === undefined) return [];
    const matches = this.#store.textSearch(match, { limit: this.#tuning.candidates, from: options.from, to: options.to });
    if (matches.length === 0) return [];
    const best = -matches[0]!.score || 1;
    const scores = new Map(matches.map((match) => [match.id, -match.score / best]));
    // The index's owner word is only text in `who`: anyone may take it as a display name. The owner's words are
    // those stored as the owner's.
    const ownerOnly = options.who !== undefined && this.#isOwnerName(options.who);
    const items = new Map(
      this.#store
        .getMany(
          matches.map((match) => match.id),
          RANKING_READ,
        )
        .filter((item) => !ownerOnly || item.fromOwner)
        .map((item) => [item.id, item]),
    );

    // Widening: a strong hit lends part of its score to the turns around it.
    const lent = new Map<number, number>();
    const widened = matches.slice(0, this.#tuning.widenTop);
    const windows = this.#store.neighboursOf(
      widened.map((match) => match.id),
      this.#tuning.widenBefore,
      this.#tuning.widenAfter,
      RANKING_READ,
    );
    for (const match of widened) {
      const item = items.get(match.id);
      if (!item) continue;
      const score = scores.get(match.id) ?? 0;
      const around = windows.get(match.id) ?? [];
      const position = around.findIndex((neighbour) => neighbour.at > item.at || (neighbour.at === item.at && neighbour.id > item.id));
      const centre = position === -1 ? around.length : position;
      around.forEach((neighbour, index) => {
        if (!inRange(neighbour, options) || !this.#whoMatches(neighbour, options.who)) return;
        if (!items.has(neighbour.id)) items.set(neighbour.id, neighbour);
        const distance = index < centre ? centre - index : index - centre + 1;
        const share = (score * this.#tuning.neighbourShare) / Math.pow(distance, this.#tuning.distanceDecay);
        lent.set(neighbour.id, this.#tuning.lendSum ? (lent.get(neighbour.id) ?? 0) + share : Math.max(lent.get(neighbour.id) ?? 0, share));
      });
    }

    // Of the people a question names, the one it asks about as speaking ("what did Sam tell Alex…": Sam).
    const speakers = speakersOf(parsed, new Set([...people, OWNER_TOKEN]));
    const halfLife = this.#tuning.recencyHalfLifeDays * 86_400_000;
    const scored = [...items.values()].map((item) => {
      let score = (scores.get(item.id) ?? 0) + (lent.get(item.id) ?? 0);
      if (parsed.period && item.at >= parsed.period.from && item.at <= parsed.period.to) score *= this.#tuning.periodBoost;
      if (item.fromOwner ? speakers.has(OWNER_TOKEN) : saidBy(item, speakers)) score *= this.#tuning.personBoost;
      const age = Math.max(0, now - item.at);
      score *= 1 + this.#tuning.recencyWeight * Math.pow(0.5, age / halfLife);
      return { item, score };
    });
    scored.sort((a, b) => b.score - a.score || b.item.at - a.item.at);
    const pool = scored.slice(0, Math.max(limit * 3, 30));
    return mmr(pool, this.#tuning.lambda, pool.length, (entry) => wordSet(entry.item.text)).map((entry) => entry.item);
  }

  #whoExpression(who: string | undefined): string | undefined {
    if (who === undefined) return undefined;
    return this.#isOwnerName(who) ? OWNER_TOKEN : who;
  }

  #isOwnerName(who: string): boolean {
    const name = this.#ownerName?.trim().toLowerCase();
    const asked = who.trim().toLowerCase();
    return asked === 'me' || asked === 'owner' || (name !== undefined && name.length > 0 && (asked === name || name.split(/\s+/).includes(asked)));
  }

  #whoMatches(item: MemoryItem, who: string | undefined): boolean {
    if (who === undefined) return true;
    if (this.#isOwnerName(who)) return item.fromOwner;
    const haystack = `${item.senderName ?? ''} ${item.sender}`.toLowerCase();
    const words = whoWords(who);
    return words.length > 0 && words.every((word) => haystack.includes(word));
  }
}

function saidBy(item: MemoryItem, people: ReadonlySet<string>): boolean {
  const who = `${item.senderName ?? ''} ${item.sender}`.toLowerCase();
  for (const name of people) if (who.includes(name)) return true;
  return false;
}

function inRange(item: MemoryItem, options: RecallOptions): boolean {
  return (options.from === undefined || item.at >= options.from) && (options.to === undefined || item.at <= options.to);
}

/** Reciprocal rank fusion of the text and vector rankings. */
function fuse(text: readonly MemoryItem[], vector: readonly MemoryItem[], limit: number, rrfK: number): MemoryItem[] {
  const score = new Map<number, { item: MemoryItem; score: number }>();
  const add = (list: readonly MemoryItem[]) =>
    list.forEach((item, rank) => {
      const entry = score.get(item.id) ?? { item, score: 0 };
      entry.score += 1 / (rrfK + rank + 1);
      score.set(item.id, entry);
    });
  add(text);
  add(vector);
  return [...score.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, limit)
    .map((entry) => entry.item);
}

function toHit(item: MemoryItem): RecallHit {
  return {
    id: item.id,
    text: item.text,
    at: item.at,
    provenance: item.provenance,
    sender: item.sender,
    senderName: item.senderName,
    fromOwner: item.fromOwner,
    ref: { channel: item.channel, conversation: item.conversation, guid: item.guid },
  };
}

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_RECALL_LIMIT) {
    throw new RangeError(`limit must be a whole number from 1 to ${MAX_RECALL_LIMIT}, not ${limit}.`);
  }
  return limit;
}

/**
 * chrono-node, loaded at first use: the first date a query names, as the whole period it means ("May 2023" is the
 * month, "8 May 2023" the day, "2022" the year).
 */
export async function chronoDateParser(): Promise<DateParser> {
  const chrono = await import('chrono-node');
  return (text, reference) => {
    const [result] = chrono.parse(text, reference, { forwardDate: false });
    if (!result) return undefined;
    const start = result.start;
    const from = start.date();
    let to: Date;
    if (result.end) to = result.end.date();
    else if (start.isCertain('day')) to = new Date(from.getFullYear(), from.getMonth(), from.getDate() + 1);
    else if (start.isCertain('month')) to = new Date(from.getFullYear(), from.getMonth() + 1, 1);
    else to = new Date(from.getFullYear() + 1, 0, 1);
    const fromDay = start.isCertain('day') ? new Date(from.getFullYear(), from.getMonth(), from.getDate()) : start.isCertain('month') ? new Date(from.getFullYear(), from.getMonth(), 1) : new Date(from.getFullYear(), 0, 1);
    return { text: result.text, from: fromDay.getTime(), to: to.getTime() - 1 };
  };
}
