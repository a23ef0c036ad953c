/**
 * The model writes Markdown; Telegram renders a small HTML subset (parse_mode "HTML": b, i, s, code, pre, a,
 * blockquote). Every piece of text is escaped before it is placed between tags the converter itself emits, in
 * balanced pairs, so nothing the model (or a sender it quotes) writes can become markup.
 */

/** sendMessage `text`: "1-4096 characters after entities parsing". Chunks are measured before parsing, so they fit. */
export const TELEGRAM_MESSAGE_LIMIT = 4096;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

function escapeAttribute(text: string): string {
  return escapeHtml(text).replace(/"/g, '&quot;');
}

/** Link targets Telegram opens; anything else (javascript:, data:, relative paths) stays plain text. */
const SAFE_URL = /^(?:https?:\/\/|mailto:|tg:\/\/)[^\s<>]+$/i;
const CODE_LANGUAGE = /^[A-Za-z0-9_+#.-]{1,32}$/;
const ESCAPABLE = /[!-/:-@[-`{-~]/;
/** Bounds that keep adversarial input (thousands of "[" or "**") linear-ish instead of quadratic or deep. */
const MAX_LINK_LABEL = 1_000;
const MAX_LINK_URL = 2_048;
const MAX_NESTING = 6;

/** Converts the model's Markdown (bold, italic, strikethrough, code, code blocks, links, headings, lists, quotes). */
export function toTelegramHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const fence = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)[^`]*$/.exec(line);
    if (fence) {
      const marker = fence[1] ?? '```';
      const body: string[] = [];
      i++;
      while (i < lines.length && !isClosingFence(lines[i] ?? '', marker)) body.push(lines[i++] ?? '');
      i++;
      const code = escapeHtml(body.join('\n'));
      const language = fence[2] ?? '';
      out.push(CODE_LANGUAGE.test(language) ? `<pre><code class="language-${language}">${code}</code></pre>` : `<pre>${code}</pre>`);
      continue;
    }
    if (/^ {0,3}>/.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && /^ {0,3}>/.test(lines[i] ?? '')) quoted.push((lines[i++] ?? '').replace(/^ {0,3}> ?/, ''));
      out.push(`<blockquote>${quoted.map((q) => inline(q, true)).join('\n')}</blockquote>`);
      continue;
    }
    out.push(blockLine(line));
    i++;
  }
  return out.join('\n');
}

function isClosingFence(line: string, opener: string): boolean {
  const match = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
  return match !== null && match[1]![0] === opener[0] && match[1]!.length >= opener.length;
}

function blockLine(line: string): string {
  const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
  if (heading) return `<b>${inline(heading[1] ?? '', true)}</b>`;
  if (/^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/.test(line)) return '———';
  const bullet = /^([ \t]*)[-*+][ \t]+(.*)$/.exec(line);
  if (bullet) return `${bullet[1] ?? ''}• ${inline(bullet[2] ?? '', true)}`;
  return inline(line, true);
}

interface Delimiter {
  readonly marker: string;
  readonly tag: 'b' | 'i' | 's';
}

/** Longest first, so "**" is tried before "*". */
const DELIMITERS: readonly Delimiter[] = [
  { marker: '**', tag: 'b' },
  { marker: '__', tag: 'b' },
  { marker: '~~', tag: 's' },
  { marker: '*', tag: 'i' },
  { marker: '_', tag: 'i' },
];

const isSpace = (c: string | undefined): boolean => c === undefined || /\s/.test(c);
const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}]/u.test(c);

function canOpen(s: string, at: number, marker: string): boolean {
  if (isSpace(s[at + marker.length])) return false;
  return marker[0] !== '_' || !isWordChar(s[at - 1]);
}

function canClose(s: string, at: number, marker: string): boolean {
  if (isSpace(s[at - 1])) return false;
  return marker[0] !== '_' || !isWordChar(s[at + marker.length]);
}

function backtickRun(s: string, at: number): number {
  let end = at;
  while (s[end] === '`') end++;
  return end - at;
}

/** Where the code span opened by a run of `length` backticks closes (a run of exactly that length), or -1. */
function codeSpanClose(s: string, from: number, length: number): number {
  for (let j = from; j < s.length; ) {
    if (s[j] !== '`') {
      j++;
      continue;
    }
    const run = backtickRun(s, j);
    if (run === length) return j;
    j += run;
  }
  return -1;
}

