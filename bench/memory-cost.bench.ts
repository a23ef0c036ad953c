/**
 * The cost section of the memory benchmark: a scripted 300-turn owner conversation through the real core (compose,
 * TurnRunner, gate, memory) and the real Anthropic SDK against the fake server, with the default context budget for
 * the default model. The fake counts a request's input tokens as its body's characters / 4, and answers the memory
 * extraction calls with the scripted extractor (test/fakes/fake-memory-model.ts). Targets: input tokens of turn 300
 * at most 1.2 x those of turn 30, and the fact the owner stated at turn 5 in the model's context at turn 300.
 * `npm run bench -- memory-cost [TURNS]`; prints one JSON object.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compose } from '../main/compose.js';
import { createProvider } from '../main/llm/create-provider.js';
import { defaultContextTokens } from '../main/memory/budget.js';
import { estimateTokens } from '../main/memory/tokens.js';
import { anthropicText, startFakeAnthropic, type RecordedRequest } from '../test/fakes/fake-anthropic-server.js';
import { fakeExtraction, isExtractionRequest } from '../test/fakes/fake-memory-model.js';
import { MemorySecretStore } from '../test/helpers/memory-secret-store.js';

const TURNS = Number(process.argv[2] ?? 300);
const FACT_TURN = 5;
const FACT = 'My sister is called Ada and she lives in Porto.';
const QUESTION = 'What is my sister called, and where does she live?';
const KEY = `sk-ant-api03-bench-${'b'.repeat(40)}`;

const TOPICS = ['the garden', 'dinner plans', 'the train to Leeds', 'a birthday present', 'the dentist', 'the car service', 'a book I am reading', 'the weekend'];
/** A chat-sized owner message (~250 characters), different every turn. */
function ownerText(turn: number): string {
  if (turn === FACT_TURN) return `By the way, something to keep in mind. ${FACT} Anyway, what should I cook tonight?`;
  if (turn === TURNS) return QUESTION;
  const topic = TOPICS[turn % TOPICS.length] as string;
  return `Turn ${turn}: can you help me think about ${topic}? I have about an hour this evening and would like a short plan with two or three options, nothing too elaborate, and tell me what to prepare first.`;
}
/** An assistant-sized answer (~900 characters). */
function replyText(turn: number): string {
  return `Here is a short plan for turn ${turn}. ${'First, set aside ten minutes to get everything you need ready and clear some space. Then pick the option that fits your energy tonight; each one takes about twenty minutes. '.repeat(4)}`;
}

const inputTokensOf = (request: RecordedRequest): number => Math.ceil(request.rawBody.length / 4);

const fake = await startFakeAnthropic({ apiKey: KEY });
const dir = mkdtempSync(join(tmpdir(), 'pavise-bench-memcost-'));
// 300 turns priced as the default model cost more than the default daily cap; everything else stays default.
writeFileSync(join(dir, 'config.json'), JSON.stringify({ limits: { dailySpendUsd: 1_000 } }));
let turn = 0;
const turnRequests = new Map<number, RecordedRequest[]>();
const extractionRequests: RecordedRequest[] = [];
fake.respondWith((request) => {
  const body = request.body as { system?: { text: string }[]; messages: { content: string | { type: string; text?: string }[] }[] };
  const usage = { input: inputTokensOf(request), output: 200 };
  if (isExtractionRequest(body.system?.[0]?.text)) {
    extractionRequests.push(request);
    const last = body.messages.at(-1)?.content;
    const text = typeof last === 'string' ? last : (last ?? []).map((block) => block.text ?? '').join('\n');
    return anthropicText(fakeExtraction(text), { usage });
  }
  turnRequests.set(turn, [...(turnRequests.get(turn) ?? []), request]);
  return anthropicText(replyText(turn), { usage });
});

const core = await compose({
  env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: KEY },
  secrets: new MemorySecretStore(),
  provider: createProvider({ provider: 'anthropic', baseURL: fake.url }),
});
const started = performance.now();
const session = core.sessions.current('local');
const perTurnMs: number[] = [];
for (turn = 1; turn <= TURNS; turn++) {
  const before = performance.now();
  const outcome = await core.runner.run({ sessionKey: session, text: ownerText(turn), trigger: { kind: 'owner' }, toolset: core.tools, signal: new AbortController().signal });
  perTurnMs.push(performance.now() - before);
  if (outcome.error) throw new Error(`turn ${turn} failed: ${outcome.error.message}`);
}
const totalMs = performance.now() - started;

const first = (at: number): RecordedRequest | undefined => turnRequests.get(at)?.[0];
const turn30 = first(Math.min(30, TURNS));
const last = first(TURNS);
const turn30Tokens = turn30 ? inputTokensOf(turn30) : 0;
const lastTokens = last ? inputTokensOf(last) : 0;
const ratio = turn30Tokens > 0 ? lastTokens / turn30Tokens : Number.NaN;
const factInContext = (last?.rawBody ?? '').includes('Ada') && (last?.rawBody ?? '').includes('Porto');
const allTurnTokens = [...turnRequests.values()].flat().map(inputTokensOf);
const fullHistoryTokens = estimateTokens(core.sessions.messages(session));
const sorted = [...perTurnMs].sort((a, b) => a - b);

process.stdout.write(
  `${JSON.stringify(
    {
      bench: 'memory-cost',
      turns: TURNS,
      contextTokens: core.config.memory.contextTokens ?? defaultContextTokens(core.config.model),
      model: core.config.model.name,
      turn30InputTokens: turn30Tokens,
      turn300InputTokens: lastTokens,
      ratio: Number(ratio.toFixed(3)),
      ratioTarget: 1.2,
      factFromTurn5InContextAtLastTurn: factInContext,
      pass: ratio <= 1.2 && factInContext,
      maxTurnInputTokens: Math.max(...allTurnTokens),
      turnInputTokensTotal: allTurnTokens.reduce((sum, value) => sum + value, 0),
      spentUsd: Number(core.spentTodayUsd().toFixed(2)),
      extractionCalls: extractionRequests.length,
      extractionInputTokensTotal: extractionRequests.map(inputTokensOf).reduce((sum, value) => sum + value, 0),
      storedHistoryTokensAtLastTurn: fullHistoryTokens,
      memories: core.memoriesStore.list({ limit: 10_000 }).length,
      msPerTurnP50: Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(1)),
      msPerTurnP95: Number((sorted[Math.floor(sorted.length * 0.95)] ?? 0).toFixed(1)),
      totalMs: Math.round(totalMs),
    },
    null,
    2,
  )}\n`,
);
core.close();
await fake.close();
rmSync(dir, { recursive: true, force: true });
