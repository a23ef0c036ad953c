/**
 * A fetched page as clean Markdown: the article Readability finds (navigation, ads and footers dropped), converted
 * with Turndown; pages without an article fall back to their whole body. linkedom, Readability and Turndown are
 * loaded at the first page, never at start-up.
 */
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
  try {
    article = new Readability(document.cloneNode(true) as never, { charThreshold: 200 }).parse();
  } catch {
    article = null;
  }
  const body = article?.content ?? document.body?.innerHTML ?? html;
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
