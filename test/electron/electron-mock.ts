import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

/**
 * A hand-written stand-in for the `electron` module (its binary cannot run on the CI machines). Tests load it with
 * `vi.mock('electron', () => import('./electron-mock.js'))`; it implements the calls the shell makes and records
 * them in `mock`, so a test can drive events (a tray click, a notification action, an IPC call) and check effects.
 */

type Listener = (...args: never[]) => unknown;

/** An Electron-style event: `preventDefault()` is remembered. */
export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

let nextId = 1;

export class FakeFrame {
  readonly processId: number;
  readonly routingId: number;
  constructor(
    public url: string,
    readonly parent: FakeFrame | null = null,
  ) {
    this.processId = 100;
    this.routingId = nextId++;
  }
}

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly sent: { channel: string; args: unknown[] }[] = [];
  readonly mainFrame = new FakeFrame('');
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  destroyed = false;

  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
  getURL(): string {
    return this.mainFrame.url;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isDevToolsOpened(): boolean {
    return false;
  }
  /** A frame inside this page, e.g. an <iframe>. */
  subframe(url: string): FakeFrame {
    return new FakeFrame(url, this.mainFrame);
  }
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export class BrowserWindow extends EventEmitter {
  static readonly instances: BrowserWindow[] = [];
  static focused: BrowserWindow | null = null;
  static getFocusedWindow(): BrowserWindow | null {
    return BrowserWindow.focused && !BrowserWindow.focused.destroyed ? BrowserWindow.focused : null;
  }
  static getAllWindows(): BrowserWindow[] {
    return BrowserWindow.instances.filter((window) => !window.destroyed);
  }

  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  readonly calls: string[] = [];
  visible = false;
  destroyed = false;
  minimized = false;
  position: [number, number] = [0, 0];
  size: [number, number];
  alwaysOnTopLevel: string | undefined;

  constructor(readonly options: Record<string, unknown> & { webPreferences?: Record<string, unknown> }) {
    super();
    this.size = [Number(options.width ?? 800), Number(options.height ?? 600)];
    this.visible = options.show !== false;
    BrowserWindow.instances.push(this);
    app.emit('web-contents-created', new FakeEvent(), this.webContents);
  }

  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
    this.webContents.mainFrame.url = url;
    await Promise.resolve();
    this.emit('ready-to-show');
  }
  show(): void {
    this.calls.push('show');
    this.visible = true;
  }
  hide(): void {
    this.calls.push('hide');
    this.visible = false;
    if (BrowserWindow.focused === this) BrowserWindow.focused = null;
  }
  focus(): void {
    this.calls.push('focus');
    BrowserWindow.focused = this;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isFullScreen(): boolean {
    return false;
  }
  restore(): void {
    this.minimized = false;
  }
  close(): void {
    const event = new FakeEvent();
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.destroy();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.visible = false;
    this.webContents.destroyed = true;
    if (BrowserWindow.focused === this) BrowserWindow.focused = null;
    this.emit('closed');
  }
  setPosition(x: number, y: number): void {
    this.position = [x, y];
  }
  getPosition(): [number, number] {
    return this.position;
  }
  getSize(): [number, number] {
    return this.size;
  }
  /** Like a user dragging the corner: the size changes and 'resize' fires. */
  setSize(width: number, height: number): void {
    this.size = [width, height];
    this.emit('resize');
  }
  setAlwaysOnTop(_flag: boolean, level?: string): void {
    this.alwaysOnTopLevel = level;
  }
  setVisibleOnAllWorkspaces(): void {
    this.calls.push('setVisibleOnAllWorkspaces');
  }
}

export class FakeImage {
  template = false;
  constructor(readonly path: string) {}
  setTemplateImage(value: boolean): void {
    this.template = value;
  }
  isTemplateImage(): boolean {
    return this.template;
  }
}

export const nativeImage = {
  createFromPath: (path: string) => new FakeImage(path),
};

export class Tray extends EventEmitter {
  static readonly instances: Tray[] = [];
  image: FakeImage;
  tooltip = '';
  destroyed = false;
  bounds: Rect = { x: 1000, y: 0, width: 24, height: 24 };
  readonly contextMenus: unknown[] = [];

  constructor(image: FakeImage) {
    super();
    this.image = image;
    Tray.instances.push(this);
  }
  setImage(image: FakeImage): void {
    this.image = image;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  getBounds(): Rect {
    return this.bounds;
  }
  setIgnoreDoubleClickEvents(): void {}
  popUpContextMenu(menu: unknown): void {
    this.contextMenus.push(menu);
  }
  destroy(): void {
    this.destroyed = true;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export interface MenuItemOptions {
  label?: string;
  role?: string;
  type?: string;
  accelerator?: string;
  checked?: boolean;
  click?: () => void;
  submenu?: MenuItemOptions[];
}

export const Menu = {
  applicationMenu: undefined as { template: MenuItemOptions[] } | undefined,
  buildFromTemplate: (template: MenuItemOptions[]) => ({ template }),
  setApplicationMenu(menu: { template: MenuItemOptions[] }): void {
    Menu.applicationMenu = menu;
  },
};

/** Every item of a menu template, submenus flattened. */
export function menuItems(template: readonly unknown[]): MenuItemOptions[] {
  return (template as MenuItemOptions[]).flatMap((item) => [item, ...menuItems(item.submenu ?? [])]);
}

export class Notification extends EventEmitter {
  static readonly instances: Notification[] = [];
  static supported = true;
  static isSupported(): boolean {
    return Notification.supported;
  }
  shown = false;
  closed = false;
  constructor(readonly options: { id?: string; title?: string; subtitle?: string; body?: string; actions?: { type: string; text?: string }[] }) {
    super();
    Notification.instances.push(this);
  }
  show(): void {
    this.shown = true;
  }
  close(): void {
    this.closed = true;
  }
  /** The owner pressing the button at `index`. */
  press(index: number): void {
    const event = Object.assign(new FakeEvent(), { actionIndex: index, selectionIndex: -1 });
    this.emit('action', event, index, -1);
  }
}

const appEvents = new EventEmitter();
const paths: Record<string, string> = {};
const madeDirs: string[] = [];
let appRoot = '';
const madeDir = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `pavise-electron-${name}-`));
  madeDirs.push(dir);
  return dir;
};

export const app = Object.assign(appEvents, {
  ready: false,
  isPackaged: false,
  singleInstance: true,
  quitCalls: 0,
  exitCode: undefined as number | undefined,
  loginItem: { openAtLogin: false },
  sandboxed: false,
  focusCalls: 0,
  enableSandbox: () => {
    if (app.ready) throw new Error('app.enableSandbox() must be called before the app is ready');
    app.sandboxed = true;
  },
  dock: { hidden: false, hide: () => void (app.dock.hidden = true) },
  requestSingleInstanceLock: () => app.singleInstance,
  whenReady: async () => {
    app.ready = true;
  },
  isReady: () => app.ready,
  quit: () => {
    app.quitCalls += 1;
    appEvents.emit('before-quit', new FakeEvent());
  },
  exit: (code?: number) => {
    app.exitCode = code ?? 0;
  },
  focus: () => {
    app.focusCalls += 1;
  },
  getAppPath: () => appRoot,
  getPath: (name: string) => (paths[name] ??= madeDir(name)),
  setPath: (name: string, value: string) => {
    paths[name] = value;
  },
  getLoginItemSettings: () => ({ ...app.loginItem }),
  setLoginItemSettings: (settings: { openAtLogin?: boolean }) => {
    app.loginItem = { openAtLogin: settings.openAtLogin ?? false };
  },
});

export const protocol = {
  privileged: [] as { scheme: string; privileges?: Record<string, boolean> }[],
  registeredBeforeReady: false,
  handlers: new Map<string, (request: Request) => Promise<Response> | Response>(),
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges?: Record<string, boolean> }[]): void {
    protocol.privileged.push(...schemes);
    protocol.registeredBeforeReady = !app.ready;
  },
  handle(scheme: string, handler: (request: Request) => Promise<Response> | Response): void {
    protocol.handlers.set(scheme, handler);
  },
  unhandle(scheme: string): void {
    protocol.handlers.delete(scheme);
  },
};

