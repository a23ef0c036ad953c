import type { Provenance } from '../common/messages.js';
import { OWNER } from '../common/messages.js';
import type { MemoryItemInput, MemoryStore } from '../storage/memory-store.js';

/** A message as the chat.db reader decodes it (main/channels/imessage/chat-db-reader.ts); only what memory keeps. */
export interface ImportableMessage {
  readonly rowid: number;
  readonly guid: string;
  readonly date: number;
  readonly sender: string;
  readonly chatId: string | null;
  readonly isGroup: boolean;
  readonly isFromMe: boolean;
  readonly text: string;
  readonly kind: string;
  readonly itemType: number;
}

/** Reads a message history in ROWID order (the chat.db reader fits). Memory keeps text only: no attachments asked. */
export interface MessageSource {
  readonly path: string;
  latestRowId(): number;
  readSince(rowid: number, limit: number, options: { readonly attachments: false }): readonly ImportableMessage[];
}

export type SenderRole = 'owner' | 'contact' | 'stranger';

export interface ImportProgress {
  /** Messages read so far in this run (kept or not), and roughly how many this run reads in all. */
  readonly read: number;
  readonly total: number;
  /** New items stored this run, and in every run of this source. */
  readonly imported: number;
  readonly importedEver: number;
  readonly elapsedMs: number;
}

export interface ImportOptions {
  /** The checkpoint's name: one per chat.db path. */
  readonly sourceKey: string;
  /** Messages before this time (ms) are passed over (the checkpoint still moves past them). */
  readonly since?: number | undefined;
  /** Who a sender of a message not from the owner's own account is. */
  readonly roleOf: (sender: string) => SenderRole;
  /** A person's name for a handle, when the owner's contacts give one. */
  readonly nameOf?: (sender: string) => string | undefined;
  /**
   * Scrubs known secret values from a message's text before it is stored, as the gateway does for every live message
   * (invariant 2): a key the owner once texted must not rest in the database because the history was imported.
   */
  readonly redact?: ((text: string) => string) | undefined;
  /**
   * Whether a message echoes one of Pavise's own sends: Pavise sends from this Mac's account, so chat.db shows what it
   * sent as "from me", and a send to the owner's own number comes back once more as received from them. The gateway
   * remembers such an echo as Pavise's words when it reads it; an import that reaches it first must not remember it as
   * the owner's.
   */
  readonly sentByPavise?: ((message: ImportableMessage) => boolean) | undefined;
  readonly batchSize?: number;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: (progress: ImportProgress) => void;
  readonly now?: () => number;
}

export interface ImportOutcome {
  readonly imported: number;
  readonly importedEver: number;
  readonly read: number;
  readonly lastRowid: number;
  /** Stopped by the signal; run again to resume from `lastRowid`. */
  readonly interrupted: boolean;
}

/**
 * Messages per batch (one transaction with its checkpoint). Larger batches write fewer, larger FTS5 segments, so less
 * merging: at 1M messages, 50,000 took a sixth less wall time than 10,000, and 6–7 % less than 25,000 (five
 * interleaved pairs). A batch takes about a second here, so Ctrl-C still stops an import within one.
 */
const DEFAULT_BATCH = 50_000;

/**
 * Copies a message history into memory, batch by batch; each batch is stored together with the checkpoint, so an
 * import stopped at any moment (Ctrl-C, a crash) resumes where it stopped with nothing lost or stored twice. It
 * only reads and stores: nothing is answered, sent or shown to a model. The owner's own messages (and those from a
 * configured owner handle) are the owner's; a contact's are the contact's; everything else, and anything anyone
 * but the owner wrote in a group, is untrusted text labelled with who wrote it.
 */
export function importMessages(source: MessageSource, store: MemoryStore, options: ImportOptions): Promise<ImportOutcome> {
  return store.withBulkImport(() => importAll(source, store, options));
}

