/**
 * A fetched page as clean Markdown: the article Readability finds (navigation, ads and footers dropped), converted
 * with Turndown; pages without an article fall back to their whole body. linkedom, Readability and Turndown are
 * loaded at the first page, never at start-up.
 */
/** Above this many elements Readability is skipped (its cost grows faster than the page). */
const READABILITY_MAX_ELEMENTS = 5_000;
/** About how much text of a large page is converted: more than the tool shows (100,000 characters). */
const TEXT_BUDGET = 150_000;

export async function htmlToMarkdown(html: string, url: string): Promise<{ readonly title: string | undefined; readonly markdown: string }> {
  const [{ parseHTML }, { Readability }, { default: TurndownService }] = await Promise.all([import('linkedom'), import('@mozilla/readability'), import('turndown')]);
  const { document } = parseHTML(html);
  // Relative links become absolute, so the Markdown's links still work.
  for (const anchor of document.querySelectorAll('a[href]')) {
    const href = anchor.getAttribute('href') ?? '';
    if (URL.canParse(href, url)) anchor.setAttribute('href', new URL(href, url).href);
  }
  for (const hidden of document.querySelectorAll('script, style, noscript, template, iframe, object, embed')) hidden.remove();
  const title = document.querySelector('title')?.textContent?.trim() || undefined;
  let article: { content?: string | null; title?: string | null } | null = null;
  let body: string;
  if (document.querySelectorAll('*').length <= READABILITY_MAX_ELEMENTS) {
    try {
      article = new Readability(document.cloneNode(true) as never, { charThreshold: 200 }).parse();
    } catch {
      article = null;
    }
    body = article?.content ?? document.body?.innerHTML ?? html;
  } else {
    // Readability's scoring grows faster than the page: a very large page keeps its main element, loses its
    // navigation, and is cut to what the model will be shown anyway.
    const root = document.querySelector('article, main, [role="main"]') ?? document.body;
    for (const chrome of root?.querySelectorAll('nav, header, footer, aside, form') ?? []) chrome.remove();
    let kept = 0;
    for (const child of [...(root?.children ?? [])]) {
      if (kept > TEXT_BUDGET) child.remove();
      else kept += child.textContent?.length ?? 0;
    }
    body = root?.innerHTML ?? html;
  }
  const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
  turndown.remove(['script', 'style', 'noscript', 'iframe']);
  // The Markdown is read by a model, not rendered: the page's characters stay as written (no "\_" or "\[").
  turndown.escape = (text: string) => text;
  const markdown = turndown
    .turndown(body)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { title: article?.title?.trim() || title, markdown };
}
