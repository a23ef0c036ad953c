import { currentTimeTool } from './current-time.js';
import type { EffectHost } from './effect-templates.js';
import { createMemoryTools, type MemoryToolsLike } from './memory.js';
import { createMessageTools, type MessagingLike } from './messages.js';
import { createNoteTools, type NotesLike } from './notes.js';
import { createRecallTool, type RecallLike } from './recall.js';
import { ToolRegistry } from './registry.js';
import type { ToolSource } from './source.js';
import { zodSource, type Tool } from './tool.js';

export interface BuiltinToolDeps {
  readonly notes: NotesLike;
  readonly messaging: MessagingLike;
  /** Memory; without it there is no `recall` tool (tests that need none). */
  readonly recall?: RecallLike | undefined;
  /** Long-term memories; without it there are no `remember` and `forget` tools. */
  readonly memory?: MemoryToolsLike | undefined;
}

/** The built-in tools, the first source. */
export function builtinSource(deps: BuiltinToolDeps): ToolSource {
  const [saveNote, listNotes] = createNoteTools(deps.notes);
  const [sendMessage, listConversations, readMessages] = createMessageTools(deps.messaging);
  const recall = deps.recall ? [createRecallTool(deps.recall)] : [];
  const memory = deps.memory ? createMemoryTools(deps.memory) : [];
  return zodSource('builtin', [currentTimeTool, saveNote, listNotes, sendMessage, listConversations, readMessages, ...recall, ...memory] as readonly Tool[]);
}

/**
 * The one registration list of tool sources: the built-ins, then `extra` (its injection point, for tests; skills and
 * MCP servers join here later). The host resolves send_message recipients through the messaging view.
 */
export function toolSources(deps: BuiltinToolDeps, extra: readonly ToolSource[] = []): readonly ToolSource[] {
  return [builtinSource(deps), ...extra];
}

/** Every tool the agent may be given, each descriptor checked by the host. */
export async function createToolRegistry(deps: BuiltinToolDeps, extra: readonly ToolSource[] = [], signal?: AbortSignal): Promise<ToolRegistry> {
  const host: EffectHost = {
    resolveRecipient: (channel, to) => {
      if (channel !== 'imessage' && channel !== 'telegram') return undefined;
      const recipient = deps.messaging.resolve(channel, to) ?? to;
      return { recipient, name: deps.messaging.titleOf(channel, recipient) };
    },
  };
  return ToolRegistry.load(toolSources(deps, extra), host, signal);
}
