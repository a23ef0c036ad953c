import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../main/config/config.js';
import { paviseHome } from '../../main/config/paths.js';
import { findKeyShapedFields } from '../../main/config/key-shapes.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-config-'));
  dirs.push(dir);
  return dir;
};

const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('config.json', () => {
  it('uses defaults when the file is missing', () => {
    const config = loadConfig(join(tempDir(), 'config.json'));
    expect(config.model).toEqual({ provider: 'anthropic', name: 'claude-sonnet-5', maxOutputTokens: 4096 });
    expect(config.limits).toEqual({
      maxStepsPerTurn: 12,
      maxTokensPerTurn: 400_000,
      dailySpendUsd: 5,
      pacing: { perRecipientPerMinute: 5, perRecipientPerHour: 30, overallPerHour: 100 },
    });
    expect(config.permissions).toEqual({ alwaysAsk: [], deny: [], approvalTimeoutMinutes: 10 });
  });

  it('accepts each provider, with a default model name where one exists', () => {
    expect(parseConfig('{"model":{"provider":"openai"}}').model.name).toBe('gpt-4.1');
    const local = parseConfig('{"model":{"provider":"openai-compatible","name":"llama3.2","baseURL":"http://localhost:11434/v1"}}');
    expect(local.model).toMatchObject({ provider: 'openai-compatible', name: 'llama3.2', baseURL: 'http://localhost:11434/v1' });
  });

  it('names the field, the bad value and the fix', () => {
    const error = errorOf(() => parseConfig('{"model":{"provider":"antropic"}}'));
    expect(error.message).toContain('model.provider is "antropic"');
    expect(error.message).toContain('use one of "anthropic", "openai", "openai-compatible"');
  });

  it("refuses an MCP server's relative command or granted path instead of resolving it against a folder nobody chose", () => {
    const server = (entry: object) => JSON.stringify({ mcp: { servers: { notes: entry } } });
    const bareCommand = errorOf(() => parseConfig(server({ command: 'npx', args: ['mcp-server'] })));
    expect(bareCommand.message).toContain('mcp.servers.notes.command is "npx"');
    expect(bareCommand.message).toContain('must be an absolute path to the program');
    const relativeFolder = errorOf(() => parseConfig(server({ command: 'node', permissions: { files: [{ path: 'Notes', access: 'read' }] } })));
    expect(relativeFolder.message).toContain('mcp.servers.notes.permissions.files.0.path is "Notes"');
    expect(relativeFolder.message).toContain('start with "~/"');
    const fine = parseConfig(server({ command: '/usr/local/bin/mcp-notes', permissions: { files: [{ path: '~/Notes', access: 'write' }] } }));
    expect(fine.mcp.servers.notes?.permissions.files).toEqual([{ path: '~/Notes', access: 'write' }]);
  });

  it("gives the schema's own fix for a value of the wrong form (a path, a host name, an email), not zod's format name", () => {
    const error = errorOf(() =>
      parseConfig(
        JSON.stringify({
          schedule: { icsCalendars: ['~/work.ics'] },
          web: { httpHosts: ['http://intranet'] },
          mail: { accounts: [{ id: 'personal', address: 'me', imap: { host: 'imap.example.com' }, smtp: { host: 'smtp.example.com' } }] },
        }),
      ),
    );
    expect(error.message).toContain('schedule.icsCalendars.0 is "~/work.ics": must be an absolute path');
    expect(error.message).toContain('web.httpHosts.0 is "http://intranet": must be a host name such as "intranet.example"');
    expect(error.message).toContain('mail.accounts.0.address is "me": expected an email address such as "me@example.com"');
    expect(error.message).not.toMatch(/expected a (starts_with|regex|email)/);
  });

  it('reports misspelt fields instead of ignoring them', () => {
    const error = errorOf(() => parseConfig('{"model":{"provider":"openai","modle":"x"}}'));
    expect(error.message).toContain('remove the unknown field "modle"');
  });

  it('requires baseURL and name for openai-compatible, and a real URL', () => {
    const missing = errorOf(() => parseConfig('{"model":{"provider":"openai-compatible"}}'));
    expect(missing.message).toContain('model.baseURL');
    expect(missing.message).toContain('model.name');
    // The missing field is called missing, not shown as the whole model object.
    expect(missing.message).toContain('model.baseURL is missing: is required when provider is "openai-compatible"');
    expect(missing.message).not.toContain('{"provider"');
    const bad = errorOf(() => parseConfig('{"model":{"provider":"openai-compatible","name":"x","baseURL":"ftp://nope"}}'));
    expect(bad.message).toContain('model.baseURL is "ftp://nope"');
  });

  it('reads a file saved with a UTF-8 byte-order mark', () => {
    expect(parseConfig('\uFEFF{"limits":{"dailySpendUsd":2}}').limits.dailySpendUsd).toBe(2);
  });

  it('checks numeric limits', () => {
    const error = errorOf(() => parseConfig('{"limits":{"maxStepsPerTurn":0}}'));
    expect(error.message).toContain('limits.maxStepsPerTurn is 0: must be at least 1');
  });

  it('refuses a config that tries to loosen the floors, saying what to do instead', () => {
    const error = errorOf(() => parseConfig('{"permissions":{"allow":["execute"]}}'));
    expect(error.message).toContain('permissions.allow is not allowed');
    expect(error.message).toContain('can only tighten');
    expect(errorOf(() => parseConfig('{"limits":{"pacing":{"overallPerHour":500}}}')).message).toContain(
      'limits.pacing.overallPerHour is 500: must be at most 150',
    );
    expect(parseConfig('{"limits":{"pacing":{"perRecipientPerHour":10}},"permissions":{"alwaysAsk":["network"]}}').permissions.alwaysAsk).toEqual(['network']);
  });

  it('explains invalid JSON and a non-object', () => {
    expect(errorOf(() => parseConfig('{"model": ', '/x/config.json')).message).toMatch(/^\/x\/config\.json is not valid JSON .*fix the syntax/);
    expect(errorOf(() => parseConfig('[1,2]')).message).toContain('must contain a JSON object');
  });

  it('refuses a key-shaped value anywhere and says how to store it', () => {
    const key = 'sk-ant-api03-' + 'a'.repeat(40);
    const error = errorOf(() => parseConfig(JSON.stringify({ model: { provider: 'anthropic', notes: [key] } })));
    expect(error.message).toContain('model.notes[0] (Anthropic API key)');
    expect(error.message).toContain('pavise secrets set');
    expect(error.message).not.toContain(key);
    const named = errorOf(() => parseConfig(JSON.stringify({ model: { apiKey: 'hunter2' } })));
    expect(named.message).toContain('model.apiKey (secret)');
  });

  it('reports an unreadable file with what to do', () => {
    if (process.getuid?.() === 0) return; // root reads anything; permission errors cannot be produced
    const path = join(tempDir(), 'config.json');
    writeFileSync(path, '{}');
    chmodSync(path, 0);
    expect(errorOf(() => loadConfig(path)).message).toContain('check its permissions');
  });

  it('reports a directory where the file should be', () => {
    const dir = tempDir();
    expect(errorOf(() => loadConfig(dir)).message).toMatch(/is a folder, not a file; move it aside/);
  });

  it('says PAVISE_HOME is not a folder when it names a file, not "check its permissions"', () => {
    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, '');
    const message = errorOf(() => loadConfig(join(file, 'config.json'))).message;
    expect(message).toBe(`PAVISE_HOME ${file} is not a folder; point PAVISE_HOME at a folder (or move that file aside).`);
  });
});

