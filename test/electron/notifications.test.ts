import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import type { ApprovalView } from '../../main/common/approvals.js';
import { ApprovalNotifier, NOTIFICATION_BODY_LIMIT, exactAction, notificationActions } from '../../electron/notifications.js';
import { touchIdCheck, touchIdReason } from '../../electron/touch-id.js';
import { Notification, resetElectronMock, systemPreferences } from './electron-mock.js';

const approval = (overrides: Partial<ApprovalView> = {}): ApprovalView => ({
  id: 'ap_abcdefghijkl',
  tool: 'send_message',
  title: 'Send iMessage to Sam (+1 555 000 9999)',
  effects: [{ kind: 'send_message', channel: 'imessage', recipient: '+15550009999', text: 'See you at 7' }],
  input: { to: 'Sam', text: 'See you at 7' },
  reason: 'the number came from a message Sam sent you — not from you',
  risk: 'medium',
  untrustedOrigin: false,
  origins: [],
  grantable: false,
  status: 'pending',
  createdAt: 0,
  expiresAt: 60_000,
  ...overrides,
});

describe('approval notifications', () => {
  it('show the exact action with invisible characters made visible', () => {
    const sneaky = approval({ effects: [{ kind: 'send_message', channel: 'imessage', recipient: '+1555', text: 'pay\u202Eevil\u200B' }] });
    expect(exactAction(sneaky)).toBe('“pay⟦RLO⟧evil⟦ZWSP⟧”');
    expect(exactAction(approval({ effects: [{ kind: 'execute', argv: ['rm', '-rf', '~/x'] }] }))).toBe('rm -rf ~/x');
    expect(exactAction(approval({ effects: [{ kind: 'network', host: 'example.com', url: 'https://example.com/a', method: 'POST' }] }))).toBe('POST https://example.com/a');
    expect(exactAction(approval({ effects: [], input: { code: 'ABC' } }))).toBe('{"code":"ABC"}');
  });

  it('offer Approve only when the whole action fits and, for high risk, Touch ID can confirm it', () => {
    expect(notificationActions(approval(), false)).toEqual(['approve', 'deny']);
    expect(notificationActions(approval({ risk: 'high' }), false)).toEqual(['review', 'deny']);
    expect(notificationActions(approval({ risk: 'high' }), true)).toEqual(['approve', 'deny']);
    const long = 'x'.repeat(NOTIFICATION_BODY_LIMIT + 1);
    expect(notificationActions(approval({ effects: [{ kind: 'send_message', channel: 'imessage', recipient: '+1', text: long }] }), true)).toEqual(['review', 'deny']);
  });

  it('mark untrusted origins in words, and are not shown for decided approvals or twice', () => {
    resetElectronMock();
    const notifier = new ApprovalNotifier({
      decide: () => ({ ok: true }),
      approval: () => undefined,
      ownerCheck: { available: () => false, confirm: async () => false },
      openPopover: () => undefined,
    });
    notifier.notify(approval({ untrustedOrigin: true, risk: 'high' }));
    notifier.notify(approval({ untrustedOrigin: true, risk: 'high' }));
    notifier.notify(approval({ id: 'ap_bbbbbbbbbbbb', status: 'approved' }));
    expect(Notification.instances).toHaveLength(1);
    expect(Notification.instances[0]?.options.subtitle).toBe('High risk · from untrusted content');
    expect(notifier.shownIds).toEqual(['ap_abcdefghijkl']);
    notifier.sync(new Set());
    expect(Notification.instances[0]?.closed).toBe(true);
    expect(notifier.shownIds).toEqual([]);
  });

  it('act on the approval as it is now, not as it was announced', async () => {
    resetElectronMock();
    const decide = vi.fn(() => ({ ok: true }));
    const notifier = new ApprovalNotifier({
      decide,
      approval: () => approval({ status: 'denied' }),
      ownerCheck: { available: () => true, confirm: async () => true },
      openPopover: () => undefined,
    });
    await notifier.act('ap_abcdefghijkl', 'approve');
    expect(decide).not.toHaveBeenCalled();
  });
});

describe('Touch ID', () => {
  it('is available only on a Mac that can prompt, and a failed prompt is a no', async () => {
    resetElectronMock();
    systemPreferences.canPromptTouchID.mockReturnValue(true);
    expect(touchIdCheck(systemPreferences as never, 'darwin').available()).toBe(true);
    expect(touchIdCheck(systemPreferences as never, 'linux').available()).toBe(false);
    systemPreferences.canPromptTouchID.mockImplementation(() => {
      throw new Error('not supported');
    });
    expect(touchIdCheck(systemPreferences as never, 'darwin').available()).toBe(false);
    systemPreferences.promptTouchID.mockRejectedValueOnce(new Error('User canceled'));
    await expect(touchIdCheck(systemPreferences as never, 'darwin').confirm('approve: x')).resolves.toBe(false);
    await expect(touchIdCheck(systemPreferences as never, 'darwin').confirm('approve: x')).resolves.toBe(true);
  });

  it('asks with one short visible line', () => {
    expect(touchIdReason('Send iMessage\nto Sam\u202E')).toBe('approve: Send iMessage to Sam⟦RLO⟧');
    expect(touchIdReason('x'.repeat(300)).length).toBeLessThanOrEqual(130);
  });
});
