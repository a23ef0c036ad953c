/**
 * Idle CPU of `pavise gateway` with both channels running (iMessage on a chat.db in WAL mode, Telegram long
 * polling a local Bot API), measured from /proc over a quiet window. Target: < 1 % of one core.
 * Usage: npm run bench -- gateway [SECONDS]   (default 60)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeAnthropic } from '../test/fakes/fake-anthropic-server.js';
import { startFakeBotApi, TEST_BOT_TOKEN } from '../test/fakes/fake-bot-api.js';
import { createChatDb } from '../test/helpers/chat-db.js';
import { FAKE_ANTHROPIC_KEY, runCli, spawnCli, tempHome } from '../test/helpers/cli.js';

const SECONDS = Number(process.argv[2] ?? 60);
const TICKS = 100; // USER_HZ on Linux

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

const llm = await startFakeAnthropic();
const bot = await startFakeBotApi({ tokens: [TEST_BOT_TOKEN] });
const chatDb = createChatDb();
const owner = '+15550001111';
const handle = chatDb.addHandle(owner);
chatDb.addChat({ guid: `iMessage;-;${owner}`, handles: [handle] });
const made = tempHome({
  model: { provider: 'anthropic', baseURL: llm.url },
  channels: { imessage: { enabled: true, owners: [owner], chatDbPath: chatDb.path }, telegram: { enabled: true, owners: [1], apiRoot: bot.apiRoot } },
});
const env = { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, PAVISE_OSASCRIPT: '/bin/true', PAVISE_OSASCRIPT_LOG: join(made.home, 'o.log') };
await runCli(['secrets', 'set', 'telegram-bot-token'], { env, input: TEST_BOT_TOKEN });
const child = spawnCli(['gateway'], env);
let output = '';
child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
try {
  const deadline = Date.now() + 20_000;
  while (!(output.includes('imessage: connected') && output.includes('telegram: connected'))) {
    if (Date.now() > deadline) throw new Error(`gateway did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // let start-up work settle
  const pid = child.pid as number;
  const before = cpuTicks(pid);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const elapsed = (performance.now() - started) / 1000;
  const used = (cpuTicks(pid) - before) / TICKS;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  console.log(
    JSON.stringify({
      benchmark: 'gateway',
      description: 'pavise gateway idle with iMessage (chat.db watch) and Telegram (long polling)',
      seconds: Math.round(elapsed),
      cpuSeconds: Math.round(used * 100) / 100,
      cpuPercent: Math.round((used / elapsed) * 10_000) / 100,
      rssMiB: Math.round(rss),
      telegramPolls: bot.callsTo('getUpdates').length,
      targetPercent: 1,
    }),
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  child.kill('SIGKILL');
  chatDb.cleanup();
  made.cleanup();
  await bot.close();
  await llm.close();
}
