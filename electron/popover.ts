import { BrowserWindow, nativeTheme, screen, type Rectangle } from 'electron';
import { secureWebPreferences } from './security.js';

export const POPOVER_SIZE = { width: 380, height: 560 } as const;
const GAP = 4;
const MARGIN = 8;
/** A tray click this soon after the popover hid on blur is the same click: it closes, it does not reopen. */
const REOPEN_GUARD_MS = 250;

/**
 * Where the popover goes: centred under the tray icon (above it when the bar is at the bottom, as on Windows),
 * kept inside the work area of the display the icon is on.
 */
export function popoverPosition(tray: Rectangle, workArea: Rectangle, size: { width: number; height: number } = POPOVER_SIZE): { x: number; y: number } {
  const centre = tray.x + tray.width / 2;
  const minX = workArea.x + MARGIN;
  const maxX = workArea.x + workArea.width - size.width - MARGIN;
  const x = Math.round(Math.min(Math.max(centre - size.width / 2, minX), Math.max(minX, maxX)));
  const trayAtBottom = tray.y > workArea.y + workArea.height / 2;
  const wanted = trayAtBottom ? tray.y - size.height - GAP : Math.max(tray.y + tray.height, workArea.y) + GAP;
  const y = Math.round(Math.min(Math.max(wanted, workArea.y), workArea.y + Math.max(0, workArea.height - size.height)));
  return { x, y };
}

export interface PopoverOptions {
  readonly preload: string;
  readonly url: string;
  readonly platform: NodeJS.Platform;
  readonly devTools?: boolean;
  /** The tray icon's bounds, when the platform reports them. */
  readonly trayBounds: () => Rectangle | undefined;
  /** Makes the (accessory) app active, so the popover takes key focus even when another app is in front. */
  readonly focusApp?: () => void;
  readonly now?: () => number;
}

/**
 * The menu-bar popover: created once and kept hidden so it opens in well under 100 ms. Frameless, arrow-less,
 * rounded, with macOS popover vibrancy (an opaque background elsewhere). Hides on blur and on Esc; closing it only
 * hides it until the app quits.
 */
export class Popover {
  readonly window: BrowserWindow;
  readonly #options: PopoverOptions;
  readonly #now: () => number;
  #hiddenAt = Number.NEGATIVE_INFINITY;
  #holds = 0;
  #closable = false;

  constructor(options: PopoverOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const mac = options.platform === 'darwin';
    this.window = new BrowserWindow({
      width: POPOVER_SIZE.width,
      height: POPOVER_SIZE.height,
      show: false,
      frame: false,
      resizable: false,
      movable: false,
      minimizable: false,
      maximizable: false,
      fullscreenable: false,
      skipTaskbar: true,
      alwaysOnTop: true,
      hasShadow: true,
      roundedCorners: true,
      title: 'Pavise',
      ...(mac
        ? { vibrancy: 'popover' as const, visualEffectState: 'active' as const, backgroundColor: '#00000000' }
        : { backgroundColor: nativeTheme.shouldUseDarkColors ? '#1f1f1f' : '#f4f4f4' }),
      webPreferences: secureWebPreferences(options.preload, { devTools: options.devTools ?? false }),
    });
    if (mac) {
      this.window.setAlwaysOnTop(true, 'pop-up-menu');
      this.window.setVisibleOnAllWorkspaces(true, { visibleOnFullScreen: true, skipTransformProcessType: true });
    }
    this.window.on('blur', () => {
      if (this.#holds > 0 || this.window.webContents.isDevToolsOpened()) return;
      this.hide();
    });
    this.window.on('close', (event) => {
      if (this.#closable) return;
      event.preventDefault();
      this.hide();
    });
    this.window.webContents.on('before-input-event', (_event, input) => {
      if (input.type === 'keyDown' && input.key === 'Escape') this.hide();
    });
    void this.window.loadURL(options.url);
  }

  isVisible(): boolean {
    return !this.window.isDestroyed() && this.window.isVisible();
  }

  show(): void {
    if (this.window.isDestroyed()) return;
    const bounds = this.#options.trayBounds();
    const anchor = bounds && bounds.width > 0 && bounds.height > 0 ? bounds : { ...screen.getCursorScreenPoint(), width: 0, height: 0 };
    const display = screen.getDisplayNearestPoint({ x: Math.round(anchor.x + anchor.width / 2), y: Math.round(anchor.y + anchor.height / 2) });
    const { x, y } = popoverPosition(anchor, display.workArea);
    this.window.setPosition(x, y, false);
    this.#options.focusApp?.();
    this.window.show();
    this.window.focus();
  }

  hide(): void {
    if (this.window.isDestroyed() || !this.window.isVisible()) return;
    this.window.hide();
    this.#hiddenAt = this.#now();
  }

  /** The tray click and the global shortcut. */
  toggle(): void {
    if (this.isVisible()) {
      this.hide();
      return;
    }
    if (this.#now() - this.#hiddenAt < REOPEN_GUARD_MS) return;
    this.show();
  }

  /** Keeps the popover open while `task` runs (a Touch ID sheet takes the focus away). */
  async holdOpen<T>(task: () => Promise<T>): Promise<T> {
    this.#holds += 1;
    try {
      return await task();
    } finally {
      this.#holds -= 1;
    }
  }

  /** Lets the window really close (the app is quitting). */
  allowClose(): void {
    this.#closable = true;
  }
}
