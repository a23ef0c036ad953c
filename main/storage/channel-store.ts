import type { Database } from 'better-sqlite3';
import { preparedOnce, type Prepare } from './statements.js';
import type { ChannelId } from '../common/channels.js';
import type { InboundMessage } from '../common/inbound.js';
import { parseProvenance } from '../common/labels.js';
import type { Provenance } from '../common/messages.js';

/** `waiting_model`: the model could not be reached; the message is kept and tried again (see the gateway). */
export type InboundStatus = 'stored' | 'processing' | 'waiting_model' | 'answered' | 'ignored' | 'skipped_stale' | 'failed';
export type SenderRole = 'owner' | 'contact' | 'stranger' | 'self';

export interface StoredInbound extends InboundMessage {
  readonly id: number;
  readonly status: InboundStatus;
  readonly role: SenderRole | undefined;
  /** The label of the text, from the sender's role; undefined until the sender is classified. */
  readonly provenance: Provenance | undefined;
  readonly receivedAt: number;
}

export interface ConversationInfo {
  readonly channel: ChannelId;
  readonly conversationId: string;
  readonly isGroup: boolean;
  readonly title: string | undefined;
  /** Who chose the title: undefined when it is the channel's own handle, a non-owner's label when it is a name a sender gave itself. */
  readonly titleProvenance: Provenance | undefined;
  readonly sessionId: string | undefined;
  readonly lastMessageAt: number;
}

interface InboundRow {
  id: number;
  channel: ChannelId;
  external_id: string;
  conversation_id: string;
  is_group: number;
  sender: string;
  sender_name: string | null;
  is_from_me: number;
  kind: InboundMessage['kind'];
  text: string;
  attachments_json: string;
  addresses_assistant: number;
  sent_at: number;
  received_at: number;
  status: InboundStatus;
  role: SenderRole | null;
  provenance: string | null;
}

/** Inbound messages, cursors, conversations and identities: what the gateway knows about the chats. */
export class ChannelStore {
  readonly #sql: Prepare;

  constructor(private readonly db: Database) {
    this.#sql = preparedOnce(db);
  }

  /**
   * Stores a message and the channel's cursor in one transaction. Returns the new row id, or undefined when the
   * message was already stored (a redelivery after a crash).
   */
  /** Stores many messages and the last cursor in one transaction; returns the ids of those that were new. */
  storeInboundBatch(items: readonly { message: InboundMessage; cursor: string }[], now = Date.now()): number[] {
    return this.db.transaction((): number[] => {
      const ids: number[] = [];
      for (const { message, cursor } of items) {
        const id = this.storeInbound(message, cursor, now);
        if (id !== undefined) ids.push(id);
      }
      return ids;
    }).immediate();
  }

