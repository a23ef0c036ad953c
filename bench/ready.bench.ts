/**
 * `pavise gateway` from spawn until every enabled channel has reported connected (`imessage: connected` and
 * `telegram: connected` on stdout): the built binary, iMessage on a chat.db made from the real schema, Telegram
 * against the fake Bot API, the bot token in the real Secret Service (run.mjs runs this inside a private keyring).
 * Median of RUNS. Target: under 500 ms.
 *
 * The breakdown says where the time goes: when each stdout line and each Bot API call arrived (same clock as the
 * spawn), a bare `node` start for scale, and one extra run under --cpu-prof whose samples are summed by where the
 * code lives (a package in node_modules, the bundle, Node itself; "(idle)" is waiting: Keychain, disk, network).
 *
 * Usage: npm run bench -- ready [RUNS]   (default 10)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeAnthropic } from '../test/fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN } from '../test/fakes/fake-bot-api.js';
import { createChatDb } from '../test/helpers/chat-db.js';
import { FAKE_ANTHROPIC_KEY, PAVISE_BIN, runCli, tempHome } from '../test/helpers/cli.js';

const RUNS = Number(process.argv[2] ?? 10);
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error('Usage: npm run bench -- ready [RUNS]   (a positive integer, e.g. 10)');

const llm = await startFakeAnthropic();
const bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
const chatDb = createChatDb();
const owner = '+15550001111';
const handle = chatDb.addHandle(owner);
const chat = chatDb.addChat({ guid: `iMessage;-;${owner}`, handles: [handle] });
for (let i = 0; i < 100; i++) chatDb.addMessage({ chat, handle, text: `history ${i}` });
const made = tempHome({
  model: { provider: 'anthropic', baseURL: llm.url },
  channels: { imessage: { enabled: true, owners: [owner], chatDbPath: chatDb.path }, telegram: { enabled: true, owners: [1], apiRoot: bot.apiRoot } },
});
const env = { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, PAVISE_OSASCRIPT: '/bin/true', PAVISE_OSASCRIPT_LOG: join(made.home, 'o.log') };

const round = (value: number) => Math.round(value * 10) / 10;
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

interface Run {
  readonly readyMs: number;
  /** Milliseconds from spawn to each stdout line's arrival, by the line's text without its time stamp. */
  readonly lines: Record<string, number>;
  /** Milliseconds from spawn to each Bot API call, in order. */
  readonly botCalls: readonly { method: string; ms: number }[];
}

async function once(extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const callsBefore = bot.calls.length;
  const started = performance.now();
  const child = spawn(process.execPath, [PAVISE_BIN, 'gateway'], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, number> = {};
  let output = '';
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const at = performance.now() - started;
    output += chunk;
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) lines[line.replace(/^\d\d:\d\d:\d\d /, '')] ??= round(at);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const deadline = Date.now() + 20_000;
    while (lines['imessage: connected'] === undefined || lines['telegram: connected'] === undefined) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the gateway did not connect both channels:\n${output}`);
      await sleep(2);
    }
    const readyMs = Math.max(lines['imessage: connected'] as number, lines['telegram: connected'] as number);
    const botCalls = bot.calls.slice(callsBefore).map((call) => ({ method: call.method, ms: round(call.receivedAt - started) }));
    return { readyMs, lines, botCalls };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  }
}

/** Self time of one profiled run, summed by where the code lives. */
function profileBreakdown(dir: string): Record<string, number> {
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) return {};
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    nodes: { id: number; callFrame: { url: string; functionName: string } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const where = new Map(
    profile.nodes.map((node) => {
      const url = node.callFrame.url;
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
      const category = pkg
        ? pkg
        : url.includes('/dist/')
          ? `dist/${url.split('/dist/')[1]?.replace(/-[A-Z0-9]{8}\.js$/, '.js')}`
          : url.includes('/bin/')
            ? 'bin/pavise.js'
            : url.startsWith('node:')
              ? 'node itself'
              : url === ''
                ? node.callFrame.functionName || '(native)'
                : url;
      return [node.id, category] as const;
    }),
  );
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const category = where.get(id) ?? '?';
    totals.set(category, (totals.get(category) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]).filter(([, ms]) => ms >= 2).map(([category, ms]) => [category, round(ms)]));
}

const profileDir = mkdtempSync(join(tmpdir(), 'pavise-ready-prof-'));
try {
  const stored = await runCli(['secrets', 'set', 'telegram-bot-token'], { env, input: TEST_BOT_TOKEN });
  if (stored.code !== 0) throw new Error(`storing the bot token failed: ${stored.stderr}`);
  await once(); // warm the disk cache and create the database; not counted
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once());
  const bare: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    bare.push(performance.now() - started);
  }
  await once({ NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` });
  const typical = runs.reduce((best, run) => (Math.abs(run.readyMs - median(runs.map((r) => r.readyMs))) < Math.abs(best.readyMs - median(runs.map((r) => r.readyMs))) ? run : best));
  const lineMedian = (text: string) => round(median(runs.map((run) => run.lines[text] ?? Number.NaN)));
  console.log(
    JSON.stringify({
      benchmark: 'ready',
      description: 'pavise gateway from spawn until imessage and telegram both report connected (real Secret Service, fake Bot API)',
      runs: RUNS,
      medianMs: round(median(runs.map((run) => run.readyMs))),
      minMs: round(Math.min(...runs.map((run) => run.readyMs))),
      maxMs: round(Math.max(...runs.map((run) => run.readyMs))),
      breakdownMedianMs: {
        nodeBareStartAndExit: round(median(bare)),
        gatewayRunningLine: lineMedian(`gateway running: imessage, telegram (Ctrl-C stops)`),
        imessageConnected: lineMedian('imessage: connected'),
        telegramConnected: lineMedian('telegram: connected'),
      },
      typicalRun: { lines: typical.lines, botCalls: typical.botCalls },
      profiledRunSelfMs: profileBreakdown(profileDir),
      targetMs: 500,
    }),
  );
} finally {
  rmSync(profileDir, { recursive: true, force: true });
  chatDb.cleanup();
  made.cleanup();
  await bot.close();
  await llm.close();
}
