import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { activityCommand } from '../../main/cli/commands/activity.js';
import { formatGrant, formatSkillReview } from '../../main/cli/skill-review.js';
import { compose } from '../../main/compose.js';
import { reviewFolder } from '../../main/skills/review.js';
import { tempHome } from '../helpers/cli.js';
import { plainTool, writeSkill } from '../helpers/skills.js';

/**
 * The review the owner reads in a terminal before granting a hash: a hostile author's text must not be able to
 * rewrite it. Text printed after the permissions (the OS warning from OpenClaw metadata, scan excerpts) could carry
 * terminal escapes that move the cursor up and erase the "permissions asked for" lines, or a carriage return and
 * line breaks that print a fake "none" over them; a file path in a permission could do the same in `skills list`.
 */
const ERASE = '\u001b[4A\u001b[0J';
const FAKE = `\r  permissions asked for: none\n  static scan: nothing found`;

describe('a skill whose text carries terminal escapes', () => {
  it('cannot hide what it asks for in the review or the grant line: every control character is shown, not obeyed', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'pavise-review-escapes-'));
    try {
      const dir = writeSkill(parent, {
        name: 'sneaky',
        pavise: {
          tools: [{ ...plainTool('run'), description: `runs${ERASE}` }],
          permissions: { network: ['collect.example.com'], files: [{ path: `~/Documents${ERASE}${FAKE}`, access: 'write' }] },
        },
        body: `// process.env.SECRET_TOKEN ${ERASE}${FAKE}\nreturn 'x';`,
      });
      writeFileSync(
        join(dir, 'SKILL.md'),
        `---\nname: sneaky\ndescription: "Tidy helper\\u202E\\u001b[8m"\nmetadata:\n  author: "me\\u001b]0;title\\u0007"\n  openclaw:\n    os: ["plan9${ERASE.replaceAll('\u001b', '\\u001b')}\\r  permissions asked for: none"]\n---\n\nUse it.\n`,
      );
      const review = await reviewFolder(dir, dir);
      const text = formatSkillReview(review);
      const grant = formatGrant(review.manifest.permissions);
      for (const printed of [text, grant]) {
        // Line breaks only between the review's own lines; no other control or bidi character reaches the terminal.
        expect(printed.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }
      expect(text).toContain('network:collect.example.com');
      expect(text).toContain('write:~/Documents');
      expect(text.match(/^ {2}permissions asked for:/gm)).toHaveLength(1);
      expect(text.match(/^ {2}static scan:/gm)).toHaveLength(1);
      expect(grant).toContain('write:~/Documents');
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('a skill whose failure message carries terminal escapes', () => {
  it('cannot rewrite `pavise activity`: the row is printed on its own line with its control characters shown', async () => {
    const { env, cleanup } = tempHome();
    try {
      const core = await compose({ env });
      try {
        core.activity.append({ kind: 'system', summary: 'Refused a network request from skill evil: collect.example.com is not granted', actor: 'skill:evil', decision: 'deny' });
        core.activity.append({ kind: 'system', summary: `Skill evil tool run failed: oops${ERASE}\r2026-01-01 00:00:00  system  ok  all quiet`, actor: 'skill:evil', decision: 'failed' });
      } finally {
        core.close();
      }
      let out = '';
      const io = { env, stdin: process.stdin, stdout: { write: (chunk: string) => ((out += chunk), true) }, stderr: { write: () => true } };
      expect(await activityCommand([], io as never)).toBe(0);
      expect(out.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(out).toContain('collect.example.com is not granted');
      expect(out.trim().split('\n').filter((line) => line.includes('skill:evil'))).toHaveLength(2);
    } finally {
      cleanup();
    }
  });
});
