/**
 * The hands: web_fetch of a ~2 MB article to Markdown over real HTTPS on loopback (median of RUNS), and an IMAP
 * search (text in subject or body) over a 10,000-message mailbox in a real Dovecot, cold (first search, Dovecot
 * builds its index) and warm (median of RUNS). Sandbox start to first output: run_command's `ls` in a real bwrap box
 * (Linux) from the call to its output, median of RUNS, after one unmeasured warm-up.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sandboxSupport } from '../main/platform/sandbox/sandbox.js';
import { MailService } from '../main/tools/mail/mail-service.js';
import { CommandResolver } from '../main/tools/terminal/command-resolution.js';
import { createTerminalTools } from '../main/tools/terminal/terminal-tools.js';
import { WebFetcher } from '../main/tools/web/web-fetcher.js';
import { createWebTools } from '../main/tools/web/web-tools.js';
import { startDovecot } from '../test/helpers/dovecot.js';
import { startLoopbackHttps } from '../test/helpers/loopback-https.js';
import { MemorySecretStore } from '../test/helpers/memory-secret-store.js';

const RUNS = Number(process.argv[2] ?? 5);
const MESSAGES = 10_000;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round((sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) * 10) / 10;
};

function bigArticle(): string {
  const paragraphs: string[] = [];
  for (let i = 0; paragraphs.join('').length < 2 * 1024 * 1024; i++) {
    paragraphs.push(
      `<p>Paragraph ${i}: the council discussed <a href="/item/${i}">item ${i}</a>, with <em>several</em> amendments about parks, roads, schools and the library budget for the coming year, and a long list of questions from residents.</p>`,
    );
    if (i % 50 === 0) paragraphs.push(`<h2>Section ${i / 50}</h2>`);
  }
  return `<!doctype html><html><head><title>Council minutes</title></head><body><nav>Home | News</nav><article><h1>Council minutes</h1>${paragraphs.join('\n')}</article><footer>footer</footer></body></html>`;
}

async function webFetch(): Promise<{ pageBytes: number; markdownChars: number; medianMs: number; runs: number[] }> {
  const page = bigArticle();
  const server = await startLoopbackHttps(['minutes.test'], (_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(page));
  try {
    const [tool] = createWebTools({ fetcher: new WebFetcher(server.transport), httpHosts: [] });
    const runs: number[] = [];
    let chars = 0;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      const output = await tool!.execute({ url: server.url('minutes.test', '/minutes') }, { sessionId: 'b', callId: 'b', signal: new AbortController().signal });
      runs.push(performance.now() - started);
      chars = typeof output === 'string' ? output.length : output.content.length;
    }
    return { pageBytes: Buffer.byteLength(page), markdownChars: chars, medianMs: median(runs), runs: runs.map((ms) => Math.round(ms)) };
  } finally {
    await server.close();
  }
}

async function imapSearch(): Promise<{ messages: number; coldMs: number; warmMedianMs: number; found: number }> {
  const dovecot = await startDovecot();
  try {
    // The mailbox is written as Maildir files before the first login (appending 10,000 over IMAP would measure the
    // appends); Dovecot indexes it at the first search, which is the cold figure.
    const maildir = join(dovecot.dir, 'mail', dovecot.user);
    const root = userInfo().uid === 0;
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true, mode: 0o777 });
    if (root) for (const path of [maildir, join(maildir, 'cur'), join(maildir, 'new'), join(maildir, 'tmp')]) chmodSync(path, 0o777);
    for (let i = 0; i < MESSAGES; i++) {
      const subject = i % 1000 === 7 ? `Invoice ${i} overdue` : `Newsletter ${i}`;
      const body = `Hello,\r\n\r\nThis is message ${i} about topic ${i % 97}.\r\n${'Lorem ipsum dolor sit amet. '.repeat(10)}\r\n`;
      const raw = `From: sender${i % 300}@example.com\r\nTo: ${dovecot.user}\r\nSubject: ${subject}\r\nDate: ${new Date(Date.UTC(2025, 0, 1) + i * 60_000).toUTCString()}\r\nMessage-ID: <m${i}@example.com>\r\n\r\n${body}`;
      const file = join(maildir, 'cur', `${1_700_000_000 + i}.M${i}P1.bench:2,S`);
      writeFileSync(file, raw, { mode: 0o666 });
    }
    const secrets = new MemorySecretStore();
    await secrets.set('mail-bench', dovecot.password);
    const mail = new MailService([{ id: 'bench', address: dovecot.user, imap: { host: '127.0.0.1', port: dovecot.port, tls: 'none' }, smtp: { host: '127.0.0.1', port: 25, tls: 'none' } }], secrets);
    const query = { mailbox: 'INBOX', text: 'overdue', limit: 20 };
    let started = performance.now();
    const first = await mail.search('bench', query);
    const coldMs = performance.now() - started;
    const warm: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      started = performance.now();
      await mail.search('bench', query);
      warm.push(performance.now() - started);
    }
    return { messages: MESSAGES, coldMs: Math.round(coldMs), warmMedianMs: median(warm), found: first.length };
  } finally {
    await dovecot.stop();
  }
}

async function sandboxStart(): Promise<{ medianMs: number; runs: number[] } | { measured: false; reason: string }> {
  const support = sandboxSupport();
  if (!support.ok) return { measured: false, reason: support.message };
  const folder = mkdtempSync(join(tmpdir(), 'pavise-bench-term-'));
  try {
    writeFileSync(join(folder, 'a.txt'), 'a\n');
    const resolver = new CommandResolver([{ path: folder, access: 'read' }], folder, ['ls']);
    const [tool] = createTerminalTools({ resolver, platform: process.platform });
    const input = { argv: ['ls'], cwd: folder };
    const once = async (): Promise<number> => {
      const { problem: _problem, ...resolved } = resolver.resolve(input.argv, input.cwd);
      const effects = [{ kind: 'execute' as const, argv: input.argv, ...resolved }];
      const started = performance.now();
      const output = await tool!.execute(input, { sessionId: 'b', callId: 'b', signal: new AbortController().signal, effects });
      const text = typeof output === 'string' ? output : output.content;
      if (!text.includes('a.txt')) throw new Error(`the box gave no output: ${text}`);
      return performance.now() - started;
    };
    await once();
    const runs: number[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await once());
    return { medianMs: median(runs), runs: runs.map((ms) => Math.round(ms)) };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const sandbox = await sandboxStart();
const web = await webFetch();
const imap = await imapSearch();
process.stdout.write(
  `${JSON.stringify({
    webFetch2MbToMarkdown: web,
    imapSearch10k: imap,
    sandboxStartToFirstOutput: sandbox,
  }, null, 2)}\n`,
);
