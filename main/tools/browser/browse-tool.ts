import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Provenance } from '../../common/messages.js';
import type { ToolResult } from '../source.js';
import { defineTool, type Tool } from '../tool.js';
import { htmlToMarkdown } from '../web/page-to-markdown.js';
import { FetchRefused, type WebFetcher } from '../web/web-fetcher.js';

export interface BrowseToolDeps {
  /** The same fetcher as web_fetch: its scheme rules and the address check after DNS apply to every request. */
  readonly fetcher: WebFetcher;
  readonly httpHosts: readonly string[];
  /** Pavise's own browser profile (PAVISE_HOME/browser-profile), never the owner's. */
  readonly profileDir: string;
  /** Where screenshots are written (PAVISE_HOME/browser-screenshots). */
  readonly screenshotDir: string;
  /** The Chrome or Chromium to drive; found on the usual paths when absent. */
  readonly executablePath?: string;
}

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome', '/Applications/Chromium.app/Contents/MacOS/Chromium'];
const MAX_CHARS = 100_000;
const PAGE_TIMEOUT_MS = 20_000;

const action = z.discriminatedUnion('type', [
  z.object({ type: z.literal('click'), selector: z.string().min(1).max(500).describe('A CSS selector or text=… of the element to click.') }),
  z.object({ type: z.literal('wait'), ms: z.int().min(1).max(10_000) }),
  z.object({ type: z.literal('scroll'), pixels: z.int().min(-100_000).max(100_000) }),
]);
const browseInput = z.object({
  url: z.string().min(1).max(4096).describe('The https address to open.'),
  actions: z.array(action).max(20).optional().describe('Clicks, waits and scrolls to do after the page loads, in order. Typing is not offered.'),
});

/**
 * `browse`: a page that needs a browser, in headless Chromium with Pavise's own profile. Chromium never touches the
 * network itself: it is started with a proxy that goes nowhere and a resolver that resolves nothing, and every
 * request it makes is intercepted and answered by web_fetch's fetcher, which resolves the name in Node and checks the
 * address it actually connects to (no DNS rebinding between a check and Chromium's own lookup). Only GETs to the host
 * the gate approved (its `network` effect) are answered; any other host, method or scheme is refused, so a page's
 * script cannot carry anything elsewhere. Text is untrusted, labelled with the URL; a screenshot is saved and its path
 * given. playwright-core is imported at the first call.
 */
export function createBrowseTools(deps: BrowseToolDeps): readonly Tool[] {
  const browse = defineTool({
    name: 'browse',
    description:
      'Open a web page in a headless browser (for pages that need JavaScript), optionally click, wait and scroll, and get its text as Markdown and a screenshot. ' +
      'Only the page\'s own host is loaded. Prefer web_fetch for ordinary pages.',
    input: browseInput,
    effects: [{ kind: 'network', host: { hostOf: 'url' }, url: { arg: 'url' }, method: { template: 'GET' } }],
    summary: 'Open {url} in the browser',
    output: { kind: 'per-result' },
    execute: async ({ url, actions = [] }, { signal, callId }): Promise<ToolResult> => {
      const label = (where: string): Provenance => ({ kind: 'untrusted', source: 'web', detail: where });
      let host: string;
      try {
        host = new URL(url).hostname;
      } catch {
        return { content: `${url} is not a web address; give a full https:// address.`, isError: true };
      }
      const executablePath = deps.executablePath ?? (await findBrowser());
      if (!executablePath) return { content: `No Chrome or Chromium was found (looked in ${CANDIDATES.join(', ')}); install one to browse.`, isError: true };
      const { chromium } = await import('playwright-core');
      await mkdir(deps.profileDir, { recursive: true, mode: 0o700 });
      const context = await chromium.launchPersistentContext(deps.profileDir, {
        executablePath,
        headless: true,
        args: ['--proxy-server=127.0.0.1:9', '--host-resolver-rules=MAP * ~NOTFOUND', '--disable-background-networking', '--no-first-run'],
        serviceWorkers: 'block',
        acceptDownloads: false,
      });
      const refused: string[] = [];
      try {
        await context.route('**/*', async (route) => {
          const request = route.request();
          const target = safeUrl(request.url());
          if (!target || request.method() !== 'GET' || target.hostname !== host) {
            refused.push(`${request.method()} ${request.url().slice(0, 200)}`);
            return route.abort('blockedbyclient');
          }
          try {
            const fetched = await deps.fetcher.get(target.href, { signal, httpHosts: deps.httpHosts });
            if ('redirectedTo' in fetched) {
              refused.push(`redirect to ${fetched.redirectedTo.slice(0, 200)}`);
              return route.abort('blockedbyclient');
            }
            return route.fulfill({ status: fetched.status, contentType: fetched.contentType, body: fetched.body });
          } catch (error) {
            refused.push(`${target.href.slice(0, 200)}: ${error instanceof FetchRefused ? error.message : String((error as NodeJS.ErrnoException).code ?? error)}`);
            return route.abort('blockedbyclient');
          }
        });
        const page = await context.newPage();
        page.setDefaultTimeout(PAGE_TIMEOUT_MS);
        const response = await page.goto(url, { waitUntil: 'load' }).catch((error: Error) => error);
        if (response instanceof Error || response === null) {
          const why = refused[0] ?? (response instanceof Error ? response.message.split('\n')[0] : 'no response');
          return { content: `Could not open ${url}: ${why}.`, isError: true, provenance: label(url) };
        }
        for (const step of actions) {
          if (step.type === 'click') await page.click(step.selector);
          else if (step.type === 'wait') await page.waitForTimeout(step.ms);
          else await page.mouse.wheel(0, step.pixels);
        }
        await mkdir(deps.screenshotDir, { recursive: true, mode: 0o700 });
        const shot = join(deps.screenshotDir, `${callId.replace(/[^a-zA-Z0-9_-]/g, '_')}.png`);
        await page.screenshot({ path: shot });
        const { title, markdown: body } = await htmlToMarkdown(await page.content(), page.url());
        const markdown = title ? `# ${title}\n\n${body}` : body;
        const shown = markdown.length > MAX_CHARS ? `${markdown.slice(0, MAX_CHARS)}\n[… ${markdown.length - MAX_CHARS} more characters not shown]` : markdown;
        const blocked = refused.length > 0 ? `\n\n(${refused.length} request(s) to other hosts or methods were refused.)` : '';
        return { content: `${page.url()} (HTTP ${response.status()}); screenshot: ${shot}\n\n${shown}${blocked}`, provenance: label(page.url()) };
      } catch (error) {
        return { content: `Browsing ${url} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}.`, isError: true, provenance: label(url) };
      } finally {
        await context.close();
      }
    },
  });
  return [browse] as readonly Tool[];
}

function safeUrl(raw: string): URL | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}

async function findBrowser(): Promise<string | undefined> {
  const { access } = await import('node:fs/promises');
  for (const candidate of CANDIDATES) {
    if (await access(candidate).then(() => true, () => false)) return candidate;
  }
  return undefined;
}
