import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/common/approvals.js';
import type { PaviseApi, IpcResult, Snapshot } from '../../main/common/ipc.js';
import { cardTitle, contentOf, originLines, splitMarks } from '../../renderer/src/popover/approval-content.js';
import { visibleApprovals } from '../../renderer/src/store/approvals-slice.js';
import { resetStore, usePavise } from '../../renderer/src/store/store.js';

/* The renderer's store and its pure helpers, under plain Node, with a scripted `window.pavise`. */

const approval = (id: string, overrides: Partial<ApprovalView> = {}): ApprovalView => ({
  id,
  tool: 'send_message',
  title: 'Send iMessage to Sam (+15550009999): "On my way"',
  effects: [{ kind: 'send_message', channel: 'imessage', recipient: '+15550009999', text: 'On my way' }],
  input: { channel: 'imessage', to: '+15550009999', text: 'On my way' },
  reason: 'You did not name +15550009999 in this request.',
  risk: 'low',
  untrustedOrigin: false,
  origins: [],
  grantable: true,
  status: 'pending',
  createdAt: 1,
  expiresAt: Date.now() + 600_000,
  ...overrides,
});

const snapshot = (approvals: ApprovalView[]): Snapshot => ({
  approvals,
  paused: false,
  breaker: { tripped: false },
  channels: [],
  model: { provider: 'anthropic', name: 'claude-sonnet-5' },
  spend: { todayUsd: 0.5, capUsd: 5 },
  recent: [],
  tray: approvals.length > 0 ? 'approval' : 'idle',
  turnRunning: false,
});

let decide: (request: unknown) => Promise<IpcResult<ApprovalView>>;
beforeEach(() => {
  resetStore();
  (globalThis as { pavise?: Partial<PaviseApi> }).pavise = { decideApproval: (request) => decide(request) };
});
afterEach(() => {
  delete (globalThis as { pavise?: unknown }).pavise;
});

describe('renderer store', () => {
  it('applies pushed snapshots and resets to its first state', () => {
    usePavise.getState().applySnapshot(snapshot([approval('ap_aaaaaaaaaaaa')]));
    expect(usePavise.getState()).toMatchObject({ link: 'ready', approvals: [{ id: 'ap_aaaaaaaaaaaa' }], spend: { todayUsd: 0.5, capUsd: 5 } });
    resetStore();
    expect(usePavise.getState()).toMatchObject({ link: 'loading', approvals: [], chat: [] });
    expect(typeof usePavise.getState().decide).toBe('function');
  });

  it('removes a card only when the core confirms the decision', async () => {
    usePavise.getState().applySnapshot(snapshot([approval('ap_aaaaaaaaaaaa')]));
    let answer: (result: IpcResult<ApprovalView>) => void = () => undefined;
    decide = () => new Promise((resolve) => (answer = resolve));
    const pending = usePavise.getState().decide('ap_aaaaaaaaaaaa', 'approve');
    expect(usePavise.getState().deciding).toEqual({ 'ap_aaaaaaaaaaaa': 'approve' });
    // A snapshot that no longer lists it arrives first: the card stays until the answer.
    usePavise.getState().applySnapshot(snapshot([]));
    expect(visibleApprovals(usePavise.getState()).map((item) => item.id)).toEqual(['ap_aaaaaaaaaaaa']);
    answer({ ok: true, value: approval('ap_aaaaaaaaaaaa', { status: 'approved' }) });
    expect(await pending).toBe(true);
    expect(visibleApprovals(usePavise.getState())).toEqual([]);
  });

  it('keeps a card that can no longer be decided, with the error in words, until dismissed', async () => {
    usePavise.getState().applySnapshot(snapshot([approval('ap_bbbbbbbbbbbb')]));
    decide = async () => ({ ok: false, code: 'expired', message: 'Approval ap_bbbbbbbbbbbb expired and was denied; ask Pavise again.' });
    expect(await usePavise.getState().decide('ap_bbbbbbbbbbbb', 'approve')).toBe(false);
    usePavise.getState().applySnapshot(snapshot([]));
    expect(visibleApprovals(usePavise.getState()).map((item) => item.id)).toEqual(['ap_bbbbbbbbbbbb']);
    expect(usePavise.getState().approvalErrors['ap_bbbbbbbbbbbb']).toEqual({
      code: 'expired',
      final: true,
      message: 'This request expired, so it counts as denied. Nothing was done; ask Pavise again if you still want it.',
    });
    usePavise.getState().dismissApproval('ap_bbbbbbbbbbbb');
    expect(visibleApprovals(usePavise.getState())).toEqual([]);
  });

  it('a broken bridge is an error value, never a thrown one', async () => {
    usePavise.getState().applySnapshot(snapshot([approval('ap_cccccccccccc')]));
    decide = () => Promise.reject(new Error('IPC channel closed'));
    expect(await usePavise.getState().decide('ap_cccccccccccc', 'deny')).toBe(false);
    expect(usePavise.getState().approvalErrors['ap_cccccccccccc']?.message).toMatch(/did not answer \(IPC channel closed\)/);
    expect(visibleApprovals(usePavise.getState()).map((item) => item.id)).toEqual(['ap_cccccccccccc']);
  });

  it('assembles streamed text, tool lines and the end of a turn from chat events', () => {
    const { applyChatEvent } = usePavise.getState();
    applyChatEvent({ type: 'user', text: 'What time is it?', ts: 1 });
    applyChatEvent({ type: 'tool_start', name: 'current_time', summary: 'Read the current time' });
    applyChatEvent({ type: 'tool_end', name: 'current_time', isError: false });
    for (const text of ['It is ', 'half ', 'past three.']) applyChatEvent({ type: 'text_delta', text });
    expect(usePavise.getState().chat.at(-1)).toMatchObject({ kind: 'assistant', text: 'It is half past three.', streaming: true });
    expect(usePavise.getState().chatRunning).toBe(true);
    applyChatEvent({ type: 'done', reply: 'It is half past three.', ts: 2 });
    expect(usePavise.getState().chat.map((item) => item.kind)).toEqual(['user', 'tool', 'assistant']);
    expect(usePavise.getState().chat[1]).toMatchObject({ state: 'done' });
    expect(usePavise.getState().chat.at(-1)).toMatchObject({ streaming: false });
    expect(usePavise.getState().chatRunning).toBe(false);
    applyChatEvent({ type: 'user', text: 'Send it', ts: 3 });
    applyChatEvent({ type: 'tool_start', name: 'send_message', summary: 'Send iMessage' });
    applyChatEvent({ type: 'done', reply: '', error: 'The owner denied it.', ts: 4 });
    expect(usePavise.getState().chat.slice(-2)).toMatchObject([{ kind: 'tool', state: 'failed' }, { kind: 'error', text: 'The owner denied it.' }]);
  });
});

