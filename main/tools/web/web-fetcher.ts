import { lookup as dnsLookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { isPublicAddress } from './public-address.js';

/**
 * How the fetcher reaches the network: name resolution, which resolved addresses it may connect to, and extra
 * trusted certificate authorities. Production uses `SYSTEM_TRANSPORT` (the system resolver, public addresses only,
 * the system's CAs); there is no option that turns the address check off — a test that needs a loopback server
 * hands the constructor a transport of its own, from test/.
 */
export interface WebTransport {
  resolve(hostname: string): Promise<readonly { readonly address: string; readonly family: number }[]>;
  permits(address: string): boolean;
  readonly ca?: string | Buffer;
}

export const SYSTEM_TRANSPORT: WebTransport = {
  resolve: (hostname) => dnsLookup(hostname, { all: true, verbatim: true }),
  permits: isPublicAddress,
};

export const WEB_LIMITS = { maxBytes: 5 * 1024 * 1024, timeoutMs: 20_000, maxRedirects: 5 } as const;

export class FetchRefused extends Error {
  override readonly name = 'FetchRefused';
}

export interface FetchedResource {
  /** The URL the body came from, after same-host redirects. */
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly truncated: boolean;
}

/** A redirect to another host is not followed: the owner's approval named one host. */
export interface CrossHostRedirect {
  readonly redirectedTo: string;
  readonly status: number;
}

export interface FetchOptions {
  readonly signal: AbortSignal;
  /** Hosts the owner allowed over plain http (`web.httpHosts`). */
  readonly httpHosts?: readonly string[];
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
}

/**
 * GET over https (http only for hosts the owner listed), refusing `file:` and every other scheme. The host name is
 * resolved and each address checked before connecting, and the connection goes to a checked address (the check and
 * the connect use the same answer, so DNS rebinding between them does not help). Redirects are followed only to the
 * same host, each re-checked; size and time are capped, and compressed bodies are capped after decompression.
 */
export class WebFetcher {
  constructor(private readonly transport: WebTransport = SYSTEM_TRANSPORT) {}

  async get(raw: string, options: FetchOptions): Promise<FetchedResource | CrossHostRedirect> {
    let url = this.#check(raw, options.httpHosts ?? []);
    const host = url.hostname;
    const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? WEB_LIMITS.timeoutMs)]);
    for (let hop = 0; hop <= WEB_LIMITS.maxRedirects; hop++) {
      const response = await this.#request(url, signal);
      const location = response.headers.location;
      if (response.statusCode !== undefined && response.statusCode >= 300 && response.statusCode < 400 && location) {
        response.resume();
        const next = new URL(location, url);
        if (next.hostname !== host) return { redirectedTo: next.href, status: response.statusCode };
        url = this.#check(next.href, options.httpHosts ?? []);
        continue;
      }
      const { body, truncated } = await readCapped(response, options.maxBytes ?? WEB_LIMITS.maxBytes, signal);
      return { url: url.href, status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body, truncated };
    }
    throw new FetchRefused(`More than ${WEB_LIMITS.maxRedirects} redirects; stopped.`);
  }

  #check(raw: string, httpHosts: readonly string[]): URL {
    if (!URL.canParse(raw)) throw new FetchRefused(`"${raw}" is not a URL; give a full address such as https://example.com/page.`);
    const url = new URL(raw);
    if (url.protocol === 'http:' && !httpHosts.some((host) => host.toLowerCase() === url.hostname)) {
      throw new FetchRefused(`Plain http to ${url.hostname} can be read and changed by anyone on the way; use https, or the owner can list the host in web.httpHosts in config.json.`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FetchRefused(`${url.protocol} addresses are not fetched; only https (and http for hosts the owner listed).`);
    if (url.username || url.password) throw new FetchRefused('Addresses with a user name or password in them are not fetched.');
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) !== 0 && !this.transport.permits(literal)) throw refusedAddress(url.hostname, literal);
    return url;
  }

  async #request(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
    const transport = this.transport;
    const lookup: LookupFunction = (hostname, options, callback) => {
      transport.resolve(hostname).then(
        (addresses) => {
          const allowed = addresses.filter((entry) => transport.permits(entry.address));
          const first = allowed[0];
          if (!first) {
            callback(refusedAddress(hostname, addresses.map((entry) => entry.address).join(', ') || 'no address') as NodeJS.ErrnoException, '', 4);
            return;
          }
          if ((options as { all?: boolean }).all) (callback as unknown as (error: null, all: { address: string; family: number }[]) => void)(null, allowed.map((entry) => ({ ...entry })));
          else callback(null, first.address, first.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 4),
      );
    };
    const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    return new Promise((resolve, reject) => {
      const outgoing = request(url, {
        method: 'GET',
        // A fresh connection each time: a pooled socket would skip the resolution and address check below.
        agent: false,
        lookup,
        signal,
        ...(transport.ca ? { ca: transport.ca } : {}),
        headers: { 'user-agent': 'Pavise/0.1 (personal assistant)', accept: 'text/html,application/xhtml+xml,text/*,application/pdf,application/json;q=0.9,*/*;q=0.5', 'accept-encoding': 'gzip, deflate, br' },
      });
      outgoing.on('response', resolve);
      outgoing.on('error', (error) => reject(signal.aborted && !(error instanceof FetchRefused) ? new FetchRefused(`No answer from ${url.hostname} in time, or the fetch was stopped.`) : error));
      outgoing.end();
    });
  }
}

function refusedAddress(hostname: string, address: string): FetchRefused {
  return new FetchRefused(`${hostname} is at ${address}, a private, local or reserved address; Pavise fetches only from the public internet.`);
}

async function readCapped(response: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<{ body: Buffer; truncated: boolean }> {
  const encoding = String(response.headers['content-encoding'] ?? '').toLowerCase();
  const decoded: Readable =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? response.pipe(createGunzip())
      : encoding === 'deflate'
        ? response.pipe(createInflate())
        : encoding === 'br'
          ? response.pipe(createBrotliDecompress())
          : response;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of decoded) {
      if (signal.aborted) throw new FetchRefused('The fetch took too long and was stopped.');
      const buffer = chunk as Buffer;
      if (size + buffer.length > maxBytes) {
        chunks.push(buffer.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(buffer);
      size += buffer.length;
    }
  } finally {
    response.destroy();
  }
  return { body: Buffer.concat(chunks, size), truncated };
}
