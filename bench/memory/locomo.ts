/**
 * Recall on LoCoMo (bench/data/locomo/, CC BY-NC 4.0, see its LICENSE.md): each conversation becomes a chat.db on
 * the real schema (speaker_a is the owner, writing from this Mac; speaker_b the other person, whose handle is
 * `<name>@example.com`; session dates are message dates, a turn every 30 s; the guid holds the `dia_id`), imported
 * through `pavise imessage import`, then every question of categories 1–4 is asked through
 * `pavise memory search --json --limit 10 --queries FILE` in-process. The figure is the share of evidence turns
 * (by dia_id) among the returned hits, per category and overall. Nothing here reads the answers.
 *
 * Ranking changes are chosen on the tuning pair (conv-26, conv-30) and checked on the held-out three (41, 42, 43):
 * both figures are in the output, and a change that lifts only the first is fit, not better. `lexicalShare` is the
 * share of evidence turns holding at least one of the question's words other than a name, as the index stems them:
 * about what text ranking can find directly (widening reaches some others through the turns beside them);
 * `recallSharing` and `recallNotSharing` split the figure along that line.
 * `--misses` adds every missed evidence turn with its text and its rank in the top 100 (or null), for analysis.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main as cli } from '../../main/cli/main.js';
import { parseQuery, quote } from '../../main/memory/query.js';
import { openDatabase, type Database } from '../../main/storage/database.js';
import { createChatDb } from '../../test/helpers/chat-db.js';

const DATA = join(import.meta.dirname, '../data/locomo');
const CATEGORIES: Record<number, string> = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop' };
/** Ranking is tuned on these two; the others are held out. */
const TUNING_SET = new Set(['conv-26', 'conv-30']);

export interface LocomoOptions {
  /** Only these conversations (ids like `conv-26`); all by default. */
  readonly conversations?: readonly string[] | undefined;
  /** Also list every missed evidence turn. */
  readonly misses?: boolean | undefined;
}

interface Tally {
  evidence: number;
  found: number;
  questions: number;
}

interface Miss {
  conversation: string;
  category: string;
  question: string;
  turns: { turn: string; speaker: string; text: string; rankInTop100: number | null }[];
}

interface Turn {
  speaker: string;
  dia_id: string;
  text: string;
}

/** The files keep the sessions at the top level (the original nests them under `conversation`); both are read. */
type Sessions = Record<string, unknown> & { speaker_a: string; speaker_b: string };

interface Conversation extends Sessions {
  conversation?: Sessions;
  qa: { question: string; evidence: string[]; category: number }[];
}

/** "1:56 pm on 8 May, 2023" → ms (UTC). */
function sessionDate(text: string): number {
  const match = /^(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+(\w+),?\s+(\d{4})$/i.exec(text.trim());
  if (!match) throw new Error(`unreadable LoCoMo session date "${text}"`);
  const [, hour, minute, half, day, month, year] = match;
  const monthIndex = new Date(`${month} 1, 2000`).getMonth();
  const hours = (Number(hour) % 12) + (half!.toLowerCase() === 'pm' ? 12 : 0);
  return Date.UTC(Number(year), monthIndex, Number(day), hours, Number(minute));
}

function turnsOf(conversation: Sessions): { turn: Turn; at: number }[] {
  const sessions = Object.keys(conversation)
    .filter((key) => /^session_\d+$/.test(key) && Array.isArray(conversation[key]))
    .sort((a, b) => Number(a.split('_')[1]) - Number(b.split('_')[1]));
  return sessions.flatMap((key) => {
    const start = sessionDate(String(conversation[`${key}_date_time`]));
    return (conversation[key] as Turn[]).map((turn, index) => ({ turn, at: start + index * 30_000 }));
  });
}

function io(env: NodeJS.ProcessEnv) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return { io: { stdin: new PassThrough(), stdout, stderr, env }, out: () => out, err: () => err };
}

/** The conversations in bench/data/locomo/, by id (`conv-26`). */
export function locomoConversations(): string[] {
  return readdirSync(DATA)
    .filter((file) => /^conv-.*\.json$/.test(file))
    .map((file) => file.replace(/\.json$/, ''))
    .sort();
}

