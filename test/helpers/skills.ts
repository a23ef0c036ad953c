import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { compose, type Core } from '../../main/compose.js';
import type { Transport } from '../../main/skills/network-broker.js';
import type { SkillPermissions } from '../../main/skills/permissions.js';
import { stageSkill } from '../../main/skills/review.js';
import { FAKE_ANTHROPIC_KEY } from './cli.js';
import { MemorySecretStore } from './memory-secret-store.js';
import { ScriptedProvider } from './scripted-provider.js';

export const FIRST_PARTY_SKILLS = resolve(import.meta.dirname, '../../skills');

/**
 * A code skill's main.mjs: a JSON-RPC loop over stdio whose tool calls run `body` (the text of an async function of
 * `(name, args, host)`, where `host(method, params)` asks the host, e.g. net/fetch). What it returns is the result.
 */
export function rpcSkillMain(body: string): string {
  return `import { createInterface } from 'node:readline';
let next = 1; const waiting = new Map();
const send = (m) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...m }) + '\\n');
const host = (method, params) => { const id = 'h' + next++; send({ id, method, params }); return new Promise((resolve, reject) => waiting.set(id, { resolve, reject })); };
const handle = async (name, args, host) => { ${body} };
createInterface({ input: process.stdin }).on('line', async (line) => {
  const m = JSON.parse(line);
  if (m.method === undefined) { const w = waiting.get(m.id); waiting.delete(m.id); if (m.error) w?.reject(new Error(m.error.message)); else w?.resolve(m.result); return; }
  try { const out = await handle(m.params.name, m.params.arguments, host); send({ id: m.id, result: { content: typeof out === 'string' ? out : JSON.stringify(out) } }); }
  catch (e) { send({ id: m.id, error: { code: -32000, message: String(e && e.message || e) } }); }
});
`;
}

export interface SkillSpec {
  readonly name: string;
  readonly description?: string;
  readonly instructions?: string;
  /** pavise.json's content; omitted for an instructions-only skill. */
  readonly pavise?: Record<string, unknown>;
  /** main.mjs body for rpcSkillMain. */
  readonly body?: string;
  readonly files?: Readonly<Record<string, string>>;
}

/** A tool with no effects taking one optional string `text`, for hostile and echo skills. */
export function plainTool(name = 'run', effects: unknown[] = []) {
  return { name, description: `the ${name} tool`, inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: [] }, effects, summary: `Run ${name}` };
}

export function writeSkill(parent: string, spec: SkillSpec): string {
  const dir = join(parent, spec.name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'SKILL.md'), `---\nname: ${spec.name}\ndescription: ${spec.description ?? `The ${spec.name} test skill.`}\nlicense: MIT\n---\n\n${spec.instructions ?? `Use ${spec.name}.`}\n`);
  if (spec.pavise) writeFileSync(join(dir, 'pavise.json'), JSON.stringify({ runtime: 'node', args: ['main.mjs'], ...spec.pavise }, null, 2));
  if (spec.body !== undefined) writeFileSync(join(dir, 'main.mjs'), rpcSkillMain(spec.body));
  for (const [path, content] of Object.entries(spec.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export interface SkillHome {
  readonly home: string;
  readonly secrets: MemorySecretStore;
  readonly env: NodeJS.ProcessEnv;
  /** A new core over this home (skills load when a core is composed). */
  open(options?: { transport?: Transport; provider?: ScriptedProvider }): Promise<Core>;
  /** Reviews `dir` and installs it with `grant` (default: all it asks for), in a core of its own. */
  install(dir: string, grant?: SkillPermissions): Promise<string>;
  cleanup(): void;
}

export function skillHome(): SkillHome {
  const home = mkdtempSync(join(tmpdir(), 'pavise-skills-home-'));
  const secrets = new MemorySecretStore();
  const env = { PAVISE_HOME: home, HOME: process.env.HOME, PATH: process.env.PATH, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY };
  const open: SkillHome['open'] = (options = {}) =>
    compose({
      env,
      secrets,
      provider: options.provider ?? new ScriptedProvider([]),
      approvalPollMs: 20,
      ...(options.transport ? { skillTransport: options.transport } : {}),
    });
  return {
    home,
    secrets,
    env,
    open,
    install: async (dir, grant) => {
      const core = await open();
      const staged = await stageSkill(dir);
      try {
        const result = await core.skills.install(staged.review, staged.review.content.hash, grant ?? staged.review.manifest.permissions);
        if (!result.ok) throw new Error(result.message);
        return staged.review.content.hash;
      } finally {
        await staged.dispose();
        core.close();
      }
    },
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}
