import { setTimeout as delay } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { Api, GrammyError, HttpError } from 'grammy';
import type { CallbackQuery, InlineKeyboardMarkup } from 'grammy/types';
import type {
  Channel,
  ChannelHost,
  MessageButton,
  ChannelState,
  ChannelStatus,
  OutboundMessage,
  SendResult,
} from '../channel.js';
import { chunkForTelegram, htmlToPlainText, TELEGRAM_MESSAGE_LIMIT, toTelegramHtml } from './format.js';
import { type BotIdentity, toInboundMessage } from './inbound.js';

/**
 * Telegram through the Bot API, by long polling only (invariant 1: nothing here listens). The offset is ours:
 * an update is confirmed to Telegram only after `host.deliver` stored it, so a crash or a failed store means the
 * update comes back, and the host's idempotent store keeps it once.
 */

export const TELEGRAM_TOKEN_SECRET = 'telegram-bot-token';
const SET_TOKEN = `pavise secrets set ${TELEGRAM_TOKEN_SECRET}`;

export interface TelegramRetryOptions {
  /** The first backoff step; later steps double it. */
  readonly baseDelayMs: number;
  /** The longest backoff step, and the longest 429 wait `send` sits through before handing back to the outbox. */
  readonly maxDelayMs: number;
}

export interface TelegramChannelOptions {
  /** Reads the bot token from the SecretStore when a request leaves; the token is never kept in a field. */
  readonly token: () => Promise<string | undefined>;
  /** A self-hosted Bot API server; defaults to https://api.telegram.org. */
  readonly apiRoot?: string;
  /** Names that address the assistant in a group ("pavise, …"). */
  readonly assistantNames: readonly string[];
  /** Long-poll timeout passed to getUpdates. Default 30. */
  readonly pollTimeoutSeconds?: number;
  /** Backoff for network errors, 5xx, 409 and failed stores. Default 1 s doubling to 60 s. */
  readonly retry?: TelegramRetryOptions;
  /**
   * After the token is missing or rejected (401): how long until Telegram is asked again with the same token.
   * A changed token is noticed sooner (the SecretStore is read every min(this, 15 s)). Default 5 minutes.
   */
  readonly setupRetryMs?: number;
}

const DEFAULT_RETRY: TelegramRetryOptions = { baseDelayMs: 1_000, maxDelayMs: 60_000 };
const ALLOWED_UPDATES = ['message', 'edited_message', 'message_reaction', 'callback_query'] as const;
const SEND_TIMEOUT_SECONDS = 30;
const MAX_SEND_ATTEMPTS = 4;
const REMEMBERED_SENDS = 200;
/**
 * No link previews, ever: to build one Telegram's servers fetch the first address in the message, so a link the model
 * wrote (after reading the owner's notes, or because a page told it to) would carry its query string to that host
 * with no effect passing the gate. Links still work when the owner taps them.
 */
const NO_PREVIEW = { link_preview_options: { is_disabled: true } } as const;

interface PollState {
  /** The last update_id delivered or recorded; undefined before the first run. */
  last: number | undefined;
  me?: BotIdentity;
  /** Fingerprint of the token `me` was read with: another token may be another bot. */
  meFor?: string;
  /** Fingerprint of the token Telegram refused (401), so only a different one is tried before setupRetryMs. */
  rejected?: string | undefined;
  /** False at start and after a failure: the next getUpdates is a short poll, so recovery is reported at once. */
  healthy: boolean;
  webhookRemoved: boolean;
}

type Wait =
  | { readonly kind: 'backoff'; readonly detail: (seconds: number) => string }
  | { readonly kind: 'fixed'; readonly ms: number; readonly detail: string }
  | { readonly kind: 'setup'; readonly detail: string }
  | { readonly kind: 'now' };

export class TelegramChannel implements Channel {
  readonly id = 'telegram' as const;
  private readonly apiRoot: string | undefined;
  private readonly pollTimeoutSeconds: number;
  private readonly retry: TelegramRetryOptions;
  private readonly setupRetryMs: number;
  private readonly assistantNames: readonly string[];
  /** idempotencyKey → ids of the chunks already sent, so a retried send resumes instead of repeating. */
  private readonly sent = new Map<string, string[]>();

