import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppleScriptSender, type AppleScriptSenderOptions } from '../../../main/channels/imessage/sender.js';
import { SEND_SCRIPT, SEND_SCRIPT_ERRORS, SEND_SCRIPT_SHA256 } from '../../../main/channels/imessage/send-script.js';
import { prepareMessageText, splitMessage } from '../../../main/channels/imessage/split-message.js';
import { type ImessageSendTarget, checkSendTarget, isChatGuid, isHandle } from '../../../main/channels/imessage/target.js';
import { SETTINGS_URLS } from '../../../main/common/settings-urls.js';

/*
 * The sender runs a stand-in for osascript (test/fakes/osascript-recorder.mjs) that logs its argv and the hash of the
 * script it was given. The injection strings come from test/fixtures/applescript/osascript_injection_cases.json;
 * their origins are listed in test/fixtures/SOURCES.md ("applescript/osascript_injection_cases.json": escaper
 * vectors and break-out payloads gathered from public iMessage/Calendar automation projects and their issues).
 */

const ROOT = resolve(import.meta.dirname, '../../..');
const RECORDER = join(ROOT, 'test/fakes/osascript-recorder.mjs');
const FIXTURE = resolve(ROOT, 'test/fixtures/applescript/osascript_injection_cases.json');

interface InjectionFixture {
  escaper_unit_vectors: { escaper_rules: string[]; cases: Array<{ input: string; expected_escaped: string }> };
  breakout_payloads: Array<{ id: string; payload: string; escaped_by_buggy_escaper?: string }>;
}

const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as InjectionFixture;

/** Every string in the fixture that could be a message, a recipient or a chat id, labelled by where it came from. */
const injectionStrings: Array<[label: string, value: string]> = [
  ...fixture.escaper_unit_vectors.escaper_rules.map((rule, i): [string, string] => [`escaper rule ${i}`, rule]),
  ...fixture.escaper_unit_vectors.cases.flatMap((c, i): Array<[string, string]> => [
    [`escaper case ${i} input`, c.input],
    [`escaper case ${i} expected_escaped`, c.expected_escaped],
  ]),
  ...fixture.breakout_payloads.flatMap((p): Array<[string, string]> => [
    [`${p.id} payload`, p.payload],
    ...(p.escaped_by_buggy_escaper === undefined ? [] : [[`${p.id} escaped_by_buggy_escaper`, p.escaped_by_buggy_escaper] as [string, string]]),
  ]),
];

interface RecordedCall {
  argv: string[];
  scriptSha256: string | null;
  scriptMode: number | null;
  folderMode: number | null;
  pid: number;
}

