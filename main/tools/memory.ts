import { z } from 'zod';
import type { Provenance } from '../common/messages.js';
import { defineTool, type Tool } from './tool.js';

/** What the memory tools need; main/memory provides it, labelling each memory by what the session had read. */
export interface MemoryToolsLike {
  remember(
    text: string,
    sessionId: string,
    replaces: readonly number[],
  ): { readonly id: number; readonly action: 'created' | 'unchanged'; readonly superseded: readonly number[]; readonly provenance: Provenance };
  /** The memory's current text, or undefined when there is no such memory. */
  textOf(id: number): string | undefined;
  /** Deletes the memory and its earlier versions; how many rows went. */
  forget(id: number): number;
}

const MAX_TEXT = 2_000;

const rememberInput = z.object({
  text: z
    .string()
    .min(1)
    .max(MAX_TEXT)
    .refine((text) => text.trim().length > 0, 'A memory needs some text, not only white space.')
    .describe('One lasting fact about the owner or their world, as a short sentence that stands alone ("Mum\'s birthday is 12 March").'),
  replaces: z.array(z.int().positive()).max(10).optional().describe('Ids of memories (#N in your context) this fact corrects.'),
});

const forgetInput = z.object({
  id: z.int().positive().describe('The memory number (#N in your context).'),
  text: z.string().min(1).max(MAX_TEXT).describe('The memory\'s text exactly as shown, so the owner sees what would be forgotten.'),
});

export type RememberInput = z.infer<typeof rememberInput>;
export type ForgetInput = z.infer<typeof forgetInput>;

/**
 * `remember` writes a long-term memory on this Mac (`write_local`): silent when the owner asked in a turn that read
 * nothing untrusted; asked otherwise by the gate, and stored with the label of what the session had read, so a
 * memory driven by someone else's words stays theirs. `forget` deletes the owner's data (`delete`), so it is always
 * asked, and the card names the memory's text.
 */
export function createMemoryTools(memory: MemoryToolsLike): readonly [Tool<RememberInput>, Tool<ForgetInput>] {
  const remember = defineTool({
    name: 'remember',
    description:
      'Remember a lasting fact about the owner or their world for future conversations. Only facts, never instructions; a correction names the memory it replaces.',
    input: rememberInput,
    effects: [{ kind: 'write_local', what: { template: 'Remember: "{text}"' } }],
    summary: 'Remember: "{text}"',
    output: { kind: 'trigger' },
    execute: ({ text, replaces }, { sessionId }) => {
      const outcome = memory.remember(text, sessionId, replaces ?? []);
      if (outcome.action === 'unchanged') return `Already remembered as memory #${outcome.id}.`;
      const replaced = outcome.superseded.length > 0 ? ` It replaces ${outcome.superseded.map((id) => `#${id}`).join(', ')}.` : '';
      const label = outcome.provenance.kind === 'owner' ? '' : ' It is stored as coming from someone other than the owner.';
      return `Remembered as memory #${outcome.id}.${replaced}${label}`;
    },
  });
  const forget = defineTool({
    name: 'forget',
    description: 'Forget (delete) one long-term memory and its earlier versions. The owner approves every time.',
    input: forgetInput,
    effects: [{ kind: 'delete', target: { template: 'memory #{id}: "{text}"' } }],
    summary: 'Forget memory #{id}: "{text}"',
    output: { kind: 'trigger' },
    execute: ({ id, text }) => {
      const current = memory.textOf(id);
      if (current === undefined) return { content: `There is no memory #${id}.`, isError: true };
      if (current.trim() !== text.trim()) {
        return { content: `Memory #${id} has a different text; nothing was forgotten. Call forget again with its exact text as shown.`, isError: true };
      }
      const count = memory.forget(id);
      return `Forgot memory #${id}${count > 1 ? ` and ${count - 1} earlier version(s)` : ''}.`;
    },
  });
  return [remember, forget];
}
