import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { openaiText, startFakeOpenAI } from '../fakes/fake-openai-server.js';
import { FAKE_ANTHROPIC_KEY, runCli, tempHome } from '../helpers/cli.js';

let fake: FakeLlmServer;
const homes: (() => void)[] = [];
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
  for (const cleanup of homes.splice(0)) cleanup();
});

function home(config: unknown = { model: { provider: 'anthropic', baseURL: fake.url } }) {
  const made = tempHome(config);
  homes.push(made.cleanup);
  return { ...made, env: { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY } };
}

interface AskJson {
  reply: string;
  toolCalls: { name: string; input: unknown; isError: boolean }[];
  usage: { inputTokens: number; outputTokens: number };
  sessionId: string;
  error?: { code: string; message: string };
}

describe('pavise ask --json (built binary, real Anthropic SDK, fake API)', () => {
  it('drives a multi-tool turn end to end', async () => {
    const { env } = home();
    fake.enqueue(
      anthropicToolUse('toolu_01', 'current_time', { timezone: 'Europe/Paris' }, { text: 'Checking the time.', usage: { input: 120, output: 20 } }),
      anthropicToolUse('toolu_02', 'save_note', { text: 'Buy oat milk' }, { usage: { input: 150, output: 15 } }),
      anthropicToolUse('toolu_03', 'list_notes', { query: 'oat' }, { usage: { input: 170, output: 12 } }),
      anthropicText('Saved "Buy oat milk"; it is on your list.', { usage: { input: 200, output: 18 } }),
    );
    const result = await runCli(['ask', 'What time is it in Paris? Also note: buy oat milk.', '--json'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as AskJson;
    expect(output.reply).toBe('Checking the time.\n\nSaved "Buy oat milk"; it is on your list.');
    expect(output.toolCalls).toEqual([
      { name: 'current_time', input: { timezone: 'Europe/Paris' }, isError: false },
      { name: 'save_note', input: { text: 'Buy oat milk' }, isError: false },
      { name: 'list_notes', input: { query: 'oat' }, isError: false },
    ]);
    expect(output.usage).toEqual({ inputTokens: 640, outputTokens: 65 });
    expect(output.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    expect(fake.requests).toHaveLength(4);
    const first = fake.requests[0]?.body as { system: { cache_control?: unknown }[]; tools: { name: string; cache_control?: unknown }[]; messages: unknown[] };
    expect(first.system.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(first.tools.map((tool) => tool.name)).toEqual([
      'current_time', 'save_note', 'list_notes', 'send_message', 'list_conversations', 'read_messages', 'recall', 'remember', 'forget',
      'remind', 'add_alert', 'snooze_reminder', 'list_schedule', 'cancel_scheduled', 'web_fetch', 'browse',
      // No native source: off a Mac the calendar and contacts tools are not offered.
    ]);
    expect(first.tools.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(fake.requests[0]?.apiKey).toBe(FAKE_ANTHROPIC_KEY);
    const last = fake.requests[3]?.body as { messages: { role: string; content: unknown }[] };
    const listResult = JSON.stringify(last.messages.at(-1));
    expect(listResult).toContain('toolu_03');
    expect(listResult).toContain('Buy oat milk');
    const timeResult = JSON.stringify(last.messages[2]);
    expect(timeResult).toContain('Europe/Paris');
  });

  it('continues the conversation across runs and across a change of provider', async () => {
    const { env, home: dir } = home();
    fake.enqueue(anthropicText('Nice to meet you, Robin.'));
    const first = JSON.parse((await runCli(['ask', 'My name is Robin.', '--json'], { env })).stdout) as AskJson;

    fake.enqueue(anthropicText('You are Robin.'));
    const second = JSON.parse((await runCli(['ask', 'Who am I?', '--json'], { env })).stdout) as AskJson;
    expect(second.sessionId).toBe(first.sessionId);
    const sent = (fake.lastRequest.body as { messages: { role: string }[] }).messages;
    expect(sent.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(sent)).toContain('My name is Robin.');

    const openai = await startFakeOpenAI();
    try {
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: { provider: 'openai', name: 'gpt-4.1', baseURL: openai.url } }));
      openai.enqueue(openaiText('Still Robin.'));
      const third = await runCli(['ask', 'And now?', '--json'], { env: { ...env, OPENAI_API_KEY: 'sk-proj-test' + 'o'.repeat(30) } });
      expect(third.code).toBe(0);
      const messages = (openai.lastRequest.body as { messages: { role: string; content: unknown }[] }).messages;
      expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user']);
      expect(JSON.stringify(messages)).toContain('You are Robin.');
    } finally {
      await openai.close();
    }
  });

  it('stops on a missing key with the command that fixes it, keeps the message, and a retry works', async () => {
    const made = home();
    const { ANTHROPIC_API_KEY: _unused, ...env } = made.env;
    const failed = await runCli(['ask', 'Remember the blue door.'], { env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('pavise secrets set anthropic');
    expect(failed.stderr).not.toMatch(/\bat .+:\d+:\d+/);
    expect(fake.requests).toHaveLength(0);

    fake.enqueue(anthropicText('Noted.'));
    const retried = await runCli(['ask', 'Did you get that?', '--json'], { env: made.env });
    expect(retried.code).toBe(0);
    expect(JSON.stringify(fake.lastRequest.body)).toContain('Remember the blue door.');
  });

  it('uses a key stored with `pavise secrets set` before the environment', async () => {
    const made = home();
    const env = { ...made.env, ANTHROPIC_API_KEY: 'sk-ant-api03-env-' + 'e'.repeat(40) };
    const stored = 'sk-ant-api03-keychain-' + 's'.repeat(40);
    const set = await runCli(['secrets', 'set', 'anthropic'], { env, input: `${stored}\n` });
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(stored);
    const listed = await runCli(['secrets', 'list'], { env });
    expect(listed.stdout.split('\n')).toContain('anthropic');
    expect(listed.stdout).not.toContain(stored);

    fake.enqueue(anthropicText('hi'));
    expect((await runCli(['ask', 'hello'], { env })).code).toBe(0);
    expect(fake.lastRequest.apiKey).toBe(stored);
    expect((await runCli(['secrets', 'delete', 'anthropic'], { env })).code).toBe(0);
  });

  it('explains an endpoint that is down in one sentence, and a retry works once it is up', async () => {
    const down = await startFakeAnthropic();
    const url = down.url;
    await down.close();
    const { env, home: dir } = home({ model: { provider: 'anthropic', baseURL: url } });
    const result = await runCli(['ask', 'Are you there?'], { env, timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^pavise: .*(reach|connect)/i);

    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: { provider: 'anthropic', baseURL: fake.url } }));
    fake.enqueue(anthropicText('Yes.'));
    const retried = await runCli(['ask', 'Now?', '--json'], { env });
    expect(JSON.parse(retried.stdout)).toMatchObject({ reply: 'Yes.' });
    expect(JSON.stringify(fake.lastRequest.body)).toContain('Are you there?');
  }, 90_000);

  it('reports an invalid config with the field and the fix, without a stack trace', async () => {
    const { env } = home({ model: { provider: 'antropic' } });
    const result = await runCli(['ask', 'hi'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('model.provider is "antropic"');
    expect(result.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('refuses a key in config.json and tells how to store it', async () => {
    const { env } = home({ model: { provider: 'anthropic', apiKey: FAKE_ANTHROPIC_KEY } });
    const result = await runCli(['ask', 'hi'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pavise secrets set');
    expect(result.stderr).not.toContain(FAKE_ANTHROPIC_KEY);
  });
});

describe('pavise command line', () => {
  it('prints help and version, and exits 2 on unknown commands and flags', async () => {
    const { env } = home();
    const help = await runCli(['--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('pavise ask TEXT');
    expect((await runCli(['--version'], { env })).stdout).toMatch(/^pavise \d+\.\d+\.\d+\n$/);
    const unknown = await runCli(['fly'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "fly"');
    const badFlag = await runCli(['ask', 'hi', '--jsonn'], { env });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--jsonn'");
    expect((await runCli(['secrets', 'set', 'BAD NAME'], { env })).code).toBe(2);
    expect((await runCli(['secrets', 'set', 'anthropic', 'sk-ant-value-as-argument'], { env })).code).toBe(2);
  });

  it('prints a command\'s own usage for COMMAND --help (and -h), exit 0, without running it', async () => {
    const { env } = home();
    for (const [args, line] of [
      [['ask', '--help'], 'pavise ask TEXT'],
      [['secrets', 'set', '-h'], 'pavise secrets set NAME'],
      [['memory', '--help'], 'pavise memory search'],
      [['resume', '--help'], 'pavise pause | resume'],
      [['calendar', '--help'], '--calendar NAME'],
    ] as const) {
      const result = await runCli(args, { env });
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toContain(line);
      expect(result.stdout).not.toContain('pavise gateway');
      expect(result.stderr).toBe('');
    }
    // After `--` it is text, not a flag.
    expect((await runCli(['memory', 'search', '--', '--help'], { env })).stdout).not.toContain('Usage:');
  });
});
