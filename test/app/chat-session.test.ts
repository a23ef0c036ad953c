import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PAUSED_MID_ANSWER } from '../../main/agent/loop.js';
import { ChatSession } from '../../main/app/chat-session.js';
import type { ChatEvent } from '../../main/common/ipc.js';
import { compose } from '../../main/compose.js';
import { anthropicText, hangAfter, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { useTempCore } from '../helpers/temp-core.js';

const temp = useTempCore('pavise-chat-session-');
let fake: FakeLlmServer;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => fake.reset());

describe("the popover's chat", () => {
  it('paused while the model writes: the request is aborted, the turn ends with the pause notice, and the cut-off words read back marked as such', async () => {
    const dir = temp.home();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: { provider: 'anthropic', baseURL: fake.url } }));
    const core = temp.keep(await compose({ env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore() }));
    const half = 'The three things to pack are: a coat,';
    fake.enqueue(hangAfter(anthropicText([half, ' boots and an umbrella.']), 4));

    const events: ChatEvent[] = [];
    let firstWords: () => void = () => undefined;
    let done: () => void = () => undefined;
    const wrote = new Promise<void>((resolve) => (firstWords = resolve));
    const ended = new Promise<void>((resolve) => (done = resolve));
    const chat = new ChatSession(
      core,
      (event) => {
        events.push(event);
        if (event.type === 'text_delta') firstWords();
        if (event.type === 'done') done();
      },
      () => undefined,
    );
    expect(chat.send('what should I pack?')).toBe(true);
    await wrote;
    core.setPaused(true, 'owner:popover');
    await ended;
    await fake.clientClosed(0);

    expect(events.at(-1)).toMatchObject({ type: 'done', reply: '', error: PAUSED_MID_ANSWER });
    expect(chat.running).toBe(false);
    expect(chat.history(10)).toEqual([
      { role: 'user', text: 'what should I pack?', ts: expect.any(Number) },
      { role: 'assistant', text: `${half}…\n\n${PAUSED_MID_ANSWER}`, ts: expect.any(Number) },
    ]);
  });
});
