import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STOPPED_BY_PAUSE } from '../../main/agent/loop.js';
import type { ToolResultMessage } from '../../main/common/messages.js';
import { compose, type Core } from '../../main/compose.js';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { ask } from '../helpers/ask.js';
import { FAKE_ANTHROPIC_KEY, runCli, tempHome } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';

/**
 * `pavise pause` and the menu bar's pause stop a tool that is already running, not only what starts after: the real
 * run_command runs `sleep` in the real bwrap box, the owner pauses, and the command's process is gone, its result
 * says it was stopped by the pause, and the model is not called again. The keyring holds the activity key both
 * processes use (run with scripts/with-keyring.sh).
 */
const linux = process.platform === 'linux' && sandboxSupport().ok;

let llm: FakeLlmServer;
beforeAll(async () => {
  llm = await startFakeAnthropic();
});
afterAll(async () => {
  await llm.close();
});
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  llm.reset();
});

/** Processes whose command line is `sleep SECONDS` with this (unique) number of seconds. */
function sleeping(seconds: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // it ended while we looked
    }
    if (argv[0]?.endsWith('sleep') && argv[1] === seconds) found.push(Number(name));
  }
  return found;
}

async function homeWithTerminal(): Promise<{ core: Core; env: NodeJS.ProcessEnv; docs: string }> {
  const docs = mkdtempSync(join(tmpdir(), 'pavise-pause-docs-'));
  const home = tempHome({ model: { provider: 'anthropic', baseURL: llm.url }, files: { folders: [{ path: docs, access: 'read-write' }] } });
  const core = await compose({ env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, approvalPollMs: 20 });
  cleanups.push(() => {
    core.close();
    home.cleanup();
    rmSync(docs, { recursive: true, force: true });
  });
  // The owner approves the command (sleep is not a read-only command, so it asks).
  core.events.on('approval', (approval) => setTimeout(() => core.gate.decide(approval.id, 'approve', 'popover'), 0));
  return { core, env: home.env, docs };
}

describe.runIf(linux)('pausing stops a tool call already running', () => {
  const cases: [string, string, (core: Core, env: NodeJS.ProcessEnv) => Promise<void>][] = [
    ['from the menu bar (this process)', '41.5', async (core) => void core.setPaused(true, 'owner:popover')],
    [
      'with `pavise pause` in another process (it only writes the database)',
      '42.5',
      async (_core, env) => {
        const paused = await runCli(['pause'], { env });
        expect(paused.stdout).toContain('Paused');
      },
    ],
  ];
  for (const [how, seconds, pause] of cases) {
    it(`paused ${how}: the command's process is killed within seconds, its result says so, and the model is not called again`, async () => {
      const { core, env, docs } = await homeWithTerminal();
      llm.enqueue(anthropicToolUse('t1', 'run_command', { argv: ['sleep', seconds], cwd: docs }));
      llm.enqueue(anthropicText('The command finished (this answer must never be asked for).'));
      const session = core.sessions.create('pause-test').id;
      const turn = ask(core, session, 'wait a while');
      await until(() => sleeping(seconds).length > 0, 'the sleep running in the box', { timeoutMs: 20_000 });

      const pausedAt = Date.now();
      await pause(core, env);
      const result = await turn;
      expect(Date.now() - pausedAt).toBeLessThan(5_000);
      await until(() => sleeping(seconds).length === 0, 'the sleep killed', { timeoutMs: 3_000 });

      const toolResult = result.messages.find((message): message is ToolResultMessage => message.role === 'toolResult');
      expect(toolResult).toMatchObject({ toolName: 'run_command', isError: true, content: STOPPED_BY_PAUSE });
      expect(result.error?.code).toBe('paused');
      expect(llm.requests).toHaveLength(1);
      // The stop is on record: the command's effect is logged as failed, not done.
      const effect = core.activity.list({ kind: 'effect', limit: 10 }).find((row) => row.tool === 'run_command');
      expect(effect?.decision).toBe('failed');
    }, 60_000);
  }
});
