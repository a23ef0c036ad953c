/**
 * The network of a sandboxed skill, which has none of its own: it asks the host over stdio (`net/fetch`) and the
 * host makes the request, after checking the host name against both the owner's grant and the effects the gate
 * approved for this call, and filling `{{secret:NAME}}` handles of granted secrets at the moment the request leaves.
 * Redirects are handed back, not followed, so every hop is checked. No port is opened anywhere: an egress proxy on
 * localhost (the approach of proxy-based sandboxes such as @anthropic-ai/sandbox-runtime) would be a listening
 * socket; what is taken from them is the idea of an allow-list of hosts enforced outside the box.
 */

export interface BrokerRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface BrokerResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Makes one request. The default is `fetch`; tests hand the broker a transport that reaches a fake server. */
export type Transport = (request: BrokerRequest, signal: AbortSignal) => Promise<BrokerResponse>;

/** What the broker needs of the secret broker: find and fill handles, and scrub values from what comes back. */
export interface SecretFiller {
  /** The names of the `{{secret:NAME}}` handles in `text`. */
  handleNames(text: string): string[];
  substitute(text: string): Promise<string>;
  redact(text: string): string;
}

export interface BrokerContext {
  readonly skill: string;
  /** Hosts the owner granted. */
  readonly grantedHosts: readonly string[];
  /** Hosts of the network effects the gate let this call have. */
  readonly callHosts: readonly string[];
  readonly grantedSecrets: readonly string[];
  readonly secrets: SecretFiller;
  readonly transport: Transport;
  readonly signal: AbortSignal;
}

export type BrokerResult = { readonly ok: true; readonly value: BrokerResponse } | { readonly ok: false; readonly code: 'refused' | 'failed'; readonly message: string };

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const MAX_BROKER_BODY_BYTES = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 15_000;

export async function brokerFetch(raw: unknown, context: BrokerContext): Promise<BrokerResult> {
  const refused = (message: string): BrokerResult => ({ ok: false, code: 'refused', message });
  const request = parseRequest(raw);
  if (typeof request === 'string') return refused(request);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return refused(`"${request.url.slice(0, 200)}" is not a URL.`);
  }
  if (url.protocol !== 'https:') return refused(`Only https requests leave through the broker, not ${url.protocol}.`);
  if (url.username || url.password) return refused('A URL with a user name or password is refused; pass credentials as {{secret:NAME}} in a header.');
  if (url.port !== '') return refused('Only the default https port is allowed.');
  const host = url.hostname.toLowerCase();
  if (context.secrets.handleNames(safeDecode(url.host)).length > 0) return refused('A secret cannot be part of the host name.');
  if (!context.grantedHosts.includes(host)) return refused(`${host} is not a host the owner granted to skill ${context.skill} (granted: ${context.grantedHosts.join(', ') || 'none'}).`);
  if (!context.callHosts.includes(host)) return refused(`${host} is not among the network effects of this call (${context.callHosts.join(', ') || 'none'}), which are all the gate approved.`);
  const texts = [request.url, ...Object.values(request.headers), request.body ?? ''];
  for (const text of texts) {
    for (const name of context.secrets.handleNames(text)) {
      if (!context.grantedSecrets.includes(name)) return refused(`The secret "${name}" was not granted to skill ${context.skill}.`);
    }
  }
  const filled: BrokerRequest = {
    url: await context.secrets.substitute(request.url),
    method: request.method,
    headers: Object.fromEntries(await Promise.all(Object.entries(request.headers).map(async ([key, value]) => [key, await context.secrets.substitute(value)] as const))),
    ...(request.body !== undefined ? { body: await context.secrets.substitute(request.body) } : {}),
  };
  if (new URL(filled.url).hostname.toLowerCase() !== host) return refused('Filling the secrets changed the host name; refused.');
  try {
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
    const response = await context.transport(filled, signal);
    return {
      ok: true,
      value: {
        status: response.status,
        headers: Object.fromEntries(Object.entries(response.headers).map(([key, value]) => [key, context.secrets.redact(value)])),
        body: context.secrets.redact(response.body),
      },
    };
  } catch (error) {
    return { ok: false, code: 'failed', message: `The request to ${host} failed: ${context.secrets.redact((error as Error).message)}` };
  }
}

function parseRequest(raw: unknown): BrokerRequest | string {
  if (!raw || typeof raw !== 'object') return 'net/fetch needs { url, method?, headers?, body? }.';
  const { url, method = 'GET', headers = {}, body } = raw as Record<string, unknown>;
  if (typeof url !== 'string') return 'net/fetch needs a url string.';
  if (typeof method !== 'string' || !METHODS.includes(method.toUpperCase())) return `net/fetch method must be one of ${METHODS.join(', ')}.`;
  if (!headers || typeof headers !== 'object' || Object.values(headers).some((value) => typeof value !== 'string')) return 'net/fetch headers must be an object of strings.';
  if (body !== undefined && typeof body !== 'string') return 'net/fetch body must be a string.';
  if (body !== undefined && Buffer.byteLength(body) > MAX_BROKER_BODY_BYTES) return `net/fetch body is larger than ${MAX_BROKER_BODY_BYTES} bytes.`;
  return { url, method: method.toUpperCase(), headers: headers as Record<string, string>, ...(body !== undefined ? { body } : {}) };
}

/** The real transport: `fetch`, redirects handed back, the body read up to the cap. */
export const fetchTransport: Transport = async (request, signal) => {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    redirect: 'manual',
    signal,
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BROKER_BODY_BYTES) {
      await reader.cancel();
      throw new Error(`the response is larger than ${MAX_BROKER_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body: Buffer.concat(chunks).toString('utf8') };
};

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
