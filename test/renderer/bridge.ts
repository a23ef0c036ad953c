import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AppBackend, type PlatformHooks } from '../../main/app/backend.js';
import type { NativeCalendarOptions } from '../../main/calendar/native/helper-client.js';
import type { ChatEvent } from '../../main/common/ipc.js';
import { API_CHANNELS } from '../../main/common/ipc.js';
import type { SecretStore } from '../../main/secrets/secret-store.js';
import { compose, type Core as ComposedCore } from '../../main/compose.js';
import type { Tool } from '../../main/tools/tool.js';
import { startFakeAnthropic, type FakeLlmServer } from '../fakes/fake-anthropic-server.js';
import { FAKE_ANTHROPIC_KEY, tempHome } from '../helpers/cli.js';
import { MemorySecretStore } from '../helpers/memory-secret-store.js';
import { testSource } from '../helpers/tool-source.js';

/*
 * The bridge between the BUILT renderer in headless Chromium and a REAL core in this process, with no port:
 * pages load from https://pavise.test/ fulfilled by page routing from the build output, `window.pavise` is
 * defined on top of one exposed binding that calls `AppBackend.invoke` (as the Electron preload does over IPC),
 * and the core's pushes (`onState`, `onChatEvent`) are delivered with `page.evaluate`. Shared by the renderer
 * tests, `npm run screenshots` and `npm run bench -- ui`. (The fake Anthropic API listens on loopback in the test
 * process, as in every other end-to-end test; the app itself listens nowhere.)
 */

/** The checkout: this file sits two levels down (test/renderer), and so does its bundle (dist/bench, dist/screenshots). */
export const ROOT = resolve(import.meta.dirname, '../..');
export const ORIGIN = 'https://pavise.test';
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export const POPOVER_SIZE = { width: 380, height: 560 } as const;
export const SETTINGS_SIZE = { width: 720, height: 520 } as const;

export interface PageJsSize {
  readonly files: readonly string[];
  readonly bytes: number;
  readonly gzipBytes: number;
}

/** Builds the renderer with scripts/build-renderer.mjs into `outDir` (a fresh temporary directory by default). */
export function buildRenderer(outDir = mkdtempSync(join(tmpdir(), 'pavise-renderer-'))): string {
  buildRendererWithSizes(outDir);
  return outDir;
}