describe('key shapes', () => {
  it.each([
    ['sk-ant-api03-' + 'x'.repeat(50), 'Anthropic API key'],
    ['sk-proj-' + 'A1b2'.repeat(10), 'OpenAI API key'],
    ['123456789:AA' + 'h'.repeat(33), 'Telegram bot token'],
    ['ghp_' + 'a'.repeat(36), 'GitHub token'],
    ['AKIA' + 'ABCDEFGHIJKLMNOP', 'AWS access key'],
  ])('recognises %s', (value, kind) => {
    expect(findKeyShapedFields({ a: { b: value } })).toEqual([{ path: 'a.b', kind }]);
  });

  it('leaves ordinary values alone', () => {
    expect(findKeyShapedFields({ model: { provider: 'anthropic', name: 'claude-sonnet-4-5', baseURL: 'https://api.x.ai/v1' } })).toEqual([]);
  });
});

describe('PAVISE_HOME', () => {
  it('honours the variable, then the platform default', () => {
    expect(paviseHome({ PAVISE_HOME: '/tmp/h' }, 'linux')).toBe('/tmp/h');
    // Quoted or set in a service file, "~" reaches Pavise unexpanded; it is the user's home, not ./~.
    expect(paviseHome({ PAVISE_HOME: '~/pavise-test' }, 'linux')).toBe(join(homedir(), 'pavise-test'));
    expect(paviseHome({ XDG_DATA_HOME: '/data' }, 'linux')).toBe('/data/pavise');
    expect(paviseHome({}, 'darwin')).toMatch(/Library\/Application Support\/Pavise$/);
  });
});