  storeInbound(message: InboundMessage, cursor: string, now = Date.now()): number | undefined {
    return this.db.transaction((): number | undefined => {
      const result = this.#sql(
        `INSERT INTO inbound_messages (channel, external_id, conversation_id, is_group, sender, sender_name, is_from_me, kind, text,
           attachments_json, addresses_assistant, sent_at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel, external_id) DO NOTHING`,
      ).run(
          message.channel,
          message.externalId,
          message.conversationId,
          message.isGroup ? 1 : 0,
          message.sender,
          message.senderName ?? null,
          message.isFromMe ? 1 : 0,
          message.kind,
          message.text,
          JSON.stringify(message.attachments),
          message.addressesAssistant ? 1 : 0,
          message.sentAt,
          now,
        );
      this.saveCursor(message.channel, cursor, now);
      if (result.changes === 0) return undefined;
      // A title taken from the sender's display name is their own claim, labelled as theirs; a bare handle is not.
      const titleLabel = message.isGroup || message.senderName === undefined ? null : JSON.stringify(nameLabel(message.channel, message.conversationId));
      this.#sql(
        `INSERT INTO conversations (channel, conversation_id, is_group, title, title_provenance, last_message_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (channel, conversation_id) DO UPDATE SET last_message_at = max(last_message_at, excluded.last_message_at)`,
      ).run(message.channel, message.conversationId, message.isGroup ? 1 : 0, message.isGroup ? null : (message.senderName ?? message.sender), titleLabel, message.sentAt);
      return Number(result.lastInsertRowid);
    }).immediate();
  }

  cursor(channel: ChannelId): string | undefined {
    return (this.#sql('SELECT cursor FROM channel_cursors WHERE channel = ?').get(channel) as { cursor: string } | undefined)?.cursor;
  }

  saveCursor(channel: ChannelId, cursor: string, now = Date.now()): void {
    this.#sql('INSERT INTO channel_cursors (channel, cursor, updated_at) VALUES (?, ?, ?) ON CONFLICT (channel) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at')
      .run(channel, cursor, now);
  }

  inbound(id: number): StoredInbound | undefined {
    const row = this.#sql('SELECT * FROM inbound_messages WHERE id = ?').get(id) as InboundRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Messages stored but not yet handled (after a crash or restart), oldest first. */
  /** Where the next `limit` unhandled messages after `afterId` belong, in id order, without their text. */
  unhandledKeys(afterId: number, limit: number): { id: number; channel: ChannelId; conversationId: string }[] {
    return (
      this.#sql(
        `SELECT id, channel, conversation_id AS conversationId FROM inbound_messages
         WHERE status IN ('stored', 'processing', 'waiting_model') AND id > ? ORDER BY id LIMIT ?`,
      ).all(afterId, limit) as { id: number; channel: ChannelId; conversationId: string }[]
    );
  }

  unhandled(): StoredInbound[] {
    return (this.#sql(`SELECT * FROM inbound_messages WHERE status IN ('stored', 'processing', 'waiting_model') ORDER BY id`).all() as InboundRow[]).map(fromRow);
  }

  /** A conversation's messages waiting for the model to be reachable again, oldest first. */
  waitingForModel(channel: ChannelId, conversationId: string): StoredInbound[] {
    return (
      this.#sql(`SELECT * FROM inbound_messages WHERE status = 'waiting_model' AND channel = ? AND conversation_id = ? ORDER BY id`).all(channel, conversationId) as InboundRow[]
    ).map(fromRow);
  }

  setStatus(id: number, status: InboundStatus, role?: SenderRole, sessionId?: string): void {
    this.#sql(
      `UPDATE inbound_messages SET status = ?, role = COALESCE(?, role), session_id = COALESCE(?, session_id),
         provenance = COALESCE(?, provenance) WHERE id = ?`,
    ).run(status, role ?? null, sessionId ?? null, labelJson(role === undefined ? undefined : this.#roleLabel(id, role)), id);
  }

  /** A conversation's messages, oldest first. */
  messages(channel: ChannelId, conversationId: string, options: { since?: number; limit?: number } = {}): StoredInbound[] {
    const rows = this.#sql(
      `SELECT * FROM (SELECT * FROM inbound_messages WHERE channel = ? AND conversation_id = ? AND sent_at >= ? AND kind != 'reaction'
         ORDER BY sent_at DESC, id DESC LIMIT ?) ORDER BY sent_at, id`,
    ).all(channel, conversationId, options.since ?? 0, options.limit ?? 50) as InboundRow[];
    return rows.map(fromRow);
  }

  /**
   * Whether the owner's side has spoken in a conversation: a message from this Mac's own account, a message
   * Pavise sent, or a conversation Pavise itself started (no one else has written in it).
   */
  ownerHasWritten(channel: ChannelId, conversationId: string): boolean {
    const row = this.#sql(
      `SELECT
         EXISTS (SELECT 1 FROM inbound_messages WHERE channel = ? AND conversation_id = ? AND is_from_me = 1) AS mine,
         EXISTS (SELECT 1 FROM inbound_messages WHERE channel = ? AND conversation_id = ? AND is_from_me = 0) AS theirs,
         EXISTS (SELECT 1 FROM outbox WHERE channel = ? AND conversation_id = ? AND status = 'sent') AS sent`,
    ).get(channel, conversationId, channel, conversationId, channel, conversationId) as { mine: number; theirs: number; sent: number };
    return row.mine === 1 || row.sent === 1 || row.theirs === 0;
  }

  conversations(limit = 50): ConversationInfo[] {
    return (this.#sql('SELECT * FROM conversations ORDER BY last_message_at DESC LIMIT ?').all(limit) as ConversationRow[]).map(toConversation);
  }

  conversation(channel: ChannelId, conversationId: string): ConversationInfo | undefined {
    const row = this.#sql('SELECT * FROM conversations WHERE channel = ? AND conversation_id = ?').get(channel, conversationId) as ConversationRow | undefined;
    return row ? toConversation(row) : undefined;
  }

  /** Records a conversation Pavise started (a send to a new recipient the owner approved). */
  /**
   * Records a conversation. A title is the name the chat gave itself unless the caller labels it otherwise
   * (`titleProvenance`): it is never taken as the owner's words.
   */
  touchConversation(
    channel: ChannelId,
    conversationId: string,
    isGroup: boolean,
    title: string | undefined,
    now = Date.now(),
    titleProvenance: Provenance = nameLabel(channel, conversationId),
  ): void {
    this.#sql(
      `INSERT INTO conversations (channel, conversation_id, is_group, title, title_provenance, last_message_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, conversation_id) DO UPDATE SET last_message_at = max(last_message_at, excluded.last_message_at)`,
    ).run(channel, conversationId, isGroup ? 1 : 0, title ?? null, title === undefined ? null : JSON.stringify(titleProvenance), now);
  }

  setConversationSession(channel: ChannelId, conversationId: string, sessionId: string): void {
    this.#sql('UPDATE conversations SET session_id = ? WHERE channel = ? AND conversation_id = ?').run(sessionId, channel, conversationId);
  }

  identityRole(channel: ChannelId, identity: string): 'owner' | 'contact' | undefined {
    return (this.#sql('SELECT role FROM identities WHERE channel = ? AND identity = ?').get(channel, identity) as { role: 'owner' | 'contact' } | undefined)?.role;
  }

  addIdentity(channel: ChannelId, identity: string, role: 'owner' | 'contact', addedBy: string, displayName?: string, now = Date.now()): void {
    this.#sql(
      `INSERT INTO identities (channel, identity, role, display_name, added_at, added_by) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (channel, identity) DO UPDATE SET role = excluded.role, added_by = excluded.added_by`,
    ).run(channel, identity, role, displayName ?? null, now, addedBy);
  }

  identities(role?: 'owner' | 'contact'): { channel: ChannelId; identity: string; role: 'owner' | 'contact'; displayName: string | undefined }[] {
    const rows = (
      role
        ? this.#sql('SELECT * FROM identities WHERE role = ? ORDER BY added_at').all(role)
        : this.#sql('SELECT * FROM identities ORDER BY added_at').all()
    ) as { channel: ChannelId; identity: string; role: 'owner' | 'contact'; display_name: string | null }[];
    return rows.map((row) => ({ channel: row.channel, identity: row.identity, role: row.role, displayName: row.display_name ?? undefined }));
  }

  /**
   * The label a message's text takes once its sender's role is known (memory relabels the remembered copy with it);
   * undefined leaves the label it has. A forward is someone else's text whoever passed it on (the gateway answers it
   * as untrusted too). A `self` message is not relabelled: from this Mac's account it was remembered as the owner's
   * or, echoing a send, as Pavise's words; echoed back in the owner's chat with their own number it is Pavise's words,
   * labelled as its send was when it arrived — never the owner's, since they may carry a web page's or a stranger's.
   */
  #roleLabel(id: number, role: SenderRole): Provenance | undefined {
    const row = this.#sql('SELECT channel, sender, sender_name, kind FROM inbound_messages WHERE id = ?').get(id) as
      | { channel: ChannelId; sender: string; sender_name: string | null; kind: string }
      | undefined;
    if (role === 'self' || !row) return undefined;
    if (row.kind === 'forwarded') return { kind: 'untrusted', source: 'non_owner_sender', detail: `forwarded or quoted from someone else by ${row.channel} ${row.sender_name ?? row.sender}` };
    if (role === 'owner') return { kind: 'owner' };
    if (role === 'contact') return { kind: 'contact', contactId: `${row.channel}:${row.sender}` };
    return { kind: 'untrusted', source: 'non_owner_sender', detail: `${row.channel} ${row.sender_name ?? row.sender}` };
  }
}

