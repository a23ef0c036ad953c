import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import { SYSTEM_PANE_URLS, createShellPlatform, probeFullDiskAccess } from '../../electron/platform.js';
import { rendererUrl } from '../../electron/renderer-url.js';
import { SETTINGS_SIZE, loadSettingsSize, saveSettingsSize } from '../../electron/settings-window.js';
import { SHORTCUTS, applicationMenu, trayMenu } from '../../electron/menus.js';
import { menuItems } from './electron-mock.js';

const dir = mkdtempSync(join(tmpdir(), 'pavise-platform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function platform(name: NodeJS.Platform, chatDbPath = join(dir, 'missing.db')) {
  const opened: string[] = [];
  const changes: string[] = [];
  const login = { openAtLogin: false };
  const hooks = createShellPlatform({
    platform: name,
    app: { getLoginItemSettings: () => ({ ...login }) as never, setLoginItemSettings: (settings) => void (login.openAtLogin = settings.openAtLogin ?? false) },
    shell: { openExternal: async (url) => void opened.push(url) },
    chatDbPath,
    openSettings: () => undefined,
    channelStatuses: () => [],
    onFullDiskAccessChange: (value) => changes.push(value),
  });
  return { hooks, opened, changes, login };
}

describe('platform hooks', () => {
  it('open only fixed System Settings URLs, and only on macOS', async () => {
    const mac = platform('darwin');
    await expect(mac.hooks.openSystemPane('full-disk-access')).resolves.toBe(true);
    await expect(mac.hooks.openSystemPane('automation')).resolves.toBe(true);
    await expect(mac.hooks.openSystemPane('toString' as never)).resolves.toBe(false);
    await expect(mac.hooks.openSystemPane('https://evil.example/' as never)).resolves.toBe(false);
    expect(mac.opened).toEqual([SYSTEM_PANE_URLS['full-disk-access'], SYSTEM_PANE_URLS.automation]);
    expect(SYSTEM_PANE_URLS['full-disk-access']).toBe('x-apple.systempreferences:com.apple.preference.security?Privacy_AllFiles');
    expect(SYSTEM_PANE_URLS.automation).toBe('x-apple.systempreferences:com.apple.preference.security?Privacy_Automation');
    const linux = platform('linux');
    await expect(linux.hooks.openSystemPane('full-disk-access')).resolves.toBe(false);
    expect(linux.opened).toEqual([]);
  });

  it('read and write the login item', () => {
    const mac = platform('darwin');
    expect(mac.hooks.getOpenAtLogin()).toBe(false);
    mac.hooks.setOpenAtLogin(true);
    expect(mac.login.openAtLogin).toBe(true);
    expect(mac.hooks.getOpenAtLogin()).toBe(true);
  });

  it('tell Full Disk Access from whether Messages’ database opens, and report a change once', () => {
    const chatDb = join(dir, 'chat.db');
    expect(probeFullDiskAccess(chatDb, 'darwin')).toBe('unknown');
    expect(probeFullDiskAccess(join(dir, 'not-a-dir', 'chat.db'), 'darwin')).toBe('unknown');
    expect(probeFullDiskAccess('/etc/hostname', 'linux')).toBe('unknown');
    const mac = platform('darwin', chatDb);
    expect(mac.hooks.fullDiskAccess()).toBe('unknown');
    expect(mac.hooks.recheckFullDiskAccess()).toBe(false);
    writeFileSync(chatDb, '');
    expect(mac.hooks.recheckFullDiskAccess()).toBe(true);
    expect(mac.hooks.recheckFullDiskAccess()).toBe(false);
    expect(mac.hooks.fullDiskAccess()).toBe('granted');
    expect(mac.changes).toEqual(['granted']);
  });
});

describe('renderer URLs', () => {
  it('use one page per view when the renderer builds them, else index.html?view=', () => {
    const perView = mkdtempSync(join(dir, 'renderer-'));
    writeFileSync(join(perView, 'popover.html'), '');
    writeFileSync(join(perView, 'settings.html'), '');
    expect(rendererUrl(perView, 'popover')).toBe('app://pavise/popover.html');
    expect(rendererUrl(perView, 'settings', 'activity')).toBe('app://pavise/settings.html?section=activity');
    const single = mkdtempSync(join(dir, 'renderer-'));
    expect(rendererUrl(single, 'popover')).toBe('app://pavise/index.html?view=popover');
    expect(rendererUrl(single, 'settings', 'limits')).toBe('app://pavise/index.html?view=settings&section=limits');
  });
});

describe('settings window size', () => {
  it('is remembered, and nonsense falls back to the default', () => {
    const file = join(dir, 'window-state.json');
    expect(loadSettingsSize(file)).toEqual(SETTINGS_SIZE);
    saveSettingsSize(file, { width: 901.4, height: 640 });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ settings: { width: 901, height: 640 } });
    expect(loadSettingsSize(file)).toEqual({ width: 901, height: 640 });
    for (const text of ['not json', '{"settings":{"width":100,"height":100}}', '{"settings":{"width":1e9,"height":600}}', '[]', 'null']) {
      writeFileSync(file, text);
      expect(loadSettingsSize(file), text).toEqual(SETTINGS_SIZE);
    }
  });
});

describe('menus', () => {
  it('bind ⌘, ⌘W and ⌘Q, and keep the Edit menu so text fields can copy and paste', () => {
    const actions = { openSettings: vi.fn(), closeWindow: vi.fn(), quit: vi.fn() };
    const items = menuItems(applicationMenu(actions));
    items.find((item) => item.accelerator === SHORTCUTS.settings)?.click?.();
    items.find((item) => item.accelerator === SHORTCUTS.close)?.click?.();
    items.find((item) => item.accelerator === SHORTCUTS.quit)?.click?.();
    expect([actions.openSettings, actions.closeWindow, actions.quit].map((fn) => fn.mock.calls.length)).toEqual([1, 1, 1]);
    expect(items.map((item) => item.role).filter(Boolean)).toEqual(expect.arrayContaining(['copy', 'paste', 'selectAll', 'undo']));
  });

  it('the tray menu shows and flips the pause switch', () => {
    const setPaused = vi.fn();
    const template = trayMenu({ openSettings: vi.fn(), closeWindow: vi.fn(), quit: vi.fn(), openPopover: vi.fn(), setPaused }, { paused: true });
    const pause = template.find((item) => item.label === 'Pause Everything');
    expect(pause?.checked).toBe(true);
    (pause?.click as () => void)();
    expect(setPaused).toHaveBeenCalledWith(false);
  });
});