export async function locomoRecall(options: LocomoOptions = {}): Promise<Record<string, unknown>> {
  const available = locomoConversations();
  const unknown = (options.conversations ?? []).filter((id) => !available.includes(id));
  if (unknown.length > 0) throw new Error(`unknown LoCoMo conversation ${unknown.join(', ')}; choose from ${available.join(', ')}`);
  const ids = options.conversations ?? available;
  const found: Record<string, Tally> = {};
  const perConversation: Record<string, number> = {};
  const perConversationCategory: Record<string, Record<string, number>> = {};
  const splits: Record<'tuning' | 'heldOut', { evidence: number; found: number }> = { tuning: { evidence: 0, found: 0 }, heldOut: { evidence: 0, found: 0 } };
  const lexical = { evidence: 0, shared: 0, sharedFound: 0, otherFound: 0 };
  const misses: Miss[] = [];
  let searchMs = 0;
  let searchCpuMs = 0;
  let importMs = 0;
  for (const id of ids) {
    const data = JSON.parse(readFileSync(join(DATA, `${id}.json`), 'utf8')) as Conversation;
    const sessions: Sessions = data.conversation ?? data;
    const { speaker_a: owner, speaker_b: other } = sessions;
    const turns = new Map(turnsOf(sessions).map(({ turn }) => [turn.dia_id, turn]));
    const work = mkdtempSync(join(tmpdir(), `pavise-locomo-${id}-`));
    try {
      const chatDb = createChatDb({ dir: work });
      const handle = chatDb.addHandle(`${other.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@example.com`);
      const chat = chatDb.addChat({ guid: `iMessage;-;${other.toLowerCase()}@example.com`, handles: [handle] });
      for (const { turn, at } of turnsOf(sessions)) {
        const fromOwner = turn.speaker === owner;
        chatDb.addMessage({ chat, handle, text: turn.text, date: at, isFromMe: fromOwner, guid: `${id}:${turn.dia_id}` });
      }
      chatDb.close();
      const home = join(work, 'home');
      const env = { PAVISE_HOME: home, HOME: work, PATH: process.env.PATH };
      mkdirSync(home, { recursive: true, mode: 0o700 });
      writeFileSync(join(home, 'config.json'), JSON.stringify({ owner: { name: owner } }));
      let started = performance.now();
      const imported = io(env);
      const importCode = await cli(['imessage', 'import', '--db', chatDb.path], imported.io);
      importMs += performance.now() - started;
      if (importCode !== 0) throw new Error(`import of ${id} failed: ${imported.err()}`);

      const questions = data.qa.filter((qa) => CATEGORIES[qa.category] !== undefined);
      const queriesFile = join(work, 'queries.txt');
      writeFileSync(queriesFile, `${questions.map((qa) => qa.question.replace(/\s+/g, ' ')).join('\n')}\n`);
      started = performance.now();
      const cpu = process.cpuUsage();
      const lines = await search(env, queriesFile, 10, id);
      searchMs += performance.now() - started;
      const used = process.cpuUsage(cpu);
      searchCpuMs += (used.user + used.system) / 1000;
      const deep = options.misses ? await search(env, queriesFile, 100, id) : undefined;
      const lexicalIndex = openDatabase(join(home, 'pavise.db'), { readonly: true });
      const shares = sharesAWord(lexicalIndex, owner, id);
      const byCategory: Record<string, Tally> = {};
      questions.forEach((qa, index) => {
        const returned = new Set(lines[index]!);
        const evidence = [...new Set(qa.evidence.flatMap((entry) => entry.split(/[;,\s]+/)).filter((entry) => /^D\d+:\d+$/.test(entry)))];
        const category = CATEGORIES[qa.category]!;
        const buckets = [(found[category] ??= { evidence: 0, found: 0, questions: 0 }), (byCategory[category] ??= { evidence: 0, found: 0, questions: 0 })];
        const split = splits[TUNING_SET.has(id) ? 'tuning' : 'heldOut'];
        for (const bucket of buckets) bucket.questions++;
        const missed: Miss['turns'] = [];
        for (const turn of evidence) {
          for (const bucket of buckets) bucket.evidence++;
          split.evidence++;
          lexical.evidence++;
          const shared = shares(qa.question, turn);
          if (shared) lexical.shared++;
          if (returned.has(turn)) {
            if (shared) lexical.sharedFound++;
            else lexical.otherFound++;
            for (const bucket of buckets) bucket.found++;
            split.found++;
          } else if (deep) {
            const rank = deep[index]!.indexOf(turn);
            missed.push({ turn, speaker: turns.get(turn)?.speaker ?? '?', text: turns.get(turn)?.text ?? '', rankInTop100: rank === -1 ? null : rank + 1 });
          }
        }
        if (missed.length > 0) misses.push({ conversation: id, category, question: qa.question, turns: missed });
      });
      const all = Object.values(byCategory).reduce(sum, { evidence: 0, found: 0, questions: 0 });
      perConversation[id] = round(all.found / all.evidence);
      perConversationCategory[id] = Object.fromEntries(Object.entries(byCategory).map(([category, bucket]) => [category, round(bucket.found / bucket.evidence)]));
      lexicalIndex.close();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const totals = Object.values(found).reduce(sum, { evidence: 0, found: 0, questions: 0 });
  return {
    description: 'LoCoMo: share of evidence turns among the top 10 hits of `pavise memory search --limit 10`, no embeddings',
    target: 0.75,
    overall: round(totals.found / totals.evidence),
    questions: totals.questions,
    evidenceTurns: totals.evidence,
    perCategory: Object.fromEntries(Object.entries(found).map(([category, bucket]) => [category, { recall: round(bucket.found / bucket.evidence), questions: bucket.questions, evidence: bucket.evidence }])),
    perConversation,
    perConversationCategory,
    tuningSet: splits.tuning.evidence > 0 ? round(splits.tuning.found / splits.tuning.evidence) : null,
    heldOut: splits.heldOut.evidence > 0 ? round(splits.heldOut.found / splits.heldOut.evidence) : null,
    lexicalShare: round(lexical.shared / lexical.evidence),
    /** Recall among the evidence turns that share a word with their question, and among those that do not. */
    recallSharing: round(lexical.sharedFound / lexical.shared),
    recallNotSharing: round(lexical.otherFound / (lexical.evidence - lexical.shared)),
    importMs: Math.round(importMs),
    searchMsPerQuery: round(searchMs / totals.questions, 2),
    /** This process's CPU time per query (the machine is shared: steadier than wall time). */
    searchCpuMsPerQuery: round(searchCpuMs / totals.questions, 2),
    ...(options.misses ? { misses } : {}),
  };
}

function sum(a: Tally, b: Tally): Tally {
  return { evidence: a.evidence + b.evidence, found: a.found + b.found, questions: a.questions + b.questions };
}

/** `pavise memory search --json --limit N --queries FILE`: the dia_ids returned for each query, in order. */
async function search(env: NodeJS.ProcessEnv, queriesFile: string, limit: number, id: string): Promise<string[][]> {
  const searched = io(env);
  const code = await cli(['memory', 'search', '--json', '--limit', String(limit), '--queries', queriesFile], searched.io);
  if (code !== 0) throw new Error(`search in ${id} failed: ${searched.err()}`);
  return searched
    .out()
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { hits: { ref: { guid: string } }[] }).hits.map((hit) => hit.ref.guid.slice(id.length + 1)));
}

/**
 * Whether an evidence turn holds one of the question's words other than the two speakers' names, as the index
 * stems them (in the imported database; the question's words as recall reads them).
 */
function sharesAWord(db: Database, owner: string, id: string): (question: string, turn: string) => boolean {
  const names = new Set(
    (db.prepare('SELECT DISTINCT sender FROM memory_items').all() as { sender: string }[]).flatMap(({ sender }) => sender.toLowerCase().split(/[^a-z0-9]+/)),
  );
  const matches = db.prepare('SELECT 1 FROM memory_fts f JOIN memory_items i ON i.id = f.rowid WHERE memory_fts MATCH ? AND i.guid = ?');
  const cache = new Map<string, boolean>();
  return (question, turn) => {
    const key = `${question}\0${turn}`;
    if (!cache.has(key)) {
      const words = parseQuery(question, { ownerName: owner, now: Date.now() }).terms.filter((word) => !names.has(word));
      cache.set(key, words.length > 0 && matches.get(`text : (${words.map(quote).join(' OR ')})`, `${id}:${turn}`) !== undefined);
    }
    return cache.get(key)!;
  };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
