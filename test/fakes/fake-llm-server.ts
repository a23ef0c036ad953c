import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTick, setTimeout as delay } from 'node:timers/promises';

/**
 * The HTTP machinery shared by the fake Anthropic and OpenAI servers. A fake listens on 127.0.0.1 (an ephemeral
 * port) inside the test process only, records every request and answers from a script: queued replies first,
 * then the `respondWith` function, then an "unscripted" error in the provider's own error shape.
 */

/** One server-sent event, or raw bytes written as they are (for malformed streams). */
export type SseFrame = { readonly event?: string; readonly data: string } | { readonly raw: string };

/** How a streamed reply stops early, after `afterFrames` frames were written. */
export interface StreamInterruption {
  /** destroy: the socket is destroyed; end: the response ends cleanly but incomplete; hang: it stays open. */
  readonly kind: 'destroy' | 'end' | 'hang';
  readonly afterFrames: number;
}

export type FakeReply =
  | {
      readonly kind: 'stream';
      readonly frames: readonly SseFrame[];
      readonly headers?: Readonly<Record<string, string>>;
      readonly interrupt?: StreamInterruption;
      /** Pause between frames; 0 still yields to the event loop so frames arrive as separate chunks. */
      readonly frameDelayMs?: number;
    }
  | {
      readonly kind: 'http_error';
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      /** Serialised as JSON unless it is a string. */
      readonly body: unknown;
    }
  /** Accepts the request and never answers (for abort tests). */
  | { readonly kind: 'hang' }
  /** Destroys the connection without answering (a connection error). */
  | { readonly kind: 'drop' };

export interface RecordedRequest {
  readonly method: string;
  /** Path including any query string, e.g. "/v1/messages". */
  readonly path: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  readonly body: unknown;
  readonly rawBody: string;
  /** The key as sent in `x-api-key` or `Authorization: Bearer`. */
  readonly apiKey: string | undefined;
  /** `performance.now()` when the request arrived, for asserting waits between attempts. */
  readonly receivedAt: number;
}

export type FakeScript = (request: RecordedRequest, index: number) => FakeReply | Promise<FakeReply>;

export interface FakeLlmServer {
  /** What to pass to the SDK or provider as `baseURL`. */
  readonly url: string;
  /** scheme://host:port, without any path. */
  readonly origin: string;
  /** Every request received, in order (including rejected and unscripted ones). */
  readonly requests: readonly RecordedRequest[];
  /** The most recent request; throws when there is none, so a test fails with a clear message. */
  readonly lastRequest: RecordedRequest;
  /** Queues replies, used one per request before `respondWith`. */
  enqueue(...replies: FakeReply[]): this;
  /** Answers requests once the queue is empty. */
  respondWith(script: FakeScript): this;
  /** Replies still queued. */
  pending(): number;
  /**
   * Resolves when the client closed the connection of request `index` (0-based, in arrival order) before the reply
   * ended: the request was aborted. A reply the server finished, cut off or dropped itself never resolves it.
   */
  clientClosed(index: number): Promise<void>;
  /** Resolves once `count` requests have arrived in total. */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Forgets recorded requests, queued replies and the script. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeServerOptions {
  /** Used in unscripted-reply messages, e.g. "fake-anthropic". */
  readonly name: string;
  /** Path prefix the SDK adds after the origin ("" for Anthropic, "/v1" for OpenAI). */
  readonly basePath: string;
  /** The endpoint answered by the script, e.g. "/v1/messages". */
  readonly endpoint: string;
  /** When set, requests carrying another key get `unauthorized()` without consuming the script. */
  readonly requiredKey?: string | undefined;
  readonly unauthorized: () => FakeReply;
  readonly notFound: (path: string) => FakeReply;
  readonly unscripted: (index: number) => FakeReply;
}

export async function startFakeLlmServer(options: FakeServerOptions): Promise<FakeLlmServer> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  let script: FakeScript | undefined;
  const waiters = new Set<() => void>();
  const open = new Set<ServerResponse>();
  /** Per request index: resolved when the client went away mid-reply. */
  const closes = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const closeOf = (index: number): { promise: Promise<void>; resolve: () => void } => {
    let entry = closes.get(index);
    if (!entry) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((done) => (resolve = done));
      entry = { promise, resolve };
      closes.set(index, entry);
    }
    return entry;
  };
  /** Responses the server itself destroyed (an interruption, a drop, close()): their closing is not the client's. */
  const destroyedHere = new WeakSet<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = performance.now();
    const rawBody = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(headers['authorization'] ?? '')?.[1];
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers,
      body: parseJson(rawBody),
      rawBody,
      apiKey: headers['x-api-key'] ?? bearer,
      receivedAt,
    };
    const index = requests.length;
    requests.push(recorded);
    for (const wake of waiters) wake();

    let reply: FakeReply;
    const path = recorded.path.split('?')[0];
    if (recorded.method !== 'POST' || path !== options.endpoint) reply = options.notFound(recorded.path);
    else if (options.requiredKey !== undefined && recorded.apiKey !== options.requiredKey) reply = options.unauthorized();
    else if (queue.length > 0) reply = queue.shift()!;
    else if (script) reply = await script(recorded, index);
    else reply = options.unscripted(index);
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      if (!res.writableEnded && !destroyedHere.has(res)) closeOf(index).resolve();
    });
    await send(res, reply, () => destroyedHere.add(res));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const fake: FakeLlmServer = {
    url: `${origin}${options.basePath}`,
    origin,
    requests,
    get lastRequest(): RecordedRequest {
      const last = requests.at(-1);
      if (!last) throw new Error(`${options.name}: no request was received`);
      return last;
    },
    enqueue(...replies) {
      queue.push(...replies);
      return this;
    },
    respondWith(next) {
      script = next;
      return this;
    },
    pending: () => queue.length,
    clientClosed: (index) => closeOf(index).promise,
    waitForRequests(count, timeoutMs = 5_000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`${options.name}: expected ${count} requests, got ${requests.length}`));
        }, timeoutMs);
        const wake = (): void => {
          if (requests.length < count) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(requests);
        };
        waiters.add(wake);
      });
    },
    reset() {
      requests.length = 0;
      closes.clear();
      queue.length = 0;
      script = undefined;
    },
    async close() {
      for (const res of open) {
        destroyedHere.add(res);
        res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function frameText(frame: SseFrame): string {
  if ('raw' in frame) return frame.raw;
  return `${frame.event !== undefined ? `event: ${frame.event}\n` : ''}data: ${frame.data}\n\n`;
}

function write(res: ServerResponse, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve();
    res.write(text, () => resolve());
  });
}