function labelJson(label: Provenance | undefined): string | null {
  return label === undefined ? null : JSON.stringify(label);
}

/** The label of a name a chat gave itself. */
function nameLabel(channel: ChannelId, conversationId: string): Provenance {
  return { kind: 'untrusted', source: 'non_owner_sender', detail: `the name ${channel} ${conversationId} gives itself` };
}

interface ConversationRow {
  channel: ChannelId;
  conversation_id: string;
  is_group: number;
  title: string | null;
  title_provenance: string | null;
  session_id: string | null;
  last_message_at: number;
}

function toConversation(row: ConversationRow): ConversationInfo {
  return {
    channel: row.channel,
    conversationId: row.conversation_id,
    isGroup: row.is_group === 1,
    title: row.title ?? undefined,
    titleProvenance: row.title_provenance === null ? undefined : parseProvenance(row.title_provenance),
    sessionId: row.session_id ?? undefined,
    lastMessageAt: row.last_message_at,
  };
}

function fromRow(row: InboundRow): StoredInbound {
  return {
    id: row.id,
    channel: row.channel,
    externalId: row.external_id,
    conversationId: row.conversation_id,
    isGroup: row.is_group === 1,
    sender: row.sender,
    ...(row.sender_name !== null ? { senderName: row.sender_name } : {}),
    isFromMe: row.is_from_me === 1,
    kind: row.kind,
    text: row.text,
    attachments: JSON.parse(row.attachments_json) as StoredInbound['attachments'],
    addressesAssistant: row.addresses_assistant === 1,
    sentAt: row.sent_at,
    receivedAt: row.received_at,
    status: row.status,
    role: row.role ?? undefined,
    provenance: row.provenance === null ? undefined : parseProvenance(row.provenance),
  };
}
