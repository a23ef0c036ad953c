import { matchExpression, OWNER_WORD, type TextQuery } from '../storage/memory-store.js';

/**
 * Turns the owner's question into what the index can use: the words worth matching (question words and stop words
 * removed; stemming is the index's), whether it names the owner, and the time it is about ("last May", "on 8 May
 * 2023"). The FTS5 expression quotes every word, so no query text is ever read as FTS5 syntax.
 */

/** The token the index stores in `who` for the owner's own words (migration 0006). */
export const OWNER_TOKEN = OWNER_WORD;

const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves s t d ll m re ve ever also may might must shall us one ones get got ' +
    'tell told say said like kind sort thing things know think let lets please remember recall recalled remind anything ' +
    'something someone anyone much many lot lots really yes yeah ok okay oh hey hi via per else way ' +
    // Words that frame a question rather than say what it is about.
    'likely probably possibly considered consider describe described mention mentioned name names type types ways often ' +
    'usually recently ago still happen happened'
  ).split(' '),
);

export interface ParsedQuery {
  /** Words to match, lower-case, in order, without duplicates. */
  readonly terms: readonly string[];
  /** The query names the owner (by `ownerName`, "I", "me", "my"). */
  readonly namesOwner: boolean;
  /** The time the question is about, when it names one: [from, to] in ms. */
  readonly period?: { readonly from: number; readonly to: number } | undefined;
  /** The question's words in order (the owner's name as OWNER_TOKEN), each marked when possessive ("Sam's"). */
  readonly words: readonly QueryWord[];
}

export interface QueryWord {
  readonly word: string;
  readonly possessive: boolean;
}

export interface ParseOptions {
  readonly ownerName?: string | undefined;
  /** "last May" is read relative to this. */
  readonly now: number;
  /** Parses dates in text (chrono-node); absent, dates are only words. */
  readonly parseDate?: DateParser | undefined;
}

export type DateParser = (text: string, reference: Date) => { readonly text: string; readonly from: number; readonly to: number } | undefined;

/** Words without which no date is named (the date parser costs milliseconds; most questions name none). */
const MAY_NAME_A_DATE =
  /\d|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun|today|tonight|yesterday|tomorrow|last|next|this|ago|week|month|year|weekend|spring|summer|autumn|fall|winter|christmas|noon|morning|evening|night)/i;

// \u2019 is ’ (a typographic apostrophe), escaped because one non-ASCII character in a bundled chunk makes V8 hold
// the chunk's whole source at two bytes a character (test/architecture/start-path.test.ts).
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'\u2019]*/gu;

/**
 * The most words a query matches on. A question names a few things; a pasted page would otherwise become an FTS5
 * query of thousands of alternatives, each counted and ranked (seconds per turn, as the preamble recalls on every one).
 */
const MAX_TERMS = 64;

/** The words of a `who` filter, as the index compares them; none when it names no one ("*", quotes, NUL). */
export function whoWords(who: string): string[] {
  return who.toLowerCase().match(WORD) ?? [];
}

export function parseQuery(query: string, options: ParseOptions): ParsedQuery {
  let text = query;
  let period: ParsedQuery['period'];
  const date = MAY_NAME_A_DATE.test(query) ? options.parseDate?.(query, new Date(options.now)) : undefined;
  if (date) {
    period = { from: date.from, to: date.to };
    text = text.replace(date.text, ' ');
  }
  const ownerParts = new Set((options.ownerName ?? '').toLowerCase().match(WORD) ?? []);
  const words = (text.toLowerCase().match(WORD) ?? []).map((raw): QueryWord => {
    const word = raw.replace(/['\u2019]s$/, '').replace(/['\u2019]/g, '');
    return { word: ownerParts.has(word) ? OWNER_TOKEN : word, possessive: /['\u2019]s$/.test(raw) };
  });
  let namesOwner = false;
  const terms: string[] = [];
  for (const { word } of words) {
    if (word === OWNER_TOKEN) {
      namesOwner = true;
      continue;
    }
    if (STOP_WORDS.has(word) || word.length === 0) continue;
    if (terms.length < MAX_TERMS && !terms.includes(word)) terms.push(word);
  }
  return { terms, namesOwner, period, words };
}

/**
 * An FTS5 query matching any of the terms (bm25 ranks items matching more of them higher). `people` are terms
 * that name a sender: they match only who said something, not the words said (a question naming Sam is about what
 * Sam said, not every greeting to Sam). Kept as its alternatives so the store can rank the rare ones first
 * (MemoryStore.textSearch).
 */
export function toMatch(parsed: ParsedQuery, who?: string, people: ReadonlySet<string> = new Set()): TextQuery | undefined {
  const parts = parsed.terms.map((term) => (people.has(term) ? `who : ${quote(term)}` : quote(term)));
  if (parsed.namesOwner) parts.push(`who : ${quote(OWNER_TOKEN)}`);
  if (parts.length === 0) return undefined;
  const words = who === undefined ? [] : whoWords(who);
  return words.length === 0 ? { anyOf: parts } : { anyOf: parts, filter: `who : (${words.map(quote).join(' ')})` };
}

/** The same query as one FTS5 expression. */
export function toMatchExpression(parsed: ParsedQuery, who?: string, people: ReadonlySet<string> = new Set()): string | undefined {
  const match = toMatch(parsed, who, people);
  return match && matchExpression(match);
}

/**
 * Of the `people` a question names (OWNER_TOKEN for the owner), the ones it asks about as speaking: the first named
 * other than as a possessive, with anyone joined to them by "and". "What did Sam tell Alex about Jo's trip?" asks
 * what Sam said; "How do Sam and Alex both relax?" asks both; "What is Sam's job?" (no one else) asks Sam.
 */
export function speakersOf(parsed: ParsedQuery, people: ReadonlySet<string>): Set<string> {
  const words = parsed.words;
  const first = words.findIndex(({ word, possessive }) => people.has(word) && !possessive);
  if (first === -1) return new Set(words.filter(({ word }) => people.has(word)).map(({ word }) => word));
  const speakers = new Set([words[first]!.word]);
  for (let index = first + 1; words[index]?.word === 'and' && people.has(words[index + 1]?.word ?? ''); index += 2) speakers.add(words[index + 1]!.word);
  return speakers;
}

export function quote(word: string): string {
  return `"${word.replaceAll('"', '""')}"`;
}

/** Words of a text, for similarity between items (MMR). */
export function wordSet(text: string): Set<string> {
  return new Set((text.toLowerCase().match(WORD) ?? []).filter((word) => !STOP_WORDS.has(word)));
}
