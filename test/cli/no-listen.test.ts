import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findListeningSockets } from '../../main/platform/listening-sockets.js';
import { anthropicText, hangAfter, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, spawnCli, tempHome } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

let fake: FakeLlmServer;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

/** Invariant 1, checked from the outside: /proc of the real process tree, not the code's own word. */
describe('pavise chat listens on no socket', () => {
  it.skipIf(process.platform !== 'linux')('has no listener while idle and while a turn is streaming', async () => {
    const { env, cleanup } = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
    const child = spawnCli(['chat'], { ...env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY });
    try {
      let output = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      await until(() => output.includes('Pavise ·'), 'the chat output', { timeoutMs: 10_000, output: () => output });
      expect(await findListeningSockets(child.pid as number)).toEqual([]);

      // Hold the turn open mid-stream so the outbound connection to the provider exists while we look.
      fake.enqueue(hangAfter(anthropicText('thinking about it'), 4));
      child.stdin?.write('hello\n');
      await fake.waitForRequests(1, 10_000);
      await until(() => output.includes('thinking'), 'the chat output', { timeoutMs: 10_000, output: () => output });
      expect(await findListeningSockets(child.pid as number)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      cleanup();
    }
  });
});

