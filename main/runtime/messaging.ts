import type { ChannelId } from '../channels/channel.js';
import type { Config } from '../common/config-schema.js';
import { ownerRegion, sameHandle } from '../identity/handles.js';
import { roleOf } from '../identity/roles.js';
import { isKnownGroup } from '../permissions/known-recipient.js';
import type { Provenance } from '../common/messages.js';
import type { ChannelStore, StoredInbound } from '../storage/channel-store.js';
import { Outbox, type OutboxEntry } from '../storage/outbox.js';
import type { MessagingLike } from '../tools/messages.js';

export interface MessagingDeps {
  readonly config: Config;
  readonly channels: ChannelStore;
  readonly outbox: Outbox;
  /** How memory remembered a channel's message (it labels an echo of Pavise's own send by whose words it carries). */
  readonly remembered?: ((channel: ChannelId, guid: string) => { readonly provenance: Provenance; readonly fromOwner: boolean } | undefined) | undefined;
  /** How long a tool send waits for the gateway before answering "still sending". */
  readonly sendWaitMs?: number;
}

const SEND_WAIT_MS = 15_000;
/** How far back a "from me" row is matched against Pavise's sends, as the gateway matches its echoes. */
const ECHO_WINDOW_MS = 10 * 60_000;

/** The handle at the end of a conversation id (iMessage ids end in `;handle`). */
function handleOf(conversationId: string): string {
  return conversationId.split(';').at(-1) ?? conversationId;
}

/** The message tools' view of the channel store and outbox. */
export function createMessaging(deps: MessagingDeps): MessagingLike {
  const { channels, outbox } = deps;
  const matches = (channel: ChannelId, to: string) =>
    channels
      .conversations(10_000)
      .filter((item) => item.channel === channel)
      .filter((item) => item.conversationId === to || (!item.isGroup && sameHandle(item.channel, handleOf(item.conversationId), to, ownerRegion(deps.config))) || item.title?.toLowerCase() === to.toLowerCase());
  /**
   * A row that echoes one of Pavise's sends is Pavise's words: a "from me" row (this Mac's account sends them), or, in
   * iMessage, the same message received again in the owner's chat with their own number (the gateway marks it `self`;
   * one it has not read yet is matched against the outbox). It is labelled as memory remembered it (whose words it
   * carries) unless memory took it for the owner's (an import before it knew its echoes); one memory did not keep (a
   * notice quoting an action) is words of unknown origin. Only the owner's own typing is theirs.
   */
  const paviseSend = (message: StoredInbound): { pavise?: Provenance } => {
    const since = message.sentAt - ECHO_WINDOW_MS;
    const echo = message.isFromMe
      ? outbox.sentRecently(message.channel, message.conversationId, message.text, since)
      : message.channel === 'imessage' && (message.role === 'self' || outbox.sentRecently(message.channel, message.conversationId, message.text, since));
    const remembered = deps.remembered?.(message.channel, message.externalId);
    if (!echo) return message.isFromMe && remembered && !remembered.fromOwner ? { pavise: remembered.provenance } : {};
    if (remembered && !remembered.fromOwner) return { pavise: remembered.provenance };
    return { pavise: { kind: 'untrusted', source: 'tool_output', detail: "Pavise's own message, sent from your account" } };
  };
  return {
    conversations: (limit) => channels.conversations(limit),
    titleOf: (channel, conversationId) => channels.conversation(channel, conversationId)?.title,
    resolve: (channel, to) => {
      const found = matches(channel, to.trim());
      // Ambiguity fails closed: two conversations called "Sam" resolve to neither.
      return found.length === 1 ? found[0]?.conversationId : undefined;
    },
    read: (channel, conversationId, since, limit) =>
      channels.messages(channel, conversationId, { since, limit }).map((message) => ({
        sentAt: message.sentAt,
        sender: message.sender,
        senderName: message.senderName,
        text: message.text,
        role: message.isFromMe ? 'self' : roleOf(deps.config, channels, channel, message.sender),
        ...(message.kind === 'forwarded' ? { forwarded: true } : {}),
        ...paviseSend(message),
        attachments: message.attachments.length,
      })),
    send: async (channel, conversationId, text, idempotencyKey, signal, provenance) => {
      const entry = outbox.enqueue({ channel, conversationId, text, idempotencyKey, ...(provenance ? { provenance } : {}) });
      if (!channels.conversation(channel, conversationId)) channels.touchConversation(channel, conversationId, false, undefined);
      if (outbox.events.listenerCount('queued') === 0) return `Queued (#${entry.id}); it is sent when the Pavise gateway runs.`;
      const settled = await settlement(outbox, entry.id, deps.sendWaitMs ?? SEND_WAIT_MS, signal);
      if (settled?.status === 'sent') return `Sent (#${entry.id}).`;
      if (settled?.status === 'failed') throw new Error(`Sending failed: ${settled.error ?? 'unknown error'}`);
      if (settled?.status === 'held') throw new Error(`Held: ${settled.error ?? 'outbound messages are paused'}`);
      return `Queued (#${entry.id}); the gateway is still sending it.`;
    },
  };
}

/** The entry once it is final, or undefined when `waitMs` passes or the signal aborts first. */
function settlement(outbox: Outbox, id: number, waitMs: number, signal: AbortSignal): Promise<OutboxEntry | undefined> {
  const current = outbox.get(id);
  if (current && Outbox.isFinal(current.status)) return Promise.resolve(current);
  return new Promise((resolve) => {
    const finish = (entry: OutboxEntry | undefined) => {
      stop();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(entry);
    };
    const onAbort = () => finish(undefined);
    const stop = outbox.events.on('settled', (entry) => {
      if (entry.id === id) finish(entry);
    });
    const timer = setTimeout(() => finish(undefined), waitMs);
    if (signal.aborted) finish(undefined);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Known: a conversation exists and the person in it is an owner or approved contact (a stranger who once wrote in
 * is not someone Pavise may write to without asking).
 */
export function knownRecipient(config: Config, channels: ChannelStore): (channel: string, recipient: string) => boolean {
  return (channel, recipient) => {
    const id = channel as ChannelId;
    const conversation = channels.conversation(id, recipient);
    if (!conversation) return false;
    if (conversation.isGroup) return isKnownGroup(channels.messages(id, recipient, { limit: 10_000 }), (sender) => roleOf(config, channels, id, sender) === 'owner');
    return channels.ownerHasWritten(id, recipient) || roleOf(config, channels, id, handleOf(recipient)) !== 'stranger';
  };
}
