import type { Session, WebContents, WebPreferences } from 'electron';

/**
 * Electron's security checklist, in one place so each item has one test. The renderer is a local UI with no
 * business on the network or with any browser permission: everything it needs arrives through `window.pavise`.
 */

/** Our content is served from `app://pavise/…` (a privileged standard scheme), never from `file://`. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'pavise';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * Sent with every response of the app:// protocol (the renderer's own <meta> policy applies on top). Scripts,
 * styles, images and fonts come only from our own files; frames, plugins, workers, forms and base changes not at all.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "manifest-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** True for an `app://pavise` URL (WHATWG gives custom schemes an opaque origin, so compare the parts). */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

/** The webPreferences of every window we open. */
export function secureWebPreferences(preload: string, options: { devTools?: boolean } = {}): WebPreferences {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
    devTools: options.devTools ?? false,
  };
}

/**
 * Applied to every WebContents the app creates (`web-contents-created`): no navigation away from what we loaded,
 * no new windows, no <webview>. Our own `loadURL` calls do not emit `will-navigate`, so nothing of ours is stopped.
 */
export function hardenWebContents(contents: WebContents, log: (line: string) => void = () => undefined): void {
  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    log(`blocked a navigation to ${url}`);
  });
  contents.on('will-redirect', (event, url) => {
    event.preventDefault();
    log(`blocked a redirect to ${url}`);
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    log('blocked a <webview>');
  });
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked a new window for ${url}`);
    return { action: 'deny' };
  });
}

/** Schemes a window may request at all; everything else (http, https, ws, file, ftp…) is cancelled. */
const LOCAL_SCHEMES = new Set([`${APP_SCHEME}:`, 'devtools:', 'chrome-extension:', 'data:', 'blob:']);

/** Denies every permission request and check, and cancels every request that would leave the machine. */
export function hardenSession(session: Session, log: (line: string) => void = () => undefined): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    log(`denied the permission "${permission}"`);
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => {
    let scheme = '';
    try {
      scheme = new URL(details.url).protocol;
    } catch {
      // Unparseable: cancelled below.
    }
    const allowed = LOCAL_SCHEMES.has(scheme);
    if (!allowed) log(`cancelled a request to ${details.url}`);
    callback({ cancel: !allowed });
  });
}
