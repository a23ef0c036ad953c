import type { Channel, ChannelHost, ChannelId, InboundMessage, OutboundMessage, SendResult } from '../../main/channels/channel.js';

/**
 * An in-process channel for gateway tests: the test pushes inbound messages, the channel delivers them through
 * the real ChannelHost, and records what the gateway sends. (Real channels have their own tests.)
 */
export class FakeChannel implements Channel {
  readonly sent: OutboundMessage[] = [];
  readonly typingIn: string[] = [];
  host: ChannelHost | undefined;
  #counter = 0;
  #ready: (() => void) | undefined;
  readonly ready = new Promise<void>((resolve) => (this.#ready = resolve));
  failNextSend: SendResult | undefined;
  /** Fails every send it answers for (a chat Messages cannot reach); undefined lets the send through. */
  failWhen: ((message: OutboundMessage) => SendResult | undefined) | undefined;
  /** Every send asked of the channel, failed ones too, in order. */
  readonly tried: OutboundMessage[] = [];

  constructor(readonly id: ChannelId = 'imessage') {}

  async run(host: ChannelHost, signal: AbortSignal): Promise<void> {
    this.host = host;
    host.status({ channel: this.id, state: 'connected' });
    this.#ready?.();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    host.status({ channel: this.id, state: 'stopped' });
  }

  async receive(partial: Partial<InboundMessage> & { text: string; sender: string }): Promise<InboundMessage> {
    await this.ready;
    const id = ++this.#counter;
    const message: InboundMessage = {
      channel: this.id,
      externalId: `ext-${id}-${Math.random().toString(36).slice(2)}`,
      conversationId: partial.conversationId ?? `iMessage;-;${partial.sender}`,
      isGroup: false,
      sentAt: Date.now(),
      isFromMe: false,
      kind: 'message',
      attachments: [],
      addressesAssistant: true,
      ...partial,
    };
    await this.host?.deliver(message, String(id));
    return message;
  }

  async send(message: OutboundMessage): Promise<SendResult> {
    this.tried.push(message);
    const refused = this.failWhen?.(message);
    if (refused) return refused;
    if (this.failNextSend) {
      const result = this.failNextSend;
      this.failNextSend = undefined;
      return result;
    }
    this.sent.push(message);
    return { ok: true, externalIds: [`out-${this.sent.length}`] };
  }

  async typing(conversationId: string): Promise<void> {
    this.typingIn.push(conversationId);
  }
}
