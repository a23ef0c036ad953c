import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApprovalView } from '../../main/common/approvals.js';
import { compose, type Core } from '../../main/compose.js';
import { defineTool, type Tool } from '../../main/tools/tool.js';
import { ask } from '../helpers/ask.js';
import { testSource } from '../helpers/tool-source.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { ScriptedProvider, call, text } from '../helpers/scripted-provider.js';
import { useTempCore } from '../helpers/temp-core.js';

/**
 * Failure 4 across channels and names: while a card waits, other conversations take the name the model used. The
 * card names the recipient resolved before asking, the approval binds it, and the message goes there or nowhere.
 */
const temp = useTempCore('pavise-pending-');

async function open(steps: ConstructorParameters<typeof ScriptedProvider>[0], extraTools: readonly Tool[] = []): Promise<Core> {
  const dir = temp.home();
  return temp.keep(
    await compose({
      env: { PAVISE_HOME: dir, ANTHROPIC_API_KEY: 'test-key-not-real' },
      secrets: new MemorySecretStore(),
      provider: new ScriptedProvider(steps),
      extraSources: extraTools.length > 0 ? [testSource(extraTools)] : [],
      approvalPollMs: 5,
    }),
  );
}

const CHANNELS = [
  { channel: 'imessage', real: 'iMessage;-;+15550002222', handle: '+15550002222', impostors: ['iMessage;-;+16660000000', 'iMessage;-;+16660000001'] },
  { channel: 'telegram', real: '22222', handle: '22222', impostors: ['66600', '66601'] },
] as const;

describe.each(CHANNELS)('a recipient that changes while the card waits ($channel)', ({ channel, real, handle, impostors }) => {
  it.each(['Bob', 'Bob Jones', 'bob jones'])('a card for "%s" sends to the conversation it named, however many impostors arrive', async (name) => {
    const core = await open([
      () => ({ content: [call('c1', 'send_message', { channel, to: name, text: 'the door code is 4321' })] }),
      () => ({ content: [text('done')] }),
    ]);
    core.channels.touchConversation(channel, real, false, name.toLowerCase() === 'bob' ? 'Bob' : 'Bob Jones', Date.now() - 60_000);
    const shown: ApprovalView[] = [];
    core.events.on('approval', (approval) => {
      shown.push(approval);
      for (const impostor of impostors) core.channels.touchConversation(channel, impostor, false, name);
      setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover'));
    });
    await ask(core, core.sessions.current('local', false), 'send the door code to my neighbour');
    expect(shown).toHaveLength(1);
    expect(shown[0]?.title).toContain(handle);
    expect(core.outbox.list(10).map((entry) => entry.conversationId)).toEqual([real]);
  });

  it('a card for a name nobody has yet never reaches the impostor who takes it', async () => {
    const core = await open([
      () => ({ content: [call('c1', 'send_message', { channel, to: 'Bob', text: 'the door code is 4321' })] }),
      () => ({ content: [text('done')] }),
    ]);
    core.events.on('approval', (approval) => {
      core.channels.touchConversation(channel, impostors[0], false, 'Bob');
      setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover'));
    });
    await ask(core, core.sessions.current('local', false), 'text Bob the door code');
    expect(core.outbox.list(10).map((entry) => entry.conversationId)).not.toContain(impostors[0]);
  });
});

describe('the gate binds the effects it showed', () => {
  it('a tool acts on the effects the card showed, handed over by the host, not on a second resolution', async () => {
    const received: unknown[] = [];
    const sender = defineTool({
      name: 'send_hello',
      description: 'Sends hello.',
      input: z.object({ to: z.string() }),
      effects: [{ kind: 'send_message', channel: { template: 'imessage' }, recipient: { arg: 'to' }, text: { template: 'hello' } }],
      summary: 'Send hello to {to}',
      output: { kind: 'trigger' },
      execute: (_input, context) => {
        received.push(context.effects);
        return 'sent';
      },
    });
    const core = await open(
      [
        () => ({ content: [call('c1', 'send_hello', { to: '+15550002222' })] }),
        () => ({ content: [text('done')] }),
      ],
      [sender],
    );
    const shown: unknown[] = [];
    core.events.on('approval', (approval) => {
      shown.push(approval.effects);
      setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover'));
    });
    await ask(core, core.sessions.current('local', false), 'say hello to +15550002222');
    expect(shown).toHaveLength(1);
    expect(received).toEqual(shown);
  });
});
