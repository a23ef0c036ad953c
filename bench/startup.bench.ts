/**
 * `pavise ask` from process start to the first request reaching the provider (the fake Anthropic API on
 * loopback), median of several runs of the built binary. Target: under 300 ms.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { anthropicText, startFakeAnthropic } from '../test/fakes/fake-anthropic-server.js';
import { PAVISE_BIN, FAKE_ANTHROPIC_KEY, tempHome } from '../test/helpers/cli.js';

const RUNS = Number(process.argv[2] ?? 15);
const fake = await startFakeAnthropic();
const { env, cleanup } = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
const childEnv = { ...env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
fake.respondWith(() => anthropicText('ok'));

function runOnce(): Promise<{ toRequestMs: number; totalMs: number }> {
  const before = fake.requests.length;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PAVISE_BIN, 'ask', 'hi'], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const request = fake.requests[before];
      if (code !== 0 || !request) return reject(new Error(`pavise ask failed (${code}): ${stderr}`));
      resolve({ toRequestMs: request.receivedAt - start, totalMs: performance.now() - start });
    });
  });
}

try {
  // The first run creates the home (database, migrations, persona, activity-log key); users pay that once.
  const firstRun = await runOnce();
  const samples: { toRequestMs: number; totalMs: number }[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await runOnce());
  const sorted = samples.map((sample) => sample.toRequestMs).sort((a, b) => a - b);
  const median = (values: number[]) => values[Math.floor(values.length / 2)] as number;
  const round = (value: number) => Math.round(value * 10) / 10;
  console.log(
    JSON.stringify({
      benchmark: 'startup',
      description: 'pavise ask: process start to first request at the provider',
      runs: RUNS,
      medianMs: round(median(sorted)),
      minMs: round(sorted[0] as number),
      maxMs: round(sorted.at(-1) as number),
      p90Ms: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] as number),
      medianTotalMs: round(median(samples.map((sample) => sample.totalMs).sort((a, b) => a - b))),
      firstRunMs: round(firstRun.toRequestMs),
      targetMs: 300,
      node: process.version,
    }),
  );
} finally {
  cleanup();
  await fake.close();
}
