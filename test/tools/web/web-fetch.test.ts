import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Provenance } from '../../../main/common/messages.js';
import { isPublicAddress } from '../../../main/tools/web/public-address.js';
import { FetchRefused, SYSTEM_TRANSPORT, WebFetcher } from '../../../main/tools/web/web-fetcher.js';
import { createWebTools } from '../../../main/tools/web/web-tools.js';
import { makePdf } from '../../helpers/make-pdf.js';
import { startLoopbackHttps, type LoopbackServer } from '../../helpers/loopback-https.js';

const ARTICLE = `<!doctype html><html><head><title>Weather in Lisbon</title><script>steal()</script></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<article><h1>Weather in Lisbon</h1>
<p>Sunny all week, highs of 24 degrees. No rain is expected before Sunday, when light showers may arrive from the Atlantic in the late afternoon.</p>
<p>Read the <a href="/forecast/week">full forecast</a> for the detailed hour-by-hour outlook, wind speeds, UV index and sea temperatures along the coast.</p>
<p>Pollen levels are moderate; people with allergies may want to keep windows closed in the early morning when counts peak.</p>
</article><footer>© 2026 Weather Co.</footer></body></html>`;

let server: LoopbackServer;
let hits: string[] = [];
beforeAll(async () => {
  server = await startLoopbackHttps(['news.test', 'other.test'], (request, response) => {
    hits.push(`${request.headers.host} ${request.url}`);
    const path = request.url ?? '/';
    if (path === '/article') return void response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(ARTICLE);
    if (path === '/doc.pdf') return void response.writeHead(200, { 'content-type': 'application/pdf' }).end(makePdf(['Annual report 2026', 'Revenue: 4.2M']));
    if (path === '/plain') return void response.writeHead(200, { 'content-type': 'text/plain' }).end('just text');
    if (path === '/same-host-redirect') return void response.writeHead(302, { location: '/article' }).end();
    if (path === '/cross-host-redirect') return void response.writeHead(301, { location: server.url('other.test', '/article') }).end();
    if (path === '/to-http') return void response.writeHead(302, { location: server.url('news.test', '/plain', 'http') }).end();
    if (path === '/to-file') return void response.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (path === '/huge') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      return void response.end(Buffer.alloc(6 * 1024 * 1024, 'a'));
    }
    if (path === '/bomb') return void response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(60 * 1024 * 1024)));
    if (path === '/slow') return; // never answers
    if (path === '/missing') return void response.writeHead(404).end('no');
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
afterAll(() => server.close());

const signal = () => new AbortController().signal;

async function fetchTool(url: string, fetcher = new WebFetcher(server.transport), httpHosts: string[] = []): Promise<{ content: string; isError: boolean; provenance?: Provenance }> {
  const [tool] = createWebTools({ fetcher, httpHosts });
  const output = await tool!.execute({ url }, { sessionId: 's', callId: 'c', signal: signal() });
  if (typeof output === 'string') return { content: output, isError: false };
  return { content: output.content, isError: output.isError === true, ...(output.provenance ? { provenance: output.provenance } : {}) };
}

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.8.9.10', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.32.0.1', true],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['64:ff9b::a9fe:a9fe', false],
    ['2002:7f00:1::', false],
    ['[::1]', false],
    ['not-an-ip', false],
    ['93.184.215.14', true],
    ['8.8.8.8', true],
    ['2606:4700::1111', true],
    ['::ffff:8.8.8.8', true],
  ])('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('web_fetch', () => {
  it('turns an article into clean Markdown with absolute links, labelled untrusted with its URL', async () => {
    const url = server.url('news.test', '/article');
    const result = await fetchTool(url);
    expect(result.isError).toBe(false);
    expect(result.content).toContain('# Weather in Lisbon');
    expect(result.content).toContain('Sunny all week, highs of 24 degrees.');
    expect(result.content).toContain(`[full forecast](${server.url('news.test', '/forecast/week')})`);
    expect(result.content).not.toContain('steal()');
    expect(result.content).not.toContain('© 2026 Weather Co.');
    expect(result.provenance).toEqual({ kind: 'untrusted', source: 'web', detail: url });
  });

  it('reads a PDF as its text, and plain text as it is', async () => {
    const pdf = await fetchTool(server.url('news.test', '/doc.pdf'));
    expect(pdf.content).toContain('a PDF of 1 page(s)');
    expect(pdf.content).toContain('Revenue: 4.2M');
    expect((await fetchTool(server.url('news.test', '/plain'))).content).toBe('just text');
  });

  it('follows a redirect on the same host, and reports one to another host without fetching it', async () => {
    expect((await fetchTool(server.url('news.test', '/same-host-redirect'))).content).toContain('Sunny all week');
    hits = [];
    const cross = await fetchTool(server.url('news.test', '/cross-host-redirect'));
    expect(cross.content).toContain(`redirects (HTTP 301) to ${server.url('other.test', '/article')}, another host, which was not fetched`);
    expect(hits.some((hit) => hit.startsWith('other.test'))).toBe(false);
  });

  it('refuses plain http unless the owner listed the host, also after a redirect, and never file:', async () => {
    const plain = await fetchTool(server.url('news.test', '/plain', 'http'));
    expect(plain).toMatchObject({ isError: true });
    expect(plain.content).toContain('web.httpHosts');
    expect((await fetchTool(server.url('news.test', '/plain', 'http'), undefined, ['news.test'])).content).toBe('just text');
    // Host names are case-insensitive: config.json accepts "News.Test", and a URL's host is always lower case.
    expect((await fetchTool(server.url('news.test', '/plain', 'http'), undefined, ['News.Test'])).content).toBe('just text');
    expect((await fetchTool(server.url('news.test', '/to-http'))).content).toContain('Plain http');
    expect((await fetchTool('file:///etc/passwd')).content).toContain('file: addresses are not fetched');
    expect((await fetchTool(server.url('news.test', '/to-file'))).content).toContain('redirects');
    expect((await fetchTool('not a url')).content).toContain('is not a URL');
  });

  it('caps the size read (also after decompression) and the time waited', async () => {
    const huge = await fetchTool(server.url('news.test', '/huge'));
    expect(huge.content.startsWith('(Only the first 5.0 MB were read.)\n')).toBe(true);
    expect(huge.content.endsWith('more characters not shown]')).toBe(true);
    const fetcher = new WebFetcher(server.transport);
    const bomb = await fetcher.get(server.url('news.test', '/bomb'), { signal: signal(), maxBytes: 1024 * 1024 });
    expect('body' in bomb && bomb.body.length).toBe(1024 * 1024);
    expect('truncated' in bomb && bomb.truncated).toBe(true);
    await expect(fetcher.get(server.url('news.test', '/slow'), { signal: signal(), timeoutMs: 300 })).rejects.toBeInstanceOf(FetchRefused);
  });

  it('reports an HTTP error status as an error', async () => {
    expect(await fetchTool(server.url('news.test', '/missing'))).toMatchObject({ isError: true, content: expect.stringContaining('HTTP 404') });
  });
});