/** Skips an escape or a code span at `j`; returns the next index to look at, or undefined when neither is there. */
function skipOpaque(s: string, j: number): number | undefined {
  if (s[j] === '\\' && ESCAPABLE.test(s[j + 1] ?? '')) return j + 2;
  if (s[j] === '`') {
    const run = backtickRun(s, j);
    const close = codeSpanClose(s, j + run, run);
    return close < 0 ? j + run : close + run;
  }
  return undefined;
}

/** The closing delimiter for content starting at `from` (non-empty), taking the last marker of a run ("***"). */
function findCloser(s: string, from: number, marker: string): number {
  for (let j = from + 1; j < s.length; ) {
    const skipped = skipOpaque(s, j);
    if (skipped !== undefined) {
      j = skipped;
      continue;
    }
    if (s.startsWith(marker, j) && canClose(s, j, marker)) {
      while (s[j + marker.length] === marker[0]) j++;
      return j;
    }
    j++;
  }
  return -1;
}

interface LinkMatch {
  readonly label: string;
  readonly url: string;
  readonly end: number;
}

/** `[label](url)` at `at`; undefined when it is not one or the target is not a safe URL. Bounded, so never slow. */
function matchLink(s: string, at: number): LinkMatch | undefined {
  let depth = 0;
  let j = at;
  const labelEnd = Math.min(s.length, at + MAX_LINK_LABEL);
  for (; j < labelEnd; j++) {
    const skipped = skipOpaque(s, j);
    if (skipped !== undefined) {
      j = skipped - 1;
      continue;
    }
    if (s[j] === '[') depth++;
    else if (s[j] === ']' && --depth === 0) break;
  }
  if (j >= labelEnd || s[j + 1] !== '(') return undefined;
  let parens = 0;
  let k = j + 2;
  const urlEnd = Math.min(s.length, k + MAX_LINK_URL);
  for (; k < urlEnd; k++) {
    if (s[k] === '(') parens++;
    else if (s[k] === ')' && parens-- === 0) break;
  }
  if (k >= urlEnd) return undefined;
  const label = s.slice(at + 1, j);
  const url = s.slice(j + 2, k).trim();
  if (label.trim() === '' || !SAFE_URL.test(url)) return undefined;
  return { label, url, end: k + 1 };
}

/** Inline Markdown to Telegram HTML. Text is escaped piece by piece; tags come only from this function. */
function inline(s: string, allowLinks: boolean, depth = 0): string {
  let out = '';
  let i = 0;
  // A marker with no closer after position p has none after any later position either: don't search again.
  const noCloserFrom = new Map<string, number>();
  outer: while (i < s.length) {
    const c = s[i]!;
    if (c === '\\' && ESCAPABLE.test(s[i + 1] ?? '')) {
      out += escapeHtml(s[i + 1]!);
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = backtickRun(s, i);
      const close = codeSpanClose(s, i + run, run);
      if (close < 0) {
        out += escapeHtml(s.slice(i, i + run));
        i += run;
        continue;
      }
      let code = s.slice(i + run, close);
      if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
      out += `<code>${escapeHtml(code)}</code>`;
      i = close + run;
      continue;
    }
    if (allowLinks && c === '[') {
      const link = matchLink(s, i);
      if (link) {
        out += `<a href="${escapeAttribute(link.url)}">${inline(link.label, false, depth + 1)}</a>`;
        i = link.end;
        continue;
      }
    }
    if (allowLinks && c === '<') {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(s.slice(i));
      if (auto) {
        out += `<a href="${escapeAttribute(auto[1]!)}">${escapeHtml(auto[1]!)}</a>`;
        i += auto[0].length;
        continue;
      }
    }
    for (const { marker, tag } of depth < MAX_NESTING ? DELIMITERS : []) {
      if (!s.startsWith(marker, i) || !canOpen(s, i, marker)) continue;
      const from = i + marker.length;
      if (from >= (noCloserFrom.get(marker) ?? Infinity)) continue;
      const close = findCloser(s, from, marker);
      if (close < 0) {
        noCloserFrom.set(marker, from);
        continue;
      }
      out += `<${tag}>${inline(s.slice(from, close), allowLinks, depth + 1)}</${tag}>`;
      i = close + marker.length;
      continue outer;
    }
    // A delimiter that did not pair is literal, all of its run (so "**" never half-opens later).
    const literal = DELIMITERS.find(({ marker }) => s.startsWith(marker, i))?.marker ?? c;
    out += escapeHtml(literal);
    i += literal.length;
  }
  return out;
}

/** One indivisible piece of Telegram HTML: a tag, an entity, or one character (a surrogate pair stays whole). */
interface Unit {
  readonly raw: string;
  readonly kind: 'open' | 'close' | 'text';
  readonly name?: string;
}