  constructor(private readonly options: TelegramChannelOptions) {
    this.apiRoot = options.apiRoot?.replace(/\/+$/, '');
    this.pollTimeoutSeconds = options.pollTimeoutSeconds ?? 30;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.setupRetryMs = options.setupRetryMs ?? 5 * 60_000;
    this.assistantNames = options.assistantNames.map((name) => name.trim()).filter((name) => name !== '');
  }

  async run(host: ChannelHost, signal: AbortSignal): Promise<void> {
    const reporter = new StatusReporter(host);
    reporter.report('starting');
    try {
      await this.poll(host, signal, reporter);
    } catch {
      // run never rejects; the loop itself catches every failure, so this is only a last line of defence.
    }
    reporter.report('stopped');
  }

  private async poll(host: ChannelHost, signal: AbortSignal, reporter: StatusReporter): Promise<void> {
    const state: PollState = { last: parseCursor(host.cursor('telegram')), healthy: false, webhookRemoved: false };
    // A long poll answers within its timeout; the watchdog's grace covers the round trip and storing the updates.
    const pollMs = this.pollTimeoutSeconds * 1000;
    const alive = (waitMs: number) => host.alive?.('telegram', waitMs + pollMs);
    alive(0);
    let failures = 0;
    while (!signal.aborted) {
      const wait = await this.pollOnce(host, signal, state);
      if (signal.aborted) break;
      state.healthy = wait.kind === 'now';
      switch (wait.kind) {
        case 'now':
          failures = 0;
          alive(0);
          reporter.report('connected');
          break;
        case 'fixed':
          alive(wait.ms);
          reporter.report('retrying', wait.detail);
          await delay(wait.ms, undefined, { signal }).catch(() => undefined);
          break;
        case 'backoff': {
          failures++;
          const ms = backoffDelay(failures, this.retry);
          alive(ms);
          reporter.report('retrying', wait.detail(seconds(ms)));
          await delay(ms, undefined, { signal }).catch(() => undefined);
          break;
        }
        case 'setup':
          alive(this.setupRetryMs);
          reporter.report('needs_setup', wait.detail);
          await this.waitForSetup(state.rejected, signal);
          break;
      }
    }
  }

