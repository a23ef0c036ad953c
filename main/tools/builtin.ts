import { createCalendarTools, type CalendarLike } from './calendar.js';
import { createContactTools, resolveContact, type ContactsLike } from './contacts.js';
import { currentTimeTool } from './current-time.js';
import type { EffectHost } from './effect-templates.js';
import { canonicalHandle } from '../identity/handles.js';
import { createFileTools, type FileToolDeps } from './files/file-tools.js';
import { createWebTools, type WebToolDeps } from './web/web-tools.js';
import { createMailTools } from './mail/mail-tools.js';
import type { MailService } from './mail/mail-service.js';
import type { MailMemory } from './mail/mail-memory.js';
import { createHomeTools, type HomeToolDeps } from './home/home-tools.js';
import { createMemoryTools, type MemoryToolsLike } from './memory.js';
import { createTerminalTools, type TerminalToolDeps } from './terminal/terminal-tools.js';
import { createBrowseTools, type BrowseToolDeps } from './browser/browse-tool.js';
import { createMessageTools, type MessagingLike } from './messages.js';
import { createNoteTools, type NotesLike } from './notes.js';
import { createRecallTool, type RecallLike } from './recall.js';
import { ToolRegistry } from './registry.js';
import { createScheduleTools, type SchedulingLike } from './schedule.js';
import type { ToolSource } from './source.js';
import { zodSource, type Tool } from './tool.js';

export interface BuiltinToolDeps {
  readonly notes: NotesLike;
  readonly messaging: MessagingLike;
  /** The Mac's calendars; with `contacts`, the native source. Absent leaves those tools out. */
  readonly calendar?: CalendarLike;
  /** The address book: find_contact, and the first place send_message looks a name up. */
  readonly contacts?: ContactsLike & { refresh?(signal?: AbortSignal): Promise<void> };
  /** The owner's own email addresses: an attendee who is the owner is mailed nothing. */
  readonly ownAddresses?: readonly string[];
  /** Reminders and alerts; without it the schedule tools are not offered. */
  readonly scheduling?: SchedulingLike;
  /** The file tools, inside the owner's granted folders; left out (no folder granted), there are none. */
  readonly files?: FileToolDeps;
  /** web_fetch; left out, there is none. */
  readonly web?: WebToolDeps;
  /** The mail tools, over the accounts in config; left out (no account), there are none. */
  readonly mail?: MailService;
  /** run_command in the sandbox, inside the granted folders; left out (no folder granted), there is none. */
  readonly terminal?: TerminalToolDeps;
  /** browse, in Pavise's own headless Chromium; left out, there is none. */
  readonly browser?: BrowseToolDeps;
  /** Where mail read or searched is remembered; left out, it is not. */
  readonly mailMemory?: MailMemory;
  /** Home Assistant and macOS Shortcuts; left out, there are none. */
  readonly home?: HomeToolDeps;
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
  const scheduleTools = deps.scheduling ? createScheduleTools(deps.scheduling) : [];
  const fileTools = deps.files ? createFileTools(deps.files) : [];
  const webTools = deps.web ? createWebTools(deps.web) : [];
  const mailTools = deps.mail ? createMailTools(deps.mail, { isOwnAddress: ownEmail(deps), ...(deps.files ? { grants: deps.files.grants } : {}), ...(deps.mailMemory ? { memory: deps.mailMemory } : {}) }) : [];
  const homeTools = deps.home ? createHomeTools(deps.home) : [];
  const terminalTools = deps.terminal ? createTerminalTools(deps.terminal) : [];
  const browseTools = deps.browser ? createBrowseTools(deps.browser) : [];
  return zodSource('builtin', [
    ...[currentTimeTool, saveNote, listNotes, sendMessage, listConversations, readMessages, ...recall, ...memory, ...scheduleTools],
    ...[...fileTools, ...webTools, ...mailTools, ...homeTools],
    ...terminalTools,
    ...browseTools,
  ] as readonly Tool[]);
}

