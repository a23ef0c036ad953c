import { z } from 'zod';
import type { Provenance } from '../../common/messages.js';
import type { ToolResult } from '../source.js';
import { defineTool, type Tool } from '../tool.js';
import { formatBytes, kindOf, pdfText } from '../files/file-content.js';
import { htmlToMarkdown } from './page-to-markdown.js';
import { FetchRefused, WEB_LIMITS, type WebFetcher } from './web-fetcher.js';

export interface WebToolDeps {
  readonly fetcher: WebFetcher;
  /** Hosts the owner allowed over plain http (config `web.httpHosts`). */
  readonly httpHosts: readonly string[];
}

const MAX_CHARS = 100_000;

const fetchInput = z.object({
  url: z.string().min(1).max(4096).describe('The full https address of the page or PDF.'),
});

/** `web_fetch`: one page or PDF as Markdown or text, labelled untrusted with its URL. */
export function createWebTools(deps: WebToolDeps): readonly Tool[] {
  const webFetch = defineTool({
    name: 'web_fetch',
    description:
      'Fetch a web page (as clean Markdown) or a PDF (as text) over https. Public addresses only; a redirect to another host is reported, not followed.',
    input: fetchInput,
    effects: [{ kind: 'network', host: { hostOf: 'url' }, url: { arg: 'url' }, method: { template: 'GET' } }],
    summary: 'Fetch {url}',
    output: { kind: 'per-result' },
    execute: async ({ url }, { signal }): Promise<ToolResult> => {
      const label = (where: string): Provenance => ({ kind: 'untrusted', source: 'web', detail: where });
      try {
        const fetched = await deps.fetcher.get(url, { signal, httpHosts: deps.httpHosts });
        if ('redirectedTo' in fetched) {
          return {
            content: `${url} redirects (HTTP ${fetched.status}) to ${fetched.redirectedTo}, another host, which was not fetched. Fetch it only if the owner wants that site.`,
            provenance: label(url),
          };
        }
        if (fetched.status >= 400) return { content: `${fetched.url} answered HTTP ${fetched.status}.`, isError: true, provenance: label(fetched.url) };
        const cut = fetched.truncated ? `(Only the first ${formatBytes(WEB_LIMITS.maxBytes)} were read.)\n` : '';
        const content = await render(fetched.body, fetched.contentType, fetched.url);
        const shown = content.length > MAX_CHARS ? `${content.slice(0, MAX_CHARS)}\n[… ${content.length - MAX_CHARS} more characters not shown]` : content;
        return { content: `${cut}${shown}`, provenance: label(fetched.url) };
      } catch (error) {
        if (error instanceof FetchRefused) return { content: error.message, isError: true };
        const code = (error as NodeJS.ErrnoException).code;
        return { content: `Could not fetch ${url}: ${code ?? (error instanceof Error ? error.message : String(error))}.`, isError: true };
      }
    },
  });
  return [webFetch] as readonly Tool[];
}

async function render(body: Buffer, contentType: string, url: string): Promise<string> {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/pdf' || kindOf(body.subarray(0, 64)).kind === 'pdf') {
    const pdf = await pdfText(body, MAX_CHARS);
    return `${url}: a PDF of ${pdf.pages} page(s).\n${pdf.text}`;
  }
  const text = body.toString('utf8');
  if (type === 'text/html' || type === 'application/xhtml+xml' || (type === '' && /^\s*<(!doctype html|html)/i.test(text))) {
    const page = await htmlToMarkdown(text, url);
    return `${page.title ? `# ${page.title}\n\n` : ''}${page.markdown}`;
  }
  if (type.startsWith('text/') || type.endsWith('json') || type.endsWith('xml') || kindOf(body.subarray(0, 64)).kind === 'text') return text;
  return `${url}: ${type || 'binary content'}, ${formatBytes(body.length)}; not shown.`;
}
