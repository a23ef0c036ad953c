import { currentTimeTool } from './current-time.js';
import { createMessageTools, type MessagingLike } from './messages.js';
import { createNoteTools, type NotesLike } from './notes.js';
import { ToolRegistry, type Tool } from './tool.js';

export interface BuiltinToolDeps {
  readonly notes: NotesLike;
  readonly messaging: MessagingLike;
}

/** The built-in tools, in the one explicit list they are registered from. */
export function builtinTools(deps: BuiltinToolDeps): readonly Tool[] {
  const [saveNote, listNotes] = createNoteTools(deps.notes);
  const [sendMessage, listConversations, readMessages] = createMessageTools(deps.messaging);
  return [currentTimeTool, saveNote, listNotes, sendMessage, listConversations, readMessages] as readonly Tool[];
}

/**
 * Every tool the agent may be given: the built-ins, then `extra` (the registration list's injection point, for tests
 * of the gate), all through the registry's checks.
 */
export function createToolRegistry(deps: BuiltinToolDeps, extra: readonly Tool[] = []): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of [...builtinTools(deps), ...extra]) registry.register(tool);
  return registry;
}

/** Tools without any effect: what an approved contact's turn (or a group's) may use: no private data, no actions. */
export function effectFreeTools(all: ToolRegistry): ToolRegistry {
  const registry = new ToolRegistry();
  for (const tool of all.list()) if (tool.effects.length === 0) registry.register(tool);
  return registry;
}
