import { setTimeout as delay } from 'node:timers/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Attachment, Channel, ChannelHost, InboundMessage, OutboundMessage, SendResult } from '../channel.js';
import { ChatDbAccessError, ChatDbReader, classifyChatDbError, type ChatDbMessage } from './chat-db-reader.js';
import type { ImessageSendTarget } from './target.js';

/** The AppleScript sender, injected so the channel never spawns anything itself. */
export interface ImessageSender {
  send(target: ImessageSendTarget, text: string, signal: AbortSignal): Promise<SendResult>;
}

export interface ImessageChannelOptions {
  readonly chatDbPath: string;
  /** The owner's handles: lower-cased emails and E.164 phone numbers. */
  readonly owners: readonly string[];
  /** Names that address Pavise in a group chat. */
  readonly assistantNames: readonly string[];
  readonly sender: ImessageSender;
  /** The slow fallback poll, in case a file event is missed. */
  readonly pollIntervalMs?: number;
  /** File events closer together than this are read once. */
  readonly debounceMs?: number;
  /** Messages read per statement while catching up. */
  readonly batchSize?: number;
  /** How often chat.db is tried again while it cannot be read (Full Disk Access missing). */
  readonly setupRetryMs?: number;
  /** The longest wait between retries after a transient failure (SQLITE_BUSY, a deliver that failed). */
  readonly maxBackoffMs?: number;
  /** What `~` in attachment paths expands to. */
  readonly home?: string;
}

const DEFAULTS = {
  pollIntervalMs: 15_000,
  debounceMs: 5,
  batchSize: 500,
  setupRetryMs: 30_000,
  maxBackoffMs: 30_000,
  firstBackoffMs: 500,
  /**
   * SQLite writes the WAL before it updates the index readers consult, and may fsync in between; one more look a
   * little after a file event catches a commit the event arrived ahead of.
   */
  settleMs: 60,
} as const;

const OBJECT_REPLACEMENT = /\uFFFC/g;

/**
 * iMessage through Messages' own database: inbound by reading chat.db (woken by file events on it and its WAL,
 * with a slow poll as a fallback), outbound through the injected AppleScript sender. Never listens on anything.
 */
export class ImessageChannel implements Channel {
  readonly id = 'imessage' as const;
  private readonly options: Required<Omit<ImessageChannelOptions, 'home'>> & { readonly home: string | undefined };
  private readonly mentionPatterns: readonly RegExp[];