  /** One getUpdates round (with getMe and the first-run step when needed); says how long to wait before the next. */
  private async pollOnce(host: ChannelHost, signal: AbortSignal, state: PollState): Promise<Wait> {
    let token: string | undefined;
    try {
      token = await this.options.token();
    } catch {
      return { kind: 'backoff', detail: (s) => `Could not read the Telegram bot token from the secret store; retrying in ${s} s.` };
    }
    if (token === undefined || token.trim() === '') {
      return { kind: 'setup', detail: `No Telegram bot token is stored; add one with \`${SET_TOKEN}\`.` };
    }
    const digest = fingerprint(token);
    const api = this.api(token, this.pollTimeoutSeconds + 15);
    token = undefined;
    try {
      if (state.me === undefined || state.meFor !== digest) {
        const bot = await api.getMe(grammySignal(signal));
        state.me = { id: bot.id, username: bot.username };
        state.meFor = digest;
      }
      if (state.last === undefined) {
        // First run: history is never answered. offset -1 returns only the newest update and forgets the rest.
        const newest = (await api.getUpdates({ offset: -1, limit: 1, timeout: 0 }, grammySignal(signal))).at(-1);
        if (newest !== undefined) host.saveCursor('telegram', String(newest.update_id));
        state.last = newest?.update_id ?? 0;
      }
      const updates = await api.getUpdates(
        {
          ...(state.last > 0 ? { offset: state.last + 1 } : {}),
          timeout: state.healthy ? this.pollTimeoutSeconds : 0,
          allowed_updates: [...ALLOWED_UPDATES],
        },
        grammySignal(signal),
      );
      state.rejected = undefined;
      // Every update returned is unconfirmed, so none is skipped, even one numbered at or below the cursor: when the
      // offset is not in the server's id space (ids restart at random after a week without updates, or the apiRoot
      // or bot changed) the Bot API answers from the head of its queue. Skipping those would drop them and poll in a
      // hot loop; delivering them moves the cursor into the server's id space. Redelivering a stored message is a
      // no-op in the host.
      for (const update of updates) {
        if (signal.aborted) break;
        if (update.callback_query) {
          // A tap is answered at once and never redelivered: a decision is not worth repeating after a crash.
          await this.answerTap(api, host, update.callback_query, signal);
          host.saveCursor('telegram', String(update.update_id));
          state.last = update.update_id;
          continue;
        }
        try {
          const message = toInboundMessage(update, state.me, this.assistantNames);
          if (message) await host.deliver(message, String(update.update_id));
          else host.saveCursor('telegram', String(update.update_id));
        } catch {
          // Not confirmed to Telegram: the next getUpdates starts at this update again.
          return { kind: 'backoff', detail: (s) => `Could not store an incoming Telegram message; retrying in ${s} s.` };
        }
        state.last = update.update_id;
      }
      return { kind: 'now' };
    } catch (error) {
      if (signal.aborted) return { kind: 'now' };
      if (error instanceof GrammyError && error.error_code === 401) {
        state.rejected = digest;
        state.me = undefined;
      }
      if (error instanceof GrammyError && error.error_code === 409 && /webhook/i.test(error.description) && !state.webhookRemoved) {
        // The only webhook call this channel makes: remove one someone else set, keeping its pending updates.
        state.webhookRemoved = true;
        return api.deleteWebhook({ drop_pending_updates: false }, grammySignal(signal)).then(
          (): Wait => ({ kind: 'fixed', ms: 0, detail: 'A webhook was set for this bot; Pavise removed it to use long polling.' }),
          (): Wait => pollFailure(error),
        );
      }
      return pollFailure(error);
    }
  }

  /**
   * Hands a button tap to the host, which decides what it means, then answers it (Telegram shows the text to the
   * one who tapped) and, when the host says so, replaces the message the button was under, leaving no buttons.
   */
  private async answerTap(api: Api, host: ChannelHost, query: CallbackQuery, signal: AbortSignal): Promise<void> {
    const chat = query.message?.chat;
    let answer: { text: string; replaceWith?: string | undefined };
    try {
      answer = host.tap
        ? host.tap({
            channel: 'telegram',
            data: query.data ?? '',
            sender: String(query.from.id),
            conversationId: chat ? String(chat.id) : undefined,
            isPrivate: chat?.type === 'private',
          })
        : { text: 'Not accepted.' };
    } catch {
      answer = { text: 'Not accepted: Pavise could not check this.' };
    }
    try {
      await api.answerCallbackQuery(query.id, { text: answer.text }, grammySignal(signal));
      if (answer.replaceWith !== undefined && query.message && chat) {
        await api.editMessageText(chat.id, query.message.message_id, answer.replaceWith, NO_PREVIEW, grammySignal(signal));
      }
    } catch {
      // The answer is a courtesy; the decision (or refusal) already stands.
    }
  }

  /** Waits `setupRetryMs`, or less once the SecretStore holds a token other than the rejected one. */
  private async waitForSetup(rejected: string | undefined, signal: AbortSignal): Promise<void> {
    const until = Date.now() + this.setupRetryMs;
    const step = Math.min(this.setupRetryMs, 15_000);
    while (!signal.aborted && Date.now() < until) {
      if (!(await delay(Math.max(0, Math.min(step, until - Date.now())), true, { signal }).catch(() => false))) return;
      const token = await this.options.token().catch(() => undefined);
      if (token !== undefined && token.trim() !== '' && fingerprint(token) !== rejected) return;
    }
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const chunks = chunkForTelegram(toTelegramHtml(message.text), TELEGRAM_MESSAGE_LIMIT);
    if (chunks.length === 0) return { ok: false, retryable: false, message: 'Nothing to send: the message is empty.' };
    let token: string | undefined;
    try {
      token = await this.options.token();
    } catch {
      return { ok: false, retryable: true, message: 'Could not read the Telegram bot token from the secret store.' };
    }
    if (token === undefined || token.trim() === '') {
      return { ok: false, retryable: false, message: `No Telegram bot token is stored; add one with \`${SET_TOKEN}\`.` };
    }
    const api = this.api(token, SEND_TIMEOUT_SECONDS);
    token = undefined;
    const chatId = toChatId(message.conversationId);
    const ids = this.sent.get(message.idempotencyKey) ?? [];
    const remaining = chunks.slice(ids.length);
    for (const [index, chunk] of remaining.entries()) {
      const buttons = index === remaining.length - 1 ? keyboard(message.buttons) : undefined;
      const result = await this.sendChunk(api, chatId, chunk, signal, buttons);
      if (!result.ok) return result;
      ids.push(result.id);
      this.remember(message.idempotencyKey, ids);
    }
    return { ok: true, externalIds: [...ids] };
  }