const UNIT = /<(\/?)([a-z][a-z0-9-]*)(?:\s[^<>]*)?>|&(?:[a-z]+|#\d+|#x[0-9a-f]+);|[\s\S]/giu;

function tokenize(html: string): Unit[] {
  const units: Unit[] = [];
  for (const match of html.matchAll(UNIT)) {
    const raw = match[0];
    if (match[2] !== undefined) units.push({ raw, kind: match[1] ? 'close' : 'open', name: match[2].toLowerCase() });
    else units.push({ raw, kind: 'text' });
  }
  return units;
}

const ENTITIES: Readonly<Record<string, string>> = { '&lt;': '<', '&gt;': '>', '&amp;': '&', '&quot;': '"' };

function decodeEntity(raw: string): string {
  if (!raw.startsWith('&') || raw.length < 3) return raw;
  const named = ENTITIES[raw.toLowerCase()];
  if (named !== undefined) return named;
  const numeric = /^&#(x[0-9a-f]+|\d+);$/i.exec(raw)?.[1];
  if (numeric === undefined) return raw;
  const code = numeric[0] === 'x' || numeric[0] === 'X' ? parseInt(numeric.slice(1), 16) : parseInt(numeric, 10);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : raw;
}

/** What a chunk of Telegram HTML reads as: tags removed, entities decoded (the plain-text fallback). */
export function htmlToPlainText(html: string): string {
  return tokenize(html)
    .filter((unit) => unit.kind === 'text')
    .map((unit) => decodeEntity(unit.raw))
    .join('');
}

/**
 * Splits Telegram HTML into chunks of at most `limit` characters, in order. A split prefers the last paragraph
 * break, then the last line break, then the last space that fits (the separator itself is dropped), and otherwise
 * cuts between two characters; never inside a tag, an entity or a surrogate pair. Elements open at a split are
 * closed at the end of the chunk and reopened at the start of the next, so every chunk is valid on its own.
 * Chunks with no visible text are left out.
 */
export function chunkForTelegram(html: string, limit: number = TELEGRAM_MESSAGE_LIMIT): string[] {
  const units = tokenize(html);
  const n = units.length;
  // Before unit i: the open elements (their opening tags) and the running length.
  const stacks: Unit[][] = [];
  const offsets: number[] = [];
  let stack: Unit[] = [];
  let offset = 0;
  for (const unit of units) {
    stacks.push(stack);
    offsets.push(offset);
    offset += unit.raw.length;
    if (unit.kind === 'open') stack = [...stack, unit];
    else if (unit.kind === 'close') {
      const at = stack.findLastIndex((open) => open.name === unit.name);
      if (at >= 0) stack = stack.slice(0, at);
    }
  }
  stacks.push(stack);
  offsets.push(offset);

  const reopen = (i: number): string => stacks[i]!.map((open) => open.raw).join('');
  const close = (i: number): string => stacks[i]!.map((open) => `</${open.name}>`).reverse().join('');
  const reopenLength = stacks.map((_, i) => reopen(i).length);
  const closeLength = stacks.map((_, i) => close(i).length);
  const cost = (start: number, end: number): number => reopenLength[start]! + offsets[end]! - offsets[start]! + closeLength[end]!;
  const isText = (i: number, char: string): boolean => units[i]?.kind === 'text' && units[i]?.raw === char;

  const chunks: string[] = [];
  const emit = (start: number, end: number): void => {
    const body = units.slice(start, end).map((unit) => unit.raw).join('');
    const chunk = reopen(start) + body + close(end);
    if (htmlToPlainText(chunk).trim() !== '') chunks.push(chunk);
  };

  let start = 0;
  while (start < n) {
    let end = start;
    while (end < n && cost(start, end + 1) <= limit) end++;
    if (end === n) {
      emit(start, n);
      break;
    }
    end = Math.max(end, start + 1);
    const split = chooseSplit(start, end, isText, units);
    emit(start, split.end);
    start = split.next;
  }
  return chunks;
}

function chooseSplit(
  start: number,
  end: number,
  isText: (i: number, char: string) => boolean,
  units: readonly Unit[],
): { end: number; next: number } {
  for (let k = end; k > start + 1; k--) if (isText(k, '\n') && isText(k - 1, '\n')) return { end: k - 1, next: k + 1 };
  for (let k = end; k > start; k--) if (isText(k, '\n')) return { end: k, next: k + 1 };
  for (let k = end; k > start; k--) if (isText(k, ' ')) return { end: k, next: k + 1 };
  let cut = end;
  while (cut - 1 > start && units[cut - 1]?.kind === 'open') cut--;
  return { end: cut, next: cut };
}
