import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { callThroughGate } from '../../main/runtime/owner-tool-call.js';
import { effectTarget } from '../../main/permissions/policy.js';
import { isCoreSecret } from '../../main/secrets/core-secrets.js';
import { InstalledSkills } from '../../main/skills/installed-skills.js';
import { stageSkill } from '../../main/skills/review.js';
import { openStorage } from '../../main/storage/storage.js';
import { plainTool, skillHome, writeSkill, type SkillHome } from '../helpers/skills.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function setup(): { home: SkillHome; work: string } {
  const home = skillHome();
  const work = mkdtempSync(join(tmpdir(), 'pavise-installed-'));
  cleanups.push(home.cleanup, () => rmSync(work, { recursive: true, force: true }));
  return { home, work };
}

describe('installed skills', () => {
  it('re-check the pin when their process starts: a file changed while Pavise runs keeps the skill from starting', async () => {
    const { home, work } = setup();
    await home.install(writeSkill(work, { name: 'echo', pavise: { tools: [plainTool('say')] }, body: "return 'said';" }));
    const core = await home.open();
    try {
      const tool = core.tools.get('echo__say');
      expect(tool).toBeDefined();
      appendFileSync(join(home.home, 'skills', 'echo', 'main.mjs'), '\n// swapped while running\n');
      const outcome = await callThroughGate(core, tool as NonNullable<typeof tool>, {}, 'say it');
      expect(outcome).toMatchObject({ ok: true, message: { isError: true, content: expect.stringContaining('changed on disk after review') } });
      expect(core.skills.get('echo')?.state).toBe('changed');
      expect(core.activity.list({ since: 0, limit: 50 }).some((row) => row.actor === 'skill:echo' && row.decision === 'changed')).toBe(true);
    } finally {
      core.close();
    }
  });

  it('refuse an install whose grant names another hash, and one whose files changed between review and copy', async () => {
    const { home, work } = setup();
    const dir = writeSkill(work, { name: 'echo', pavise: { tools: [plainTool('say')] }, body: "return 'said';" });
    const core = await home.open();
    try {
      const staged = await stageSkill(dir);
      expect(await core.skills.install(staged.review, '0'.repeat(64), staged.review.manifest.permissions)).toMatchObject({ ok: false, code: 'hash-mismatch' });
      appendFileSync(join(dir, 'SKILL.md'), '\nchanged after review\n');
      expect(await core.skills.install(staged.review, staged.review.content.hash, staged.review.manifest.permissions)).toMatchObject({
        ok: false,
        code: 'hash-mismatch',
        message: expect.stringContaining('changed while it was being installed'),
      });
      expect(core.skills.list()).toEqual([]);
    } finally {
      core.close();
    }
  });

  it("refuse to grant one of Pavise's own keys to a skill, and never hand one to a skill's broker from an older grant", async () => {
    const { work } = setup();
    const dir = writeSkill(work, {
      name: 'lender',
      pavise: { tools: [plainTool('call', [{ kind: 'network', host: { template: 'api.example.com' } }])], permissions: { network: ['api.example.com'], secrets: ['anthropic', 'lender-token'] } },
      body: "return 'called';",
    });
    const storage = openStorage(join(work, 'pavise.db'), { grantTargetOf: effectTarget });
    const staged = await stageSkill(dir);
    try {
      const skills = new InstalledSkills(storage.skills, join(work, 'skills'), { record: () => undefined }, isCoreSecret);
      const asked = staged.review.manifest.permissions;
      expect(asked.secrets).toEqual(['anthropic', 'lender-token']);
      const refused = await skills.install(staged.review, staged.review.content.hash, asked);
      expect(refused).toMatchObject({ ok: false, code: 'reserved-secret', message: expect.stringContaining('"anthropic" is one of Pavise\'s own keys') });
      expect(skills.list()).toEqual([]);
      for (const core of ['telegram-bot-token', 'mail-personal']) expect(isCoreSecret(core), core).toBe(true);

      const installed = await skills.install(staged.review, staged.review.content.hash, { ...asked, secrets: ['lender-token'] });
      expect(installed.ok).toBe(true);
      // A row pinned before this check existed, granting the provider key: it loads without it.
      storage.skills.pin({ name: 'lender', kind: 'skill', contentHash: staged.review.content.hash, granted: asked, state: 'enabled', source: dir });
      const loaded = await skills.verify('lender');
      expect(loaded.ok && loaded.value.granted.secrets).toEqual(['lender-token']);
    } finally {
      await staged.dispose();
      storage.close();
    }
  });
});
