import type { MenuItemConstructorOptions } from 'electron';

export const SHORTCUTS = {
  /** Opens or closes the popover from anywhere. */
  popover: 'CommandOrControl+Shift+Space',
  settings: 'CommandOrControl+,',
  close: 'CommandOrControl+W',
  quit: 'CommandOrControl+Q',
} as const;

export interface MenuActions {
  readonly openSettings: () => void;
  readonly closeWindow: () => void;
  readonly quit: () => void;
}

/**
 * A menu-bar app shows no menu bar, but its application menu still owns the key equivalents: ⌘, opens Settings,
 * ⌘W closes the front window, ⌘Q quits (asking only while a reply is being written), and the Edit menu makes
 * ⌘C / ⌘V / ⌘A work in text fields. Unpackaged builds get reload and the developer tools as well.
 */
export function applicationMenu(actions: MenuActions, options: { developer?: boolean } = {}): MenuItemConstructorOptions[] {
  const developer: MenuItemConstructorOptions[] = options.developer
    ? [{ label: 'Developer', submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }] }]
    : [];
  return [
    {
      label: 'Pavise',
      submenu: [
        { role: 'about', label: 'About Pavise' },
        { type: 'separator' },
        { label: 'Settings…', accelerator: SHORTCUTS.settings, click: () => actions.openSettings() },
        { type: 'separator' },
        { label: 'Quit Pavise', accelerator: SHORTCUTS.quit, click: () => actions.quit() },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'pasteAndMatchStyle' },
        { role: 'delete' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'Window',
      submenu: [
        { label: 'Close', accelerator: SHORTCUTS.close, click: () => actions.closeWindow() },
        { role: 'minimize' },
      ],
    },
    ...developer,
  ];
}

export interface TrayMenuActions extends MenuActions {
  readonly openPopover: () => void;
  readonly setPaused: (paused: boolean) => void;
}

/** The tray icon's right-click menu. */
export function trayMenu(actions: TrayMenuActions, state: { paused: boolean }): MenuItemConstructorOptions[] {
  return [
    { label: 'Open Pavise', click: () => actions.openPopover() },
    { label: 'Pause Everything', type: 'checkbox', checked: state.paused, click: () => actions.setPaused(!state.paused) },
    { type: 'separator' },
    { label: 'Settings…', click: () => actions.openSettings() },
    { type: 'separator' },
    { label: 'Quit Pavise', click: () => actions.quit() },
  ];
}