type RequestCallback = (response: { cancel: boolean }) => void;
type PermissionRequestHandler = (contents: unknown, permission: string, callback: (granted: boolean) => void, details: unknown) => void;
type PermissionCheckHandler = (contents: unknown, permission: string, origin: string, details: unknown) => boolean;
type DevicePermissionHandler = (details: unknown) => boolean;
type BeforeRequestHandler = (details: { url: string }, callback: RequestCallback) => void;

interface FakeSession {
  permissionRequestHandler: PermissionRequestHandler | undefined;
  permissionCheckHandler: PermissionCheckHandler | undefined;
  devicePermissionHandler: DevicePermissionHandler | undefined;
  beforeRequest: BeforeRequestHandler | undefined;
  setPermissionRequestHandler(handler: PermissionRequestHandler): void;
  setPermissionCheckHandler(handler: PermissionCheckHandler): void;
  setDevicePermissionHandler(handler: DevicePermissionHandler): void;
  webRequest: { onBeforeRequest(handler: BeforeRequestHandler): void };
}

const defaultSession: FakeSession = {
  permissionRequestHandler: undefined,
  permissionCheckHandler: undefined,
  devicePermissionHandler: undefined,
  beforeRequest: undefined,
  setPermissionRequestHandler(handler) {
    defaultSession.permissionRequestHandler = handler;
  },
  setPermissionCheckHandler(handler) {
    defaultSession.permissionCheckHandler = handler;
  },
  setDevicePermissionHandler(handler) {
    defaultSession.devicePermissionHandler = handler;
  },
  webRequest: {
    onBeforeRequest(handler) {
      defaultSession.beforeRequest = handler;
    },
  },
};