const PHONE = '+15555550100';
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  chmodSync(RECORDER, 0o755);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recorder(env: Record<string, string> = {}, options: AppleScriptSenderOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-sender-test-'));
  const log = join(dir, 'calls.jsonl');
  const sender = new AppleScriptSender({
    osascriptPath: RECORDER,
    env: {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      PAVISE_OSASCRIPT_LOG: log,
      ...env,
    },
    scriptParentDir: dir,
    ...options,
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const calls = (): RecordedCall[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as RecordedCall)
      : [];
  return { sender, dir, log, calls };
}

const signal = () => new AbortController().signal;

function expectScriptCall(call: RecordedCall | undefined, mode: 'chat' | 'buddy', target: string, text: string): void {
  expect(call).toBeDefined();
  const argv = call?.argv ?? [];
  expect(argv).toHaveLength(6);
  expect(argv.slice(0, 2)).toEqual(['-l', 'AppleScript']);
  expect(argv[2]).toMatch(/\/pavise-osascript-[^/]+\/send-imessage\.applescript$/);
  expect(argv[3]).toBe(mode);
  expect(argv[4]).toBe(target);
  expect(argv[5]).toBe(text);
  expect(call?.scriptSha256).toBe(SEND_SCRIPT_SHA256);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the fixed send script', () => {
  it('is pinned by its SHA-256, so an edit is always deliberate', () => {
    expect(sha256(SEND_SCRIPT)).toBe(SEND_SCRIPT_SHA256);
  });

  it('is plain ASCII AppleScript with an `on run argv` handler and no way to reach a shell', () => {
    expect(SEND_SCRIPT).toMatch(/^[\t\n\x20-\x7e]*$/);
    expect(SEND_SCRIPT).toContain('on run argv');
    expect(SEND_SCRIPT).toContain('send theText to chat id theTarget');
    expect(SEND_SCRIPT).toContain('1st account whose service type = iMessage');
    expect(SEND_SCRIPT).toContain('1st service whose service type = iMessage');
    expect(SEND_SCRIPT).toContain('participant theTarget of iMessageAccount');
    expect(SEND_SCRIPT).toContain('buddy theTarget of iMessageAccount');
    expect(SEND_SCRIPT).not.toMatch(/do shell script|run script|osascript|System Events/i);
    for (const marker of Object.values(SEND_SCRIPT_ERRORS)) expect(SEND_SCRIPT).toContain(`"${marker} `);
  });
});

describe('AppleScriptSender: untrusted strings reach osascript only as argv', () => {
  it.each(injectionStrings)('%s: sent byte-identical as the message text, to a handle and to a chat', async (_label, value) => {
    const { sender, calls } = recorder();
    await expect(sender.send({ handle: PHONE }, value, signal())).resolves.toEqual({ ok: true, externalIds: [] });
    await expect(sender.send({ chatGuid: 'iMessage;+;chat123456789' }, value, signal())).resolves.toEqual({
      ok: true,
      externalIds: [],
    });
    const [toHandle, toChat] = calls();
    expectScriptCall(toHandle, 'buddy', PHONE, value);
    expectScriptCall(toChat, 'chat', 'iMessage;+;chat123456789', value);
  });

  it.each(injectionStrings)('%s: refused as a handle before anything runs', async (_label, value) => {
    const { sender, calls } = recorder();
    for (const handle of [value, `${PHONE}${value}`, `${value}@example.com`]) {
      const result = await sender.send({ handle }, 'hello', signal());
      expect(result).toMatchObject({ ok: false, retryable: false });
    }
    expect(calls()).toEqual([]);
  });

  it.each(injectionStrings)('%s: inside a chat id, refused unless it is a well-formed id, then passed unchanged', async (_label, value) => {
    const { sender, calls } = recorder();
    const guid = `iMessage;-;${value}`;
    const wellFormed = !/[\s;]/.test(value) && !/\p{C}/u.test(value) && value.length > 0;
    const result = await sender.send({ chatGuid: guid }, 'hello', signal());
    if (wellFormed) {
      expect(result).toEqual({ ok: true, externalIds: [] });
      expectScriptCall(calls()[0], 'chat', guid, 'hello');
    } else {
      expect(result).toMatchObject({ ok: false, retryable: false });
      expect(calls()).toEqual([]);
    }
  });

  it('refuses the recipient-field break-out in every target form', async () => {
    const { sender, calls } = recorder();
    const payload = fixture.breakout_payloads.find((p) => p.id === 'recipient-field')?.payload ?? '';
    expect(payload).toContain('do shell script');
    for (const target of [{ handle: payload }, { chatGuid: payload }, { chatGuid: `iMessage;-;${payload}` }]) {
      expect(await sender.send(target, 'hi', signal())).toMatchObject({ ok: false, retryable: false });
    }
    expect(calls()).toEqual([]);
  });

  it('runs no shell: $() and backticks in the text are not expanded', async () => {
    const { sender, dir, calls } = recorder();
    const text = `$(touch ${dir}/pwned)\`touch ${dir}/pwned2\`; touch ${dir}/pwned3 && echo "$HOME" '$USER'`;
    expect(await sender.send({ handle: PHONE }, text, signal())).toEqual({ ok: true, externalIds: [] });
    expectScriptCall(calls()[0], 'buddy', PHONE, text);
    for (const name of ['pwned', 'pwned2', 'pwned3']) expect(existsSync(join(dir, name))).toBe(false);
  });

  it('passes the script file, with the pinned hash, to every call, keeps it private and removes it afterwards', async () => {
    const { sender, calls } = recorder();
    for (const [i, [, value]] of injectionStrings.entries()) {
      const target: ImessageSendTarget = i % 2 === 0 ? { handle: 'someone@example.com' } : { chatGuid: 'any;-;+447700900123' };
      expect(await sender.send(target, value, signal())).toEqual({ ok: true, externalIds: [] });
    }
    const recorded = calls();
    expect(recorded).toHaveLength(injectionStrings.length);
    expect(new Set(recorded.map((call) => call.scriptSha256))).toEqual(new Set([SEND_SCRIPT_SHA256]));
    expect(new Set(recorded.map((call) => call.scriptMode))).toEqual(new Set([0o600]));
    expect(new Set(recorded.map((call) => call.folderMode))).toEqual(new Set([0o700]));
    for (const call of recorded) expect(existsSync(dirname(call.argv[2] ?? ''))).toBe(false);
  });

  it('uses PAVISE_OSASCRIPT from the environment when no path is given', async () => {
    const { sender, calls } = recorder({ PAVISE_OSASCRIPT: RECORDER }, { osascriptPath: undefined });
    expect(await sender.send({ handle: PHONE }, 'via env', signal())).toEqual({ ok: true, externalIds: [] });
    expectScriptCall(calls()[0], 'buddy', PHONE, 'via env');
  });

  it.each([
    ['a send that succeeds', {}],
    ['a send Messages refuses', { PAVISE_OSASCRIPT_FAIL: '-1743' }],
    ['a send that times out', { PAVISE_OSASCRIPT_FAIL: 'timeout' }],
  ])('leaves no pavise-osascript folder behind after %s', async (_label, env) => {
    const { sender, dir, calls } = recorder(env, { timeoutMs: 500 });
    await sender.send({ handle: PHONE }, 'hi', signal());
    await sender.send({ chatGuid: 'iMessage;+;chat123456789' }, 'hi', signal());
    expect(calls()).toHaveLength(2);
    for (const call of calls()) expect(call.argv[2]).toContain(`${dir}/pavise-osascript-`);
    expect(readdirSync(dir).filter((name) => name.startsWith('pavise-osascript-'))).toEqual([]);
  });
});

describe('targets', () => {
  it.each([
    'iMessage;-;+15555550100',
    'iMessage;-;someone@example.com',
    'iMessage;+;chat123456789012345678',
    'SMS;-;+15555550100',
    'SMS;-;12345',
    'RCS;-;+4915112345678',
    'any;-;+15555550100',
    'any;+;chat123456789012345678',
  ])('accepts the chat id %j', (guid) => {
    expect(isChatGuid(guid)).toBe(true);
    expect(checkSendTarget({ chatGuid: guid })).toEqual({ ok: true, mode: 'chat', value: guid });
  });

  it.each([
    '+15555550100',
    'someone@example.com',
    'first.last+tag@mail.example.co.uk',
    'UPPER_case%1@Example-Domain.org',
    '+4915112345678',
  ])('accepts the handle %j', (handle) => {
    expect(isHandle(handle)).toBe(true);
    expect(checkSendTarget({ handle })).toEqual({ ok: true, mode: 'buddy', value: handle });
  });

  const badChatIds = [
    '',
    'Mom',
    'chat123456789',
    '+15555550100',
    'iMessage;-;',
    'iMessage;x;+15555550100',
    'Jabber;-;someone@example.com',
    'imessage;-;+15555550100',
    'iMessage;-;+1555 5550100',
    'iMessage;-;+15555550100;extra',
    'iMessage;-;+15555550100\n',
    'iMessage;-;+1555\u200b5550100',
    'iMessage;-;+1555\u202e0100',
    'iMessage;-;+1555\u00005550100',
    `iMessage;+;chat${'1'.repeat(600)}`,
  ];
  const badHandles = [
    '',
    'Mom',
    'John Appleseed',
    '5555550100',
    '15555550100',
    '+0155555501',
    '+12345',
    '+1234567890123456',
    '+1 555 555 0100',
    '+1-555-555-0100',
    '+15555550100\n',
    ' +15555550100',
    'a@b',
    '@example.com',
    'someone@',
    '.someone@example.com',
    'some..one@example.com',
    'someone.@example.com',
    'someone@-example.com',
    'someone@example-.com',
    'some one@example.com',
    'someone@example.com,other@example.com',
    'someone@@example.com',
    'sömeone@example.com',
    'someone@exam\u200bple.com',
    'iMessage;-;+15555550100',
    `${'a'.repeat(65)}@example.com`,
  ];

  it.each(badChatIds)('refuses the chat id %j before anything runs', async (chatGuid) => {
    const { sender, calls } = recorder();
    const result = await sender.send({ chatGuid }, 'hello', signal());
    expect(result).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/Not a Messages chat id/) });
    expect(calls()).toEqual([]);
  });

  it.each(badHandles)('refuses the handle %j before anything runs', async (handle) => {
    const { sender, calls } = recorder();
    const result = await sender.send({ handle }, 'hello', signal());
    expect(result).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/Not an iMessage handle/) });
    expect(calls()).toEqual([]);
  });

  it('refuses a target that names both a chat and a handle, or neither, or has no string', async () => {
    const { sender, calls } = recorder();
    const both = { chatGuid: 'iMessage;-;+15555550100', handle: PHONE } as unknown as ImessageSendTarget;
    expect(await sender.send(both, 'hi', signal())).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/Ambiguous/) });
    for (const target of [{}, null, 'iMessage;-;+15555550100', { handle: 15555550100 }, { chatGuid: ['iMessage;-;+1'] }]) {
      expect(await sender.send(target as unknown as ImessageSendTarget, 'hi', signal())).toMatchObject({ ok: false, retryable: false });
    }
    expect(calls()).toEqual([]);
  });
});