/** `destroying` is told before the server itself closes the connection. */
async function send(res: ServerResponse, reply: FakeReply, destroying: () => void): Promise<void> {
  switch (reply.kind) {
    case 'drop':
      destroying();
      res.socket?.destroy();
      return;
    case 'hang':
      return;
    case 'http_error': {
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(body);
      return;
    }
    case 'stream': {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        ...reply.headers,
      });
      res.flushHeaders();
      const stopAt = reply.interrupt?.afterFrames ?? Number.POSITIVE_INFINITY;
      for (const [index, frame] of reply.frames.entries()) {
        if (index >= stopAt || res.destroyed) break;
        await write(res, frameText(frame));
        if (reply.frameDelayMs) await delay(reply.frameDelayMs);
        else await nextTick();
      }
      switch (reply.interrupt?.kind) {
        case 'destroy':
          destroying();
          res.socket?.destroy();
          return;
        case 'hang':
          return;
        default:
          res.end();
      }
    }
  }
}

/** Replies that stop a stream early; `afterFrames` counts SSE frames written before the interruption. */
export function cutAfter(reply: FakeReply, afterFrames: number): FakeReply {
  return interrupt(reply, { kind: 'destroy', afterFrames });
}

export function endAfter(reply: FakeReply, afterFrames: number): FakeReply {
  return interrupt(reply, { kind: 'end', afterFrames });
}

export function hangAfter(reply: FakeReply, afterFrames: number): FakeReply {
  return interrupt(reply, { kind: 'hang', afterFrames });
}

/**
 * Inserts an event whose data is not JSON after `afterFrames` frames; the rest of the stream follows. The default
 * carries an event name because the Anthropic SDK skips unnamed events.
 */
export function corruptAfter(
  reply: FakeReply,
  afterFrames: number,
  garbage = 'event: content_block_delta\ndata: {"type": "content_block_delta", oops\n\n',
): FakeReply {
  const stream = asStream(reply);
  const frames = [...stream.frames];
  frames.splice(afterFrames, 0, { raw: garbage });
  return { ...stream, frames };
}

/** Inserts frames (for example a provider's mid-stream error event) after `afterFrames` frames and ends there. */
export function replaceTail(reply: FakeReply, afterFrames: number, tail: readonly SseFrame[]): FakeReply {
  const stream = asStream(reply);
  return { ...stream, frames: [...stream.frames.slice(0, afterFrames), ...tail] };
}

export function slowly(reply: FakeReply, frameDelayMs: number): FakeReply {
  return { ...asStream(reply), frameDelayMs };
}

export function hang(): FakeReply {
  return { kind: 'hang' };
}

export function dropConnection(): FakeReply {
  return { kind: 'drop' };
}

export function httpError(status: number, body: unknown, headers?: Readonly<Record<string, string>>): FakeReply {
  return { kind: 'http_error', status, body, ...(headers ? { headers } : {}) };
}

function interrupt(reply: FakeReply, how: StreamInterruption): FakeReply {
  return { ...asStream(reply), interrupt: how };
}

function asStream(reply: FakeReply): Extract<FakeReply, { kind: 'stream' }> {
  if (reply.kind !== 'stream') throw new Error(`expected a streamed reply, got ${reply.kind}`);
  return reply;
}

/** Splits text into roughly `parts` pieces at word boundaries where possible (each piece non-empty). */
export function splitText(text: string, parts = 3): string[] {
  if (text.length <= 1 || parts <= 1) return [text];
  const words = text.match(/\S+\s*|\s+/g) ?? [text];
  if (words.length >= parts) {
    const per = Math.ceil(words.length / parts);
    const out: string[] = [];
    for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(''));
    return out;
  }
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}
