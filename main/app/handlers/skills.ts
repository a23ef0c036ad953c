import type { SkillReviewView, SkillView } from '../../common/ipc.js';
import { err } from '../../common/result.js';
import type { ActivityLog } from '../../permissions/activity-log.js';
import type { SecretBroker } from '../../permissions/secret-broker.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { InstalledSkills } from '../../skills/installed-skills.js';
import { grantOnly, parseGrant, permissionIds } from '../../skills/permissions.js';
import { reviewFolder, stageSkill, type SkillReview } from '../../skills/review.js';
import { toActivityItem } from '../snapshot.js';
import type { Handlers } from './handler.js';

export interface SkillHandlerDeps {
  readonly skills: InstalledSkills;
  readonly pickSkillPath?: () => Promise<string | undefined>;
  readonly activity: Pick<ActivityLog, 'list' | 'append'>;
  readonly changed: () => void;
  readonly secrets: Pick<SecretStore, 'set' | 'delete' | 'list'>;
  readonly broker: Pick<SecretBroker, 'remember'>;
}

type SkillChannels =
  | 'skills.list'
  | 'skills.setEnabled'
  | 'skills.remove'
  | 'skills.review'
  | 'skills.trust'
  | 'skills.pick'
  | 'skills.install'
  | 'skills.setSecret'
  | 'skills.removeSecret';

/** The Skills pane: the installed skills with their state and grants, Enable/Disable/Remove, and the review sheet. */
export function skillHandlers(deps: SkillHandlerDeps): Handlers<SkillChannels> {
  const list = async (): Promise<SkillView[]> => {
    const rows = deps.activity.list({ limit: 2000 });
    let stored: readonly string[] = [];
    try {
      stored = await deps.secrets.list();
    } catch {
      // The Keychain is unavailable: every secret shows as not set.
    }
    return deps.skills.list().map((record) => ({
      name: record.name,
      state: record.state,
      hash: record.contentHash,
      granted: permissionIds(parseGrant(record.granted)),
      secrets: parseGrant(record.granted).secrets.map((name) => ({ name, stored: stored.includes(name) })),
      source: record.source,
      installedAt: record.installedAt,
      recent: rows
        .filter((row) => row.actor === `skill:${record.name}`)
        .slice(-5)
        .reverse()
        .map(toActivityItem),
    }));
  };
  const review = async (name: string) => {
    const record = deps.skills.get(name);
    if (!record) return undefined;
    return { record, review: await reviewFolder(deps.skills.dirOf(name), record.source) };
  };
  /** The secret, if it is one the owner granted this skill and not one of Pavise's own; else what is wrong. */
  const grantedSecret = (name: string, secret: string): string | undefined => {
    const record = deps.skills.get(name);
    if (!record) return `No skill named "${name}" is installed.`;
    if (!parseGrant(record.granted).secrets.includes(secret)) return `Skill ${name} was not granted the secret "${secret}"; grant it by reinstalling the skill, then set it here.`;
    if (deps.skills.isReservedSecret(secret)) return `"${secret}" is one of Pavise's own keys; set it in General or Channels, not for a skill.`;
    return undefined;
  };
  return {
    'skills.list': () => list(),
    'skills.setSecret': async ({ name, secret, value }) => {
      const refused = grantedSecret(name, secret);
      if (refused) return err('refused', refused);
      await deps.secrets.set(secret, value);
      deps.broker.remember(secret, value);
      deps.activity.append({ kind: 'system', summary: `Stored the secret "${secret}" of skill ${name} in the Keychain`, actor: 'owner:settings' });
      return list();
    },
    'skills.removeSecret': async ({ name, secret }) => {
      const refused = grantedSecret(name, secret);
      if (refused) return err('refused', refused);
      if (await deps.secrets.delete(secret)) deps.activity.append({ kind: 'system', summary: `Removed the secret "${secret}" of skill ${name}`, actor: 'owner:settings' });
      return list();
    },
    'skills.setEnabled': async ({ name, enabled }) => {
      const result = deps.skills.setEnabled(name, enabled);
      if (!result.ok) return err('refused', result.message);
      if (enabled) await deps.skills.verify(name);
      deps.changed();
      return list();
    },
    'skills.remove': async ({ name }) => {
      if (!(await deps.skills.remove(name))) return err('not_found', `No skill named "${name}" is installed.`);
      deps.changed();
      return list();
    },
    'skills.review': async ({ name }): Promise<SkillReviewView | ReturnType<typeof err>> => {
      const found = await review(name);
      if (!found) return err('not_found', `No skill named "${name}" is installed.`);
      return { ...reviewView(found.review), pinnedHash: found.record.contentHash };
    },
    'skills.pick': async (): Promise<SkillReviewView | { cancelled: true } | ReturnType<typeof err>> => {
      if (!deps.pickSkillPath) return err('unavailable', 'Installing from here needs the app; use: pavise skills install PATH');
      const path = await deps.pickSkillPath();
      if (path === undefined) return { cancelled: true };
      const staged = await stageSkill(path).catch((error: unknown) => error as Error);
      if (staged instanceof Error) return err('bad_skill', `${path} cannot be installed: ${staged.message}`);
      try {
        return { ...reviewView(staged.review), path };
      } finally {
        await staged.dispose();
      }
    },
    'skills.install': async ({ path, hash, grant }) => {
      const staged = await stageSkill(path).catch((error: unknown) => error as Error);
      if (staged instanceof Error) return err('bad_skill', `${path} cannot be installed: ${staged.message}`);
      try {
        const granted = grantOnly(staged.review.manifest.permissions, grant);
        if (!granted.ok) return err('refused', granted.message);
        const result = await deps.skills.install(staged.review, hash, granted.value);
        if (!result.ok) return err('refused', result.message);
      } finally {
        await staged.dispose();
      }
      deps.changed();
      return list();
    },
    'skills.trust': async ({ name, hash }) => {
      const found = await review(name);
      if (!found) return err('not_found', `No skill named "${name}" is installed.`);
      const result = await deps.skills.repin(found.review, hash);
      if (!result.ok) return err('refused', result.message);
      deps.changed();
      return list();
    },
  };
}

function reviewView(review: SkillReview): SkillReviewView {
  const { manifest, content, findings } = review;
  return {
    name: manifest.name,
    description: manifest.description,
    ...(manifest.author ? { author: manifest.author } : {}),
    ...(manifest.license ? { license: manifest.license } : {}),
    kind: manifest.code ? 'code' : 'instructions',
    hash: content.hash,
    files: content.files.map((file) => ({ path: file.path, size: file.size })),
    asked: permissionIds(manifest.permissions),
    findings: findings.map((finding) => ({ severity: finding.severity, rule: finding.rule, where: `${finding.file}${finding.line ? `:${finding.line}` : ''}`, excerpt: finding.excerpt })),
  };
}
