import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import type { ApprovalView } from '../../main/common/approvals.js';
import type { Snapshot } from '../../main/common/ipc.js';
import { startShell, type Shell, type ShellOptions } from '../../electron/shell.js';
import { Gateway } from '../../main/gateway/gateway.js';
import { SYSTEM_PANE_URLS } from '../../electron/platform.js';
import { FAKE_ANTHROPIC_KEY } from '../helpers/cli.js';
import { ScriptedProvider } from '../helpers/scripted-provider.js';
import {
  BrowserWindow,
  FakeEvent,
  Menu,
  Notification,
  app,
  dialog,
  globalShortcut,
  ipcMain,
  menuItems,
  protocol,
  resetElectronMock,
  session,
  shell as electronShell,
  systemPreferences,
  Tray,
  type FakeImage,
} from './electron-mock.js';
import { pendingApproval, testHome } from './home.js';

const REPO = resolve(import.meta.dirname, '../..');
/** The app's root as the shell sees it (`app.getAppPath()`): the renderer's two pages and the tray images. */
let ROOT: string;

beforeAll(() => {
  ROOT = mkdtempSync(join(tmpdir(), 'pavise-app-'));
  mkdirSync(join(ROOT, 'dist', 'renderer'), { recursive: true });
  for (const page of ['popover.html', 'settings.html']) writeFileSync(join(ROOT, 'dist', 'renderer', page), '<!doctype html>');
  symlinkSync(join(REPO, 'assets'), join(ROOT, 'assets'));
});
afterAll(() => {
  resetElectronMock();
  rmSync(ROOT, { recursive: true, force: true });
});

interface Started {
  readonly shell: Shell;
  readonly home: ReturnType<typeof testHome>;
  readonly logs: string[];
}

const running: Started[] = [];

beforeEach(() => resetElectronMock(ROOT));
afterEach(async () => {
  for (const { shell, home } of running.splice(0)) {
    await shell.shutdown();
    home.cleanup();
  }
});

async function start(config: unknown = {}, extra: Partial<ShellOptions> = {}): Promise<Started> {
  const home = testHome(config);
  const logs: string[] = [];
  const shell = await startShell({
    env: { ...home.env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY },
    platform: 'darwin',
    appRoot: ROOT,
    refreshMs: 30,
    log: (line) => logs.push(line),
    ...extra,
    serviceOptions: { ...home.serviceOptions, ...extra.serviceOptions },
  });
  if (!shell) throw new Error('the shell did not start');
  const started = { shell, home, logs };
  running.push(started);
  return started;
}

async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 5));
  }
}

const popoverWindow = (shell: Shell) => shell.popover.window as unknown as BrowserWindow;
const fromPopover = (shell: Shell) => ({ sender: popoverWindow(shell).webContents, senderFrame: popoverWindow(shell).webContents.mainFrame });
const trayIcon = () => (Tray.instances[0] as Tray).image.path;
const appMenuItem = (accelerator: string) => menuItems(Menu.applicationMenu?.template ?? []).find((item) => item.accelerator === accelerator);
const lastNotification = () => Notification.instances.at(-1) as Notification;
/** An approval the gate asked for, announced the way the gate announces one. */
function ask(shell: Shell, risk: ApprovalView['risk'], text?: string): ApprovalView {
  const approval = pendingApproval(shell.services, risk, text);
  shell.services.events.emit('approval', approval);
  return approval;
}

