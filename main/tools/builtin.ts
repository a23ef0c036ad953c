import { currentTimeTool } from './current-time.js';
import type { EffectHost } from './effect-templates.js';
import { createFileTools, type FileToolDeps } from './files/file-tools.js';
import { createWebTools, type WebToolDeps } from './web/web-tools.js';
import { createMailTools } from './mail/mail-tools.js';
import type { MailService } from './mail/mail-service.js';
import { createHomeTools, type HomeToolDeps } from './home/home-tools.js';
import { createMessageTools, type MessagingLike } from './messages.js';
import { createNoteTools, type NotesLike } from './notes.js';
import { ToolRegistry } from './registry.js';
import type { ToolSource } from './source.js';
import { zodSource, type Tool } from './tool.js';

export interface BuiltinToolDeps {
  readonly notes: NotesLike;
  readonly messaging: MessagingLike;
  /** The file tools, inside the owner's granted folders; left out (no folder granted), there are none. */
  readonly files?: FileToolDeps;
  /** web_fetch; left out, there is none. */
  readonly web?: WebToolDeps;
  /** The mail tools, over the accounts in config; left out (no account), there are none. */
  readonly mail?: MailService;
  /** Home Assistant and macOS Shortcuts; left out, there are none. */
  readonly home?: HomeToolDeps;
}

/** The built-in tools, the first source. */
export function builtinSource(deps: BuiltinToolDeps): ToolSource {
  const [saveNote, listNotes] = createNoteTools(deps.notes);
  const [sendMessage, listConversations, readMessages] = createMessageTools(deps.messaging);
  const fileTools = deps.files ? createFileTools(deps.files) : [];
  const webTools = deps.web ? createWebTools(deps.web) : [];
  const mailTools = deps.mail ? createMailTools(deps.mail) : [];
  const homeTools = deps.home ? createHomeTools(deps.home) : [];
  return zodSource('builtin', [
    ...[currentTimeTool, saveNote, listNotes, sendMessage, listConversations, readMessages],
    ...[...fileTools, ...webTools, ...mailTools, ...homeTools],
  ] as readonly Tool[]);
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