  async replace(conversationId: string, externalId: string, text: string, signal: AbortSignal): Promise<boolean> {
    const token = await this.options.token().catch(() => undefined);
    const messageId = Number(externalId);
    if (token === undefined || token.trim() === '' || !Number.isSafeInteger(messageId)) return false;
    try {
      await this.api(token, SEND_TIMEOUT_SECONDS).editMessageText(toChatId(conversationId), messageId, text, NO_PREVIEW, grammySignal(signal));
      return true;
    } catch {
      return false;
    }
  }

  private async sendChunk(
    api: Api,
    chatId: number | string,
    html: string,
    signal: AbortSignal,
    buttons?: InlineKeyboardMarkup,
  ): Promise<{ readonly ok: true; readonly id: string } | Extract<SendResult, { ok: false }>> {
    let plain = false;
    const markup = { ...NO_PREVIEW, ...(buttons ? { reply_markup: buttons } : {}) };
    for (let attempt = 1; ; attempt++) {
      try {
        const sent = plain
          ? await api.sendMessage(chatId, htmlToPlainText(html), markup, grammySignal(signal))
          : await api.sendMessage(chatId, html, { parse_mode: 'HTML', ...markup }, grammySignal(signal));
        return { ok: true, id: String(sent.message_id) };
      } catch (error) {
        if (signal.aborted) return { ok: false, retryable: true, message: 'Sending was cancelled.' };
        if (!(error instanceof GrammyError)) {
          return { ok: false, retryable: true, message: 'Telegram unreachable; the message was not sent.' };
        }
        const description = error.description;
        if (error.error_code === 400 && !plain && /can't parse entities/i.test(description)) {
          plain = true;
          attempt--;
          continue;
        }
        if (error.error_code === 429) {
          const waitMs = (error.parameters.retry_after ?? 1) * 1_000;
          if (attempt >= MAX_SEND_ATTEMPTS || waitMs > this.retry.maxDelayMs) {
            return { ok: false, retryable: true, message: `Telegram rate limit: ${description}` };
          }
          if (!(await delay(waitMs, true, { signal }).catch(() => false))) return { ok: false, retryable: true, message: 'Sending was cancelled.' };
          continue;
        }
        if (error.error_code === 401) {
          return { ok: false, retryable: false, message: `The Telegram bot token was rejected; store a new one with \`${SET_TOKEN}\`.` };
        }
        if (error.error_code === 403) return { ok: false, retryable: false, message: `Telegram refused: ${description}` };
        return { ok: false, retryable: error.error_code >= 500, message: `Telegram error ${error.error_code}: ${description}` };
      }
    }
  }

  async typing(conversationId: string, signal: AbortSignal): Promise<void> {
    try {
      const token = await this.options.token();
      if (token === undefined || token.trim() === '') return;
      await this.api(token, SEND_TIMEOUT_SECONDS).sendChatAction(toChatId(conversationId), 'typing', {}, grammySignal(signal));
    } catch {
      // "typing…" is a courtesy: a failure here must not stop the reply that follows.
    }
  }

  /** A client for one use; it goes out of scope with the token it holds. */
  private api(token: string, timeoutSeconds: number): Api {
    return new Api(token, { ...(this.apiRoot ? { apiRoot: this.apiRoot } : {}), timeoutSeconds });
  }

