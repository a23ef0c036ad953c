import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compose } from '../../main/compose.js';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { effectsFromAnnotations, tightenedEffects } from '../../main/skills/mcp-source.js';
import { ConfigStore } from '../../main/config/config-store.js';
import { FAKE_ANTHROPIC_KEY } from '../helpers/cli.js';
import { ask } from '../helpers/ask.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { call, ScriptedProvider, text } from '../helpers/scripted-provider.js';

/** @modelcontextprotocol/server-filesystem from npm, limited to a temp folder, in the sandbox, through the gate. */
const boxed = sandboxSupport().ok;
const NODE_MODULES = resolve(import.meta.dirname, '../../node_modules');
const SERVER = join(NODE_MODULES, '@modelcontextprotocol/server-filesystem/dist/index.js');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

describe('MCP annotations map to effects conservatively', () => {
  it('assumes a tool without hints may change, delete and reach out; trusts only explicit read-only, closed-world hints', () => {
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {} }).map((effect) => effect.kind)).toEqual(['write_local', 'delete', 'network']);
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {}, annotations: { readOnlyHint: true, openWorldHint: false } }).map((effect) => effect.kind)).toEqual(['read_private']);
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {}, annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false } }).map((effect) => effect.kind)).toEqual(['write_local']);
    expect(effectsFromAnnotations('s', { name: 't', inputSchema: {}, annotations: { readOnlyHint: true } }).map((effect) => effect.kind)).toEqual(['read_private', 'network']);
  });
});

describe("the owner's overrides only tighten", () => {
  const kinds = (effects: readonly { kind: string }[]) => effects.map((effect) => effect.kind);
  it('ask adds every effect of a tool without hints to what its annotations say, and removes none', () => {
    const readOnly = { name: 't', inputSchema: {}, annotations: { readOnlyHint: true, openWorldHint: false } };
    expect(kinds(tightenedEffects('s', readOnly, undefined))).toEqual(['read_private']);
    expect(kinds(tightenedEffects('s', readOnly, 'ask'))).toEqual(['read_private', 'write_local', 'delete', 'network']);
    const plain = { name: 't', inputSchema: {} };
    expect(kinds(tightenedEffects('s', plain, 'ask'))).toEqual(kinds(effectsFromAnnotations('s', plain)));
  });

  it('refuses a looser override in config.json, and in the settings store, saying what is allowed and losing nothing', async () => {
    const home = scratch('pavise-mcp-loose-');
    const config = join(home, 'config.json');
    writeFileSync(config, JSON.stringify({ mcp: { servers: { files: { command: 'node', tools: { read_file: 'allow' } } } } }));
    await expect(compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider: new ScriptedProvider([]) })).rejects.toThrow(
      /mcp\.servers\.files\.tools\.read_file is "allow": use one of "ask", "deny"/,
    );
    const good = JSON.stringify({ mcp: { servers: { files: { command: 'node', tools: { read_file: 'ask' } } } } });
    writeFileSync(config, good);
    const store = new ConfigStore(config);
    expect(() => store.update({ mcpServers: { files: { command: 'node', tools: { read_file: 'read-only' } } } })).toThrow(/tools\.read_file is "read-only": use one of "ask", "deny"/);
    expect(readFileSync(config, 'utf8')).toBe(good);
    store.update({ mcpServers: { files: { command: 'node', tools: { read_file: 'deny' } } } });
    expect(store.read().mcp.servers.files?.tools).toEqual({ read_file: 'deny' });
  });
});

