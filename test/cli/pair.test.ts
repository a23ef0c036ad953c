import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

describe('pavise pair telegram', () => {
  it('with Telegram enabled but no bot token stored, says the code cannot reach a bot yet and how to fix it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pavise-pair-'));
    homes.push(home);
    writeFileSync(join(home, 'config.json'), JSON.stringify({ channels: { telegram: { enabled: true, owners: [] } } }));
    let out = '';
    let err = '';
    const stdout = new PassThrough().on('data', (chunk: Buffer) => (out += String(chunk)));
    const stderr = new PassThrough().on('data', (chunk: Buffer) => (err += String(chunk)));
    const code = await main(['pair', 'telegram'], { stdin: new PassThrough(), stdout, stderr, env: { ...process.env, PAVISE_HOME: home } });
    expect(code).toBe(0);
    expect(out).toMatch(/\b[A-Z2-9]{4}-[A-Z2-9]{4}\b/);
    expect(err).toContain('no Telegram bot token is stored');
    expect(err).toContain('pavise secrets set telegram-bot-token');
  });
});
