/**
 * `pavise ask` from process start to the first request reaching the provider (the fake Anthropic API on
 * loopback), median of several runs of the built binary. Target: under 300 ms.
 *
 * Wall-clock time on a shared machine depends on its load, so the CPU time of each run (user + system, from the
 * kernel's account of waited-for children; Linux only, else null) is reported too: it hardly moves with load.
 * Given another built checkout, runs alternate between the two under the same conditions (an A/B comparison):
 *
 * Usage: npm run bench -- startup [RUNS] [OTHER_CHECKOUT]   (default 15 runs; e.g. a `git worktree` of a baseline)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { anthropicText, startFakeAnthropic } from '../test/fakes/fake-anthropic-server.js';
import { PAVISE_BIN, FAKE_ANTHROPIC_KEY, tempHome } from '../test/helpers/cli.js';

const RUNS = Number(process.argv[2] ?? 15);
const OTHER = process.argv[3];
if (!Number.isSafeInteger(RUNS) || RUNS < 1) throw new Error('Usage: npm run bench -- startup [RUNS] [OTHER_CHECKOUT]   (RUNS a positive integer)');
const otherBin = OTHER === undefined ? undefined : join(resolvePath(OTHER), 'bin/pavise.js');
if (otherBin !== undefined && !existsSync(otherBin)) throw new Error(`${otherBin} does not exist: name a checkout of Pavise that has been built.`);

const fake = await startFakeAnthropic();
fake.respondWith(() => anthropicText('ok'));
// One home per binary: an older build refuses a database a newer one has migrated.
const homes = [PAVISE_BIN, ...(otherBin ? [otherBin] : [])].map((bin) => {
  const made = tempHome({ model: { provider: 'anthropic', baseURL: fake.url } });
  return { bin, env: { ...made.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, cleanup: made.cleanup };
});

/** User + system CPU seconds of this process's waited-for children (fields 16 and 17 of /proc/self/stat). */
function childrenCpuMs(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  // After the ") " the fields start at the third (state), so cutime (16th) and cstime (17th) are at 13 and 14.
  const ticks = Number(fields[13]) + Number(fields[14]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

interface Sample {
  readonly toRequestMs: number;
  readonly totalMs: number;
  readonly cpuMs: number | undefined;
}

function runOnce(home: (typeof homes)[number]): Promise<Sample> {
  const before = fake.requests.length;
  const cpuBefore = childrenCpuMs();
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [home.bin, 'ask', 'hi'], { env: home.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => {
      const request = fake.requests[before];
      if (code !== 0 || !request) return reject(new Error(`pavise ask failed (${code}): ${stderr}`));
      const cpuAfter = childrenCpuMs();
      resolve({
        toRequestMs: request.receivedAt - start,
        totalMs: performance.now() - start,
        cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const round = (value: number) => Math.round(value * 10) / 10;

function summary(samples: readonly Sample[], firstRun: Sample) {
  const sorted = samples.map((sample) => sample.toRequestMs).sort((a, b) => a - b);
  const cpu = samples.map((sample) => sample.cpuMs);
  return {
    medianMs: round(median(sorted)),
    minMs: round(sorted[0] as number),
    maxMs: round(sorted.at(-1) as number),
    p90Ms: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))] as number),
    medianTotalMs: round(median(samples.map((sample) => sample.totalMs))),
    // The kernel counts CPU time in 10 ms ticks; the mean over all runs is finer than any one run.
    meanCpuMs: cpu.every((value) => value !== undefined) ? round(cpu.reduce((sum, value) => sum + value, 0) / cpu.length) : null,
    firstRunMs: round(firstRun.toRequestMs),
  };
}

try {
  // The first run creates the home (database, migrations, persona, activity-log key); users pay that once.
  const firstRuns = [];
  for (const home of homes) firstRuns.push(await runOnce(home));
  const samples: Sample[][] = homes.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so neither always follows the other.
    const order = i % 2 === 0 ? homes.map((_, index) => index) : homes.map((_, index) => homes.length - 1 - index);
    for (const index of order) samples[index]?.push(await runOnce(homes[index] as (typeof homes)[number]));
  }
  const mine = summary(samples[0] as Sample[], firstRuns[0] as Sample);
  console.log(
    JSON.stringify({
      benchmark: 'startup',
      description: 'pavise ask: process start to first request at the provider',
      runs: RUNS,
      ...mine,
      ...(otherBin ? { other: { checkout: resolvePath(OTHER as string), ...summary(samples[1] as Sample[], firstRuns[1] as Sample) } } : {}),
      targetMs: 300,
      node: process.version,
    }),
  );
} finally {
  for (const home of homes) home.cleanup();
  await fake.close();
}
