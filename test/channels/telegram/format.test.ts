import { describe, expect, it } from 'vitest';
import { chunkForTelegram, htmlToPlainText, TELEGRAM_MESSAGE_LIMIT, toTelegramHtml } from '../../../main/channels/telegram/format.js';
import { parseTelegramHtml } from '../../fakes/fake-bot-api.js';

/** Markdown → Telegram HTML, checked with a parser that refuses what the Bot API refuses (see fake-bot-api.ts). */

function visible(html: string): string {
  const parsed = parseTelegramHtml(html);
  if (!parsed.ok) throw new Error(`Telegram would refuse ${JSON.stringify(html)}: ${parsed.description}`);
  return parsed.text;
}

describe('toTelegramHtml', () => {
  it.each([
    ['**bold** and __also bold__', '<b>bold</b> and <b>also bold</b>'],
    ['*italic* and _italic_', '<i>italic</i> and <i>italic</i>'],
    ['~~gone~~', '<s>gone</s>'],
    ['***both***', '<b><i>both</i></b>'],
    ['**bold with *italic* inside**', '<b>bold with <i>italic</i> inside</b>'],
    ['use `a < b && c > d` here', 'use <code>a &lt; b &amp;&amp; c &gt; d</code> here'],
    ['``code with ` tick``', '<code>code with ` tick</code>'],
    ['`**not bold**`', '<code>**not bold**</code>'],
    ['[the docs](https://example.com/a?b=1&c=2)', '<a href="https://example.com/a?b=1&amp;c=2">the docs</a>'],
    ['[**bold** link](https://example.com)', '<a href="https://example.com"><b>bold</b> link</a>'],
    ['see <https://example.com/x>', 'see <a href="https://example.com/x">https://example.com/x</a>'],
    ['[click](javascript:alert(1))', '[click](javascript:alert(1))'],
    ['[x](https://e.com/"onmouseover="y)', '<a href="https://e.com/&quot;onmouseover=&quot;y">x</a>'],
    ['snake_case_name and 2 * 3 * 4', 'snake_case_name and 2 * 3 * 4'],
    ['\\*not italic\\* and \\`not code\\`', '*not italic* and `not code`'],
    ['**unclosed bold', '**unclosed bold'],
    ['# Heading\n## Sub heading ##', '<b>Heading</b>\n<b>Sub heading</b>'],
    ['- one\n* two\n  + nested', '• one\n• two\n  • nested'],
    ['> quoted **text**\n> second line\nafter', '<blockquote>quoted <b>text</b>\nsecond line</blockquote>\nafter'],
    ['---', '———'],
    ['1 < 2 & 3 > 2', '1 &lt; 2 &amp; 3 &gt; 2'],
    ['<script>alert("x")</script>', '&lt;script&gt;alert("x")&lt;/script&gt;'],
    ['<b>not a tag</b> &amp; &lt;', '&lt;b&gt;not a tag&lt;/b&gt; &amp;amp; &amp;lt;'],
  ])('%j', (markdown, html) => {
    expect(toTelegramHtml(markdown)).toBe(html);
    visible(html);
  });

  it('renders fenced code blocks with and without a language, escaped, untouched inside', () => {
    const markdown = 'Try this:\n```ts\nconst a = b < c && **d**;\n```\nand\n~~~\n<tag> & _x_\n~~~';
    expect(toTelegramHtml(markdown)).toBe(
      'Try this:\n<pre><code class="language-ts">const a = b &lt; c &amp;&amp; **d**;</code></pre>\nand\n<pre>&lt;tag&gt; &amp; _x_</pre>',
    );
  });

  it('closes an unterminated code block at the end, and drops a language that is not a plain name', () => {
    expect(toTelegramHtml('```"><b>\nx')).toBe('<pre>x</pre>');
    expect(toTelegramHtml('```py\nprint(1)')).toBe('<pre><code class="language-py">print(1)</code></pre>');
  });

  it('keeps a script tag as text: what Telegram shows is exactly what was written', () => {
    const html = toTelegramHtml('Run <script>fetch("https://evil.example")</script> **now**');
    expect(visible(html)).toBe('Run <script>fetch("https://evil.example")</script> now');
  });

  it('stays fast and shallow on adversarial input', () => {
    for (const markdown of ['['.repeat(30_000), '[a]('.repeat(8_000), '**a '.repeat(8_000), '*'.repeat(30_000), '_a'.repeat(15_000)]) {
      const started = performance.now();
      const chunks = chunkForTelegram(toTelegramHtml(markdown));
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(chunks.every((chunk) => chunk.length <= 4096 && parseTelegramHtml(chunk).ok)).toBe(true);
    }
    expect(toTelegramHtml(`${'**'.repeat(20)}deep${'**'.repeat(20)}`)).not.toContain('<b><b><b><b><b><b><b>');
  });

  it('produces HTML Telegram accepts for any mix of markup characters (seeded property test)', () => {
    const pieces = ['**', '*', '_', '__', '~~', '`', '```', '[', ']', '(', ')', '<', '>', '&', '&amp;', '"', '\\', '#', '> ', '- ',
      'https://example.com/p?q=1&r=2', 'javascript:x', 'word', ' ', '\n', '😀', 'é'];
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let cut = 0;
    for (let run = 0; run < 500; run++) {
      const length = 1 + Math.floor(random() * 80);
      const markdown = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const html = toTelegramHtml(markdown);
      expect(parseTelegramHtml(html), JSON.stringify(markdown)).toMatchObject({ ok: true });
      // A small limit so most inputs are cut, large enough for the deepest nesting's tags (about 100 characters).
      const chunks = chunkForTelegram(html, 120);
      if (chunks.length > 1) cut++;
      for (const chunk of chunks) {
        expect(chunk.length, JSON.stringify({ markdown, chunk })).toBeLessThanOrEqual(120);
        expect(parseTelegramHtml(chunk), JSON.stringify({ markdown, chunk })).toMatchObject({ ok: true });
      }
      // Only the whitespace a cut was made at is lost.
      const squash = (text: string): string => text.replace(/\s+/g, '');
      expect(squash(chunks.map(visible).join('')), JSON.stringify(markdown)).toBe(squash(visible(html)));
    }
    expect(cut).toBeGreaterThan(100);
  });
});

