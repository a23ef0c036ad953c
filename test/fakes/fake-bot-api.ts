import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';

/**
 * A fake Telegram Bot API on 127.0.0.1, inside the test process only (invariant 1: the app never listens).
 * It answers `POST /bot<token>/<method>` with the real envelope (`{ ok: true, result }` or
 * `{ ok: false, error_code, description, parameters }`, HTTP status = error_code) and keeps Telegram's semantics
 * where the channel depends on them:
 * - getUpdates long-polls: held until updates are queued or `timeout` seconds pass; `offset` confirms (drops)
 *   every update below it; a negative offset returns the last -offset updates and forgets the earlier ones;
 *   an offset beyond the newest id (another server's or an old id space) is answered from the queue head, as
 *   tdlib's TQueue does; a second getUpdates terminates a held one with 409; getUpdates while a webhook is set
 *   is refused with 409.
 *   `allowed_updates` is recorded but not applied: Telegram applies it only to updates created after the call,
 *   so a channel must cope with any type anyway.
 * - sendMessage parses parse_mode HTML the way Telegram does (supported tags only, balanced, `<` never bare) and
 *   answers 400 "can't parse entities" otherwise; text over 4096 characters after parsing is "message is too long".
 * - callback_query updates are queued with `tap` (a button under a sent message, from any user, in any chat);
 *   answerCallbackQuery and editMessageText are recorded; sendMessage keeps its reply_markup.
 * Canned payloads come from test/fixtures/telegram/bot_api_samples.json (see test/fixtures/SOURCES.md).
 */

export const TELEGRAM_FIXTURES = resolve(import.meta.dirname, '../fixtures/telegram');

interface ErrorPayload {
  readonly ok: false;
  readonly error_code: number;
  readonly description: string;
  readonly parameters?: { readonly retry_after?: number };
}

export interface BotApiSamples {
  readonly grammy_test_fixtures: { readonly getMe_result: BotUser; readonly update: FakeUpdate };
  readonly constructed: {
    readonly getMe_response: { readonly ok: true; readonly result: BotUser };
    readonly deleteWebhook_response: { readonly ok: true; readonly result: true; readonly description: string };
    readonly getUpdates_response: { readonly ok: true; readonly result: FakeUpdate[] };
    readonly error_responses: {
      readonly unauthorized_401: ErrorPayload;
      readonly conflict_409_other_poller: ErrorPayload;
      readonly too_many_requests_429: ErrorPayload;
    };
  };
}

export const botApiSamples = JSON.parse(readFileSync(resolve(TELEGRAM_FIXTURES, 'bot_api_samples.json'), 'utf8')) as BotApiSamples;

export interface BotUser {
  readonly id: number;
  readonly is_bot: boolean;
  readonly first_name: string;
  readonly username?: string;
  readonly [field: string]: unknown;
}

/** An update as JSON; only update_id matters to the fake. */
export interface FakeUpdate {
  readonly update_id: number;
  readonly [field: string]: unknown;
}

export interface BotApiCall {
  /** The Bot API method, e.g. "getUpdates". */
  readonly method: string;
  readonly token: string;
  /** JSON, form or query parameters as sent. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly contentType: string | undefined;
  /** `performance.now()` on arrival, for asserting waits between calls. */
  readonly receivedAt: number;
}

export interface SentMessage {
  readonly chat_id: unknown;
  readonly text: string;
  readonly parse_mode: string | undefined;
  readonly message_id: number;
  /** The inline keyboard sent with it, if any. */
  readonly reply_markup?: { readonly inline_keyboard: readonly (readonly { readonly text: string; readonly callback_data?: string }[])[] };
}

export interface CallbackAnswer {
  readonly callback_query_id: string;
  readonly text: string | undefined;
}

export interface EditedMessage {
  readonly chat_id: unknown;
  readonly message_id: number;
  readonly text: string;
  readonly reply_markup: unknown;
}