describe('splitMessage', () => {
  const graphemeBoundaries = (text: string) =>
    new Set([...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)].map((s) => s.index).concat(text.length));

  function expectWellSplit(text: string, chunks: string[], maxLength: number, graphemeSafe = true): void {
    expect(chunks.join('')).toBe(text);
    const boundaries = graphemeBoundaries(text);
    let position = 0;
    for (const chunk of chunks) {
      expect(chunk.length).toBeGreaterThan(0);
      expect(chunk.length).toBeLessThanOrEqual(maxLength);
      expect(/\p{Cs}/u.test(chunk)).toBe(/\p{Cs}/u.test(text));
      position += chunk.length;
      if (graphemeSafe) expect(boundaries.has(position)).toBe(true);
    }
  }

  it('leaves short text whole and returns nothing for empty text', () => {
    expect(splitMessage('')).toEqual([]);
    expect(splitMessage('hello')).toEqual(['hello']);
    expect(splitMessage('x'.repeat(2000))).toEqual(['x'.repeat(2000)]);
    expect(splitMessage('x'.repeat(2001))).toHaveLength(2);
  });

  it('refuses a maximum below 2 or not an integer', () => {
    for (const bad of [0, 1, 1.5, Number.NaN, -5, Number.POSITIVE_INFINITY]) {
      expect(() => splitMessage('abc', bad)).toThrow(RangeError);
    }
  });

  it('breaks between paragraphs first, keeping the blank line at the end of the earlier chunk', () => {
    const paragraphs = Array.from({ length: 9 }, (_, i) => `Paragraph ${i}. ${'Some words here. '.repeat(30)}`.trim());
    const text = paragraphs.join('\n\n');
    const chunks = splitMessage(text, 2000);
    expectWellSplit(text, chunks, 2000);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks.slice(0, -1)) expect(chunk).toMatch(/\.\n\n$/);
    for (const chunk of chunks.slice(1)) expect(chunk).toMatch(/^Paragraph \d/);
  });

  it('then between lines, then after a sentence, then between words', () => {
    const lines = Array.from({ length: 80 }, (_, i) => `line ${i} ${'word '.repeat(10)}end`).join('\n');
    for (const chunk of splitMessage(lines, 500).slice(0, -1)) expect(chunk).toMatch(/end\n$/);

    const sentences = Array.from({ length: 200 }, (_, i) => `Sentence ${i} says something rather plain.`).join(' ');
    const bySentence = splitMessage(sentences, 2000);
    expectWellSplit(sentences, bySentence, 2000);
    for (const chunk of bySentence.slice(0, -1)) expect(chunk).toMatch(/plain\. $/);
    for (const chunk of bySentence.slice(1)) expect(chunk).toMatch(/^Sentence \d+ /);

    const words = 'lorem ipsum dolor sit amet consectetur '.repeat(200).trim();
    const byWord = splitMessage(words, 2000);
    expectWellSplit(words, byWord, 2000);
    for (const chunk of byWord.slice(0, -1)) expect(chunk).toMatch(/[a-z] $/);
    for (const chunk of byWord.slice(1)) expect(chunk).toMatch(/^(lorem|ipsum|dolor|sit|amet|consectetur) /);
  });

  it('does not break a paragraph early just to end at a paragraph break', () => {
    const text = `Short.\n\n${'long words and more words '.repeat(200)}`;
    const chunks = splitMessage(text, 2000);
    expectWellSplit(text, chunks, 2000);
    expect(chunks[0]?.length).toBeGreaterThan(1900);
  });

  it('breaks Chinese and Japanese text, which has no spaces, at word boundaries', () => {
    const text = '我们今天去公园散步然后一起吃晚饭。'.repeat(150) + '今日は良い天気ですね'.repeat(100);
    const chunks = splitMessage(text, 500);
    expectWellSplit(text, chunks, 500);
    const words = new Set([...new Intl.Segmenter(undefined, { granularity: 'word' }).segment(text)].map((s) => s.index));
    let position = 0;
    for (const chunk of chunks.slice(0, -1)) {
      position += chunk.length;
      expect(words.has(position)).toBe(true);
    }
  });

  it.each([
    ['family emoji (ZWJ sequences)', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}\u200d\u{1F466}'],
    ['flags (regional indicator pairs)', '\u{1F1FA}\u{1F1F8}\u{1F1EB}\u{1F1F7}\u{1F1EF}\u{1F1F5}'],
    ['skin tones', '\u{1F44D}\u{1F3FD}\u{1F44B}\u{1F3FF}'],
    ['combining accents', 'e\u0301a\u0308o\u0302\u0323'],
    ['keycaps and variation selectors', '1\ufe0f\u20e3\u2764\ufe0f#\ufe0f\u20e3'],
    ['Hangul jamo', '\u1100\u1161\u11a8\u1102\u1161'],
    ['Devanagari', 'क्षत्रिय'],
  ])('never splits %s', (_label, unit) => {
    for (const maxLength of [13, 64, 101, 2000]) {
      const text = unit.repeat(Math.ceil(5000 / unit.length));
      const chunks = splitMessage(text, maxLength);
      expectWellSplit(text, chunks, maxLength);
      expect(chunks.length).toBeGreaterThan(1);
    }
  });

  it('keeps CRLF together', () => {
    const text = 'abcd\r\nefgh\r\n'.repeat(300);
    for (const maxLength of [5, 7, 11, 100]) {
      const chunks = splitMessage(text, maxLength);
      expectWellSplit(text, chunks, maxLength);
      for (const chunk of chunks) expect(chunk.startsWith('\n')).toBe(false);
    }
  });

  it('cuts a single grapheme longer than the maximum between code points, never inside a surrogate pair', () => {
    const zalgo = `Z${'\u0301'.repeat(5000)} then ${'a\u{1D167}'.repeat(10)}b${'\u{1D167}'.repeat(3000)} end`;
    for (const maxLength of [2000, 2001, 333]) {
      const chunks = splitMessage(zalgo, maxLength);
      expectWellSplit(zalgo, chunks, maxLength, false);
    }
  });

  it('holds for random mixes of scripts, emoji and white space', () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pieces = [
      'word', ' ', '  ', '\n', '\n\n', '\r\n', '. ', '? ', '\u00a0', '\t', '\u2028', '\u2029',
      '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}\u200d\u{1F466}', '\u{1F1FA}\u{1F1F8}', '\u{1F44D}\u{1F3FD}', 'e\u0301',
      '中文字符', 'https://example.com/a/b?c=d&e=f', 'Mr. Smith', '…', '"quoted"', '\\', 'ﷺ', '\u{1D11E}',
    ];
    for (let round = 0; round < 300; round++) {
      let text = '';
      const target = 1 + Math.floor(random() * 4000);
      while (text.length < target) text += pieces[Math.floor(random() * pieces.length)];
      const maxLength = 12 + Math.floor(random() * 400);
      expectWellSplit(text, splitMessage(text, maxLength), maxLength);
    }
  });
});