/** Builds as above and answers the JavaScript each page loads at start, raw and gzipped. */
export function buildRendererWithSizes(outDir = mkdtempSync(join(tmpdir(), 'pavise-renderer-'))): { outDir: string; popover: PageJsSize; settings: PageJsSize } {
  const output = execFileSync(process.execPath, [join(ROOT, 'scripts/build-renderer.mjs'), '--out', outDir, '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { outDir: string; popover: PageJsSize; settings: PageJsSize };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.PAVISE_CHROMIUM ?? CHROMIUM, args: CHROMIUM_ARGS });
}

export interface CoreOptions {
  /** Merged over `{ model: { provider: 'anthropic', baseURL: <the fake> } }` in config.json. */
  readonly config?: Record<string, unknown>;
  readonly secrets?: SecretStore;
  readonly extraTools?: readonly Tool[];
  readonly platform?: PlatformHooks;
  /** How often a waiting approval re-reads the database; long by default so tests control expiry themselves. */
  readonly approvalPollMs?: number;
  /** The calendar helper compose reaches (a fake osascript over a fake store); default: none on Linux. */
  readonly calendar?: NativeCalendarOptions;
}

export interface Core {
  readonly services: ComposedCore;
  readonly backend: AppBackend;
  readonly fake: FakeLlmServer;
  readonly secrets: SecretStore;
  readonly home: string;
  /** Resolves with the next `done` chat event (a chat turn finished). */
  nextChatDone(): Promise<Extract<ChatEvent, { type: 'done' }>>;
  /** Waits until `count` approvals are pending; answers them. */
  untilPending(count: number, timeoutMs?: number): Promise<ReturnType<ComposedCore['approvals']['pending']>>;
  close(): Promise<void>;
}

/** A real core: `compose` over a throwaway PAVISE_HOME and the fake Anthropic API, and an `AppBackend`. */
export async function startCore(options: CoreOptions = {}): Promise<Core> {
  const fake = await startFakeAnthropic();
  const { model, ...rest } = options.config ?? {};
  const config = { ...rest, model: { provider: 'anthropic', baseURL: fake.url, ...(model as Record<string, unknown> | undefined) } };
  const { home, env, cleanup } = tempHome(config);
  const secrets = options.secrets ?? new MemorySecretStore();
  const services = await compose({
    env: { ...env, ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY },
    secrets,
    extraSources: [testSource(options.extraTools ?? [])],
    approvalPollMs: options.approvalPollMs ?? 60_000,
    ...(options.calendar ? { calendar: options.calendar } : {}),
  });
  const backend = new AppBackend(services, options.platform ?? {});
  return {
    services,
    backend,
    fake,
    secrets,
    home,
    nextChatDone: () =>
      new Promise((resolveDone) => {
        const off = backend.onChatEvent((event) => {
          if (event.type !== 'done') return;
          off();
          // The backend clears its running turn just after emitting `done`: answer once it has.
          setTimeout(() => resolveDone(event), 0);
        });
      }),
    untilPending: async (count, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const pending = services.approvals.pending();
        if (pending.length >= count) return pending;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} pending approval(s); ${pending.length} pending`);
        await new Promise((resolveWait) => setTimeout(resolveWait, 10));
      }
    },
    close: async () => {
      backend.dispose();
      // Let a turn that was just aborted settle before its database closes.
      await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      services.close();
      await fake.close();
      cleanup();
    },
  };
}

export interface IpcRecord {
  readonly channel: string;
  /** The exact answer the page received. */
  readonly result: unknown;
}

export interface View {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Every IPC answer the page received (payloads are not kept: a secret goes in through one). */
  readonly ipc: IpcRecord[];
  /** Requests to anything but the app's own origin (there must be none). */
  readonly external: string[];
  /** Content-Security-Policy violations the page reported. */
  cspViolations(): Promise<string[]>;
  close(): Promise<void>;
}

export interface ViewOptions {
  readonly colorScheme?: 'light' | 'dark';
  readonly deviceScaleFactor?: number;
  readonly reducedMotion?: 'reduce' | 'no-preference';
  /** e.g. `?section=channels` */
  readonly query?: string;
  readonly viewport?: { readonly width: number; readonly height: number };
}

/** Opens popover.html or settings.html of the build in `outDir`, bridged to `core`. */
export async function openView(browser: Browser, core: Core, outDir: string, view: 'popover' | 'settings', options: ViewOptions = {}): Promise<View> {
  const context = await browser.newContext({
    viewport: { ...(options.viewport ?? (view === 'popover' ? POPOVER_SIZE : SETTINGS_SIZE)) },
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
    colorScheme: options.colorScheme ?? 'light',
    reducedMotion: options.reducedMotion ?? 'no-preference',
    locale: 'en-US',
    timezoneId: 'America/Los_Angeles',
  });
  const ipc: IpcRecord[] = [];
  const external: string[] = [];
  const root = resolve(outDir);

  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (!url.startsWith(`${ORIGIN}/`)) {
      external.push(url);
      await route.abort('blockedbyclient');
      return;
    }
    const file = resolve(root, `.${decodeURIComponent(new URL(url).pathname)}`);
    if (!file.startsWith(root + sep)) {
      await route.fulfill({ status: 404, body: 'not found' });
      return;
    }
    await route.fulfill({ path: file }).catch(async () => route.fulfill({ status: 404, body: 'not found' }));
  });

  await context.exposeBinding('__paviseInvoke', async (_source, channel: string, payload: unknown) => {
    const result = await core.backend.invoke(channel, payload);
    ipc.push({ channel, result });
    return result;
  });
  await context.addInitScript({ content: initScript() });

  const page = await context.newPage();
  const push = (kind: 'state' | 'chat', payload: unknown) => {
    if (page.isClosed()) return;
    page
      .evaluate(([k, p]) => (globalThis as unknown as { __pavisePush(kind: unknown, payload: unknown): void }).__pavisePush(k, p), [kind, payload] as const)
      .catch(() => undefined);
  };
  const offState = core.backend.onState((snapshot) => push('state', snapshot));
  const offChat = core.backend.onChatEvent((event) => push('chat', event));

  await page.goto(`${ORIGIN}/${view}.html${options.query ?? ''}`);
  return {
    page,
    context,
    ipc,
    external,
    cspViolations: () => page.evaluate(() => (globalThis as unknown as { __cspViolations: string[] }).__cspViolations),
    close: async () => {
      offState();
      offChat();
      await context.close();
    },
  };
}

/** What the Electron preload does with contextBridge: an allow-listed, frozen `window.pavise`, nothing more. */
function initScript(): string {
  return `(() => {
  const channels = ${JSON.stringify(API_CHANNELS)};
  const listeners = { state: new Set(), chat: new Set() };
  const invoke = (channel, payload) => globalThis.__paviseInvoke(channel, payload);
  const api = {};
  for (const [method, channel] of Object.entries(channels)) api[method] = (request) => invoke(channel, request === undefined ? {} : request);
  api.onState = (listener) => { listeners.state.add(listener); return () => listeners.state.delete(listener); };
  api.onChatEvent = (listener) => { listeners.chat.add(listener); return () => listeners.chat.delete(listener); };
  Object.defineProperty(globalThis, 'pavise', { value: Object.freeze(api), enumerable: true });
  Object.defineProperty(globalThis, '__pavisePush', { value: (kind, payload) => { for (const listener of listeners[kind] ?? []) listener(payload); } });
  const violations = [];
  Object.defineProperty(globalThis, '__cspViolations', { value: violations });
  document.addEventListener('securitypolicyviolation', (event) => violations.push(event.violatedDirective + ' ' + event.blockedURI));
})();`;
}

/** Removes a build directory made by buildRenderer(). */
export function removeBuild(outDir: string): void {
  if (outDir.startsWith(tmpdir())) rmSync(outDir, { recursive: true, force: true });
}
