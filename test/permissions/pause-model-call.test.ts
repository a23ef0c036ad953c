import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PAUSED_MID_ANSWER } from '../../main/agent/loop.js';
import type { AgentEvent } from '../../main/agent/events.js';
import { textOf, type AssistantMessage } from '../../main/common/messages.js';
import { compose, type Core } from '../../main/compose.js';
import { anthropicText, hangAfter, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { openaiText, startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { ask } from '../helpers/ask.js';
import { FAKE_ANTHROPIC_KEY } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { useTempCore } from '../helpers/temp-core.js';

/**
 * The pause switch stops a model answer already streaming, not only the next model call: the provider's HTTP request
 * is aborted (the fake server sees the client close the connection), the turn ends with the pause notice instead of
 * the half-written text, and what was streamed is recorded with its cost. Real providers (the SDKs) against fake
 * servers that speak their wire formats; each reply writes its first words and then never ends on its own.
 */

const temp = useTempCore('pavise-pause-model-');
let anthropic: FakeLlmServer;
let openai: FakeLlmServer;
beforeAll(async () => {
  anthropic = await startFakeAnthropic();
  openai = await startFakeOpenAI();
});
afterAll(async () => {
  await anthropic.close();
  await openai.close();
});
afterEach(() => {
  anthropic.reset();
  openai.reset();
});

const HALF = 'Here is the first half of the answer, ';
const providers = [
  {
    name: 'Anthropic',
    fake: () => anthropic,
    model: { provider: 'anthropic', name: 'claude-sonnet-4-5' },
    // message_start, ping, content_block_start, then the first text delta; the rest is never sent.
    reply: () => hangAfter(anthropicText([HALF, 'and the second half that must never be written.']), 4),
  },
  {
    name: 'OpenAI',
    fake: () => openai,
    model: { provider: 'openai', name: 'gpt-4.1' },
    // The role chunk, then the first text delta.
    reply: () => hangAfter(openaiText([HALF, 'and the second half that must never be written.']), 2),
  },
] as const;

async function open(model: Record<string, unknown>, secrets = new MemorySecretStore(), dir = temp.home()): Promise<{ core: Core; dir: string; secrets: MemorySecretStore }> {
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model }));
  const env = { PAVISE_HOME: dir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, OPENAI_API_KEY: 'sk-test-not-real-0000' };
  return { core: await compose({ env, secrets }), dir, secrets };
}

/** Resolves at the first streamed words of the turn. */
function firstWords(): { onEvent: (event: AgentEvent) => void; arrived: Promise<void> } {
  let arrived: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (arrived = resolve));
  return { onEvent: (event) => event.type === 'text_delta' && arrived(), arrived: promise };
}

describe('pausing while the model is answering', () => {
  for (const provider of providers) {
    it(`${provider.name}: the streaming request is aborted, the turn ends paused with the notice, not the half answer, and what was streamed is counted`, async () => {
      const fake = provider.fake();
      const { core } = await open({ ...provider.model, baseURL: fake.url });
      temp.keep(core);
      fake.enqueue(provider.reply());
      const words = firstWords();
      const session = core.sessions.current('local', false);
      const turn = ask(core, session, 'answer at length', { onEvent: words.onEvent });
      await words.arrived;

      core.setPaused(true, 'owner:popover');
      const outcome = await turn;
      // The connection was closed by the client: the model stops writing and billing there.
      await fake.clientClosed(0);
      expect(fake.requests).toHaveLength(1);

      expect(outcome.error).toEqual({ code: 'paused', message: PAUSED_MID_ANSWER });
      expect(outcome.reply).toBe('');
      // What was streamed stays in the session (the model sees it later), marked as cut off by the pause.
      const stored = core.sessions.messages(session).filter((message): message is AssistantMessage => message.role === 'assistant');
      expect(stored).toHaveLength(1);
      expect(textOf(stored[0]!)).toBe(HALF);
      expect(stored[0]?.error?.code).toBe('paused');
      // The half answer cost money and is on the ledger (at an estimate where the stream had not said yet).
      expect(core.spentTodayUsd()).toBeGreaterThan(0);
    });
  }

  it('paused by another process (`pavise pause` only writes the database): the streaming request is aborted at the next look at the switch', async () => {
    const { core, dir, secrets } = await open({ provider: 'anthropic', name: 'claude-sonnet-4-5', baseURL: anthropic.url });
    temp.keep(core);
    const other = await compose({ env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets });
    try {
      anthropic.enqueue(providers[0].reply());
      const words = firstWords();
      const turn = ask(core, core.sessions.current('local', false), 'answer at length', { onEvent: words.onEvent });
      await words.arrived;
      other.setPaused(true, 'owner:cli');
      const outcome = await turn;
      await anthropic.clientClosed(0);
      expect(outcome).toMatchObject({ reply: '', error: { code: 'paused' } });
    } finally {
      other.close();
    }
  });
});