describe('AppleScriptSender: text', () => {
  it('sends long text in order, in chunks that reassemble exactly', async () => {
    const { sender, calls } = recorder();
    const text = Array.from({ length: 12 }, (_, i) => `Part ${i}: ${'All work and no play. '.repeat(25)}`).join('\n\n');
    expect(text.length).toBeGreaterThan(4000);
    expect(await sender.send({ chatGuid: 'iMessage;+;chat42' }, text, signal())).toEqual({ ok: true, externalIds: [] });
    const chunks = splitMessage(text, 2000);
    const recorded = calls();
    expect(recorded).toHaveLength(chunks.length);
    recorded.forEach((call, i) => expectScriptCall(call, 'chat', 'iMessage;+;chat42', chunks[i] ?? ''));
    expect(recorded.map((call) => call.argv[5]).join('')).toBe(text);
  });

  it('honours a smaller chunk length and refuses text that needs too many chunks, before sending any', async () => {
    const small = recorder({}, { maxChunkLength: 100, maxChunks: 3 });
    expect(await small.sender.send({ handle: PHONE }, 'word '.repeat(60), signal())).toEqual({ ok: true, externalIds: [] });
    expect(small.calls()).toHaveLength(3);
    const result = await small.sender.send({ handle: PHONE }, 'word '.repeat(61), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/too long: 4 parts/) });
    expect(small.calls()).toHaveLength(3);
  });

  it('removes NUL bytes and nothing else; a text of only NULs is refused', async () => {
    const { sender, calls } = recorder();
    expect(await sender.send({ handle: PHONE }, '\0a\0b\u0001 c\0', signal())).toEqual({ ok: true, externalIds: [] });
    expectScriptCall(calls()[0], 'buddy', PHONE, 'ab\u0001 c');
    expect(await sender.send({ handle: PHONE }, '\0\0', signal())).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/empty/) });
    expect(await sender.send({ handle: PHONE }, '', signal())).toMatchObject({ ok: false, retryable: false });
    expect(calls()).toHaveLength(1);
  });

  it('turns a lone surrogate into U+FFFD, as argv would anyway', async () => {
    expect(prepareMessageText('a\ud800b\udc00c\u{1F600}')).toBe('a\ufffdb\ufffdc\u{1F600}');
    const { sender, calls } = recorder();
    expect(await sender.send({ handle: PHONE }, 'x\ud83dy', signal())).toEqual({ ok: true, externalIds: [] });
    expectScriptCall(calls()[0], 'buddy', PHONE, 'x\ufffdy');
  });
});