  constructor(options: ImessageChannelOptions) {
    const positive = (name: string, value: number) => {
      if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number, not ${value}.`);
      return value;
    };
    this.options = {
      chatDbPath: options.chatDbPath,
      owners: options.owners.map((owner) => owner.trim().toLowerCase()),
      assistantNames: options.assistantNames,
      sender: options.sender,
      pollIntervalMs: positive('pollIntervalMs', options.pollIntervalMs ?? DEFAULTS.pollIntervalMs),
      debounceMs: positive('debounceMs', options.debounceMs ?? DEFAULTS.debounceMs),
      batchSize: Math.max(1, Math.floor(positive('batchSize', options.batchSize ?? DEFAULTS.batchSize))),
      setupRetryMs: positive('setupRetryMs', options.setupRetryMs ?? DEFAULTS.setupRetryMs),
      maxBackoffMs: positive('maxBackoffMs', options.maxBackoffMs ?? DEFAULTS.maxBackoffMs),
      home: options.home,
    };
    this.mentionPatterns = options.assistantNames
      .map((name) => name.trim())
      .filter((name) => name.length > 0)
      .map((name) => new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, 'iu'));
  }

  async run(channelHost: ChannelHost, signal: AbortSignal): Promise<void> {
    const host = withSafeStatus(channelHost);
    host.status({ channel: 'imessage', state: 'starting' });
    host.alive?.('imessage', this.options.pollIntervalMs);
    let backoffMs: number = DEFAULTS.firstBackoffMs;
    while (!signal.aborted) {
      try {
        await new ReadLoop(this, host, signal).run(() => (backoffMs = DEFAULTS.firstBackoffMs));
      } catch (error) {
        if (signal.aborted) break;
        const access = classifyChatDbError(error, this.options.chatDbPath);
        if (access) {
          host.status({ channel: 'imessage', state: 'needs_setup', detail: access.message });
          host.alive?.('imessage', this.options.setupRetryMs);
          await delay(this.options.setupRetryMs, undefined, { signal }).catch(() => undefined);
        } else {
          host.status({
            channel: 'imessage',
            state: 'retrying',
            detail: `Reading chat.db failed (${describe(error)}); trying again in ${Math.ceil(backoffMs / 1000)} s.`,
          });
          host.alive?.('imessage', backoffMs);
          await delay(backoffMs, undefined, { signal }).catch(() => undefined);
          backoffMs = Math.min(backoffMs * 2, this.options.maxBackoffMs);
        }
      }
    }
    host.status({ channel: 'imessage', state: 'stopped' });
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const chatGuid = message.conversationId.trim();
    if (chatGuid.length === 0) return { ok: false, retryable: false, message: 'The iMessage conversation id is empty.' };
    if (message.text.length === 0) return { ok: false, retryable: false, message: 'An iMessage cannot be empty.' };
    try {
      return await this.options.sender.send({ chatGuid }, message.text, signal);
    } catch (error) {
      return { ok: false, retryable: !signal.aborted, message: `Sending the iMessage failed: ${describe(error)}` };
    }
  }

  /** In a 1:1 chat every message is for Pavise; in a group, only one that names it. */
  addressesAssistant(text: string, isGroup: boolean): boolean {
    if (!isGroup) return true;
    return this.mentionPatterns.some((pattern) => pattern.test(text));
  }

  /** @internal The options, for the read loop. */
  get settings() {
    return this.options;
  }

  /** @internal What the gateway receives for one chat.db row, or undefined when the row is not a message for it. */
  toInbound(record: ChatDbMessage): InboundMessage | undefined {
    // Group events (renamed, joined, left) carry no message; the owner's own tapbacks are not news to anyone.
    if (record.itemType !== 0) return undefined;
    if (record.isFromMe && record.kind === 'reaction') return undefined;
    const text = record.text.replace(OBJECT_REPLACEMENT, '');
    if (text.trim().length === 0 && record.attachments.length === 0 && record.decodeError === undefined && record.kind !== 'reaction') {
      return undefined;
    }
    const sender = record.sender || (record.isFromMe ? (this.options.owners[0] ?? 'me') : '');
    // A message outside any chat is answered in the 1:1 chat with its sender, in Apple's guid form.
    const conversationId = record.chatId ?? (sender ? `${record.service ?? 'iMessage'};-;${sender}` : undefined);
    if (conversationId === undefined) return undefined;
    return {
      channel: 'imessage',
      externalId: record.guid,
      conversationId,
      isGroup: record.isGroup,
      sender,
      text,
      sentAt: record.date,
      isFromMe: record.isFromMe,
      kind: record.kind,
      attachments: record.attachments.map(toAttachment),
      addressesAssistant: record.kind !== 'reaction' && this.addressesAssistant(text, record.isGroup),
    };
  }
}

/** A host whose status() throws must not make run() reject: status is a report, not a step of the work. */
function withSafeStatus(host: ChannelHost): ChannelHost {
  return {
    deliver: (message, cursor) => host.deliver(message, cursor),
    ...(host.deliverBatch ? { deliverBatch: host.deliverBatch.bind(host) } : {}),
    cursor: (channel) => host.cursor(channel),
    saveCursor: (channel, cursor) => host.saveCursor(channel, cursor),
    alive: (channel, nextWithinMs) => host.alive?.(channel, nextWithinMs),
    status: (status) => {
      try {
        host.status(status);
      } catch {
        // Nothing to do: the next status report tries again.
      }
    },
  };
}

function toAttachment(attachment: ChatDbMessage['attachments'][number]): Attachment {
  return {
    ...(attachment.path !== null ? { path: attachment.path } : {}),
    ...(attachment.mimeType !== null ? { mimeType: attachment.mimeType } : {}),
    ...(attachment.name !== null ? { name: attachment.name } : {}),
  };
}

/** One open chat.db: reads after the cursor whenever the files change or the poll comes round, until aborted. */
class ReadLoop {
  private reader: ChatDbReader | undefined;
  private readonly watchers = new Map<string, FSWatcher>();
  private debounceTimer: NodeJS.Timeout | undefined;
  private wakePending = false;
  private wakeByEvent = false;
  private wake: (() => void) | undefined;
  private position = 0;
  private connected = false;

  constructor(
    private readonly channel: ImessageChannel,
    private readonly host: ChannelHost,
    private readonly signal: AbortSignal,
  ) {}

  async run(onHealthy: () => void): Promise<void> {
    const { chatDbPath, home } = this.channel.settings;
    const onAbort = () => this.ring(false);
    this.signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.reader = ChatDbReader.open(chatDbPath, home === undefined ? {} : { home });
      this.position = this.startingPosition(this.reader);
      this.watchFiles();
      let retryMs: number = DEFAULTS.firstBackoffMs;
      let settle = false;
      while (!this.signal.aborted) {
        const caughtUp = await this.drain();
        let waitMs = this.channel.settings.pollIntervalMs;
        if (caughtUp) {
          this.markConnected();
          onHealthy();
          retryMs = DEFAULTS.firstBackoffMs;
          if (settle) waitMs = Math.min(waitMs, DEFAULTS.settleMs);
        } else {
          waitMs = Math.min(waitMs, retryMs);
          retryMs = Math.min(retryMs * 2, this.channel.settings.maxBackoffMs);
        }
        this.host.alive?.('imessage', waitMs);
        const byEvent = await this.waitForWake(waitMs);
        // After a file event, look once more shortly after; not again after that look.
        settle = byEvent;
        this.watchFiles();
      }
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      this.stop();
    }
  }

  /** First start: begin at the newest message, answering nothing from history. */
  private startingPosition(reader: ChatDbReader): number {
    const stored = this.host.cursor('imessage');
    const latest = reader.latestRowId();
    const parsed = stored !== undefined && /^\d+$/.test(stored) ? Number(stored) : undefined;
    if (parsed !== undefined && Number.isSafeInteger(parsed) && parsed <= latest) return parsed;
    // No cursor yet, an unreadable one, or one past the newest row (chat.db was replaced): start from now.
    this.host.saveCursor('imessage', String(latest));
    return latest;
  }

  /**
   * Delivers everything after the position, in ROWID order, advancing only when the host has stored each message.
   * Returns false when a delivery failed (the same message is tried again on the next wake).
   */
  private async drain(): Promise<boolean> {
    const reader = this.reader as ChatDbReader;
    const { batchSize } = this.channel.settings;
    let skippedSince = false;
    for (;;) {
      if (this.signal.aborted) return true;
      const batch = reader.readSince(this.position, batchSize);
      const pending: { message: InboundMessage; cursor: string; rowid: number }[] = [];
      for (const record of batch) {
        const message = this.channel.toInbound(record);
        if (message === undefined) {
          if (pending.length === 0) {
            this.position = record.rowid;
            skippedSince = true;
          }
          continue;
        }
        pending.push({ message, cursor: String(record.rowid), rowid: record.rowid });
      }
      if (this.signal.aborted) return true;
      try {
        if (this.host.deliverBatch && pending.length > 1) {
          await this.host.deliverBatch(pending);
          const last = pending.at(-1) as { rowid: number };
          this.position = Math.max(last.rowid, batch.at(-1)?.rowid ?? last.rowid);
          skippedSince = this.position !== last.rowid;
        } else {
          for (const item of pending) {
            if (this.signal.aborted) return true;
            await this.host.deliver(item.message, item.cursor);
            this.position = item.rowid;
          }
          if (batch.length > 0 && (pending.length === 0 || (batch.at(-1)?.rowid ?? 0) > this.position)) {
            this.position = batch.at(-1)?.rowid ?? this.position;
            skippedSince = true;
          } else if (pending.length > 0) {
            skippedSince = false;
          }
        }
      } catch (error) {
        this.connected = false;
        this.host.status({
          channel: 'imessage',
          state: 'retrying',
          detail: `Could not store an incoming iMessage (${describe(error)}); it will be tried again.`,
        });
        return false;
      }
      if (batch.length < batchSize) break;
    }
    // Rows that were not messages (group events, own tapbacks) move the saved cursor too, so they are not reread.
    if (skippedSince) {
      try {
        this.host.saveCursor('imessage', String(this.position));
      } catch {
        // Harmless: the skipped rows are read and skipped again after a restart.
      }
    }
    return true;
  }

  private markConnected(): void {
    if (this.connected) return;
    this.connected = true;
    this.host.status({ channel: 'imessage', state: 'connected' });
  }

  /** Resolves on a file event (true), or when the timeout passes or the signal aborts (false). */
  private waitForWake(timeoutMs: number): Promise<boolean> {
    if (this.wakePending || this.signal.aborted) {
      const byEvent = this.wakeByEvent;
      this.wakePending = false;
      this.wakeByEvent = false;
      return Promise.resolve(byEvent);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ring(false), timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        const byEvent = this.wakeByEvent;
        this.wakePending = false;
        this.wakeByEvent = false;
        resolve(byEvent);
      };
    });
  }

  private ring(byEvent: boolean): void {
    this.wakePending = true;
    if (byEvent) this.wakeByEvent = true;
    this.wake?.();
  }

  private onFileEvent(): void {
    if (this.debounceTimer !== undefined) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      this.ring(true);
    }, this.channel.settings.debounceMs);
  }

  /**
   * Watches chat.db's folder (which sees the WAL being created or replaced) and, where they exist, chat.db and its
   * WAL themselves (immediate on macOS, where folder events arrive later). Watchers that fail are dropped and set up
   * again on the next wake; the poll covers the gap. Our own reads change neither file, so they never wake us.
   */
  private watchFiles(): void {
    const { chatDbPath } = this.channel.settings;
    const names = new Set([basename(chatDbPath), `${basename(chatDbPath)}-wal`]);
    const targets = [dirname(chatDbPath), chatDbPath, `${chatDbPath}-wal`];
    for (const target of targets) {
      if (this.watchers.has(target)) continue;
      const isFolder = target === dirname(chatDbPath);
      let watcher: FSWatcher;
      try {
        watcher = watch(target, { persistent: true }, (_event, filename) => {
          if (!isFolder || filename === null || names.has(String(filename))) this.onFileEvent();
        });
      } catch {
        continue;
      }
      const drop = () => {
        watcher.close();
        if (this.watchers.get(target) === watcher) this.watchers.delete(target);
      };
      watcher.on('error', drop);
      // A replaced file is a new inode: watch it afresh on the next wake.
      if (!isFolder) watcher.on('change', (event) => event === 'rename' && drop());
      this.watchers.set(target, watcher);
    }
  }

  private stop(): void {
    if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.reader?.close();
    this.reader = undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof ChatDbAccessError) return error.message;
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