export const session = { defaultSession };

type InvokeHandler = (event: unknown, payload: unknown) => unknown;

export const ipcMain = {
  handlers: new Map<string, InvokeHandler>(),
  handle(channel: string, handler: InvokeHandler): void {
    if (ipcMain.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    ipcMain.handlers.set(channel, handler);
  },
  removeHandler(channel: string): void {
    ipcMain.handlers.delete(channel);
  },
  /** What Electron does when a renderer calls `ipcRenderer.invoke(channel, payload)`. */
  async invoke(channel: string, event: { sender: unknown; senderFrame: unknown }, payload?: unknown): Promise<unknown> {
    const handler = ipcMain.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, payload);
  },
};

const rendererEvents = new EventEmitter();
export const ipcRenderer = Object.assign(rendererEvents, {
  invocations: [] as { channel: string; args: unknown[] }[],
  invoke: async (channel: string, ...args: unknown[]) => {
    ipcRenderer.invocations.push({ channel, args });
    return { ok: true, value: { channel } };
  },
});

export const contextBridge = {
  exposed: new Map<string, unknown>(),
  exposeInMainWorld(key: string, api: unknown): void {
    contextBridge.exposed.set(key, api);
  },
};

export const globalShortcut = {
  registered: new Map<string, () => void>(),
  register(accelerator: string, callback: () => void): boolean {
    globalShortcut.registered.set(accelerator, callback);
    return true;
  },
  unregisterAll(): void {
    globalShortcut.registered.clear();
  },
};

export const screen = {
  workArea: { x: 0, y: 25, width: 1440, height: 875 } as Rect,
  getCursorScreenPoint: () => ({ x: 700, y: 10 }),
  getDisplayNearestPoint: () => ({ workArea: screen.workArea, bounds: { x: 0, y: 0, width: 1440, height: 900 } }),
};

export const shell = {
  opened: [] as string[],
  openExternal: async (url: string) => {
    shell.opened.push(url);
  },
};

export const systemPreferences = {
  canPromptTouchID: vi.fn(() => false),
  promptTouchID: vi.fn(async (_reason: string) => undefined),
};

export const dialog = {
  response: 0,
  shown: [] as { message?: string }[],
  errors: [] as string[],
  showMessageBox: async (options: { message?: string }) => {
    dialog.shown.push(options);
    return { response: dialog.response, checkboxChecked: false };
  },
  showErrorBox: (title: string, content: string) => {
    dialog.errors.push(`${title}: ${content}`);
  },
};

export const nativeTheme = { shouldUseDarkColors: false };

/** Clears every record between tests. `root` becomes `app.getAppPath()`. */
export function resetElectronMock(root = ''): void {
  appRoot = root;
  appEvents.removeAllListeners();
  rendererEvents.removeAllListeners();
  Object.assign(app, { ready: false, isPackaged: false, singleInstance: true, quitCalls: 0, exitCode: undefined, loginItem: { openAtLogin: false }, sandboxed: false, focusCalls: 0 });
  app.dock.hidden = false;
  for (const key of Object.keys(paths)) delete paths[key];
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  BrowserWindow.instances.length = 0;
  BrowserWindow.focused = null;
  Tray.instances.length = 0;
  Notification.instances.length = 0;
  Notification.supported = true;
  Menu.applicationMenu = undefined;
  protocol.privileged.length = 0;
  protocol.registeredBeforeReady = false;
  protocol.handlers.clear();
  Object.assign(session.defaultSession, { permissionRequestHandler: undefined, permissionCheckHandler: undefined, devicePermissionHandler: undefined, beforeRequest: undefined });
  ipcMain.handlers.clear();
  ipcRenderer.invocations.length = 0;
  contextBridge.exposed.clear();
  globalShortcut.registered.clear();
  shell.opened.length = 0;
  systemPreferences.canPromptTouchID.mockReset().mockReturnValue(false);
  systemPreferences.promptTouchID.mockReset().mockResolvedValue(undefined);
  Object.assign(dialog, { response: 0 });
  dialog.shown.length = 0;
  dialog.errors.length = 0;
}

export default {
  app,
  BrowserWindow,
  Menu,
  Notification,
  Tray,
  contextBridge,
  dialog,
  globalShortcut,
  ipcMain,
  ipcRenderer,
  nativeImage,
  nativeTheme,
  protocol,
  screen,
  session,
  shell,
  systemPreferences,
};
