import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApprovalView } from '../../main/common/approvals.js';
import { compose, type Core } from '../../main/compose.js';
import { defineTool } from '../../main/tools/tool.js';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, runCli, tempHome } from '../helpers/cli.js';
import { ask } from '../helpers/ask.js';
import { testSource } from '../helpers/tool-source.js';

const executed: string[][] = [];
/** Stands in for the shell tool that arrives with skills: same effect (execute), so always asks. */
const runCommand = defineTool({
  name: 'run_command',
  description: 'Run a program with arguments.',
  input: z.object({ argv: z.array(z.string()).min(1) }),
  effects: [{ kind: 'execute', argv: { arg: 'argv' } }],
  summary: 'Run {argv|words}',
  output: { kind: 'trigger' },
  execute: ({ argv }) => {
    executed.push([...argv]);
    return 'ok';
  },
});

let fake: FakeLlmServer;
let services: Core;
let env: NodeJS.ProcessEnv;
let cleanup: () => void;
let home: string;
const requested: ApprovalView[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  ({ env, cleanup, home } = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } }));
  env = { ...env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
  // The real Keychain store (Secret Service in tests), the same one the CLI children use for this home.
  services = await compose({ env, extraSources: [testSource([runCommand])], approvalPollMs: 50 });
  services.events.on('approval', (approval) => requested.push(approval));
});
afterAll(async () => {
  services.close();
  await fake.close();
  cleanup();
});

async function nextApproval(count: number): Promise<ApprovalView> {
  for (let i = 0; i < 200 && requested.length < count; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  const approval = requested[count - 1];
  if (!approval) throw new Error('no approval was requested');
  return approval;
}

describe('approvals decided from another process', () => {
  it('waits for `pavise approvals approve`, runs once, and refuses reuse', async () => {
    executed.length = 0;
    fake.enqueue(anthropicToolUse('toolu_a', 'run_command', { argv: ['ls', '-la', '/tmp'] }), anthropicText('Listed.'));
    const session = services.sessions.current('local', true);
    const turn = ask(services, session, 'Run ls -la /tmp please');
    const approval = await nextApproval(1);
    expect(approval).toMatchObject({ tool: 'run_command', title: 'Run ls -la /tmp', risk: 'high', status: 'pending', grantable: false });
    expect(approval.reason).toBe('Running a command always needs your approval.');
    expect(approval.id).toMatch(/^ap_[a-z2-7]{12}$/);

    const listed = await runCli(['approvals', 'list', '--json'], { env });
    expect(listed.code).toBe(0);
    const pending = (JSON.parse(listed.stdout) as { approvals: ApprovalView[] }).approvals;
    expect(pending.map((item) => item.id)).toEqual([approval.id]);
    expect(pending[0]?.input).toEqual({ argv: ['ls', '-la', '/tmp'] });
    expect(executed).toEqual([]);

    const approved = await runCli(['approvals', 'approve', approval.id], { env });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('Approved: Run ls -la /tmp');
    const result = await turn;
    expect(result.error).toBeUndefined();
    expect(executed).toEqual([['ls', '-la', '/tmp']]);
    expect(services.approvals.get(approval.id)?.status).toBe('used');

    const again = await runCli(['approvals', 'approve', approval.id], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already approved and used');
    expect(executed).toHaveLength(1);
  });

  it('never runs a denied action, and tells the model it was denied', async () => {
    executed.length = 0;
    fake.enqueue(anthropicToolUse('toolu_b', 'run_command', { argv: ['rm', '-rf', '/tmp/x'] }), anthropicText('OK, not deleting.'));
    const turn = ask(services, services.sessions.current('local', true), 'clean up /tmp/x');
    const approval = await nextApproval(2);
    const denied = await runCli(['approvals', 'deny', approval.id], { env });
    expect(denied.code).toBe(0);
    await turn;
    expect(executed).toEqual([]);
    const toolResult = JSON.stringify((fake.lastRequest.body as { messages: unknown[] }).messages.at(-1));
    expect(toolResult).toContain('Not run: the owner denied it');
  });

  it('gives clear errors for malformed and unknown ids', async () => {
    const malformed = await runCli(['approvals', 'approve', "1; DROP TABLE approvals"], { env });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('is not an approval ID');
    // The example the message gives is itself a well-formed ID (it once held a 9, which IDs never do).
    const example = /they look like (ap_\w+)/.exec(malformed.stderr)?.[1] ?? '';
    const copied = await runCli(['approvals', 'deny', example], { env });
    expect(copied.stderr).toContain(`No approval ${example}`);
    const unknown = await runCli(['approvals', 'deny', 'ap_aaaaaaaaaaaa'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No approval ap_aaaaaaaaaaaa');
    expect((await runCli(['approvals', 'approve'], { env })).code).toBe(2);
  });

  it('an approval for one call does not cover a different call', async () => {
    executed.length = 0;
    fake.enqueue(anthropicToolUse('toolu_c', 'run_command', { argv: ['echo', 'one'] }), anthropicText('done'));
    const turn = ask(services, services.sessions.current('local', true), 'echo one');
    const approval = await nextApproval(3);
    // Approve, then check that consuming it with another call's hash is refused (hash binding).
    expect(services.gate.decide(approval.id, 'approve', 'cli').ok).toBe(true);
    await turn;
    expect(services.approvals.consume(approval.id, 'f'.repeat(64)).ok).toBe(false);
    expect(executed).toEqual([['echo', 'one']]);
  });

  it('logs every decision in a chain that `pavise activity verify` checks, and names the first tampered row', async () => {
    const ok = await runCli(['activity', 'verify'], { env });
    expect(ok.stdout).toMatch(/^Activity log verified: \d+ rows, chain intact\.\n$/);
    expect(ok.code).toBe(0);
    const json = await runCli(['activity', '--json'], { env });
    const rows = (JSON.parse(json.stdout) as { activity: { id: number; kind: string; decision?: string; actor: string }[] }).activity;
    expect(rows.some((row) => row.kind === 'approval_decided' && row.actor === 'owner:cli' && row.decision === 'deny')).toBe(true);
    expect(rows.some((row) => row.kind === 'effect' && row.decision === 'done')).toBe(true);
    // A window with nothing in it is not an empty log.
    const none = await runCli(['activity', '--since', '0m'], { env });
    expect(none.stdout).toBe('No activity since 0m; `pavise activity` shows the newest rows.\n');

    const db = new Database(join(home, 'pavise.db'));
    try {
      db.prepare("UPDATE activity SET summary = 'Run harmless' WHERE id = 3").run();
    } finally {
      db.close();
    }
    const tampered = await runCli(['activity', 'verify'], { env });
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain('FAILED verification at row 3');
  });
});