describe('chunkForTelegram', () => {
  it('leaves a short message whole and drops empty ones', () => {
    expect(chunkForTelegram('hello <b>there</b>')).toEqual(['hello <b>there</b>']);
    expect(chunkForTelegram('')).toEqual([]);
    expect(chunkForTelegram(' \n\n ')).toEqual([]);
    expect(TELEGRAM_MESSAGE_LIMIT).toBe(4096);
  });

  it('cuts text without any break at exactly 4096 characters, in order', () => {
    const text = 'a'.repeat(4096 * 2) + 'b'.repeat(1808);
    const chunks = chunkForTelegram(text, 4096);
    expect(chunks.map((c) => c.length)).toEqual([4096, 4096, 1808]);
    expect(chunks.join('')).toBe(text);
  });

  it('a message of exactly 4096 characters is one chunk; one more splits', () => {
    expect(chunkForTelegram('x'.repeat(4096))).toHaveLength(1);
    expect(chunkForTelegram('x'.repeat(4097)).map((c) => c.length)).toEqual([4096, 1]);
  });

  it('prefers paragraph breaks, then line breaks, then spaces', () => {
    const para = (ch: string) => ch.repeat(3000);
    expect(chunkForTelegram(`${para('a')}\n\n${para('b')}\n\n${para('c')}`)).toEqual([para('a'), para('b'), para('c')]);

    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} `.padEnd(99, '.'));
    const byLine = chunkForTelegram(lines.join('\n'));
    expect(byLine.every((c) => c.length <= 4096)).toBe(true);
    expect(byLine.join('\n')).toBe(lines.join('\n'));
    expect(byLine[0]!.split('\n')).toHaveLength(Math.floor(4097 / 100));

    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const byWord = chunkForTelegram(words);
    expect(byWord.length).toBeGreaterThan(1);
    expect(byWord.every((c) => c.length <= 4096 && !c.startsWith(' ') && !c.endsWith(' '))).toBe(true);
    expect(byWord.join(' ')).toBe(words);
  });

  it('never cuts inside an entity or a surrogate pair', () => {
    const entities = chunkForTelegram('&amp;'.repeat(2000), 4096);
    expect(entities.map((c) => c.length)).toEqual([4095, 4095, 1810]);
    expect(entities.every((c) => /^(?:&amp;)+$/.test(c))).toBe(true);

    const emoji = chunkForTelegram('😀'.repeat(3000), 4096);
    expect(emoji.map((c) => c.length)).toEqual([4096, 1904]);
    expect(emoji.join('')).toBe('😀'.repeat(3000));
  });

  it('closes elements at a cut and reopens them in the next chunk, keeping every chunk valid', () => {
    const code = Array.from({ length: 400 }, (_, i) => `const value${i} = a < b && c; // line ${i}`).join('\n');
    const html = toTelegramHtml(`Here:\n\`\`\`ts\n${code}\n\`\`\`\nDone.`);
    const chunks = chunkForTelegram(html);
    expect(chunks.length).toBeGreaterThan(3);
    for (const [i, chunk] of chunks.entries()) {
      expect(chunk.length).toBeLessThanOrEqual(4096);
      visible(chunk);
      if (i > 0 && i < chunks.length - 1) {
        expect(chunk.startsWith('<pre><code class="language-ts">')).toBe(true);
        expect(chunk.endsWith('</code></pre>')).toBe(true);
      }
    }
    // Cut at line breaks: the code reads back whole, line for line.
    const text = chunks.map((c) => htmlToPlainText(c)).join('\n');
    expect(text).toBe(`Here:\n${code}\nDone.`);
  });

  it('reopens a link with its target', () => {
    const html = toTelegramHtml(`[${'word '.repeat(30)}](https://example.com/?a=1&b=2)`);
    const chunks = chunkForTelegram(html, 80);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(80);
      expect(chunk.startsWith('<a href="https://example.com/?a=1&amp;b=2">')).toBe(true);
      visible(chunk);
    }
  });
});

describe('htmlToPlainText', () => {
  it('removes tags and decodes entities', () => {
    expect(htmlToPlainText('<b>a &lt; b</b> &amp; <a href="https://x.y/?a&amp;b">c&quot;</a> &#128512;')).toBe('a < b & c" 😀');
  });
});
