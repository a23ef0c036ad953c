import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { BrowserWindow, nativeTheme } from 'electron';
import { secureWebPreferences } from './security.js';

export const SETTINGS_SIZE = { width: 720, height: 520 } as const;
export const SETTINGS_MIN_SIZE = { width: 600, height: 420 } as const;
const MAX_SIDE = 10_000;

export interface WindowSize {
  readonly width: number;
  readonly height: number;
}

/** The remembered size, or the default when the file is missing, unreadable or holds nonsense. */
export function loadSettingsSize(file: string): WindowSize {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { settings?: { width?: unknown; height?: unknown } };
    const { width, height } = parsed.settings ?? {};
    const valid = (value: unknown, min: number): value is number => Number.isInteger(value) && (value as number) >= min && (value as number) <= MAX_SIDE;
    if (valid(width, SETTINGS_MIN_SIZE.width) && valid(height, SETTINGS_MIN_SIZE.height)) return { width, height };
  } catch {
    // First run, or a damaged file: the default size.
  }
  return { ...SETTINGS_SIZE };
}

export function saveSettingsSize(file: string, size: WindowSize): void {
  const text = `${JSON.stringify({ settings: { width: Math.round(size.width), height: Math.round(size.height) } }, null, 2)}\n`;
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}

export interface SettingsWindowOptions {
  readonly preload: string;
  readonly url: (section?: string) => string;
  /** `window-state.json` under PAVISE_HOME. */
  readonly stateFile: string;
  readonly devTools?: boolean;
  /** Brings a menu-bar (accessory) app to the front so the window is not opened behind others. */
  readonly focusApp?: () => void;
  readonly log?: (line: string) => void;
}

/**
 * The settings window: a standard titled, resizable macOS window (~720 × 520) that remembers its size. Created on
 * demand and closed for real by ⌘W; opening it again brings the same window forward.
 */
export class SettingsWindow {
  readonly #options: SettingsWindowOptions;
  #window: BrowserWindow | undefined;
  #saveTimer: NodeJS.Timeout | undefined;

  constructor(options: SettingsWindowOptions) {
    this.#options = options;
  }

  get window(): BrowserWindow | undefined {
    return this.#window && !this.#window.isDestroyed() ? this.#window : undefined;
  }

  open(section?: string): BrowserWindow {
    this.#options.focusApp?.();
    const existing = this.window;
    if (existing) {
      if (section) void existing.loadURL(this.#options.url(section));
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return existing;
    }
    const size = loadSettingsSize(this.#options.stateFile);
    const window = new BrowserWindow({
      width: size.width,
      height: size.height,
      minWidth: SETTINGS_MIN_SIZE.width,
      minHeight: SETTINGS_MIN_SIZE.height,
      resizable: true,
      fullscreenable: false,
      show: false,
      title: 'Pavise Settings',
      titleBarStyle: 'default',
      backgroundColor: nativeTheme.shouldUseDarkColors ? '#1f1f1f' : '#f4f4f4',
      webPreferences: secureWebPreferences(this.#options.preload, { devTools: this.#options.devTools ?? false }),
    });
    this.#window = window;
    window.once('ready-to-show', () => {
      window.show();
      window.focus();
    });
    window.on('resize', () => {
      if (this.#saveTimer) clearTimeout(this.#saveTimer);
      this.#saveTimer = setTimeout(() => this.#save(window), 300);
    });
    window.on('close', () => this.#save(window));
    window.on('closed', () => {
      if (this.#saveTimer) clearTimeout(this.#saveTimer);
      this.#saveTimer = undefined;
      if (this.#window === window) this.#window = undefined;
    });
    void window.loadURL(this.#options.url(section));
    return window;
  }

  close(): void {
    this.window?.close();
  }

  #save(window: BrowserWindow): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    if (window.isDestroyed() || window.isMinimized() || window.isFullScreen()) return;
    const [width, height] = window.getSize();
    if (width === undefined || height === undefined) return;
    try {
      saveSettingsSize(this.#options.stateFile, { width, height });
    } catch (error) {
      this.#options.log?.(`could not remember the settings window size: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
