/**
 * Recall on LoCoMo (bench/data/locomo/, CC BY-NC 4.0, see its LICENSE.md): each conversation becomes a chat.db on
 * the real schema (speaker_a is the owner, writing from this Mac; speaker_b the other person, whose handle is
 * `<name>@example.com`; session dates are message dates, a turn every 30 s; the guid holds the `dia_id`), imported
 * through `pavise imessage import`, then every question of categories 1–4 is asked through
 * `pavise memory search --json --limit 10 --queries FILE` in-process. The figure is the share of evidence turns
 * (by dia_id) among the returned hits, per category and overall. Nothing here reads the answers.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main as cli } from '../../main/cli/main.js';
import { createChatDb } from '../../test/helpers/chat-db.js';

const DATA = join(import.meta.dirname, '../data/locomo');
const CATEGORIES: Record<number, string> = { 1: 'multi-hop', 2: 'temporal', 3: 'open-domain', 4: 'single-hop' };

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

export async function locomoRecall(): Promise<Record<string, unknown>> {
  const files = readdirSync(DATA).filter((file) => /^conv-.*\.json$/.test(file)).sort();
  const found: Record<string, { evidence: number; found: number; questions: number }> = {};
  const perConversation: Record<string, number> = {};
  let searchMs = 0;
  let importMs = 0;
  for (const file of files) {
    const data = JSON.parse(readFileSync(join(DATA, file), 'utf8')) as Conversation;
    const id = file.replace(/\.json$/, '');
    const sessions: Sessions = data.conversation ?? data;
    const { speaker_a: owner, speaker_b: other } = sessions;
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
      writeFileSync(join(work, 'config.json'), '');
      const { mkdirSync } = await import('node:fs');
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
      const searched = io(env);
      const code = await cli(['memory', 'search', '--json', '--limit', '10', '--queries', queriesFile], searched.io);
      searchMs += performance.now() - started;
      if (code !== 0) throw new Error(`search in ${id} failed: ${searched.err()}`);
      const lines = searched.out().trim().split('\n').map((line) => JSON.parse(line) as { query: string; hits: { ref: { guid: string } }[] });
      let conversationEvidence = 0;
      let conversationFound = 0;
      questions.forEach((qa, index) => {
        const returned = new Set(lines[index]!.hits.map((hit) => hit.ref.guid.slice(id.length + 1)));
        const evidence = [...new Set(qa.evidence.flatMap((entry) => entry.split(/[;,\s]+/)).filter((entry) => /^D\d+:\d+$/.test(entry)))];
        const category = CATEGORIES[qa.category]!;
        const bucket = (found[category] ??= { evidence: 0, found: 0, questions: 0 });
        bucket.questions++;
        for (const turn of evidence) {
          bucket.evidence++;
          conversationEvidence++;
          if (returned.has(turn)) {
            bucket.found++;
            conversationFound++;
          }
        }
      });
      perConversation[id] = round(conversationFound / conversationEvidence);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const totals = Object.values(found).reduce((sum, bucket) => ({ evidence: sum.evidence + bucket.evidence, found: sum.found + bucket.found, questions: sum.questions + bucket.questions }), {
    evidence: 0,
    found: 0,
    questions: 0,
  });
  return {
    description: 'LoCoMo: share of evidence turns among the top 10 hits of `pavise memory search --limit 10`, no embeddings',
    target: 0.75,
    overall: round(totals.found / totals.evidence),
    questions: totals.questions,
    evidenceTurns: totals.evidence,
    perCategory: Object.fromEntries(Object.entries(found).map(([category, bucket]) => [category, { recall: round(bucket.found / bucket.evidence), questions: bucket.questions, evidence: bucket.evidence }])),
    perConversation,
    importMs: Math.round(importMs),
    searchMsPerQuery: round(searchMs / totals.questions, 2),
  };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