/** Calendar and Contacts through the Mac's own stores (main/calendar/native). */
export function nativeSource(calendar: CalendarLike, contacts: ContactsLike): ToolSource {
  return zodSource('native', [...createCalendarTools(calendar), ...createContactTools(contacts)] as readonly Tool[]);
}

/**
 * The one registration list of tool sources: the built-ins, the native calendar and contacts, then `extra` (its
 * injection point, for tests; skills and MCP servers join here later). The host resolves send_message recipients
 * through the address book first, then the messaging view.
 */
export function toolSources(deps: BuiltinToolDeps, extra: readonly ToolSource[] = []): readonly ToolSource[] {
  const native = deps.calendar && deps.contacts ? [nativeSource(deps.calendar, deps.contacts)] : [];
  return [builtinSource(deps), ...native, ...extra];
}

/**
 * An iMessage recipient named by a name the address book knows: the contact's one handle (its conversation when
 * Pavise has one). A name that fits two cards, or a card with several handles, fails closed with the choices.
 */
function contactRecipient(deps: BuiltinToolDeps, to: string): { recipient: string; name: string } | undefined {
  const book = deps.contacts?.cached();
  if (!book || !deps.contacts || canonicalHandle('imessage', to, deps.contacts.region) !== undefined) return undefined;
  const found = resolveContact(book, to, deps.contacts.region, (handle) => deps.messaging.resolve('imessage', handle) !== undefined);
  if (found.kind === 'none') return undefined;
  if (found.kind === 'ambiguous') throw new Error(`Not sent: ${found.message}`);
  return { recipient: deps.messaging.resolve('imessage', found.handle) ?? found.handle, name: found.name };
}

/**
 * The host's resolution of a run_command call for the card and the approval hash; a problem is reported when it runs.
 * Only run_command (a built-in, so no other source can take its name) runs in the box the resolution describes; any
 * other tool's execute effect is left as it is and never counts as read-only.
 */
function terminalResolution(terminal: TerminalToolDeps): NonNullable<EffectHost['resolveExecute']> {
  return (tool, argv, cwd) => {
    if (tool !== 'run_command') return { readOnly: false };
    const { problem: _problem, ...resolution } = terminal.resolver.resolve(argv, cwd);
    return resolution;
  };
}

/** Whether an email address is one of the owner's own: config's owner emails, or the "me" card's. */
function ownEmail(deps: BuiltinToolDeps): (address: string) => boolean {
  const own = new Set((deps.ownAddresses ?? []).map((address) => address.trim().toLowerCase()));
  return (address) => {
    const wanted = address.trim().toLowerCase();
    if (own.has(wanted)) return true;
    const book = deps.contacts?.cached();
    const me = book?.contacts.find((card) => card.id === book.me);
    return me?.emails.some((email) => email.value.trim().toLowerCase() === wanted) ?? false;
  };
}

/** Every tool the agent may be given, each descriptor checked by the host. */
export async function createToolRegistry(deps: BuiltinToolDeps, extra: readonly ToolSource[] = [], signal?: AbortSignal): Promise<ToolRegistry> {
  const isOwnEmail = ownEmail(deps);
  // send_mail checks its attachments against the grants while a call is parsed, synchronously: read them first.
  await deps.files?.grants.ready();
  const host: EffectHost = {
    resolveRecipient: (channel, to) => {
      if (channel !== 'imessage' && channel !== 'telegram') return undefined;
      const contact = channel === 'imessage' ? contactRecipient(deps, to) : undefined;
      if (contact) return contact;
      const recipient = deps.messaging.resolve(channel, to) ?? to;
      return { recipient, name: deps.messaging.titleOf(channel, recipient) };
    },
    isOwnAddress: (channel, address) => channel === 'email' && isOwnEmail(address),
    ...(deps.terminal ? { resolveExecute: terminalResolution(deps.terminal) } : {}),
    prepare: async (descriptor, _input, prepareSignal) => {
      if (descriptor.effects.some((effect) => effect.kind === 'send_message')) await deps.contacts?.refresh?.(prepareSignal);
    },
  };
  return ToolRegistry.load(toolSources(deps, extra), host, signal);
}