describe('the menu-bar shell', () => {
  it('starts as a single-instance, menu-bar-only app, with the app:// scheme registered before ready', async () => {
    const { shell } = await start();
    expect(app.dock.hidden).toBe(true);
    expect(app.sandboxed).toBe(true);
    expect(protocol.registeredBeforeReady).toBe(true);
    expect(protocol.privileged.map((item) => item.scheme)).toEqual(['app']);
    expect(protocol.handlers.has('app')).toBe(true);
    expect(app.getPath('userData')).toBe(join(app.getPath('appData'), 'Pavise', 'Electron'));
    expect(globalShortcut.registered.has('CommandOrControl+Shift+Space')).toBe(true);
    expect(Tray.instances).toHaveLength(1);
    // The popover exists from the start, hidden, so it opens at once.
    expect(BrowserWindow.instances).toHaveLength(1);
    expect(popoverWindow(shell).isVisible()).toBe(false);
    expect(popoverWindow(shell).loaded).toEqual(['app://pavise/popover.html']);
  });

  it('runs the doctor at start: each failure reaches the popover as a notice that says what to do', async () => {
    // Here (a "Mac" without osascript) the Calendar helper cannot answer, and the model's address refuses connections.
    const { shell } = await start({ model: { provider: 'anthropic', baseURL: 'http://127.0.0.1:9' } });
    const notices = () => (shell.backend.snapshot().notices ?? []).map((notice) => notice.text);
    await until(() => notices().some((text) => text.includes('Calendar and Contacts helper')), 'the doctor notices', 20_000);
    expect(notices()).toContainEqual(expect.stringMatching(/^the Calendar and Contacts helper does not answer: .*[^.]\. Reinstall Pavise/));
    // Only failures become notices (a warning such as the login item does not), and each says what to do.
    expect(notices().every((text) => /\. (Reinstall|Run|Store|Check|Give|Set|Get|Allow|Turn|Open)/.test(text))).toBe(true);
    expect(notices().some((text) => text.includes('open at login'))).toBe(false);
  }, 30_000);

  it('a second instance focuses the popover of the first', async () => {
    const { shell } = await start();
    app.emit('second-instance', new FakeEvent(), ['Pavise'], '/');
    expect(popoverWindow(shell).isVisible()).toBe(true);
    expect(BrowserWindow.getFocusedWindow()).toBe(popoverWindow(shell));
  });

  it('the second instance itself quits at once, before opening anything', async () => {
    app.singleInstance = false;
    const home = testHome();
    try {
      await expect(startShell({ env: home.env, serviceOptions: home.serviceOptions, appRoot: ROOT })).resolves.toBeUndefined();
      expect(app.quitCalls).toBe(1);
      expect(app.ready).toBe(false);
      expect(BrowserWindow.instances).toEqual([]);
      expect(Tray.instances).toEqual([]);
    } finally {
      home.cleanup();
    }
  });

  it('hardens every window and web contents it creates, and the session', async () => {
    const { shell } = await start();
    shell.settings.open();
    expect(BrowserWindow.instances).toHaveLength(2);
    for (const window of BrowserWindow.instances) {
      expect(window.options.webPreferences).toMatchObject({
        sandbox: true,
        contextIsolation: true,
        nodeIntegration: false,
        webSecurity: true,
        preload: join(ROOT, 'dist', 'electron', 'preload.cjs'),
      });
      expect(window.loaded.every((url) => url.startsWith('app://pavise/'))).toBe(true);
      const navigation = new FakeEvent();
      window.webContents.emit('will-navigate', navigation, 'https://evil.example/');
      expect(navigation.defaultPrevented).toBe(true);
      expect(window.webContents.windowOpenHandler?.({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    }
    const callback = vi.fn();
    session.defaultSession.permissionRequestHandler?.({}, 'media', callback, {});
    expect(callback).toHaveBeenCalledWith(false);
    expect(session.defaultSession.permissionCheckHandler?.({}, 'notifications', 'app://pavise', {})).toBe(false);
    const traversal = await protocol.handlers.get('app')?.(new Request('app://pavise/../../etc/passwd'));
    expect(traversal?.status).toBe(404);
    expect(await traversal?.text()).not.toContain('root:');
  });

  it('a packaged app has no developer tools and no developer menu; a development build has both', async () => {
    app.isPackaged = true;
    const { shell } = await start();
    expect(popoverWindow(shell).options.webPreferences?.devTools).toBe(false);
    expect(menuItems(Menu.applicationMenu?.template ?? []).some((item) => item.role === 'toggleDevTools')).toBe(false);
    await shell.shutdown();
    resetElectronMock(ROOT);
    const { shell: development } = await start();
    expect(popoverWindow(development).options.webPreferences?.devTools).toBe(true);
    expect(menuItems(Menu.applicationMenu?.template ?? []).some((item) => item.role === 'toggleDevTools')).toBe(true);
  });

  it('the tray click and the global shortcut toggle the popover, which opens under the icon', async () => {
    const { shell } = await start();
    (Tray.instances[0] as Tray).emit('click');
    expect(popoverWindow(shell).isVisible()).toBe(true);
    expect(popoverWindow(shell).position).toEqual([1012 - 190, 29]);
    // A menu-bar app is not active by itself: opening the popover makes it so, or typing would go elsewhere.
    expect(app.focusCalls).toBeGreaterThan(0);
    globalShortcut.registered.get('CommandOrControl+Shift+Space')?.();
    expect(popoverWindow(shell).isVisible()).toBe(false);
  });

  it('the tray icon follows the snapshots: idle → approval → paused → approval → idle', async () => {
    const { shell } = await start();
    const tray = Tray.instances[0] as Tray;
    expect(trayIcon()).toBe(join(ROOT, 'assets', 'trayTemplate.png'));
    expect(tray.image.isTemplateImage()).toBe(true);
    expect(tray.tooltip).toBe('Pavise — nothing needs you');

    const approval = ask(shell, 'medium');
    await until(() => trayIcon().endsWith('trayApprovalTemplate.png'), 'the approval icon');
    expect(tray.tooltip).toBe('Pavise — 1 approval waiting');

    await expect(ipcMain.invoke('pause.set', fromPopover(shell), { paused: true })).resolves.toMatchObject({ ok: true });
    await until(() => trayIcon().endsWith('trayPausedTemplate.png'), 'the paused icon');
    expect(tray.tooltip).toContain('paused');

    await ipcMain.invoke('pause.set', fromPopover(shell), { paused: false });
    await until(() => trayIcon().endsWith('trayApprovalTemplate.png'), 'the approval icon again');
    await ipcMain.invoke('approvals.decide', fromPopover(shell), { id: approval.id, decision: 'deny' });
    await until(() => trayIcon().endsWith('trayTemplate.png'), 'the idle icon');
    // The renderer was told each time.
    const pushes = popoverWindow(shell).webContents.sent.filter((message) => message.channel === 'state.changed').map((message) => (message.args[0] as Snapshot).tray);
    expect(pushes).toEqual(expect.arrayContaining(['approval', 'paused', 'idle']));
  });

  it('the tray menu pauses everything through the same contract', async () => {
    const { shell } = await start();
    (Tray.instances[0] as Tray).emit('right-click');
    const menu = (Tray.instances[0] as Tray).contextMenus[0] as { template: { label?: string; click?: () => void }[] };
    menu.template.find((item) => item.label === 'Pause Everything')?.click?.();
    await until(() => shell.services.switches.get('paused').on, 'the pause switch');
  });

  describe('approval notifications', () => {
    it('a new approval shows a notification whose Approve reaches the gate as the notification', async () => {
      const { shell } = await start();
      const approval = ask(shell, 'medium', 'See you at 7');
      const notification = lastNotification();
      expect(notification.shown).toBe(true);
      expect(notification.options).toMatchObject({ id: approval.id, title: 'Send iMessage to Sam (+1 555 000 9999)', subtitle: 'Medium risk' });
      expect(notification.options.body).toContain('“See you at 7”');
      expect(notification.options.actions?.map((action) => action.text)).toEqual(['Approve', 'Deny']);

      notification.press(0);
      await until(() => shell.services.approvals.get(approval.id)?.status === 'approved', 'the approval');
      expect(shell.services.approvals.get(approval.id)?.decidedBy).toBe('notification');
      expect(shell.services.activity.list({ limit: 10 }).some((row) => row.kind === 'approval_decided' && row.actor === 'owner:notification')).toBe(true);
      expect(notification.closed).toBe(true);
      await until(() => trayIcon().endsWith('trayTemplate.png'), 'the idle icon');
    });

    it('Deny from a notification denies', async () => {
      const { shell } = await start();
      const approval = ask(shell, 'high');
      lastNotification().press(1);
      await until(() => shell.services.approvals.get(approval.id)?.status === 'denied', 'the denial');
    });

    it('high risk needs Touch ID: a cancelled prompt leaves it pending, a confirmed one approves', async () => {
      systemPreferences.canPromptTouchID.mockReturnValue(true);
      const { shell } = await start();
      const approval = ask(shell, 'high');
      const notification = lastNotification();
      expect(notification.options.subtitle).toBe('High risk');
      expect(notification.options.actions?.map((action) => action.text)).toEqual(['Approve', 'Deny']);

      systemPreferences.promptTouchID.mockRejectedValueOnce(new Error('User canceled'));
      await shell.notifier.act(approval.id, 'approve');
      expect(systemPreferences.promptTouchID).toHaveBeenCalledWith('approve: Send iMessage to Sam (+1 555 000 9999)');
      expect(shell.services.approvals.get(approval.id)?.status).toBe('pending');
      expect(notification.closed).toBe(false);

      notification.press(0);
      await until(() => shell.services.approvals.get(approval.id)?.status === 'approved', 'the approval');
      expect(systemPreferences.promptTouchID).toHaveBeenCalledTimes(2);
    });

    it('high risk cannot be approved from a notification on a Mac without Touch ID: Review opens the popover', async () => {
      const { shell } = await start();
      const approval = ask(shell, 'high');
      const notification = lastNotification();
      expect(notification.options.actions?.map((action) => action.text)).toEqual(['Review…', 'Deny']);
      notification.press(0);
      await until(() => popoverWindow(shell).isVisible(), 'the popover');
      await shell.notifier.act(approval.id, 'approve');
      expect(shell.services.approvals.get(approval.id)?.status).toBe('pending');
      expect(systemPreferences.promptTouchID).not.toHaveBeenCalled();
    });

    it('an action too long to show whole is reviewed in the popover, not approved blind', async () => {
      const { shell } = await start();
      const approval = ask(shell, 'low', `Hi ${'x'.repeat(400)} — and the part at the end you would not see`);
      expect(lastNotification().options.actions?.map((action) => action.text)).toEqual(['Review…', 'Deny']);
      expect(lastNotification().options.body).toContain('open Pavise to see all');
      await shell.notifier.act(approval.id, 'approve');
      expect(shell.services.approvals.get(approval.id)?.status).toBe('pending');
    });

    it('Touch ID guards high-risk approvals from the popover too, keeping the popover open meanwhile', async () => {
      systemPreferences.canPromptTouchID.mockReturnValue(true);
      const { shell } = await start();
      const approval = ask(shell, 'high');
      shell.popover.show();
      systemPreferences.promptTouchID.mockImplementationOnce(async () => {
        popoverWindow(shell).emit('blur');
        throw new Error('User canceled');
      });
      await expect(ipcMain.invoke('approvals.decide', fromPopover(shell), { id: approval.id, decision: 'approve' })).resolves.toMatchObject({ ok: false, code: 'not_confirmed' });
      expect(popoverWindow(shell).isVisible()).toBe(true);
      expect(shell.services.approvals.get(approval.id)?.status).toBe('pending');
      await expect(ipcMain.invoke('approvals.decide', fromPopover(shell), { id: approval.id, decision: 'approve' })).resolves.toMatchObject({ ok: true, value: { status: 'approved' } });
    });

    it('a notification is withdrawn when its approval is decided elsewhere, and each approval is announced once', async () => {
      const { shell } = await start();
      const approval = ask(shell, 'medium');
      shell.services.events.emit('approval', approval);
      expect(Notification.instances).toHaveLength(1);
      await ipcMain.invoke('approvals.decide', fromPopover(shell), { id: approval.id, decision: 'approve' });
      await until(() => lastNotification().closed, 'the notification to be withdrawn');
    });

    it('approvals asked for by another process (the CLI beside the app) are noticed and announced', async () => {
      const { shell } = await start();
      const approval = pendingApproval(shell.services, 'medium');
      await until(() => Notification.instances.some((item) => item.options.id === approval.id), 'the notification');
      await until(() => trayIcon().endsWith('trayApprovalTemplate.png'), 'the approval icon');
    });
  });

  describe('keyboard and windows', () => {
    it('⌘, opens Settings: a standard, resizable 720 × 520 window that remembers its size', async () => {
      const { shell, home } = await start();
      appMenuItem('CommandOrControl+,')?.click?.();
      const settings = BrowserWindow.instances[1] as BrowserWindow;
      expect(settings.options).toMatchObject({ width: 720, height: 520, resizable: true, show: false, title: 'Pavise Settings' });
      expect(settings.options.frame).toBeUndefined();
      expect(settings.loaded).toEqual(['app://pavise/settings.html']);
      await until(() => settings.isVisible(), 'ready-to-show');

      settings.setSize(860, 610);
      settings.close();
      expect(settings.isDestroyed()).toBe(true);
      expect(JSON.parse(readFileSync(join(home.home, 'window-state.json'), 'utf8'))).toEqual({ settings: { width: 860, height: 610 } });
      expect(shell.settings.window).toBeUndefined();

      shell.settings.open('activity');
      const again = BrowserWindow.instances[2] as BrowserWindow;
      expect(again.options).toMatchObject({ width: 860, height: 610 });
      expect(again.loaded).toEqual(['app://pavise/settings.html?section=activity']);
      // Opening it again brings the same window forward.
      shell.settings.open('limits');
      expect(BrowserWindow.instances).toHaveLength(3);
      expect(again.loaded.at(-1)).toBe('app://pavise/settings.html?section=limits');
    });

    it('a damaged window-state file falls back to the default size', async () => {
      const { shell, home } = await start();
      writeFileSync(join(home.home, 'window-state.json'), '{"settings":{"width":-5,"height":"tall"}}');
      shell.settings.open();
      expect((BrowserWindow.instances[1] as BrowserWindow).options).toMatchObject({ width: 720, height: 520 });
    });

    it('the renderer can open Settings at a section through the contract', async () => {
      const { shell } = await start();
      await expect(ipcMain.invoke('window.openSettings', fromPopover(shell), { section: 'activity' })).resolves.toEqual({ ok: true, value: { opened: true } });
      expect((BrowserWindow.instances[1] as BrowserWindow).loaded).toEqual(['app://pavise/settings.html?section=activity']);
    });

    it('⌘W closes the settings window and hides the popover', async () => {
      const { shell } = await start();
      const settings = shell.settings.open() as unknown as BrowserWindow;
      settings.focus();
      appMenuItem('CommandOrControl+W')?.click?.();
      expect(settings.isDestroyed()).toBe(true);
      shell.popover.show();
      appMenuItem('CommandOrControl+W')?.click?.();
      expect(popoverWindow(shell).isVisible()).toBe(false);
      expect(popoverWindow(shell).isDestroyed()).toBe(false);
    });

    it('⌘Q quits at once when idle, and stops the core before the app exits', async () => {
      const { shell } = await start();
      appMenuItem('CommandOrControl+Q')?.click?.();
      await until(() => (Tray.instances[0] as Tray).isDestroyed(), 'the shutdown');
      expect(dialog.shown).toEqual([]);
      expect(app.quitCalls).toBe(2);
      expect(() => shell.services.approvals.pending()).toThrow();
      // Quitting lets the popover really close.
      popoverWindow(shell).close();
      expect(popoverWindow(shell).isDestroyed()).toBe(true);
    });

    it('⌘Q asks first while a reply is being written; Cancel keeps the app running', async () => {
      const provider = new ScriptedProvider([
        (_request, options) =>
          new Promise((resolveStep) => options.signal?.addEventListener('abort', () => resolveStep({ stopReason: 'aborted', content: [] }), { once: true })),
      ]);
      const { shell: busy } = await start({}, { serviceOptions: { provider } });
      await expect(ipcMain.invoke('chat.send', fromPopover(busy), { text: 'write me a long essay' })).resolves.toMatchObject({ ok: true });
      await until(() => busy.backend.snapshot().turnRunning, 'the turn');
      await until(() => trayIcon().endsWith('trayWorkingTemplate.png'), 'the working icon');

      dialog.response = 1;
      await expect(busy.requestQuit()).resolves.toBe(false);
      expect(dialog.shown).toHaveLength(1);
      expect(dialog.shown[0]?.message).toContain('still writing a reply');
      expect(app.quitCalls).toBe(0);

      dialog.response = 0;
      await expect(busy.requestQuit()).resolves.toBe(true);
      await until(() => (Tray.instances[0] as Tray).isDestroyed(), 'the shutdown');
    });
  });

  describe('platform pieces', () => {
    it('opens only the fixed System Settings panes', async () => {
      const { shell } = await start();
      await expect(ipcMain.invoke('system.openPane', fromPopover(shell), { pane: 'full-disk-access' })).resolves.toEqual({ ok: true, value: { opened: true } });
      await ipcMain.invoke('system.openPane', fromPopover(shell), { pane: 'automation' });
      await expect(ipcMain.invoke('system.openPane', fromPopover(shell), { pane: 'x-apple.systempreferences:evil' })).resolves.toMatchObject({ ok: false, code: 'bad_request' });
      await expect(ipcMain.invoke('system.openPane', fromPopover(shell), { pane: 'https://evil.example/' })).resolves.toMatchObject({ ok: false, code: 'bad_request' });
      expect(electronShell.opened).toEqual([
        'x-apple.systempreferences:com.apple.preference.security?Privacy_AllFiles',
        'x-apple.systempreferences:com.apple.preference.security?Privacy_Automation',
      ]);
      expect(Object.values(SYSTEM_PANE_URLS).every((url) => url.startsWith('x-apple.systempreferences:'))).toBe(true);
    });

    it('open at login goes through the login item settings', async () => {
      const { shell } = await start();
      await expect(ipcMain.invoke('settings.update', fromPopover(shell), { openAtLogin: true })).resolves.toMatchObject({ ok: true, value: { openAtLogin: true } });
      expect(app.loginItem.openAtLogin).toBe(true);
      await expect(ipcMain.invoke('settings.get', fromPopover(shell), {})).resolves.toMatchObject({ value: { openAtLogin: true } });
    });

    it('re-checks Full Disk Access when a window gains focus and pushes the change', async () => {
      const chatDb = join(ROOT, 'chat.db');
      const { shell } = await start({ channels: { imessage: { chatDbPath: chatDb } } });
      const fullDiskAccess = async () =>
        ((await ipcMain.invoke('settings.get', fromPopover(shell), {})) as { value: { channels: { imessage: { fullDiskAccess: string } } } }).value.channels.imessage.fullDiskAccess;
      expect(await fullDiskAccess()).toBe('unknown');
      writeFileSync(chatDb, '');
      const before = popoverWindow(shell).webContents.sent.length;
      app.emit('browser-window-focus', new FakeEvent(), popoverWindow(shell));
      expect(await fullDiskAccess()).toBe('granted');
      await until(() => popoverWindow(shell).webContents.sent.length > before, 'a push');
    });

    it('runs the gateway when a channel is enabled, and its status reaches the snapshot', async () => {
      const { shell } = await start({ channels: { telegram: { enabled: true, apiRoot: 'http://127.0.0.1:9' } } });
      await until(() => shell.backend.snapshot().channels.some((dot) => dot.channel === 'telegram' && dot.state === 'needs_setup'), 'the telegram status');
    });

    it('starts a gateway that dies again after a delay, and tells the owner in the popover', async () => {
      const original = Gateway.prototype.run;
      let runs = 0;
      const spy = vi.spyOn(Gateway.prototype, 'run').mockImplementation(function (this: Gateway, signal: AbortSignal) {
        runs += 1;
        return runs === 1 ? Promise.reject(new Error('the database went away')) : original.call(this, signal);
      });
      try {
        const { shell } = await start({ channels: { telegram: { enabled: true, apiRoot: 'http://127.0.0.1:9' } } });
        const notices = () => (shell.backend.snapshot().notices ?? []).map((notice) => notice.text);
        await until(() => notices().includes('The gateway stopped (the database went away); restarting it in 1 s.'), 'the notice');
        await until(() => runs === 2, 'the restart', 5_000);
        await until(() => shell.backend.snapshot().channels.some((dot) => dot.channel === 'telegram' && dot.state === 'needs_setup'), 'the restarted gateway');
      } finally {
        spy.mockRestore();
      }
    });

    it('keeps running when another gateway already holds this home, and says so on the channel dot', async () => {
      const home = testHome({ channels: { telegram: { enabled: true, apiRoot: 'http://127.0.0.1:9' } } });
      writeFileSync(join(home.home, 'gateway.lock'), `${process.ppid}\n`);
      const logs: string[] = [];
      const shell = await startShell({ env: home.env, platform: 'darwin', serviceOptions: home.serviceOptions, appRoot: ROOT, log: (line) => logs.push(line) });
      if (!shell) throw new Error('the shell did not start');
      running.push({ shell, home, logs });
      await until(() => shell.backend.snapshot().channels.some((dot) => dot.state === 'stopped' && /already running/.test(dot.detail ?? '')), 'the locked status');
    });
  });

  it('tray images are template images that exist in assets/', async () => {
    await start();
    const image = (Tray.instances[0] as Tray).image as FakeImage;
    expect(readFileSync(image.path).subarray(1, 4).toString()).toBe('PNG');
  });
});