export interface TapOptions {
  /** Who taps; default the sent message's chat (the private chat's user). */
  readonly from?: number;
  /** Where the message appears to be; default a private chat with the tapping user. */
  readonly chat?: { readonly id: number; readonly type: 'private' | 'group' | 'supergroup' };
  /** The callback data; default that of the button labelled `button`. */
  readonly data?: string;
  readonly button?: string;
}

export type BotApiReply =
  | { readonly kind: 'ok'; readonly result: unknown }
  | {
      readonly kind: 'error';
      readonly error_code: number;
      readonly description: string;
      readonly parameters?: { readonly retry_after?: number; readonly migrate_to_chat_id?: number };
    }
  /** A non-API answer, e.g. a proxy's 502 page. */
  | { readonly kind: 'http'; readonly status: number; readonly body: string; readonly contentType?: string }
  /** The connection is destroyed without an answer. */
  | { readonly kind: 'drop' }
  /** The request is accepted and never answered. */
  | { readonly kind: 'hang' };

export interface FakeBotApi {
  /** What to pass as grammY's `apiRoot`. */
  readonly apiRoot: string;
  readonly port: number;
  /** Every request, in order, including refused ones. */
  readonly calls: readonly BotApiCall[];
  /** Every accepted sendMessage, in order. */
  readonly sent: readonly SentMessage[];
  /** Every answerCallbackQuery, in order. */
  readonly answers: readonly CallbackAnswer[];
  /** Every editMessageText, in order. */
  readonly edits: readonly EditedMessage[];
  /** Queues a callback_query update for a button under `message`; returns its update_id. */
  tap(message: SentMessage, options?: TapOptions): number;
  /** Accepted sendChatAction calls. */
  readonly chatActions: readonly { readonly chat_id: unknown; readonly action: unknown }[];
  /** The getMe result. */
  me: BotUser;
  /** Tokens answered; any other gets 401 Unauthorized. */
  readonly tokens: Set<string>;
  /** While set, getUpdates is refused with Telegram's webhook 409. */
  webhookUrl: string | undefined;
  /** Refuse every parse_mode HTML sendMessage with 400 "can't parse entities", whatever the markup. */
  rejectHtml: boolean;
  callsTo(method: string): BotApiCall[];
  /** Adds updates to the queue (ids as given) and answers held long polls. */
  queueUpdates(...updates: FakeUpdate[]): void;
  /** Updates not yet confirmed by an offset. */
  pendingUpdates(): readonly FakeUpdate[];
  /** The next calls to `method` (after the token check) get these replies, in order, before the default behaviour. */
  script(method: string, ...replies: BotApiReply[]): this;
  /** Resolves with the `count`-th call to `method` (1-based, counted from the start). */
  waitForCall(method: string, count?: number, timeoutMs?: number): Promise<BotApiCall>;
  close(): Promise<void>;
}

export interface FakeBotApiOptions {
  /** Accepted tokens; default one test token. */
  readonly tokens?: readonly string[];
  /** A fixed port (to bring an API "back up" where a channel is already pointed); default ephemeral. */
  readonly port?: number;
  /** The getMe result; default the constructed fixture's bot (@example_assistant_bot). */
  readonly me?: BotUser;
}

export const TEST_BOT_TOKEN = '123456:FAKE-test-token-not-a-real-bot';

const conflictOtherPoller = botApiSamples.constructed.error_responses.conflict_409_other_poller;
const CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

interface HeldPoll {
  readonly res: ServerResponse;
  readonly limit: number;
  readonly timer: NodeJS.Timeout;
}

