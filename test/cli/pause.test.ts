import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function home(): NodeJS.ProcessEnv {
  const { env, cleanup } = tempHome();
  cleanups.push(cleanup);
  return env;
}

describe('pavise pause and resume', () => {
  it('pausing twice keeps the first pause and logs it once; resuming what runs says so and logs nothing', async () => {
    const env = home();
    expect((await runCli(['pause'], { env })).stdout).toContain('Paused: no tool effects');
    const again = await runCli(['pause'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Already paused since .+ \(paused by owner:cli\); `pavise resume` undoes it\.\n$/);
    expect((await runCli(['resume'], { env })).stdout).toBe('Resumed.\n');
    expect((await runCli(['resume'], { env })).stdout).toBe('Not paused; nothing to resume.\n');
    const rows = JSON.parse((await runCli(['activity', '--json'], { env })).stdout) as { activity: { kind: string }[] };
    expect(rows.activity.map((row) => row.kind)).toEqual(['pause', 'resume']);
  });

  it("`pavise activity` shows each row's time on this machine's clock, not UTC", async () => {
    const env = { ...home(), TZ: 'Asia/Kathmandu' };
    await runCli(['pause'], { env });
    const [row] = (JSON.parse((await runCli(['activity', '--json'], { env })).stdout) as { activity: { ts: number }[] }).activity;
    // Kathmandu is UTC+05:45 all year: the minute alone tells local from UTC.
    const local = new Date(row!.ts + (5 * 60 + 45) * 60_000).toISOString().replace('T', ' ').slice(0, 16);
    expect((await runCli(['activity'], { env })).stdout).toContain(`${local}:`);
  });
});
