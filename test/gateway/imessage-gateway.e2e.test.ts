import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findListeningSockets } from '../../main/platform/listening-sockets.js';
import { anthropicText, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN, type FakeBotApi } from '../fakes/fake-bot-api.js';
import { createChatDb, type ChatDbFixture } from '../helpers/chat-db.js';
import { FAKE_ANTHROPIC_KEY, runCli, spawnCli, tempHome } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

const OWNER = '+15550001111';
const RECORDER = resolve(import.meta.dirname, '../fakes/osascript-recorder.mjs');
let llm: FakeLlmServer;
let bot: FakeBotApi;
const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  llm = await startFakeAnthropic();
  bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
  chmodSync(RECORDER, 0o755);
});
afterAll(async () => {
  await llm.close();
  await bot.close();
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0)) cleanup();
  llm.reset();
});


function recorded(log: string): { argv: string[]; scriptSha256: string }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { argv: string[]; scriptSha256: string });
}

describe('pavise gateway (built binary) with iMessage and Telegram', () => {
  it('answers an owner iMessage through the fixed AppleScript, ignores its own echo, and listens on no socket', async () => {
    const chatDb: ChatDbFixture = createChatDb();
    cleanups.push(() => chatDb.cleanup());
    const ownerHandle = chatDb.addHandle(OWNER);
    const chat = chatDb.addChat({ guid: `iMessage;-;${OWNER}`, handles: [ownerHandle] });
    chatDb.addMessage({ chat, handle: ownerHandle, text: 'years-old history that must never be answered', date: Date.now() - 400 * 86_400_000 });

    const made = tempHome({
      model: { provider: 'anthropic', baseURL: llm.url },
      channels: {
        imessage: { enabled: true, owners: [OWNER], chatDbPath: chatDb.path },
        telegram: { enabled: true, owners: [4242], apiRoot: bot.apiRoot },
      },
    });
    cleanups.push(made.cleanup);
    const log = join(made.home, 'osascript.log');
    const env = { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, PAVISE_OSASCRIPT: RECORDER, PAVISE_OSASCRIPT_LOG: log };
    expect((await runCli(['secrets', 'set', 'telegram-bot-token'], { env, input: TEST_BOT_TOKEN })).code).toBe(0);

    const child = spawnCli(['gateway'], env);
    children.push(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    await until(() => output.includes('imessage: connected') && output.includes('telegram: connected'), 'both channels', { output: () => output });

    llm.enqueue(anthropicText('Leaving now — see you at 7.'));
    chatDb.addMessage({ chat, handle: ownerHandle, text: 'are you on your way?', date: Date.now() });
    await until(() => recorded(log).length === 1, 'the AppleScript send', { output: () => output });
    const [send] = recorded(log);
    expect(send?.argv.slice(-3)).toEqual(['chat', `iMessage;-;${OWNER}`, 'Leaving now — see you at 7.']);
    expect(llm.requests).toHaveLength(1);
    expect(JSON.stringify(llm.requests[0]?.body)).not.toContain('years-old history');

    // Messages.app records Pavise's own reply in chat.db as is_from_me: it must not start a turn.
    chatDb.addMessage({ chat, handle: ownerHandle, text: 'Leaving now — see you at 7.', isFromMe: true, date: Date.now() });
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 800));
    expect(llm.requests).toHaveLength(1);
    expect(recorded(log)).toHaveLength(1);

    expect(await findListeningSockets(child.pid as number)).toEqual([]);
  }, 60_000);
});