describe.runIf(boxed)('an MCP server from npm, end to end through the gate', () => {
  it('starts only when its tools are first wanted, and applies the owner\'s tightening: a denied tool is left out, an asked one asks', async () => {
    const home = scratch('pavise-mcp-home-');
    const folder = scratch('pavise-mcp-folder-');
    writeFileSync(join(folder, 'note.txt'), 'a note');
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({
        mcp: {
          servers: {
            files: {
              command: 'node',
              args: [SERVER, folder],
              permissions: { files: [{ path: NODE_MODULES, access: 'read' }, { path: folder, access: 'write' }] },
              tools: { write_file: 'deny', read_text_file: 'ask' },
            },
          },
        },
      }),
    );
    const provider = new ScriptedProvider([() => ({ content: [call('c1', 'files__read_text_file', { path: join(folder, 'note.txt') })] }), () => ({ content: [text('done')] })]);
    const core = await compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider, approvalPollMs: 20 });
    const asked: string[] = [];
    core.events.on('approval', (approval) => {
      asked.push(approval.title);
      setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover'));
    });
    try {
      expect(core.tools.list().some((tool) => tool.name.startsWith('files__'))).toBe(false);
      const outcome = await ask(core, core.sessions.current('local', true), 'read my note');
      expect(core.tools.get('files__write_file')).toBeUndefined();
      expect(core.tools.get('files__read_text_file')?.descriptor.effects.map((effect) => effect.kind)).toEqual(expect.arrayContaining(['write_local', 'delete', 'network']));
      expect(asked).toEqual(['read_text_file on MCP server files']);
      expect(outcome.messages.find((message) => message.role === 'toolResult')).toMatchObject({ isError: false, content: 'a note' });
      expect(core.activity.list({ since: 0, limit: 100 }).some((row) => row.actor === 'skill:files' && /write_file left out \(you denied it\)/.test(row.summary))).toBe(true);
    } finally {
      core.close();
    }
  });


  it('writes only after the owner approves, reads back labelled untrusted, and cannot reach outside its folder', async () => {
    const home = scratch('pavise-mcp-home-');
    const folder = scratch('pavise-mcp-folder-');
    const outside = scratch('pavise-mcp-outside-');
    writeFileSync(join(outside, 'secret.txt'), 'outside the grant');
    writeFileSync(
      join(home, 'config.json'),
      JSON.stringify({
        mcp: {
          servers: {
            files: {
              command: 'node',
              args: [SERVER, folder],
              permissions: { files: [{ path: NODE_MODULES, access: 'read' }, { path: folder, access: 'write' }] },
            },
          },
        },
      }),
    );
    const provider = new ScriptedProvider([
      () => ({ content: [call('c1', 'files__write_file', { path: join(folder, 'hello.txt'), content: 'hi from MCP' })] }),
      () => ({ content: [call('c2', 'files__read_text_file', { path: join(folder, 'hello.txt') })] }),
      () => ({ content: [call('c3', 'files__read_text_file', { path: join(outside, 'secret.txt') })] }),
      () => ({ content: [text('done')] }),
    ]);
    const core = await compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider, approvalPollMs: 20 });
    const asked: string[] = [];
    core.events.on('approval', (approval) => {
      asked.push(approval.title);
      setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover'));
    });
    try {
      expect(core.tools.get('files__write_file')).toBeUndefined();
      expect(core.activity.list({ since: 0, limit: 100 }).some((row) => row.actor === 'skill:files')).toBe(false);
      await core.tools.ready();
      expect(core.tools.get('files__write_file')?.descriptor.effects.map((effect) => effect.kind)).toEqual(['write_local', 'delete', 'read_private']);
      const outcome = await ask(core, core.sessions.current('local', true), 'save hello and read it back');
      const results = outcome.messages.filter((message) => message.role === 'toolResult');
      expect(asked).toEqual(['write_file on MCP server files']);
      expect(readFileSync(join(folder, 'hello.txt'), 'utf8')).toBe('hi from MCP');
      expect(results[1]).toMatchObject({ isError: false, content: 'hi from MCP', provenance: { kind: 'untrusted', source: 'tool_output', detail: 'MCP server files' } });
      expect(results[2]).toMatchObject({ isError: true });
      expect(results[2]?.role === 'toolResult' && results[2].content).not.toContain('outside the grant');
      const rows = core.activity.list({ since: 0, limit: 100 });
      expect(rows.filter((row) => row.kind === 'effect').map((row) => row.tool)).toEqual(['files__write_file', 'files__read_text_file', 'files__read_text_file']);
      expect(rows.some((row) => row.actor === 'skill:files' && row.decision === 'failed')).toBe(true);
    } finally {
      core.close();
    }
    expect(existsSync(join(outside, 'secret.txt'))).toBe(true);
  });

  it.runIf(boxed)('a server that crashes at start is logged with the error it printed, not the tail of its stack', async () => {
    const home = scratch('pavise-mcp-home-');
    const crash = "function deep(n) { if (n === 0) throw new TypeError('the notes folder is not configured'); deep(n - 1); } deep(12);";
    writeFileSync(join(home, 'config.json'), JSON.stringify({ mcp: { servers: { crashy: { command: 'node', args: ['-e', crash] } } } }));
    const core = await compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider: new ScriptedProvider([]) });
    try {
      await core.tools.ready();
      const summary = core.activity.list({ since: 0, limit: 10 }).find((row) => row.actor === 'skill:crashy')?.summary ?? '';
      expect(summary).toContain('MCP server crashy did not complete the handshake');
      expect(summary).toContain('TypeError: the notes folder is not configured');
      expect(summary).not.toMatch(/\n\s+at /);
    } finally {
      core.close();
    }
  });

  it('leaves out a server that cannot start, says why in the log, and the rest of Pavise works', async () => {
    const home = scratch('pavise-mcp-home-');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ mcp: { servers: { broken: { command: '/nonexistent/mcp-server' } } } }));
    const core = await compose({ env: { PAVISE_HOME: home, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY }, secrets: new MemorySecretStore(), provider: new ScriptedProvider([]) });
    try {
      await core.tools.ready();
      expect(core.tools.list().some((tool) => tool.name.startsWith('broken__'))).toBe(false);
      expect(core.tools.get('save_note')).toBeDefined();
      expect(core.activity.list({ since: 0, limit: 10 }).find((row) => row.actor === 'skill:broken')?.summary).toMatch(
        /MCP server broken was not loaded: .*its command \/nonexistent\/mcp-server does not exist; set mcp\.servers\.broken\.command in config\.json/,
      );
    } finally {
      core.close();
    }
  });
});