export async function startFakeBotApi(options: FakeBotApiOptions = {}): Promise<FakeBotApi> {
  const calls: BotApiCall[] = [];
  const sent: SentMessage[] = [];
  const chatActions: { chat_id: unknown; action: unknown }[] = [];
  const answers: CallbackAnswer[] = [];
  const edits: EditedMessage[] = [];
  let queue: FakeUpdate[] = [];
  const scripted = new Map<string, BotApiReply[]>();
  const waiters = new Set<() => void>();
  const open = new Set<ServerResponse>();
  let held: HeldPoll | undefined;
  let nextMessageId = 1_000;
  let newestId = 0;

  const release = (poll: HeldPoll, reply: BotApiReply): void => {
    clearTimeout(poll.timer);
    if (held === poll) held = undefined;
    write(poll.res, reply);
  };

  const getUpdates = (params: Readonly<Record<string, unknown>>, res: ServerResponse): void => {
    if (fake.webhookUrl !== undefined) return write(res, error(409, CONFLICT_WEBHOOK));
    if (held) release(held, error(409, conflictOtherPoller.description));
    const offset = Number(params['offset'] ?? 0);
    const limit = Math.min(100, Math.max(1, Number(params['limit'] ?? 100)));
    const timeout = Math.max(0, Number(params['timeout'] ?? 0));
    if (offset < 0) queue = queue.slice(offset);
    // Like the Bot API's TQueue: an offset far beyond the newest id is not in this server's id space, and the
    // answer starts at the head of the queue instead ("Specified from_id is in the future").
    else if (offset > 0 && offset <= newestId + 1 + 10) queue = queue.filter((update) => update.update_id >= offset);
    if (queue.length > 0 || timeout === 0) return write(res, ok(queue.slice(0, limit)));
    const poll: HeldPoll = {
      res,
      limit,
      timer: setTimeout(() => release(poll, ok([])), timeout * 1_000),
    };
    held = poll;
    res.on('close', () => {
      clearTimeout(poll.timer);
      if (held === poll) held = undefined;
    });
  };

  const sendMessage = (params: Readonly<Record<string, unknown>>): BotApiReply => {
    const parseMode = typeof params['parse_mode'] === 'string' ? params['parse_mode'] : undefined;
    const raw = String(params['text'] ?? '');
    let text = raw;
    if (parseMode?.toUpperCase() === 'HTML') {
      if (fake.rejectHtml) return error(400, 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0');
      const parsed = parseTelegramHtml(raw);
      if (!parsed.ok) return error(400, `Bad Request: can't parse entities: ${parsed.description}`);
      text = parsed.text;
    }
    if (text.trim() === '') return error(400, 'Bad Request: message text is empty');
    if (text.length > 4096) return error(400, 'Bad Request: message is too long');
    const message_id = nextMessageId++;
    const markup = typeof params['reply_markup'] === 'string' ? (JSON.parse(params['reply_markup']) as unknown) : params['reply_markup'];
    sent.push({ chat_id: params['chat_id'], text: raw, parse_mode: parseMode, message_id, ...(markup ? { reply_markup: markup as SentMessage['reply_markup'] } : {}) });
    return ok({
      message_id,
      from: { id: fake.me.id, is_bot: true, first_name: fake.me.first_name, username: fake.me.username },
      chat: { id: Number(params['chat_id']), type: Number(params['chat_id']) < 0 ? 'group' : 'private' },
      date: Math.floor(Date.now() / 1_000),
      text,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = performance.now();
    open.add(res);
    res.on('close', () => open.delete(res));
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
    const contentType = req.headers['content-type'];
    const params = { ...Object.fromEntries(url.searchParams), ...parseBody(rawBody, contentType) };
    const call: BotApiCall = { method: route?.[2] ?? url.pathname, token: route?.[1] ?? '', params, contentType, receivedAt };
    calls.push(call);
    for (const wake of waiters) wake();

    if (!route) return write(res, error(404, 'Not Found'));
    if (!fake.tokens.has(call.token)) return write(res, botApiSamples.constructed.error_responses.unauthorized_401);
    const next = scripted.get(call.method)?.shift();
    if (next) return write(res, next);
    switch (call.method) {
      case 'getMe':
        return write(res, ok(fake.me));
      case 'getUpdates':
        return getUpdates(params, res);
      case 'sendMessage':
        return write(res, sendMessage(params));
      case 'answerCallbackQuery':
        answers.push({ callback_query_id: String(params['callback_query_id']), text: typeof params['text'] === 'string' ? params['text'] : undefined });
        return write(res, ok(true));
      case 'editMessageText':
        edits.push({ chat_id: params['chat_id'], message_id: Number(params['message_id']), text: String(params['text'] ?? ''), reply_markup: params['reply_markup'] });
        return write(res, ok({ message_id: Number(params['message_id']), chat: { id: Number(params['chat_id']), type: 'private' }, date: Math.floor(Date.now() / 1_000), text: params['text'] }));
      case 'sendChatAction':
        chatActions.push({ chat_id: params['chat_id'], action: params['action'] });
        return write(res, ok(true));
      case 'deleteWebhook':
        if (params['drop_pending_updates'] === true || params['drop_pending_updates'] === 'true') queue = [];
        fake.webhookUrl = undefined;
        return write(res, botApiSamples.constructed.deleteWebhook_response);
      case 'getWebhookInfo':
        return write(res, ok({ url: fake.webhookUrl ?? '', has_custom_certificate: false, pending_update_count: queue.length }));
      default:
        return write(res, error(404, 'Not Found: method not found'));
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolvePromise());
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeBotApi = {
    apiRoot: `http://127.0.0.1:${port}`,
    port,
    calls,
    sent,
    chatActions,
    answers,
    edits,
    tap(message, tapOptions = {}) {
      const buttons = message.reply_markup?.inline_keyboard.flat() ?? [];
      const data = tapOptions.data ?? buttons.find((button) => button.text === (tapOptions.button ?? button.text))?.callback_data;
      if (data === undefined) throw new Error('fake-bot-api: the message has no such button');
      const from = tapOptions.from ?? Number(message.chat_id);
      const chat = tapOptions.chat ?? { id: from, type: 'private' as const };
      const update_id = newestId + 1;
      fake.queueUpdates({
        update_id,
        callback_query: {
          id: `cb-${update_id}`,
          from: { id: from, is_bot: false, first_name: 'Tapper' },
          message: { message_id: message.message_id, from: { id: fake.me.id, is_bot: true, first_name: fake.me.first_name }, chat, date: Math.floor(Date.now() / 1_000), text: message.text },
          chat_instance: `ci-${chat.id}`,
          data,
        },
      });
      return update_id;
    },
    me: options.me ?? botApiSamples.constructed.getMe_response.result,
    tokens: new Set(options.tokens ?? [TEST_BOT_TOKEN]),
    webhookUrl: undefined,
    rejectHtml: false,
    callsTo: (method) => calls.filter((call) => call.method === method),
    queueUpdates(...updates) {
      queue.push(...updates);
      newestId = Math.max(newestId, ...updates.map((update) => update.update_id));
      queue.sort((a, b) => a.update_id - b.update_id);
      if (held && queue.length > 0) release(held, ok(queue.slice(0, held.limit)));
    },
    pendingUpdates: () => [...queue],
    script(method, ...replies) {
      scripted.set(method, [...(scripted.get(method) ?? []), ...replies]);
      return this;
    },
    waitForCall(method, count = 1, timeoutMs = 5_000) {
      const found = (): BotApiCall | undefined => calls.filter((call) => call.method === method)[count - 1];
      const already = found();
      if (already) return Promise.resolve(already);
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`fake-bot-api: expected ${count} ${method} call(s), got ${fake.callsTo(method).length}`));
        }, timeoutMs);
        const wake = (): void => {
          const call = found();
          if (!call) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolvePromise(call);
        };
        waiters.add(wake);
      });
    },
    async close() {
      if (held) clearTimeout(held.timer);
      held = undefined;
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
    },
  };
  return fake;
}