describe('web_fetch against SSRF, with the production address check', () => {
  /** The real check (public addresses only) over a resolver that points the test names at this machine. */
  const rebound = () => new WebFetcher({ ...server.transport, permits: SYSTEM_TRANSPORT.permits });

  it('refuses a name that resolves to a loopback or private address, and connects to nothing', async () => {
    hits = [];
    const result = await fetchTool(server.url('news.test', '/article'), rebound());
    expect(result.isError).toBe(true);
    expect(result.content).toContain('news.test is at 127.0.0.1, a private, local or reserved address');
    expect(hits).toEqual([]);
    const mixed = new WebFetcher({ resolve: async () => [{ address: '10.0.0.5', family: 4 }, { address: '::1', family: 6 }], permits: SYSTEM_TRANSPORT.permits });
    await expect(mixed.get('https://intranet.example/', { signal: signal() })).rejects.toThrow(/private, local or reserved/);
  });

  it.each([
    'https://127.0.0.1/',
    'https://2130706433/',
    'https://0x7f.0.0.1/',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1/',
    'https://192.168.1.1/admin',
    'https://[fe80::1]/',
  ])('refuses the address literal %s before any connection', async (url) => {
    const result = await fetchTool(url, new WebFetcher());
    expect(result.isError).toBe(true);
    expect(result.content).toMatch(/private, local or reserved address/);
  });

  it('the production fetcher (as compose builds it) refuses this machine’s real HTTPS server', async () => {
    hits = [];
    const result = await fetchTool(`https://127.0.0.1:${server.port}/article`, new WebFetcher());
    expect(result.isError).toBe(true);
    expect(hits).toEqual([]);
  });
});

describe('htmlToMarkdown on a very large page', () => {
  it('keeps the main element without its navigation and converts about what will be shown', async () => {
    const { htmlToMarkdown } = await import('../../../main/tools/web/page-to-markdown.js');
    const paragraphs = Array.from({ length: 6_000 }, (_, i) => `<p>Paragraph ${i} about the budget for parks and roads in the coming year.</p>`).join('');
    const page = await htmlToMarkdown(`<html><head><title>Minutes</title></head><body><main><nav>Menu</nav>${paragraphs}</main></body></html>`, 'https://x.test/');
    expect(page.title).toBe('Minutes');
    expect(page.markdown.startsWith('Paragraph 0 about the budget')).toBe(true);
    expect(page.markdown).not.toContain('Menu');
    expect(page.markdown).not.toContain('Paragraph 5999');
    expect(page.markdown.length).toBeGreaterThan(100_000);
  });
});
