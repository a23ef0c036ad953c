import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/common/approvals.js';
import { cardTitle, contentOf } from '../../renderer/src/popover/approval-content.js';
import { formatApprovalCard } from '../../main/cli/approval-card.js';
import { approvalNotice, NOTICE_CONTENT_LIMIT, shownWholeInNotice } from '../../main/gateway/remote-approvals.js';
import { benignModel } from './compromised-model.js';
import { KNOWN, newCanary, openHome, startHarness, type Harness } from './harness.js';
import { TestWorld } from './tools.js';
import { ask } from '../helpers/ask.js';

/**
 * The popover's card says "To be written, exactly" above a write's content. For write_file that block held only
 * "Write the file <path>": the text a compromised model put in the file (the owner's private data, into a folder that
 * syncs or is shared) was nowhere on the card the owner approved from.
 */

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness();
});
afterAll(async () => {
  await harness.close();
});

async function openFileHome(canary: string) {
  const user = mkdtempSync(join(tmpdir(), 'pavise-sec-user-'));
  mkdirSync(join(user, 'Documents', 'Shared'), { recursive: true });
  const home = await openHome(harness, {
    world: new TestWorld({ canary }),
    canary,
    decision: 'deny',
    known: KNOWN,
    config: { files: { folders: [{ path: '~/Documents', access: 'read-write' }] } },
    withoutStandIns: ['list_files', 'read_file', 'search_files', 'write_file', 'move_file', 'trash_file'],
    env: { HOME: user, XDG_DATA_HOME: join(user, '.local', 'share') },
  });
  return { user, home, close: () => (home.close(), rmSync(user, { recursive: true, force: true })) };
}

describe('a file write asked about shows what would be written', () => {
  it('at medium risk (decidable from Telegram) the notice carries the content; content too long for a notice is decided on the Mac only', async () => {
    const { user, home, close } = await openFileHome(newCanary());
    const short = 'Budget is tight this quarter; the offsite moves to May.\n';
    const long = `${'The offsite moves to May. '.repeat(Math.ceil((NOTICE_CONTENT_LIMIT + 100) / 26))}\n`;
    try {
      harness.use(
        benignModel([
          { calls: [{ name: 'fetch_web', input: { url: 'https://news.example.com/today' } }] },
          { calls: [{ name: 'write_file', input: { path: '~/Documents/Shared/short.md', content: short } }] },
          { calls: [{ name: 'write_file', input: { path: '~/Documents/Shared/long.md', content: long } }] },
          { text: 'Done.' },
        ]),
      );
      await ask(home.services, home.services.sessions.create('local').id, 'Summarise https://news.example.com/today');
      expect(home.shown.map((card) => [card.tool, card.risk])).toEqual([['write_file', 'medium'], ['write_file', 'medium']]);
      const [first, second] = home.shown as [ApprovalView, ApprovalView];
      expect(shownWholeInNotice(first)).toBe(true);
      expect(approvalNotice(first, true, 'darwin')).toContain(short.trim());
      expect(shownWholeInNotice(second)).toBe(false);
      expect(approvalNotice(second, false, 'darwin')).toContain('too long to show here');
      expect(approvalNotice(second, false, 'darwin')).toContain('Decide on the Mac');
      expect(existsSync(join(user, 'Documents', 'Shared', 'short.md'))).toBe(false);
    } finally {
      close();
    }
  });

  it('after a web page and a private read, write_file asks at high risk and the card holds the whole content; denied, nothing is written', async () => {
    const { user, home, close } = await openFileHome(newCanary());
    const content = 'Alice Smith: iMessage +1 555-000-1111, email alice@example.com\n';
    try {
      harness.use(
        benignModel([
          { calls: [{ name: 'fetch_web', input: { url: 'https://news.example.com/today' } }] },
          { calls: [{ name: 'lookup_contact', input: { name: 'Alice' } }] },
          { calls: [{ name: 'write_file', input: { path: '~/Documents/Shared/notes.md', content } }] },
          { text: 'Done.' },
        ]),
      );
      await ask(home.services, home.services.sessions.create('local').id, 'Summarise https://news.example.com/today');
      expect(home.shown).toHaveLength(1);
      const card = home.shown[0]!;
      expect(card.tool).toBe('write_file');
      expect(card.risk).toBe('high');
      const shown = contentOf(card);
      expect(shown.some((piece) => piece.kind === 'text' && piece.text.includes(content))).toBe(true);
      expect(cardTitle(card)).toBe(`Write the file ~/Documents/Shared/notes.md`);
      expect(formatApprovalCard(card)).toContain('555-000-1111');
      expect(existsSync(join(user, 'Documents', 'Shared', 'notes.md'))).toBe(false);
    } finally {
      close();
    }
  });
});

describe('a look-alike address is not just a new recipient', () => {
  it('an iMessage to alice.smith@icloud.com spelled with a Cyrillic "а" asks at high risk (the Mac only), saying the scripts are mixed; denied, nothing is queued', async () => {
    const { home, close } = await openFileHome(newCanary());
    const lookalike = 'alice.smith@icloud.com'.replace('a', '\u0430');
    try {
      harness.use(benignModel([{ calls: [{ name: 'send_message', input: { channel: 'imessage', to: lookalike, text: 'The report is ready.' } }] }, { text: 'Done.' }]));
      await ask(home.services, home.services.sessions.create('local').id, `Text ${lookalike}: The report is ready.`);
      expect(home.shown.map((card) => [card.risk, card.grantable])).toEqual([['high', false]]);
      expect(home.shown[0]?.reason).toContain('mixes Latin and Cyrillic letters');
      expect(home.services.outbox.list(100)).toEqual([]);
    } finally {
      close();
    }
  });

  it('the same address in plain Latin letters is an ordinary new recipient (the control)', async () => {
    const { home, close } = await openFileHome(newCanary());
    try {
      harness.use(benignModel([{ calls: [{ name: 'send_message', input: { channel: 'imessage', to: 'alice.smith@icloud.com', text: 'The report is ready.' } }] }, { text: 'Done.' }]));
      await ask(home.services, home.services.sessions.create('local').id, 'Text alice.smith@icloud.com: The report is ready.');
      expect(home.shown.map((card) => card.risk)).toEqual(['medium']);
    } finally {
      close();
    }
  });
});
