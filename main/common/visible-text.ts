/**
 * Makes invisible and direction-changing characters visible in anything shown for approval, so a prompt cannot
 * hide or reorder what the owner is agreeing to (the Trojan Source / invisible-Unicode spoofing attacks).
 * Each such character becomes a bracketed mark naming it, e.g. "⟦RLO⟧" or "⟦U+200B⟧".
 */
const NAMED: Readonly<Record<number, string>> = {
  0x200b: 'ZWSP',
  0x200c: 'ZWNJ',
  0x200d: 'ZWJ',
  0x200e: 'LRM',
  0x200f: 'RLM',
  0x202a: 'LRE',
  0x202b: 'RLE',
  0x202c: 'PDF',
  0x202d: 'LRO',
  0x202e: 'RLO',
  0x2060: 'WJ',
  0x2066: 'LRI',
  0x2067: 'RLI',
  0x2068: 'FSI',
  0x2069: 'PDI',
  0x061c: 'ALM',
  0xfeff: 'BOM',
  0x00ad: 'SHY',
  0x180e: 'MVS',
};

function isHidden(code: number): boolean {
  return (
    code in NAMED ||
    (code < 0x20 && code !== 0x0a && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x2061 && code <= 0x206f) ||
    (code >= 0xfe00 && code <= 0xfe0f) ||
    (code >= 0xe0000 && code <= 0xe007f) ||
    (code >= 0xe0100 && code <= 0xe01ef) ||
    code === 0x115f ||
    code === 0x1160 ||
    code === 0x3164 ||
    code === 0xffa0
  );
}

export function revealInvisible(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (isHidden(code)) out += `⟦${NAMED[code] ?? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`}⟧`;
    else out += char;
  }
  return out;
}

export function hasInvisible(text: string): boolean {
  for (const char of text) if (isHidden(char.codePointAt(0) ?? 0)) return true;
  return false;
}

const SCRIPTS = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Cherokee', /\p{Script=Cherokee}/u],
] as const;

/**
 * The scripts mixed within one part of an address or name ("bob@ex\u0430mple.com": Latin and Cyrillic), or [] when none
 * is: a look-alike of an address the owner knows reads the same on a card, and only the mix gives it away.
 */
export function mixedScripts(text: string): string[] {
  const found = new Set<string>();
  for (const part of text.normalize('NFC').split(/[^\p{L}\p{M}]+/u)) {
    const here = SCRIPTS.filter(([, pattern]) => [...part].some((char) => pattern.test(char))).map(([name]) => name);
    if (here.length > 1) for (const name of here) found.add(name);
  }
  return [...found];
}
