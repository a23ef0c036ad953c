import { describe, expect, it } from 'vitest';
import type { ApprovalView } from '../../main/common/approvals.js';
import { approvalNotice, NOTICE_CONTENT_LIMIT, shownWholeInNotice } from '../../main/gateway/remote-approvals.js';

/**
 * A notice shows write_file's content with its invisible characters spelled out (⟦ZWSP⟧). The limit on what a notice
 * may carry was measured before that: 1,500 zero-width spaces passed as 1,500 characters and the notice carried
 * ~9,000, past one Telegram message (4,096): split in two, its decision buttons under the second half, and the
 * update after a decision (the whole text again) refused by Telegram.
 */

const view = (content: string): ApprovalView =>
  ({ id: 'a1', tool: 'write_file', title: 'Write the file ~/Documents/notes.md', risk: 'medium', effects: [], input: { path: '~/Documents/notes.md', content } }) as unknown as ApprovalView;

describe('a write_file notice within the limit as the owner reads it', () => {
  it('content whose shown form is over the limit is decided on the computer, not from the notice', () => {
    const hidden = `Meeting moved.${'\u200b'.repeat(1_500)}`;
    expect(hidden.length).toBeLessThanOrEqual(NOTICE_CONTENT_LIMIT);
    expect(shownWholeInNotice(view(hidden))).toBe(false);
    expect(approvalNotice(view(hidden), false, 'darwin')).toContain('too long to show here');
  });

  it('ordinary content at the limit is still shown whole', () => {
    const plain = 'x'.repeat(NOTICE_CONTENT_LIMIT);
    expect(shownWholeInNotice(view(plain))).toBe(true);
    expect(approvalNotice(view(plain), true, 'darwin')).toContain(plain);
  });
});
