import { describe, expect, it, vi } from 'vitest';

vi.mock('electron', () => import('./electron-mock.js'));

import { CONTENT_SECURITY_POLICY, hardenSession, hardenWebContents, isAppUrl, secureWebPreferences } from '../../electron/security.js';
import { FakeEvent, FakeWebContents, session } from './electron-mock.js';

type Contents = Parameters<typeof hardenWebContents>[0];
type Session = Parameters<typeof hardenSession>[0];

describe("Electron's security checklist", () => {
  it('every window is sandboxed, context-isolated, without Node, with web security and our preload', () => {
    const preferences = secureWebPreferences('/app/dist/electron/preload.cjs');
    expect(preferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      preload: '/app/dist/electron/preload.cjs',
      devTools: false,
    });
  });

  it('denies every navigation, redirect, <webview> and window.open', () => {
    const contents = new FakeWebContents();
    const log: string[] = [];
    hardenWebContents(contents as unknown as Contents, (line) => log.push(line));
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const event = new FakeEvent();
      contents.emit(name, event, 'https://evil.example/');
      expect(event.defaultPrevented, name).toBe(true);
    }
    for (const url of ['https://evil.example/', 'app://pavise/index.html', 'file:///etc/passwd', 'javascript:alert(1)']) {
      expect(contents.windowOpenHandler?.({ url })).toEqual({ action: 'deny' });
    }
    expect(log.join('\n')).toContain('https://evil.example/');
  });

  it('denies every permission request and check, and cancels requests that would leave the machine', () => {
    const defaultSession = session.defaultSession;
    hardenSession(defaultSession as unknown as Session);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      const callback = vi.fn();
      defaultSession.permissionRequestHandler?.({}, permission, callback, {});
      expect(callback).toHaveBeenCalledWith(false);
      expect(defaultSession.permissionCheckHandler?.({}, permission, 'app://pavise', {})).toBe(false);
    }
    expect(defaultSession.devicePermissionHandler?.({})).toBe(false);
    const verdict = (url: string) => {
      let cancel: boolean | undefined;
      defaultSession.beforeRequest?.({ url }, (response) => (cancel = response.cancel));
      return cancel;
    };
    expect(verdict('app://pavise/assets/app.js')).toBe(false);
    expect(verdict('devtools://devtools/bundled/inspector.html')).toBe(false);
    for (const url of ['https://api.anthropic.com/v1/messages', 'http://127.0.0.1:8080/', 'ws://localhost/', 'file:///etc/passwd', 'not a url']) {
      expect(verdict(url), url).toBe(true);
    }
  });

  it('recognises only app://pavise as ours', () => {
    expect(isAppUrl('app://pavise/index.html?view=popover')).toBe(true);
    for (const url of ['app://evil/index.html', 'https://pavise/', 'file:///app/index.html', 'about:blank', '', 'app:pavise']) {
      expect(isAppUrl(url), url).toBe(false);
    }
  });

  it('has a CSP that allows only our own scripts and no framing, plugins, forms or base changes', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    for (const directive of ["object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"]) {
      expect(CONTENT_SECURITY_POLICY).toContain(directive);
    }
  });
});
