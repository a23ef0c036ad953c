/**
 * The contract between the gateway and a chat channel. Channels are outbound-only (invariant 1): they read a file
 * or long-poll, never listen. A channel knows nothing of the agent or the gateway: it hands inbound messages to
 * `ChannelHost.deliver` and sends what it is given.
 */

import type { ChannelId } from '../common/channels.js';
import type { InboundMessage } from '../common/inbound.js';

export type { ChannelId };
export type { Attachment, InboundKind, InboundMessage } from '../common/inbound.js';

export type ChannelState = 'starting' | 'connected' | 'retrying' | 'stopped' | 'needs_setup';

export interface ChannelStatus {
  readonly channel: ChannelId;
  readonly state: ChannelState;
  /** One sentence for the owner: what is wrong and what to do. */
  readonly detail?: string;
}

/** What the gateway offers a running channel. */
export interface ChannelHost {
  /**
   * Stores the message and the channel's cursor atomically, before anything else happens. The channel must not
   * advance past a message until this resolves; storing the same externalId twice is a no-op.
   */
  deliver(message: InboundMessage, cursor: string): Promise<void>;
  /**
   * Stores several messages and the cursor of the last one in one transaction (catch-up after downtime). Same
   * contract as `deliver`; a channel uses it when present.
   */
  deliverBatch?(items: readonly { readonly message: InboundMessage; readonly cursor: string }[]): Promise<void>;
  /** The cursor stored with the last delivered message, if any. */
  cursor(channel: ChannelId): string | undefined;
  /** A cursor saved without a message (first start: begin at the newest message). */
  saveCursor(channel: ChannelId, cursor: string): void;
  status(status: ChannelStatus): void;
  /**
   * Liveness: the channel's loop made progress (a poll or a read finished, or it is about to wait on purpose) and
   * promises to report again within `nextWithinMs`. A channel that misses its own promise by the host's grace is
   * stalled: the host aborts its run and starts it again. Absent on hosts that do not watch.
   */
  alive?(channel: ChannelId, nextWithinMs: number): void;
  /**
   * A tap on a button sent with a message (Telegram inline keyboards). The host checks who tapped, where and what
   * the data binds; the channel only shows the answer. Absent: taps are answered with "not accepted".
   */
  tap?(tap: ButtonTap): TapAnswer;
}

/** A button under a sent message; `data` comes back unchanged in a tap (at most 64 bytes on Telegram). */
export interface MessageButton {
  readonly text: string;
  readonly data: string;
}

export interface ButtonTap {
  readonly channel: ChannelId;
  /** The data of the button tapped, as the network delivered it: untrusted until the host checks it. */
  readonly data: string;
  /** Who tapped (a Telegram user id). */
  readonly sender: string;
  /** The conversation of the message the button is under, when the network says. */
  readonly conversationId: string | undefined;
  /** The tap was in a one-to-one chat with the assistant. */
  readonly isPrivate: boolean;
}

export interface TapAnswer {
  /** A short line shown to whoever tapped. */
  readonly text: string;
  /** When set, the message the button was under is replaced by this text, without buttons. */
  readonly replaceWith?: string;
}

export interface OutboundMessage {
  readonly conversationId: string;
  readonly text: string;
  /** Stable across retries: a channel that can dedupe uses it; the outbox uses it to send at most once. */
  readonly idempotencyKey: string;
  /** One row of buttons under the message, where the channel has them. */
  readonly buttons?: readonly MessageButton[];
}

export type SendResult =
  | { readonly ok: true; readonly externalIds: readonly string[] }
  | { readonly ok: false; readonly retryable: boolean; readonly message: string };

export interface Channel {
  readonly id: ChannelId;
  /** Runs until the signal aborts; never rejects (failures are reported through `host.status` and retried). */
  run(host: ChannelHost, signal: AbortSignal): Promise<void>;
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult>;
  /** Shows "typing…" where the channel has it. */
  typing?(conversationId: string, signal: AbortSignal): Promise<void>;
  /**
   * Replaces the text of a message this channel sent (`externalId` from its `SendResult`), removing its buttons,
   * where the channel can edit. Resolves false when the edit did not happen.
   */
  replace?(conversationId: string, externalId: string, text: string, signal: AbortSignal): Promise<boolean>;
}