export function ok(result: unknown): BotApiReply {
  return { kind: 'ok', result };
}

export function error(error_code: number, description: string, retry_after?: number): BotApiReply {
  return { kind: 'error', error_code, description, ...(retry_after !== undefined ? { parameters: { retry_after } } : {}) };
}

/** A reply from a fixture error payload (`{ ok: false, error_code, description, parameters? }`). */
export function fromPayload(payload: ErrorPayload): BotApiReply {
  return { kind: 'error', error_code: payload.error_code, description: payload.description, ...(payload.parameters ? { parameters: payload.parameters } : {}) };
}

function write(res: ServerResponse, reply: BotApiReply | ErrorPayload | { readonly ok: true; readonly result: unknown }): void {
  if (res.destroyed || res.writableEnded) return;
  if ('ok' in reply) return json(res, reply.ok ? 200 : reply.error_code, reply);
  switch (reply.kind) {
    case 'ok':
      return json(res, 200, { ok: true, result: reply.result });
    case 'error':
      return json(res, reply.error_code, {
        ok: false,
        error_code: reply.error_code,
        description: reply.description,
        ...(reply.parameters ? { parameters: reply.parameters } : {}),
      });
    case 'http':
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'text/html' }).end(reply.body);
      return;
    case 'drop':
      res.socket?.destroy();
      return;
    case 'hang':
      return;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    const parsed = JSON.parse(raw) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Tags Telegram's parse_mode HTML accepts (core.telegram.org/bots/api#html-style). */