describe('approval card content', () => {
  it('shows exact content per effect, invisible characters as marks, and a title without the quoted text', () => {
    const hidden = approval('ap_dddddddddddd', {
      title: 'Send iMessage to Sam (+15550009999): "Pay\u200B now"',
      effects: [{ kind: 'send_message', channel: 'imessage', recipient: '+15550009999', text: 'Pay\u200B now' }],
    });
    expect(cardTitle(hidden)).toBe('Send iMessage to Sam (+15550009999)');
    expect(contentOf(hidden)).toEqual([{ kind: 'text', label: 'Message, exactly as it would be sent', text: 'Pay⟦ZWSP⟧ now' }]);
    expect(splitMarks('Pay⟦ZWSP⟧ now')).toEqual([
      { text: 'Pay', mark: false },
      { text: '⟦ZWSP⟧', mark: true },
      { text: ' now', mark: false },
    ]);
    expect(contentOf({ effects: [{ kind: 'execute', argv: ['rm', '-rf', '/tmp/x y'] }], input: {} })).toEqual([
      { kind: 'argv', label: 'Command, argument by argument', argv: ['rm', '-rf', '/tmp/x y'] },
    ]);
    // A command with network access says so first, before the command itself.
    expect(contentOf({ effects: [{ kind: 'execute', argv: ['git', 'pull'], network: true }], input: {} })).toEqual([
      { kind: 'fields', label: 'WITH NETWORK ACCESS', fields: [['Network', 'This command can reach any server on the internet or your network.']] },
      { kind: 'argv', label: 'Command, argument by argument', argv: ['git', 'pull'] },
    ]);
    expect(contentOf({ effects: [], input: { channel: 'telegram', sender: '12345' } })).toEqual([
      { kind: 'fields', label: 'Exact request', fields: [['Channel', 'telegram'], ['Sender', '12345']] },
    ]);
  });

  it('lists each argument once, untrusted first, under the effect’s own name', () => {
    expect(
      originLines([
        { path: 'channel', value: 'imessage', origin: 'owner', from: 'you, in this request' },
        { path: 'to', value: '+14155550134', origin: 'untrusted', from: 'a web page (https://example.com)' },
        { path: 'effect0.recipient', value: '+14155550134', origin: 'untrusted', from: 'a web page (https://example.com)' },
        { path: 'effect0.argv[1]', value: '-rf', origin: 'model', from: 'the model (nobody wrote it)' },
      ]),
    ).toEqual([
      { label: 'Recipient', value: '+14155550134', origin: 'untrusted', from: 'a web page (https://example.com)' },
      { label: 'Argument 1', value: '-rf', origin: 'model', from: 'the model (nobody wrote it)' },
      { label: 'Channel', value: 'imessage', origin: 'owner', from: 'you, in this request' },
    ]);
  });
});
