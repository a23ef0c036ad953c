import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/common/approvals.js';
import { ask } from '../helpers/ask.js';
import { openMemoryHome, shownText, type MemoryHome } from './helpers.js';

let home: MemoryHome | undefined;
afterEach(() => {
  home?.close();
  home = undefined;
});

const toolCall = (name: string, input: unknown) => () => ({ content: [{ type: 'toolCall' as const, id: `c-${name}`, name, input }] });

describe('remember and forget', () => {
  it('the owner’s own fact is remembered without a prompt, labelled as the owner’s, and shown in a later turn', async () => {
    home = await openMemoryHome();
    const { core, provider } = home;
    const shown: ApprovalView[] = [];
    core.events.on('approval', (approval) => shown.push(approval));
    provider.replies.push(toolCall('remember', { text: 'Prefers window seats on trains' }));
    const session = core.sessions.current('local');
    await ask(core, session, 'Remember that I prefer window seats on trains.');
    expect(shown).toEqual([]);
    const [memory] = core.memoriesStore.list();
    expect(memory).toMatchObject({ text: 'Prefers window seats on trains', origin: 'tool', provenance: { kind: 'owner' }, sessionId: session });

    await ask(core, core.sessions.current('local', true), 'Book me a train to Leeds.');
    const last = provider.turnRequests.at(-1);
    expect(last && shownText(last)).toContain(`memory #${memory?.id}`);
    expect(last && shownText(last)).toContain('Prefers window seats on trains');
    expect(last && shownText(last)).not.toContain('<untrusted');
  });

  it('a correction naming the memory it replaces supersedes it', async () => {
    home = await openMemoryHome();
    const { core, provider } = home;
    const { memory } = core.longTermMemory.memories.remember({ text: 'Dentist on Tuesday', provenance: { kind: 'owner' }, origin: 'owner' });
    provider.replies.push(toolCall('remember', { text: 'Dentist moved to Thursday', replaces: [memory.id] }));
    await ask(core, core.sessions.current('local'), 'The dentist moved to Thursday.');
    expect(core.memoriesStore.list().map((item) => item.text)).toEqual(['Dentist moved to Thursday']);
    expect(core.memoriesStore.get(memory.id)?.supersededBy).toBeDefined();
  });

  it('forget deletes only after approval, and only the memory whose text the card showed', async () => {
    home = await openMemoryHome();
    const { core, provider } = home;
    core.events.on('approval', (approval) => setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover')));
    const { memory } = core.longTermMemory.memories.remember({ text: 'Lives at 1 Old Road', provenance: { kind: 'owner' }, origin: 'owner' });
    provider.replies.push(toolCall('forget', { id: memory.id, text: 'Something else' }));
    await ask(core, core.sessions.current('local'), 'forget my address');
    expect(core.memoriesStore.get(memory.id)).toBeDefined();
    const results = core.sessions.messages(core.sessions.current('local')).filter((message) => message.role === 'toolResult');
    expect(results.at(-1)).toMatchObject({ isError: true, content: expect.stringMatching(/different text; nothing was forgotten/) });

    provider.replies.push(toolCall('forget', { id: memory.id, text: 'Lives at 1 Old Road' }));
    await ask(core, core.sessions.current('local'), 'forget my address, the right one');
    expect(core.memoriesStore.get(memory.id)).toBeUndefined();
  });

  it('a contact’s turn is shown none of the owner’s memories or remembered messages', async () => {
    home = await openMemoryHome();
    const { core, provider } = home;
    core.longTermMemory.memories.remember({ text: 'The door code is 4711', provenance: { kind: 'owner' }, origin: 'owner' });
    core.notes.add('door code reminder: 4711', undefined, { kind: 'owner' });
    await ask(core, core.sessions.current('imessage:alice'), 'What is the door code?', { provenance: { kind: 'contact', contactId: 'imessage:+15550001111' }, tools: core.contactTools });
    expect(shownText(provider.turnRequests.at(-1) ?? provider.requests[0]!)).not.toContain('4711');
    await ask(core, core.sessions.current('local'), 'What is the door code?');
    expect(shownText(provider.turnRequests.at(-1)!)).toContain('The door code is 4711');
  });
});
