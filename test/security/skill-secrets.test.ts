import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageSkill } from '../../main/skills/review.js';
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