const SUPPORTED_TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'tg-emoji', 'code', 'pre', 'blockquote',
]);
const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/**
 * Parses Telegram HTML the way the Bot API does: only supported tags, properly nested; `<` always starts a tag;
 * the four named entities and numeric ones decode, any other `&` stays as it is. Returns the visible text.
 */
export function parseTelegramHtml(html: string): { ok: true; text: string } | { ok: false; description: string } {
  const stack: string[] = [];
  let text = '';
  let i = 0;
  while (i < html.length) {
    const c = html[i]!;
    if (c === '&') {
      const entity = /^&(#x[0-9a-f]+|#\d+|[a-z]+);/i.exec(html.slice(i, i + 12));
      const name = entity?.[1];
      if (entity && name !== undefined) {
        const decoded = name.startsWith('#')
          ? String.fromCodePoint(name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10))
          : NAMED_ENTITIES[name.toLowerCase()];
        if (decoded !== undefined) {
          text += decoded;
          i += entity[0].length;
          continue;
        }
      }
      text += c;
      i++;
      continue;
    }
    if (c !== '<') {
      text += c;
      i++;
      continue;
    }
    const offset = Buffer.byteLength(html.slice(0, i));
    const end = html.indexOf('>', i);
    if (end < 0) return { ok: false, description: `Unclosed start tag at byte offset ${offset}` };
    const tag = /^<(\/?)([a-z][a-z0-9-]*)(\s[^<>]*)?>$/i.exec(html.slice(i, end + 1));
    if (!tag) return { ok: false, description: `Expected tag name at byte offset ${offset}` };
    const name = tag[2]!.toLowerCase();
    if (tag[1]) {
      const top = stack.pop();
      if (top !== name) {
        return { ok: false, description: `Unmatched end tag at byte offset ${offset}, expected "</${top ?? ''}>", found "</${name}>"` };
      }
    } else {
      if (!SUPPORTED_TAGS.has(name)) return { ok: false, description: `Unsupported start tag "${name}" at byte offset ${offset}` };
      if (name === 'a' && !/\bhref\s*=\s*"[^"]*"/.test(tag[3] ?? '')) return { ok: false, description: `Can't find href in the link at byte offset ${offset}` };
      stack.push(name);
    }
    i = end + 1;
  }
  if (stack.length > 0) return { ok: false, description: `Can't find end tag corresponding to start tag "${stack.at(-1)}"` };
  return { ok: true, text };
}
