import { join } from 'node:path';
import { BrowserWindow, Menu, Tray, app, dialog, globalShortcut, ipcMain, protocol, session, shell, systemPreferences } from 'electron';
import { AppBackend } from '../main/app/backend.js';
import type { ChannelStatus } from '../main/channels/channel.js';
import type { Snapshot } from '../main/common/ipc.js';
import { createChannels } from '../main/channels/registry.js';
import { defaultChatDbPath } from '../main/config/paths.js';
import { runDoctor } from '../main/audit/doctor.js';
import { Gateway } from '../main/gateway/gateway.js';
import { GatewayLockedError } from '../main/gateway/lock.js';
import { restartWithBackoff } from '../main/platform/restart-with-backoff.js';
import { startScheduler } from '../main/scheduler/service.js';
import { compose, type ComposeOptions, type Core } from '../main/compose.js';
import { registerIpc } from './ipc.js';
import { SHORTCUTS, applicationMenu, trayMenu } from './menus.js';
import { ApprovalNotifier } from './notifications.js';
import { createShellPlatform, type ShellPlatform } from './platform.js';
import { Popover } from './popover.js';
import { createAppProtocolHandler, registerAppScheme } from './protocol.js';
import { rendererUrl } from './renderer-url.js';
import { APP_SCHEME, hardenSession, hardenWebContents } from './security.js';
import { SettingsWindow } from './settings-window.js';
import { touchIdCheck, touchIdReason } from './touch-id.js';
import { TrayIcon, trayImage } from './tray.js';

export interface ShellOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  /** Tests supply a memory secret store or a scripted provider; the app uses the Keychain and the configured model. */
  readonly serviceOptions?: Omit<ComposeOptions, 'env' | 'platform'>;
  /** Where package.json, dist/ and assets/ are (`app.getAppPath()`: the repository, or app.asar). */
  readonly appRoot?: string;
  /** How often the snapshot is re-read for changes made by other processes (the CLI beside the app). */
  readonly refreshMs?: number;
  readonly log?: (line: string) => void;
}

export interface Shell {
  readonly services: Core;
  readonly backend: AppBackend;
  readonly popover: Popover;
  readonly settings: SettingsWindow;
  readonly tray: Tray;
  readonly trayIcon: TrayIcon;
  readonly notifier: ApprovalNotifier;
  readonly platform: ShellPlatform;
  /** ⌘Q: asks first only while a reply is being written. Resolves false when the owner cancelled. */
  requestQuit(): Promise<boolean>;
  /** Stops the gateway, closes the database and lets the windows close. Idempotent. */
  shutdown(): Promise<void>;
}

const GATEWAY_STOP_TIMEOUT_MS = 5_000;
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The menu-bar app: one instance, no Dock icon, a tray icon and a popover, the settings window, notifications,
 * and the assistant itself (the composed core, gateway, AppBackend) in the main process. Thin by design: everything the core
 * can do under plain Node lives in main/.
 */
