import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.js';
import { FIRST_PARTY_SKILLS } from '../helpers/skills.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe('pavise skills install, answered in a terminal', () => {
  it('Ctrl-D at a question installs nothing and says so, without an "unexpected error"', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pavise-skills-tty-'));
    homes.push(home);
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    let err = '';
    const stderr = new PassThrough().on('data', (chunk: Buffer) => (err += String(chunk)));
    const code = main(['skills', 'install', join(FIRST_PARTY_SKILLS, 'weather')], { stdin, stdout: new PassThrough(), stderr, env: { ...process.env, PAVISE_HOME: home } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    stdin.end();
    expect(await code).toBe(1);
    expect(err).toContain('Nothing installed.');
    expect(err).not.toContain('unexpected error');
  });
});
