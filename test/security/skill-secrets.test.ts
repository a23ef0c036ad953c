import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sandboxSupport } from '../../main/platform/sandbox/sandbox.js';
import { stageSkill } from '../../main/skills/review.js';
import { ask } from '../helpers/ask.js';
import { call, ScriptedProvider, text } from '../helpers/scripted-provider.js';
import { plainTool, skillHome, writeSkill } from '../helpers/skills.js';

/**
 * Pavise's own keys are never granted to a skill (its broker would send one to the skill's host). The list was fixed
 * at the providers', Telegram's, Home Assistant's, the activity log's and mail's; the key of the embeddings endpoint
 * is Pavise's too, under whatever name the owner gave it in config.json (`memory.embeddings.keyName`), so a skill
 * that asks for a secret by that name asks for it.
 */
describe('a skill asking for the secret named as the embeddings key', () => {
  it('is refused at install like any other of Pavise\'s own keys', async () => {
    const home = skillHome();
    const work = mkdtempSync(join(tmpdir(), 'pavise-skill-secrets-'));
    writeFileSync(join(home.home, 'config.json'), JSON.stringify({ memory: { embeddings: { baseURL: 'https://api.openai.com/v1', model: 'text-embedding-3-small', keyName: 'vectors' } } }));
    await home.secrets.set('vectors', `sk-proj-${'v'.repeat(40)}`);
    const dir = writeSkill(work, {
      name: 'indexer',
      pavise: { tools: [plainTool('index', [{ kind: 'network', host: { template: 'collect.example.com' } }])], permissions: { network: ['collect.example.com'], secrets: ['vectors'] } },
      body: "return 'x';",
    });
    const core = await home.open();
    const staged = await stageSkill(dir);
    try {
      const result = await core.skills.install(staged.review, staged.review.content.hash, staged.review.manifest.permissions);
      expect(result).toMatchObject({ ok: false, code: 'reserved-secret', message: expect.stringContaining('"vectors" is one of Pavise\'s own keys') });
      expect(core.skills.isReservedSecret('vectors')).toBe(true);
      expect(core.skills.isReservedSecret('indexer-vectors')).toBe(false);
    } finally {
      await staged.dispose();
      core.close();
      home.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  });
});

/**
 * The broker fills a granted secret as a request leaves and scrubs every value it knows from what comes back. Two
 * ways a value was filled without being known: a secret stored after start-up (`pavise secrets set` in another
 * process while the app runs) was read from the store to fill, but the scrubber never learned it; and a value
 * shorter than the scrubber's minimum was filled though it can never be scrubbed. A server that echoes the request
 * (an error page quoting the key, a debugging endpoint) then hands the secret to the skill, the model and the log.
 */
describe.runIf(sandboxSupport().ok)('a granted secret the broker did not know at start-up', () => {
  for (const [label, value] of [
    ['stored after start-up', `wk_${'9'.repeat(30)}`],
    ['shorter than can be scrubbed', '482913'],
  ] as const) {
    it(`${label}: its echo never reaches the skill, the model or the log`, async () => {
      const home = skillHome();
      const work = mkdtempSync(join(tmpdir(), 'pavise-skill-secrets-'));
      try {
        await home.install(
          writeSkill(work, {
            name: 'echoer',
            pavise: { tools: [plainTool('echo', [{ kind: 'network', host: { template: 'api.example.com' } }])], permissions: { network: ['api.example.com'], secrets: ['weather-key'] } },
            body: "const r = await host('net/fetch', { url: 'https://api.example.com/echo', headers: { 'x-key': '{{secret:weather-key}}' } }); return 'skill saw: ' + r.body;",
          }),
        );
        const provider = new ScriptedProvider([() => ({ content: [call('c1', 'echoer__echo', {})] }), () => ({ content: [text('done')] })]);
        const core = await home.open({ provider, transport: async (request) => ({ status: 400, headers: {}, body: `bad key ${request.headers['x-key']}` }) });
        // Set while the app runs, as `pavise secrets set weather-key` would from another process.
        await home.secrets.set('weather-key', value);
        core.events.on('approval', (approval) => setImmediate(() => core.gate.decide(approval.id, 'approve', 'popover')));
        try {
          await ask(core, core.sessions.current('local', true), 'echo it');
          const places = { model: provider.requests, log: core.activity.list({ since: 0, limit: 1000 }) };
          expect(JSON.stringify(places).includes(value), 'the value reached the model or the log').toBe(false);
        } finally {
          core.close();
        }
      } finally {
        home.cleanup();
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
