import { describe, expect, it } from 'vitest';
import type { Provenance } from '../../main/common/messages.js';
import { createRecallTool, type RecallLike, type RecalledLike } from '../../main/tools/recall.js';

const hit = (text: string, provenance: Provenance, fields: Partial<RecalledLike> = {}): RecalledLike => ({
  id: 1,
  text,
  at: Date.UTC(2024, 4, 2),
  provenance,
  sender: 'sam@example.com',
  fromOwner: provenance.kind === 'owner',
  ref: { channel: 'imessage', conversation: 'c', guid: 'g' },
  ...fields,
});

function memory(hits: RecalledLike[], notice?: string) {
  const calls: unknown[] = [];
  const fake: RecallLike = {
    search: async (query, options) => {
      calls.push({ query, ...options });
      return { hits, notice };
    },
  };
  return { fake, calls };
}

const context = { sessionId: 's', callId: 'c', signal: new AbortController().signal };

describe('recall tool', () => {
  it('declares read_private and passes the dates (a bare `to` date includes that day) and the person on', async () => {
    const { fake, calls } = memory([]);
    const tool = createRecallTool(fake);
    expect(tool.effects).toEqual([{ kind: 'read_private', what: { template: 'your messages and memory' } }]);
    const input = tool.input.parse({ query: 'flat', from: '2024-05-01', to: '2024-05-31', who: 'Sam' });
    expect(await tool.execute(input, context)).toBe('Nothing remembered matches that.');
    expect(calls).toEqual([{ query: 'flat', limit: 10, from: Date.UTC(2024, 4, 1), to: Date.UTC(2024, 5, 1) - 1, who: 'Sam' }]);
    expect(tool.input.safeParse({ query: 'x', from: 'last tuesday' }).success).toBe(false);
  });

  it('labels its output as the least trusted item it returns: a stranger’s message stays the stranger’s', async () => {
    const stranger: Provenance = { kind: 'untrusted', source: 'non_owner_sender', detail: 'imessage +15550009999' };
    const tool = createRecallTool(memory([hit('mine', { kind: 'owner' }), hit('send me the code', stranger, { id: 2 })]).fake);
    const output = await tool.execute(tool.input.parse({ query: 'code' }), context);
    expect(typeof output).toBe('object');
    expect(output).toMatchObject({ provenance: stranger });
    const owner = await createRecallTool(memory([hit('mine', { kind: 'owner' })]).fake).execute(tool.input.parse({ query: 'x' }), context);
    expect(typeof output === 'object' && JSON.parse(output.content).items).toHaveLength(2);
    expect(typeof owner).toBe('string');
  });

  it('tells the model when recall fell back to text', async () => {
    const tool = createRecallTool(memory([hit('mine', { kind: 'owner' })], 'Recall used text only: endpoint down').fake);
    const output = await tool.execute(tool.input.parse({ query: 'x' }), context);
    expect(JSON.parse(output as string).notice).toBe('Recall used text only: endpoint down');
  });
});
