import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/common/approvals.js';
import { isKnownGroup } from '../../main/permissions/known-recipient.js';
import { compose, type Core } from '../../main/compose.js';
import { ask } from '../helpers/ask.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { ScriptedProvider, call, text } from '../helpers/scripted-provider.js';

/**
 * Failure 2, second half: every group counted as a known recipient, including one an attacker created and added the
 * bot to, so "send my notes to Book Club" went out silently. A group is known only if the owner spoke in it or
 * Pavise created it.
 */
const OWNER_ID = '424242';
const GROUP = '-100777';
let dir: string | undefined;
let services: Core | undefined;
afterEach(() => {
  services?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  services = undefined;
  dir = undefined;
});

async function sendToGroup(history: readonly { sender: string; isFromMe?: boolean }[]): Promise<ApprovalView[]> {
  dir = mkdtempSync(join(tmpdir(), 'pavise-groups-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ channels: { telegram: { owners: [OWNER_ID] } } }));
  const provider = new ScriptedProvider([
    () => ({ content: [call('c1', 'send_message', { channel: 'telegram', to: 'Book Club', text: 'my notes' })] }),
    () => ({ content: [text('done')] }),
  ]);
  services = await compose({ env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: 'test-key-not-real' }, secrets: new MemorySecretStore(), provider, approvalPollMs: 5 });
  const open = services;
  open.channels.touchConversation('telegram', GROUP, true, 'Book Club');
  history.forEach((message, index) =>
    open.channels.storeInbound(
      {
        channel: 'telegram', externalId: `${GROUP}:${index}`, conversationId: GROUP, isGroup: true, sender: message.sender, text: 'hello all',
        sentAt: Date.now() - 60_000, isFromMe: message.isFromMe ?? false, kind: 'message', attachments: [], addressesAssistant: false,
      },
      String(index),
    ),
  );
  const shown: ApprovalView[] = [];
  open.events.on('approval', (approval) => {
    shown.push(approval);
    setImmediate(() => open.gate.decide(approval.id, 'deny', 'popover'));
  });
  await ask(open, open.sessions.current('local', false), 'send my notes to Book Club');
  return shown;
}

describe('groups are known only if the owner spoke in them', () => {
  it('a group only strangers wrote in (an attacker made it and added the bot) asks, and nothing is sent', async () => {
    const shown = await sendToGroup([{ sender: '666' }, { sender: '667' }]);
    expect(shown).toHaveLength(1);
    expect(shown[0]?.reason).toContain('new recipient');
    expect(services?.outbox.list(10)).toHaveLength(0);
  });

  it('a group the owner wrote in is known: the owner naming it sends without a prompt', async () => {
    const shown = await sendToGroup([{ sender: '666' }, { sender: OWNER_ID }]);
    expect(shown).toHaveLength(0);
    expect(services?.outbox.list(10)).toHaveLength(1);
  });
});

describe('isKnownGroup', () => {
  const isOwner = (sender: string) => sender === OWNER_ID;
  it('needs a message from this Mac’s account or from an owner', () => {
    expect(isKnownGroup([], isOwner)).toBe(false);
    expect(isKnownGroup([{ sender: '666', isFromMe: false }], isOwner)).toBe(false);
    expect(isKnownGroup([{ sender: '666', isFromMe: false }, { sender: '+15550001111', isFromMe: true }], isOwner)).toBe(true);
    expect(isKnownGroup([{ sender: OWNER_ID, isFromMe: false }], isOwner)).toBe(true);
  });
});
