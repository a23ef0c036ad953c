import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import { POPOVER_SIZE, Popover, popoverPosition } from '../../electron/popover.js';
import { BrowserWindow, FakeEvent, resetElectronMock, screen } from './electron-mock.js';

const workArea = { x: 0, y: 25, width: 1440, height: 875 };

describe('popover position', () => {
  it('sits centred under the tray icon, just below the menu bar', () => {
    expect(popoverPosition({ x: 1000, y: 0, width: 24, height: 24 }, workArea)).toEqual({ x: 1012 - POPOVER_SIZE.width / 2, y: 29 });
  });

  it('stays inside the work area near the right and left edges', () => {
    expect(popoverPosition({ x: 1420, y: 0, width: 20, height: 24 }, workArea).x).toBe(1440 - POPOVER_SIZE.width - 8);
    expect(popoverPosition({ x: 2, y: 0, width: 20, height: 24 }, workArea).x).toBe(8);
  });

  it('opens upwards from a tray at the bottom of the screen', () => {
    const bottom = { x: 0, y: 0, width: 1920, height: 1040 };
    expect(popoverPosition({ x: 1800, y: 1040, width: 24, height: 40 }, bottom)).toEqual({ x: 1920 - POPOVER_SIZE.width - 8, y: 1040 - POPOVER_SIZE.height - 4 });
  });

  it('works on a second display to the left', () => {
    const left = { x: -1920, y: 25, width: 1920, height: 1055 };
    const position = popoverPosition({ x: -400, y: 0, width: 24, height: 24 }, left);
    expect(position.x).toBe(-388 - POPOVER_SIZE.width / 2);
  });
});

describe('popover window', () => {
  let now = 1_000;
  let popover: Popover;
  let window: BrowserWindow;
  beforeEach(() => {
    resetElectronMock();
    now = 1_000;
    popover = new Popover({
      preload: '/app/dist/electron/preload.cjs',
      url: 'app://pavise/index.html?view=popover',
      platform: 'darwin',
      trayBounds: () => ({ x: 1000, y: 0, width: 24, height: 24 }),
      now: () => now,
    });
    window = BrowserWindow.instances[0] as BrowserWindow;
  });

  it('is created hidden, frameless, 380 × 560, with popover vibrancy, and loads our app:// page at once', () => {
    expect(window.options).toMatchObject({ width: 380, height: 560, show: false, frame: false, resizable: false, vibrancy: 'popover', roundedCorners: true, skipTaskbar: true });
    expect(window.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false, webSecurity: true, preload: '/app/dist/electron/preload.cjs' });
    expect(window.loaded).toEqual(['app://pavise/index.html?view=popover']);
    expect(window.isVisible()).toBe(false);
  });

  it('has an opaque background instead of vibrancy off macOS', () => {
    resetElectronMock();
    new Popover({ preload: '/p.cjs', url: 'app://pavise/index.html', platform: 'linux', trayBounds: () => undefined });
    const options = (BrowserWindow.instances[0] as BrowserWindow).options;
    expect(options.vibrancy).toBeUndefined();
    expect(options.backgroundColor).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('opens under the tray, focused; falls back to the cursor when the tray has no bounds', () => {
    popover.toggle();
    expect(window.isVisible()).toBe(true);
    expect(BrowserWindow.focused).toBe(window);
    expect(window.position).toEqual([822, 29]);
    popover.hide();
    resetElectronMock();
    const cursorPopover = new Popover({ preload: '/p.cjs', url: 'app://pavise/index.html', platform: 'darwin', trayBounds: () => ({ x: 0, y: 0, width: 0, height: 0 }) });
    cursorPopover.show();
    const point = screen.getCursorScreenPoint();
    expect((BrowserWindow.instances[0] as BrowserWindow).position).toEqual([point.x - 190, 29]);
  });

  it('hides on blur and on Esc, and closing only hides it', () => {
    popover.show();
    window.emit('blur');
    expect(window.isVisible()).toBe(false);
    now += 1_000;
    popover.show();
    window.webContents.emit('before-input-event', new FakeEvent(), { type: 'keyDown', key: 'Escape' });
    expect(window.isVisible()).toBe(false);
    popover.show();
    window.webContents.emit('before-input-event', new FakeEvent(), { type: 'keyDown', key: 'a' });
    expect(window.isVisible()).toBe(true);
    window.close();
    expect(window.isDestroyed()).toBe(false);
    expect(window.isVisible()).toBe(false);
    popover.allowClose();
    window.close();
    expect(window.isDestroyed()).toBe(true);
  });

  it('a tray click that caused the blur closes the popover instead of reopening it', () => {
    popover.toggle();
    window.emit('blur');
    now += 50;
    popover.toggle();
    expect(window.isVisible()).toBe(false);
    now += 500;
    popover.toggle();
    expect(window.isVisible()).toBe(true);
    popover.toggle();
    expect(window.isVisible()).toBe(false);
  });

  it('stays open while Touch ID has the focus', async () => {
    popover.show();
    let release: () => void = () => undefined;
    const held = popover.holdOpen(() => new Promise<void>((resolve) => (release = resolve)));
    window.emit('blur');
    expect(window.isVisible()).toBe(true);
    release();
    await held;
    window.emit('blur');
    expect(window.isVisible()).toBe(false);
  });
});
