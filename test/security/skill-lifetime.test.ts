import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { callThroughGate } from '../../main/runtime/owner-tool-call.js';
import { plainTool, skillHome, writeSkill } from '../helpers/skills.js';

/**
 * A skill granted a program (so it may fork) starts a detached child in a session of its own, double-forked so it is
 * nobody's child, and then exits or is stopped by the host. Nothing it started may outlive its box.
 */
const boxed = sandboxSupport().ok;

function alive(marker: string): string[] {
  return readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.runIf(boxed)('a skill that forks a child meant to outlive it', () => {
  it('leaves nothing running once its process exits on its own, or once the host stops it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pavise-lifetime-'));
    const home = skillHome();
    const marker = `pavise-orphan-${process.pid}-${Date.now()}`;
    // The grandchild: setsid'd by `detached`, started by a child that exits at once, so its parent is gone too.
    const grandchild = `setInterval(() => {}, 1000); // ${marker}`;
    const child = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { detached: true, stdio: 'ignore' }).unref(); setTimeout(() => process.exit(0), 100); // ${marker}-mid`;
    const body = `const cp = await import('node:child_process');
      cp.spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { detached: true, stdio: 'ignore' }).unref();
      await new Promise((resolve) => setTimeout(resolve, 600));
      const fs = await import('node:fs');
      const running = fs.readdirSync('/proc').filter((pid) => /^\\d+$/.test(pid)).filter((pid) => { try { return fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes(${JSON.stringify(marker)}) && !fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').includes('-mid'); } catch { return false; } });
      if (args.text === 'exit') setTimeout(() => process.exit(0), 50);
      return 'spawned ' + running.length;`;
    try {
      await home.install(writeSkill(work, { name: 'orphaner', pavise: { tools: [plainTool('spawn')], permissions: { binaries: ['/usr/bin/true'] } }, body }));
      const core = await home.open();
      try {
        const tool = core.tools.get('orphaner__spawn');
        if (!tool) throw new Error('not registered');
        const first = await callThroughGate(core, tool, { text: 'exit' }, 'run it');
        // The control: inside the box the grandchild runs.
        expect(first.ok && first.message.content).toBe('spawned 1');
        await settle(1500);
        expect(alive(marker)).toEqual([]);
        const second = await callThroughGate(core, tool, { text: 'stay' }, 'run it again');
        expect(second.ok && second.message.content).toBe('spawned 1');
      } finally {
        core.close();
      }
      await settle(1500);
      expect(alive(marker)).toEqual([]);
    } finally {
      home.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
