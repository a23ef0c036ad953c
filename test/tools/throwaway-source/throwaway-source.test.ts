import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../../main/common/approvals.js';
import type { ToolResultMessage } from '../../../main/common/messages.js';
import { compose, type Core } from '../../../main/compose.js';
import { anthropicText, anthropicToolUse, startFakeAnthropic, type FakeLlmServer } from '../../fakes/fake-anthropic-server.js';
import { ask } from '../../helpers/ask.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../../helpers/cli.js';
import { MemorySecretStore } from '../../helpers/memory-secret-store.js';
import { until } from '../../helpers/wait.js';
import { BULLETIN_TEXT, bulletinBoard, type BulletinBoard } from './bulletin-source.js';

let fake: FakeLlmServer;
let services: Core;
let board: BulletinBoard;
let cleanup: () => void;
const requested: ApprovalView[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  let env: NodeJS.ProcessEnv;
  ({ env, cleanup } = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } }));
  board = bulletinBoard();
  services = await compose({
    env: { ...env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY },
    secrets: new MemorySecretStore(),
    extraSources: [board.source],
    approvalPollMs: 20,
  });
  services.events.on('approval', (approval) => requested.push(approval));
});
afterAll(async () => {
  services.close();
  await fake.close();
  cleanup();
});

const toolResults = (session: string): ToolResultMessage[] =>
  services.sessions.messages(session).filter((message): message is ToolResultMessage => message.role === 'toolResult');

describe('a throwaway tool source, registered through extraSources', () => {
  it('is registered next to the built-ins, and only its effect-free tools reach contacts', () => {
    expect(services.tools.get('post_bulletin')?.source.id).toBe('bulletin');
    expect(services.tools.get('send_message')?.source.id).toBe('builtin');
    expect(services.contactTools.list().map((tool) => tool.name).sort()).toEqual(['current_time', 'read_bulletin']);
    expect(services.tools.specs().find((spec) => spec.name === 'post_bulletin')?.inputSchema).toMatchObject({ required: ['board', 'text'] });
  });

  it('asks before a send its template declares, runs once approved, and labels the output as declared', async () => {
    fake.enqueue(anthropicToolUse('toolu_post', 'post_bulletin', { board: 'lobby', text: 'Lunch at noon' }), anthropicText('Posted.'));
    const session = services.sessions.current('local', true);
    const turn = ask(services, session, 'Post "Lunch at noon" on the lobby board');
    await until(() => requested.length === 1, 'an approval for post_bulletin');
    const approval = requested[0]!;
    expect(approval).toMatchObject({ tool: 'post_bulletin', title: 'Post to the lobby board: "Lunch at noon"', status: 'pending' });
    expect(approval.effects).toEqual([{ kind: 'send_message', channel: 'bulletin', recipient: 'lobby', text: 'Lunch at noon' }]);
    expect(board.posted).toEqual([]);

    expect(services.gate.decide(approval.id, 'approve', 'popover').ok).toBe(true);
    const result = await turn;
    expect(result.error).toBeUndefined();
    expect(board.posted).toEqual([{ board: 'lobby', text: 'Lunch at noon' }]);
    expect(toolResults(session)).toMatchObject([{ toolName: 'post_bulletin', content: 'Posted to lobby.', isError: false, provenance: { kind: 'owner' } }]);
    const effects = services.activity.list().filter((row) => row.kind === 'effect' && row.tool === 'post_bulletin');
    expect(effects.map((row) => row.summary)).toEqual(['Post to the lobby board: "Lunch at noon"']);
  });

  it('validates calls against the JSON Schema before the gate sees them', async () => {
    fake.enqueue(anthropicToolUse('toolu_bad', 'post_bulletin', { board: 'lobby' }), anthropicText('Sorry.'));
    const session = services.sessions.current('local', true);
    await ask(services, session, 'Post on the lobby board');
    expect(toolResults(session)).toMatchObject([{ isError: true, content: 'Invalid arguments for post_bulletin: input.text: required.' }]);
    expect(requested).toHaveLength(1);
  });

  it('an untrusted output taints the turn, though the source claimed the owner: a following write asks', async () => {
    // Untainted, the owner's own write is allowed without asking.
    fake.enqueue(anthropicToolUse('toolu_pin1', 'pin_note', { board: 'desk', text: 'Call the bank' }), anthropicText('Pinned.'));
    await ask(services, services.sessions.current('local', true), 'Pin "Call the bank" on my desk board');
    expect(board.pinned).toEqual([{ board: 'desk', text: 'Call the bank' }]);
    expect(requested).toHaveLength(1);

    fake.enqueue(
      anthropicToolUse('toolu_read', 'read_bulletin', { board: 'lobby' }),
      anthropicToolUse('toolu_pin2', 'pin_note', { board: 'desk', text: 'Buy milk' }),
      anthropicText('Not pinned.'),
    );
    const session = services.sessions.current('local', true);
    const turn = ask(services, session, 'What is on the lobby board?');
    await until(() => requested.length === 2, 'an approval for pin_note');
    const approval = requested[1]!;
    expect(approval.tool).toBe('pin_note');
    expect(approval.reason).toContain('has read a web page');
    expect(services.gate.decide(approval.id, 'deny', 'popover').ok).toBe(true);
    await turn;
    expect(board.pinned).toHaveLength(1);
    const [read, pin] = toolResults(session);
    expect(read).toMatchObject({ toolName: 'read_bulletin', content: BULLETIN_TEXT, provenance: { kind: 'untrusted', source: 'web', detail: 'the bulletin board' } });
    expect(pin).toMatchObject({ toolName: 'pin_note', isError: true, content: 'Not run: the owner denied it' });
  });
});
