import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { anthropicText, anthropicToolUse, hang, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, runCli, spawnCli, tempHome } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

let fake: FakeLlmServer;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
  for (const cleanup of cleanups.splice(0)) cleanup();
});


function startChat() {
  const made = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
  cleanups.push(made.cleanup);
  const env = { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
  const child = spawnCli(['chat'], env);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  cleanups.push(() => child.kill('SIGKILL'));
  return { child, env, output: () => output };
}

describe('pavise chat (built binary)', () => {
  it('streams a reply, asks for an approval inline and records the terminal decision', async () => {
    const { child, env, output } = startChat();
    await until(() => output().includes('Pavise ·'), 'the banner', { output });
    fake.enqueue(
      anthropicToolUse('toolu_1', 'send_message', { channel: 'imessage', to: '+15550009999', text: 'Hello from Pavise' }),
      anthropicText(['Queued ', 'the message.']),
    );
    child.stdin?.write('text +15550009999 hello\n');
    await until(() => output().includes('Approve? [y]es once'), 'the approval prompt', { output });
    expect(output()).toContain('Approval needed: Send iMessage to +15550009999: "Hello from Pavise"');
    expect(output()).toContain('+15550009999 is a new recipient');
    child.stdin?.write('y\n');
    await until(() => output().includes('Queued the message.'), 'the streamed reply', { output });
    expect(output()).toContain('⚙ send_message');

    const approvals = JSON.parse((await runCli(['approvals', 'list', '--all', '--json'], { env })).stdout) as { approvals: { status: string; decidedBy: string }[] };
    expect(approvals.approvals).toMatchObject([{ status: 'used', decidedBy: 'terminal' }]);
    child.stdin?.write('/exit\n');
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
  }, 30_000);

  it('Ctrl-C stops the turn, not the program, and the message is kept', async () => {
    const { child, output } = startChat();
    await until(() => output().includes('Pavise ·'), 'the banner', { output });
    fake.enqueue(hang());
    child.stdin?.write('write me a long essay\n');
    await fake.waitForRequests(1, 10_000);
    child.kill('SIGINT');
    await until(() => output().includes('Stopped. Your message is kept'), 'the stop notice', { output });
    expect(child.exitCode).toBeNull();

    fake.enqueue(anthropicText('Short version: done.'));
    child.stdin?.write('just the short version\n');
    await until(() => output().includes('Short version: done.'), 'the next reply', { output });
    expect(JSON.stringify(fake.lastRequest.body)).toContain('write me a long essay');
    child.stdin?.end();
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
  }, 30_000);

  it('piped input: answers each line, exits 0 at the end of input, and prints no Node warning', async () => {
    const made = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
    cleanups.push(made.cleanup);
    fake.enqueue(anthropicText('Hello back.'));
    const result = await runCli(['chat'], { env: { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, input: 'hello\n' });
    expect(result.stdout).toContain('Hello back.');
    expect(result.stderr).not.toMatch(/readline was closed|unexpected error/);
    expect(result.stderr).not.toMatch(/Warning/);
    expect(result.code).toBe(0);
  }, 30_000);

  it('piped input that ended before an approval is asked denies it at once instead of waiting for it to expire', async () => {
    const made = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
    cleanups.push(made.cleanup);
    const env = { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
    fake.enqueue(anthropicToolUse('toolu_1', 'send_message', { channel: 'imessage', to: '+15550009999', text: 'Hello from Pavise' }), anthropicText('I did not send it.'));
    const result = await runCli(['chat'], { env, input: 'text +15550009999 hello\n', timeoutMs: 20_000 });
    expect(result.stdout).toContain('Approve? [y]es once');
    expect(result.stdout).toContain('Denied.');
    expect(result.stdout).toContain('I did not send it.');
    expect(result.code).toBe(0);
    const approvals = JSON.parse((await runCli(['approvals', 'list', '--all', '--json'], { env })).stdout) as { approvals: { status: string; decidedBy: string }[] };
    expect(approvals.approvals).toMatchObject([{ status: 'denied', decidedBy: 'terminal' }]);
  }, 30_000);

  it('piped input: a turn that fails (no model key) is on stderr with the fix, and the exit code is 1', async () => {
    const made = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
    cleanups.push(made.cleanup);
    const result = await runCli(['chat'], { env: made.env, input: 'hello\n' });
    expect(result.stderr).toContain('pavise secrets set anthropic');
    expect(result.stdout).not.toContain('No API key');
    expect(result.code).toBe(1);
  }, 30_000);
});
