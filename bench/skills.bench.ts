/**
 * Skills under the real sandbox: (1) cold start, from asking a new skill process for a tool call to its first
 * answer (bwrap + seccomp + rlimits + Node start + one JSON-RPC round trip), target under 150 ms; (2) the cost of one
 * request through the stdio network broker (skill → host → transport → host → skill), from a warm process, with a
 * transport answering at once so only the broker's part is measured. Medians of several runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SkillProcess } from '../main/skills/skill-process.js';
import { plainTool, writeSkill } from '../test/helpers/skills.js';

const RUNS = Number(process.argv[2] ?? 15);
const REQUESTS = 50;
const work = mkdtempSync(join(tmpdir(), 'pavise-bench-skills-'));
const dir = writeSkill(work, {
  name: 'bench',
  pavise: { tools: [plainTool('run')] },
  body: "const n = Number(args.text ?? 0); for (let i = 0; i < n; i++) await host('net/fetch', { url: 'https://api.example.com/x' }); return 'ok ' + n;",
});
const options = {
  skill: 'bench',
  dir,
  runtime: 'node',
  args: ['main.mjs'],
  granted: { network: ['api.example.com'], files: [], secrets: [], binaries: [] },
  limits: {},
  secrets: { handleNames: () => [], substitute: async (text: string) => text, redact: (text: string) => text },
  transport: async () => ({ status: 200, headers: {}, body: '{}' }),
  activity: { record: () => {} },
};
const effects = [{ kind: 'network', host: 'api.example.com' }] as const;
const signal = new AbortController().signal;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const round = (value: number) => Math.round(value * 100) / 100;

async function timed(process: SkillProcess, n: number): Promise<number> {
  const start = performance.now();
  const result = await process.call('run', { text: String(n) }, effects, signal);
  if (!result.ok) throw new Error(result.message);
  return performance.now() - start;
}

try {
  const cold: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const process = new SkillProcess(options);
    cold.push(await timed(process, 0));
    process.stop();
  }
  const warm = new SkillProcess(options);
  await timed(warm, 0);
  const empty: number[] = [];
  const brokered: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    empty.push(await timed(warm, 0));
    brokered.push(await timed(warm, REQUESTS));
  }
  warm.stop();
  const perRequest = (median(brokered) - median(empty)) / REQUESTS;
  console.log(
    JSON.stringify({
      benchmark: 'skills',
      description: 'cold start of a sandboxed skill process to its first answer; cost of one brokered request',
      runs: RUNS,
      coldStartMedianMs: round(median(cold)),
      coldStartMinMs: round(Math.min(...cold)),
      coldStartMaxMs: round(Math.max(...cold)),
      coldStartTargetMs: 150,
      warmCallMedianMs: round(median(empty)),
      brokeredRequestMs: round(perRequest),
      sandbox: process.platform === 'linux' ? 'bwrap' : 'sandbox-exec',
      node: process.version,
    }),
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