  private remember(key: string, ids: string[]): void {
    this.sent.delete(key);
    this.sent.set(key, ids);
    while (this.sent.size > REMEMBERED_SENDS) this.sent.delete(this.sent.keys().next().value!);
  }
}

/** How a failed getMe/getUpdates is reported and waited out, as Telegram documents its errors. */
function pollFailure(error: unknown): Wait {
  if (error instanceof GrammyError) {
    const code = error.error_code;
    if (code === 401) return { kind: 'setup', detail: `The Telegram bot token was rejected; store a new one with \`${SET_TOKEN}\`.` };
    if (code === 409) {
      return /webhook/i.test(error.description)
        ? {
            kind: 'backoff',
            detail: (s) => `A webhook is set for this bot and could not be removed, so long polling is refused (Telegram 409); retrying in ${s} s.`,
          }
        : {
            kind: 'backoff',
            detail: (s) =>
              `Another program is reading this bot's updates (Telegram 409 Conflict); make sure only one copy of Pavise uses this bot token. Retrying in ${s} s.`,
          };
    }
    if (code === 429) {
      const retryAfter = Math.max(1, error.parameters.retry_after ?? 1);
      return { kind: 'fixed', ms: retryAfter * 1_000, detail: `Telegram asked to slow down; retrying in ${retryAfter} s.` };
    }
    if (code >= 500) return { kind: 'backoff', detail: (s) => `Telegram unreachable (error ${code}); retrying in ${s} s.` };
    return { kind: 'backoff', detail: (s) => `Telegram refused the request (${code}: ${error.description}); retrying in ${s} s.` };
  }
  if (error instanceof HttpError) {
    // The underlying error's message carries the request URL, which contains the token: only its code is used.
    const cause = (error.error as { code?: unknown } | undefined)?.code;
    const reason = typeof cause === 'string' && /^[A-Z_]+$/.test(cause) ? ` (${cause})` : '';
    return { kind: 'backoff', detail: (s) => `Telegram unreachable${reason}; retrying in ${s} s.` };
  }
  return { kind: 'backoff', detail: (s) => `Telegram polling failed unexpectedly; retrying in ${s} s.` };
}

/** Reports a status only when it changes, so a healthy poll loop does not repeat "connected" every 30 s. */
class StatusReporter {
  private last: string | undefined;

  constructor(private readonly host: ChannelHost) {}

  report(state: ChannelState, detail?: string): void {
    const status: ChannelStatus = detail === undefined ? { channel: 'telegram', state } : { channel: 'telegram', state, detail };
    const key = `${state}\n${detail ?? ''}`;
    if (key === this.last) return;
    this.last = key;
    try {
      this.host.status(status);
    } catch {
      // A status listener's failure is not the channel's.
    }
  }
}

/**
 * grammY's Node build types its signal parameter with the abort-controller polyfill; at run time it only calls
 * addEventListener/removeEventListener, which a native AbortSignal has.
 */
type GrammySignal = Parameters<Api['getMe']>[0];

function grammySignal(signal: AbortSignal): GrammySignal {
  return signal as unknown as GrammySignal;
}

function parseCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || !/^\d+$/.test(cursor.trim())) return undefined;
  return Number(cursor);
}

function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function keyboard(buttons: readonly MessageButton[] | undefined): InlineKeyboardMarkup | undefined {
  if (!buttons || buttons.length === 0) return undefined;
  return { inline_keyboard: [buttons.map((button) => ({ text: button.text, callback_data: button.data }))] };
}

function toChatId(conversationId: string): number | string {
  return /^-?\d+$/.test(conversationId) ? Number(conversationId) : conversationId;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1_000));
}

/** Exponential backoff with jitter: between half and all of `baseDelayMs * 2^(failures-1)`, capped at `maxDelayMs`. */
function backoffDelay(failures: number, retry: TelegramRetryOptions): number {
  const step = Math.min(retry.baseDelayMs * 2 ** Math.max(0, failures - 1), retry.maxDelayMs);
  return Math.round(step / 2 + (step / 2) * Math.random());
}