describe('AppleScriptSender: failures', () => {
  it.each(['-1743', '-1744'])('error %s: names the Automation setting and is not retried', async (code) => {
    const { sender } = recorder({ PAVISE_OSASCRIPT_FAIL: code });
    const result = await sender.send({ handle: PHONE }, 'hi', signal());
    expect(result).toMatchObject({ ok: false, retryable: false });
    if (result.ok) return;
    expect(result.message).toContain('Privacy & Security → Automation');
    expect(result.message).toContain('allow Pavise to control Messages');
    expect(result.message).toContain(SETTINGS_URLS.automation);
  });

  it('a missing osascript says sending works only on macOS', async () => {
    const { sender } = recorder({}, { osascriptPath: '/nonexistent/bin/osascript' });
    const result = await sender.send({ handle: PHONE }, 'hi', signal());
    expect(result).toEqual({
      ok: false,
      retryable: false,
      message: 'osascript not found (/nonexistent/bin/osascript): iMessage sending works only on macOS.',
    });
  });

  it('an osascript that cannot be executed is not retried', async () => {
    const { sender, dir } = recorder();
    const notExecutable = join(dir, 'osascript');
    writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    const blocked = new AppleScriptSender({ osascriptPath: notExecutable, scriptParentDir: dir });
    expect(await blocked.send({ handle: PHONE }, 'hi', signal())).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/EACCES/) });
  });

  it('a value Node cannot pass to a process is a failure, not a rejection', async () => {
    const { sender, calls } = recorder({ PAVISE_BROKEN: 'a\0b' });
    expect(await sender.send({ handle: PHONE }, 'hi', signal())).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/could not be started/) });
    expect(calls()).toEqual([]);
  });

  it('an ambiguous handle, reported by the script, is not guessed at', async () => {
    const { sender } = recorder({ PAVISE_OSASCRIPT_FAIL: 'ambiguous' });
    const result = await sender.send({ handle: 'someone@example.com' }, 'hi', signal());
    expect(result).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/more than one person/) });
  });

  it('Messages not running is retryable', async () => {
    const { sender } = recorder({ PAVISE_OSASCRIPT_FAIL: '-600' });
    expect(await sender.send({ handle: PHONE }, 'hi', signal())).toMatchObject({ ok: false, retryable: true, message: expect.stringMatching(/not running/) });
  });

  it('an unknown chat is not retried', async () => {
    const { sender, calls } = recorder({ PAVISE_OSASCRIPT_FAIL: '-1728' });
    const result = await sender.send({ chatGuid: 'any;+;chat123456789' }, 'hi', signal());
    expect(result).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/no chat with the id/) });
    expect(calls()).toHaveLength(1);
  });

  it('a 1:1 chat Messages does not know by id is sent to its handle instead', async () => {
    const { sender, calls } = recorder({ PAVISE_OSASCRIPT_FAIL: '-1728', PAVISE_OSASCRIPT_FAIL_MODE: 'chat' });
    const text = 'first part. '.repeat(200);
    expect(await sender.send({ chatGuid: 'any;-;someone@example.com' }, text, signal())).toEqual({ ok: true, externalIds: [] });
    const [failed, ...sent] = calls();
    const chunks = splitMessage(text, 2000);
    expectScriptCall(failed, 'chat', 'any;-;someone@example.com', chunks[0] ?? '');
    expect(sent).toHaveLength(chunks.length);
    sent.forEach((call, i) => expectScriptCall(call, 'buddy', 'someone@example.com', chunks[i] ?? ''));
  });

  it('a failure after some chunks went out is not retryable, so nothing is sent twice', async () => {
    const { sender, calls } = recorder({ PAVISE_OSASCRIPT_FAIL: '-600', PAVISE_OSASCRIPT_FAIL_AFTER: '1' });
    const result = await sender.send({ handle: PHONE }, 'word '.repeat(1000), signal());
    expect(result).toMatchObject({ ok: false, retryable: false, message: expect.stringMatching(/^Sent 1 of 3 parts, then: Messages is not running/) });
    expect(calls()).toHaveLength(2);
  });

  it('a timeout kills osascript and is retryable', async () => {
    const { sender, calls } = recorder({ PAVISE_OSASCRIPT_FAIL: 'timeout' }, { timeoutMs: 500 });
    const result = await sender.send({ handle: PHONE }, 'hi', signal());
    expect(result).toMatchObject({ ok: false, retryable: true, message: expect.stringMatching(/did not answer/) });
    const pid = calls()[0]?.pid ?? 0;
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('aborting kills osascript and stops the send', async () => {
    const { sender, calls } = recorder({ PAVISE_OSASCRIPT_FAIL: 'timeout' }, { timeoutMs: 60_000 });
    const controller = new AbortController();
    const started = Date.now();
    const sending = sender.send({ handle: PHONE }, 'word '.repeat(1000), controller.signal);
    const pid = await waitFor(() => calls()[0]?.pid);
    expect(isAlive(pid)).toBe(true);
    controller.abort();
    expect(await sending).toMatchObject({ ok: false, retryable: true, message: expect.stringMatching(/cancelled/) });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(isAlive(pid)).toBe(false);
    expect(calls()).toHaveLength(1);
  });

  it('an already aborted signal runs nothing', async () => {
    const { sender, calls } = recorder();
    const controller = new AbortController();
    controller.abort();
    expect(await sender.send({ handle: PHONE }, 'hi', controller.signal)).toMatchObject({ ok: false, retryable: true });
    expect(calls()).toEqual([]);
  });
});