async function importAll(source: MessageSource, store: MemoryStore, options: ImportOptions): Promise<ImportOutcome> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const now = options.now ?? Date.now;
  const started = now();
  const checkpoint = store.checkpoint(options.sourceKey);
  let lastRowid = checkpoint?.lastRowid ?? 0;
  let importedEver = checkpoint?.imported ?? 0;
  const total = Math.max(0, source.latestRowId() - lastRowid);
  let read = 0;
  let imported = 0;
  const roles = new Map<string, SenderRole>();
  const roleOf = (sender: string) => {
    let role = roles.get(sender);
    if (role === undefined) roles.set(sender, (role = options.roleOf(sender)));
    return role;
  };
  // One label object per sender (and group): the store stringifies each distinct label once per batch.
  const labels = new Map<string, Provenance>();
  const labelFor = (message: ImportableMessage, role: SenderRole, name: string | undefined) => {
    const key = `${role}\u0000${message.isGroup ? (message.chatId ?? '') : ''}\u0000${message.sender}\u0000${name ?? ''}`;
    let label = labels.get(key);
    if (label === undefined) labels.set(key, (label = labelOf(message, role, name)));
    return label;
  };
  while (!options.signal?.aborted) {
    const messages = source.readSince(lastRowid, batchSize, { attachments: false });
    if (messages.length === 0) break;
    const items: MemoryItemInput[] = [];
    for (const message of messages) {
      if (message.text.trim() === '' || message.itemType !== 0 || message.kind === 'reaction') continue;
      if (options.since !== undefined && message.date < options.since) continue;
      // Only the owner's own account or handle can carry Pavise's echo (one lookup a row would slow an import of 1M).
      const own = (message.isFromMe || roleOf(message.sender) === 'owner') && options.sentByPavise?.(message) === true;
      const item = own ? paviseItem(toItem(message, 'owner', options.nameOf, labelFor)) : toItem(message, message.isFromMe ? 'owner' : roleOf(message.sender), options.nameOf, labelFor);
      items.push(options.redact ? { ...item, text: options.redact(item.text) } : item);
    }
    lastRowid = messages.at(-1)!.rowid;
    const added = store.ingestBatch(options.sourceKey, items, lastRowid, now());
    read += messages.length;
    imported += added;
    importedEver += added;
    options.onProgress?.({ read, total: Math.max(total, read), imported, importedEver, elapsedMs: now() - started });
    // Lets Ctrl-C (and anything else waiting) in between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { imported, importedEver, read, lastRowid, interrupted: options.signal?.aborted === true };
}

function toItem(
  message: ImportableMessage,
  role: SenderRole,
  nameOf: ImportOptions['nameOf'],
  label: (message: ImportableMessage, role: SenderRole, name: string | undefined) => Provenance,
): MemoryItemInput {
  const name = message.isFromMe ? undefined : nameOf?.(message.sender);
  const conversation = message.chatId ?? `handle:${message.sender}`;
  return {
    kind: 'message',
    channel: 'imessage',
    conversation,
    guid: message.guid,
    sender: message.sender,
    senderName: name,
    fromOwner: role === 'owner',
    isGroup: message.isGroup,
    text: message.text,
    at: message.date,
    provenance: label(message, role, name),
  };
}

/** Pavise's words may carry a web page's or a stranger's; the label its send had is not known here. */
const PAVISE_SENT: Provenance = { kind: 'untrusted', source: 'tool_output', detail: "Pavise's own message, imported from the message history" };

function paviseItem(item: MemoryItemInput): MemoryItemInput {
  return { ...item, sender: 'pavise', senderName: 'Pavise', fromOwner: false, provenance: PAVISE_SENT };
}

function labelOf(message: ImportableMessage, role: SenderRole, name: string | undefined): Provenance {
  if (role === 'owner') return OWNER;
  const who = name === undefined ? message.sender || 'an unknown sender' : `${name} (${message.sender})`;
  if (message.isGroup) return { kind: 'untrusted', source: 'non_owner_sender', detail: `imessage group ${message.chatId ?? ''}: ${who}` };
  if (role === 'contact') return { kind: 'contact', contactId: `imessage:${message.sender}` };
  return { kind: 'untrusted', source: 'non_owner_sender', detail: `imessage ${who}` };
}