export async function startShell(options: ShellOptions): Promise<Shell | undefined> {
  const platform = options.platform ?? process.platform;
  const log = options.log ?? ((line: string) => console.error(`pavise: ${line}`));

  // Until `whenReady` everything runs synchronously, before the app is ready, as these calls require.
  // Chromium's own files (cache, local storage, the single-instance lock) stay out of PAVISE_HOME.
  app.setPath('userData', join(app.getPath('appData'), 'Pavise', 'Electron'));
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return undefined;
  }
  // Every renderer sandboxed, whatever a window's options say.
  app.enableSandbox();
  registerAppScheme(protocol);
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, log));
  // A menu-bar app keeps running with every window closed.
  app.on('window-all-closed', () => undefined);

  await app.whenReady();
  app.dock?.hide();
  hardenSession(session.defaultSession, log);
  const root = options.appRoot ?? app.getAppPath();
  const rendererRoot = join(root, 'dist', 'renderer');
  const preload = join(root, 'dist', 'electron', 'preload.cjs');
  const assets = join(root, 'assets');
  protocol.handle(APP_SCHEME, createAppProtocolHandler(rendererRoot));

  const services = await compose({ ...options.serviceOptions, env: options.env, platform });

  // The backend, the platform hooks and the windows refer to each other; each is used only after all exist.
  const controller = new AbortController();
  const channels = createChannels(services, options.env);
  let gateway: Gateway | undefined;
  let gatewayProblem: string | undefined;
  const channelStatuses = (): ChannelStatus[] =>
    gatewayProblem ? channels.map((channel) => ({ channel: channel.id, state: 'stopped', detail: gatewayProblem })) : (gateway?.statuses() ?? []);

  const devTools = !app.isPackaged;
  const tray = new Tray(trayImage(assets, 'idle'));
  if (platform === 'darwin') tray.setIgnoreDoubleClickEvents(true);
  const focusApp = () => app.focus({ steal: true });
  const popover = new Popover({ preload, url: rendererUrl(rendererRoot, 'popover'), platform, devTools, trayBounds: () => tray.getBounds(), focusApp });
  const settings = new SettingsWindow({
    preload,
    url: (section) => rendererUrl(rendererRoot, 'settings', section),
    stateFile: join(services.paths.home, 'window-state.json'),
    devTools,
    focusApp,
    log,
  });
  const windows = () => [popover.window, settings.window].filter((window): window is BrowserWindow => window !== undefined && !window.isDestroyed());

  const shellPlatform = createShellPlatform({
    platform,
    app,
    shell,
    chatDbPath: services.config.channels.imessage.chatDbPath ?? defaultChatDbPath(),
    openSettings: (section) => settings.open(section),
    channelStatuses,
    onFullDiskAccessChange: () => backend.changed(),
  });
  const pickSkillPath = async (): Promise<string | undefined> => {
    // A skill is a folder or an archive; macOS lets one panel choose either.
    const picked = await dialog.showOpenDialog({ title: 'Install a skill', buttonLabel: 'Review', properties: ['openFile', 'openDirectory'], filters: [{ name: 'Skill (folder, .zip, .tgz)', extensions: ['zip', 'tgz', 'gz'] }] });
    return picked.canceled ? undefined : picked.filePaths[0];
  };
  const backend = new AppBackend(services, Object.assign(shellPlatform, { pickSkillPath }));

  let gatewayDone: Promise<void> = Promise.resolve();
  if (channels.length > 0) {
    gateway = new Gateway(services, {
      channels,
      platform,
      log: (line) => {
        log(`gateway: ${line}`);
        backend.changed();
      },
    });
    const running = gateway;
    // A gateway that dies is started again with a growing delay, and the owner told; another gateway holding the
    // home is not an error to retry.
    gatewayDone = restartWithBackoff(
      async (signal) => {
        gatewayProblem = undefined;
        await running.run(signal);
      },
      controller.signal,
      {
        isFatal: (error) => error instanceof GatewayLockedError,
        onRestart: (reason, delayMs) => {
          gatewayProblem = `The gateway stopped (${reason}); restarting it in ${Math.round(delayMs / 1000)} s.`;
          log(gatewayProblem);
          services.events.emit('alert', gatewayProblem);
        },
      },
    ).catch((error: unknown) => {
      gatewayProblem =
        error instanceof GatewayLockedError ? error.message : `The gateway stopped: ${error instanceof Error ? error.message : String(error)}`;
      log(gatewayProblem);
      backend.changed();
    });
    // Reminders, briefings and alerts fire beside the gateway (its outbox delivers them), and wait out the same model
    // outage as its chats.
    void startScheduler(services, controller.signal, { log: (line) => log(line), modelOutage: running.modelOutage }).catch((error: unknown) => log(`scheduler: ${String(error)}`));
  }
  // Whether Pavise works here: failures reach the popover as notices, each saying what to do.
  void runDoctor({ home: services.paths.home, config: services.config, secrets: services.secrets, env: options.env, platform, openAtLogin: () => shellPlatform.getOpenAtLogin?.() ?? false })
    .then((checks) => {
      for (const check of checks.filter((item) => item.status === 'fail' && item.id !== 'gateway')) services.events.emit('alert', `${check.message.replace(/\.$/, '')}. ${check.fix}`);
    })
    .catch((error: unknown) => log(`doctor: ${String(error)}`));

  const ownerCheck = touchIdCheck(systemPreferences, platform);
  const disposeIpc = registerIpc({
    ipcMain,
    backend,
    windows,
    approval: (id) => services.approvals.get(id),
    // Touch ID where the Mac has it; a Mac without a sensor approves with the click, as the CLI does.
    confirmHighRisk: async (approval) => !ownerCheck.available() || popover.holdOpen(() => ownerCheck.confirm(touchIdReason(approval.title))),
    log,
  });

  const notifier = new ApprovalNotifier({
    decide: (id, decision) => {
      const result = services.gate.decide(id, decision, 'notification');
      backend.changed();
      return result.ok ? { ok: true } : { ok: false, message: result.message };
    },
    approval: (id) => services.approvals.get(id),
    ownerCheck,
    openPopover: () => popover.show(),
    log,
  });
  const startedAt = Date.now();
  const stopApprovals = services.events.on('approval', (approval) => notifier.notify(approval));

  const trayIcon = new TrayIcon(tray, (state) => trayImage(assets, state));

  let lastSnapshot = '';
  const onSnapshot = (snapshot: Snapshot) => {
    lastSnapshot = JSON.stringify(snapshot);
    trayIcon.update(snapshot);
    notifier.sync(new Set(snapshot.approvals.map((approval) => approval.id)));
    // Approvals asked for by another process (`pavise ask` beside the app) are announced too.
    for (const approval of snapshot.approvals) if (approval.createdAt >= startedAt) notifier.notify(approval);
  };
  const stopState = backend.onState(onSnapshot);
  onSnapshot(backend.snapshot());
  const refresh = setInterval(() => {
    if (JSON.stringify(backend.snapshot()) !== lastSnapshot) backend.changed();
  }, options.refreshMs ?? 5_000);
  refresh.unref();

  const requestQuit = async (): Promise<boolean> => {
    if (backend.snapshot().turnRunning) {
      focusApp();
      const { response } = await dialog.showMessageBox({
        type: 'warning',
        message: 'Pavise is still writing a reply.',
        detail: 'Quitting now stops it. Anything it already sent stays sent.',
        buttons: ['Quit', 'Cancel'],
        defaultId: 1,
        cancelId: 1,
      });
      if (response !== 0) return false;
    }
    app.quit();
    return true;
  };
  const closeWindow = () => {
    const focused = BrowserWindow.getFocusedWindow();
    if (!focused) return;
    if (focused === popover.window) popover.hide();
    else focused.close();
  };
  const menuActions = { openSettings: () => void settings.open(), closeWindow, quit: () => void requestQuit() };
  Menu.setApplicationMenu(Menu.buildFromTemplate(applicationMenu(menuActions, { developer: devTools })));

  tray.on('click', () => popover.toggle());
  tray.on('right-click', () => {
    const paused = backend.snapshot().paused;
    const setPaused = (value: boolean) => void backend.invoke('pause.set', { paused: value });
    tray.popUpContextMenu(Menu.buildFromTemplate(trayMenu({ ...menuActions, openPopover: () => popover.show(), setPaused }, { paused })));
  });
  if (!globalShortcut.register(SHORTCUTS.popover, () => popover.toggle())) {
    log(`the shortcut ${SHORTCUTS.popover} is taken by another app; use the menu-bar icon`);
  }

  app.on('second-instance', () => popover.show());
  app.on('activate', () => {
    shellPlatform.recheckFullDiskAccess();
    popover.show();
  });
  // Back from System Settings: the owner may just have granted Full Disk Access.
  app.on('browser-window-focus', () => shellPlatform.recheckFullDiskAccess());

  let stopping: Promise<void> | undefined;
  let stopped = false;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(refresh);
      globalShortcut.unregisterAll();
      stopApprovals();
      stopState();
      disposeIpc();
      notifier.dispose();
      backend.dispose();
      controller.abort();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gatewayDone, new Promise<void>((resolve) => (timer = setTimeout(resolve, GATEWAY_STOP_TIMEOUT_MS)))]);
      clearTimeout(timer);
      // dispose() aborted a running reply; let it wind down (and its last state push run) while the database is open.
      const deadline = Date.now() + GATEWAY_STOP_TIMEOUT_MS;
      while (backend.snapshot().turnRunning && Date.now() < deadline) await delay(10);
      await delay(1);
      popover.allowClose();
      if (!tray.isDestroyed()) tray.destroy();
      services.close();
      stopped = true;
    })();
    return stopping;
  };
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    void shutdown().then(() => app.quit());
  });

  return { services, backend, popover, settings, tray, trayIcon, notifier, platform: shellPlatform, requestQuit, shutdown };
}
