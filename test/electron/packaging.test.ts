import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { build as esbuild } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeychainSecretStore, keychainServiceFor } from '../../main/secrets/keychain-secret-store.js';
import { defaultPaviseHome } from '../../main/config/paths.js';
import { API_CHANNELS } from '../../main/common/ipc-channels.js';

/**
 * Builds the shell (scripts/build-electron.mjs) and packages the macOS app with the real electron-builder, offline,
 * from a stub Electron distribution: the darwin Electron zip cannot be downloaded here, and the layout, asar,
 * Info.plist and fuses are what this checks. Signing and notarizing are skipped on Linux (they happen on a Mac).
 */

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const ELECTRON_VERSION = (JSON.parse(readFileSync(join(REPO, 'node_modules/electron/package.json'), 'utf8')) as { version: string }).version;
// electron-builder's own dependencies, resolved the way electron-builder resolves them.
const builderRequire = createRequire(join(REPO, 'node_modules/app-builder-lib/package.json'));
const plist = builderRequire('plist') as { parse(text: string): unknown; build(value: unknown): string };
const asar = builderRequire('@electron/asar') as { listPackage(path: string, options: { isPack: boolean }): string[] };

interface BuildModule {
  buildElectron(options?: { root?: string }): Promise<{ outdir: string; externals: { main: string[]; preload: string[] } }>;
  TRAY_SHAPES: Record<string, (x: number, y: number) => number>;
  renderShape(shape: (x: number, y: number) => number, scale: number): { width: number; height: number; alpha: Uint8Array };
  encodePng(image: { width: number; height: number; alpha: Uint8Array }): Buffer;
}
const loadBuild = async () => (await import(pathToFileURL(join(REPO, 'scripts/build-electron.mjs')).href)) as BuildModule;

const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron's default wire: RunAsNode, NODE_OPTIONS, --inspect, file:// privileges and WASM trap handlers on. */
const DEFAULT_WIRE = '101100011';

function writePlist(path: string, value: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, plist.build(value));
}

function writeExecutable(path: string, content: string | Buffer = '#!/bin/sh\nexit 0\n'): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, 0o755);
}

/** The shape of Electron.app that electron-builder expects: main binary, framework (with the fuse wire), helpers. */
function stubElectronDist(dir: string): void {
  const contents = join(dir, 'Electron.app', 'Contents');
  const bundle = (name: string, id: string) => ({
    CFBundleExecutable: name,
    CFBundleIdentifier: id,
    CFBundleName: name,
    CFBundleDisplayName: name,
    CFBundlePackageType: 'APPL',
    CFBundleVersion: ELECTRON_VERSION,
    CFBundleShortVersionString: ELECTRON_VERSION,
  });
  writePlist(join(contents, 'Info.plist'), { ...bundle('Electron', 'com.github.Electron'), CFBundleIconFile: 'electron.icns', NSPrincipalClass: 'AtomApplication' });
  writeExecutable(join(contents, 'MacOS', 'Electron'));
  const framework = join(contents, 'Frameworks', 'Electron Framework.framework');
  const wire = Buffer.concat([Buffer.alloc(256), Buffer.from(FUSE_SENTINEL), Buffer.from([1, DEFAULT_WIRE.length]), Buffer.from(DEFAULT_WIRE), Buffer.alloc(256)]);
  writeExecutable(join(framework, 'Electron Framework'), wire);
  mkdirSync(join(framework, 'Resources'), { recursive: true });
  for (const suffix of ['', ' (Renderer)', ' (GPU)', ' (Plugin)']) {
    const helper = join(contents, 'Frameworks', `Electron Helper${suffix}.app`, 'Contents');
    writePlist(join(helper, 'Info.plist'), bundle(`Electron Helper${suffix}`, 'com.github.Electron.helper'));
    writeExecutable(join(helper, 'MacOS', `Electron Helper${suffix}`));
  }
  mkdirSync(join(contents, 'Resources', 'en.lproj'), { recursive: true });
  writeFileSync(join(contents, 'Resources', 'electron.icns'), 'icns');
}

let work: string;
let app: string;
let externals: { main: string[]; preload: string[] };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pavise-packaging-'));
  const build = await loadBuild();
  ({ externals } = await build.buildElectron());
  stubElectronDist(join(work, 'electron-dist'));
  const result = await run(
    process.execPath,
    [
      join(REPO, 'node_modules/electron-builder/cli.js'),
      '--mac',
      'dir',
      '--x64',
      '--config',
      'electron-builder.yml',
      `-c.electronDist=${join(work, 'electron-dist')}`,
      `-c.directories.output=${join(work, 'release')}`,
    ],
    // No signing identity is looked for, and nothing is published or downloaded.
    { cwd: REPO, env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' }, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { message: string; stdout?: string; stderr?: string }) => {
    throw new Error(`electron-builder failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  expect(result.stderr).not.toMatch(/⨯|error/i);
  app = join(work, 'release', 'mac', 'Pavise.app');
}, 180_000);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function readPlist(path: string): Record<string, unknown> {
  return plist.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

describe('the bundles', () => {
  it('the preload is one CommonJS file that requires nothing but electron', () => {
    const preload = readFileSync(join(REPO, 'dist/electron/preload.cjs'), 'utf8');
    const required = new Set([...preload.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((match) => match[1]));
    expect([...required]).toEqual(['electron']);
    expect(preload).not.toMatch(/\bimport\s*\(|^import\s/m);
    expect(preload).toContain('exposeInMainWorld');
  });

  it('the main bundle imports only Node built-ins, electron and the native modules electron-builder ships', () => {
    // `encoding`: node-fetch (under grammy) tries `require('encoding')` inside a try/catch; it is optional.
    // `canvas`: linkedom (web_fetch's HTML parser, loaded at the first page) tries it the same way and falls back to its shim.
    const optional = ['encoding', 'canvas'];
    const allowed = new Set(['electron', 'better-sqlite3', '@napi-rs/keyring', 'playwright-core', ...optional, ...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
    expect(externals.main.filter((name) => !allowed.has(name))).toEqual([]);
    expect(externals.main).toEqual(expect.arrayContaining(['electron', 'better-sqlite3', '@napi-rs/keyring']));
    expect(externals.preload).toEqual(['electron']);
  });

  it('the tray images are black-on-clear template PNGs at 18 and 36 px, exactly as the build script draws them', async () => {
    const build = await loadBuild();
    const names = Object.keys(build.TRAY_SHAPES);
    expect(names.sort()).toEqual(['trayApprovalTemplate', 'trayPausedTemplate', 'trayTemplate', 'trayWorkingTemplate']);
    for (const name of names) {
      for (const [suffix, side] of [['', 18], ['@2x', 36]] as const) {
        const file = readFileSync(join(REPO, 'assets', `${name}${suffix}.png`));
        expect(file.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        expect([file.readUInt32BE(16), file.readUInt32BE(20), file[24], file[25]]).toEqual([side, side, 8, 6]);
        const idat = file.subarray(33 + 8, file.length - 12 - 4);
        const pixels = inflateSync(idat);
        let ink = 0;
        for (let y = 0; y < side; y++) {
          for (let x = 0; x < side; x++) {
            const at = y * (1 + side * 4) + 1 + x * 4;
            expect(pixels[at]! + pixels[at + 1]! + pixels[at + 2]!).toBe(0);
            ink += pixels[at + 3]! > 127 ? 1 : 0;
          }
        }
        expect(ink / (side * side)).toBeGreaterThan(0.15);
        expect(file.equals(build.encodePng(build.renderShape(build.TRAY_SHAPES[name]!, side / 18)))).toBe(true);
      }
    }
  });
});

/*
 * The built main bundle, run as Electron would run it: Node 24 (Electron 45's), ESM, its chunks, the native modules,
 * and `electron` resolved to the hand-written mock. It needs the real credential store (the activity log keeps its
 * key there): under scripts/test.sh a throwaway keyring is provided and a missing one fails; elsewhere on Linux
 * without a D-Bus session this is skipped.
 */
const keyringAvailable =
  process.env.PAVISE_TEST_KEYRING === '1' || process.platform === 'darwin' || (process.platform === 'linux' && Boolean(process.env.DBUS_SESSION_BUS_ADDRESS));

const BOOT_REPORT = `
import { register } from 'node:module';
register(new URL('./hooks.mjs', import.meta.url));
const mock = await import(new URL('./electron.mjs', import.meta.url).href);
mock.resetElectronMock(process.env.PAVISE_APP_ROOT);
const deadline = Date.now() + 15000;
const timer = setInterval(() => {
  const { BrowserWindow, Tray, app, dialog, ipcMain, protocol } = mock;
  const started = Tray.instances.length > 0 && ipcMain.handlers.size > 0;
  if (!started && dialog.errors.length === 0 && Date.now() < deadline) return;
  clearInterval(timer);
  process.stdout.write(JSON.stringify({
    windows: BrowserWindow.instances.map((window) => window.loaded),
    tray: Tray.instances.map((tray) => tray.image.path),
    handlers: [...ipcMain.handlers.keys()].length,
    errors: dialog.errors,
    sandboxed: app.sandboxed,
    dockHidden: app.dock.hidden,
    schemes: protocol.privileged.map((item) => item.scheme),
  }));
  process.exit(0);
}, 20);
`;

describe.skipIf(!keyringAvailable)('the built main bundle', () => {
  it('boots under Node 24 with electron mocked: services, popover, tray and IPC come up', async () => {
    const harness = join(work, 'boot');
    mkdirSync(harness, { recursive: true });
    writeFileSync(join(harness, 'vitest-shim.mjs'), `export const vi = { fn(impl = () => undefined) {
      let current = impl;
      const fn = (...args) => current(...args);
      fn.mockReturnValue = (value) => ((current = () => value), fn);
      fn.mockResolvedValue = (value) => ((current = async () => value), fn);
      fn.mockReset = () => ((current = () => undefined), fn);
      return fn;
    } };\n`);
    await esbuild({
      entryPoints: [join(REPO, 'test/electron/electron-mock.ts')],
      outfile: join(harness, 'electron.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      alias: { vitest: join(harness, 'vitest-shim.mjs') },
      logLevel: 'warning',
    });
    writeFileSync(join(harness, 'hooks.mjs'), `export async function resolve(specifier, context, next) {
      return specifier === 'electron' ? { url: new URL('./electron.mjs', import.meta.url).href, shortCircuit: true } : next(specifier, context);
    }\n`);
    writeFileSync(join(harness, 'report.mjs'), BOOT_REPORT);
    const home = join(work, 'boot-home');
    try {
      const { stdout } = await run(process.execPath, ['--import', join(harness, 'report.mjs'), join(REPO, 'dist/electron/main.js')], {
        cwd: REPO,
        env: { ...process.env, PAVISE_HOME: home, PAVISE_APP_ROOT: REPO, ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '' },
        timeout: 30_000,
      });
      const report = JSON.parse(stdout) as { windows: string[][]; tray: string[]; handlers: number; errors: string[]; sandboxed: boolean; dockHidden: boolean; schemes: string[] };
      expect(report.errors).toEqual([]);
      expect(report).toMatchObject({ handlers: Object.keys(API_CHANNELS).length, sandboxed: true, dockHidden: true, schemes: ['app'] });
      expect(report.windows[0]?.[0]).toMatch(/^app:\/\/pavise\/(popover\.html|index\.html\?view=popover)$/);
      expect(report.tray).toEqual([join(REPO, 'assets', 'trayTemplate.png')]);
    } finally {
      const store = new KeychainSecretStore(keychainServiceFor(home, defaultPaviseHome()));
      for (const name of await store.list().catch(() => [])) await store.delete(name);
    }
  }, 60_000);
});

describe('the packaged macOS app (electron-builder --mac dir, stub Electron, offline)', () => {
  it('builds Pavise.app', () => {
    expect(readdirSync(join(app, 'Contents', 'MacOS'))).toEqual(['Pavise']);
  });

  it('Info.plist: bundle id, menu-bar only, usage descriptions, asar integrity', () => {
    const info = readPlist(join(app, 'Contents', 'Info.plist'));
    expect(info).toMatchObject({
      CFBundleIdentifier: 'dev.pavise.app',
      CFBundleName: 'Pavise',
      CFBundleDisplayName: 'Pavise',
      CFBundleExecutable: 'Pavise',
      CFBundleShortVersionString: (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version,
      LSUIElement: true,
      LSApplicationCategoryType: 'public.app-category.utilities',
      LSMinimumSystemVersion: '12.0',
    });
    for (const key of ['NSAppleEventsUsageDescription', 'NSCalendarsUsageDescription', 'NSCalendarsFullAccessUsageDescription', 'NSContactsUsageDescription']) {
      expect(typeof info[key], key).toBe('string');
      expect((info[key] as string).length, key).toBeGreaterThan(30);
      expect(info[key] as string, key).toMatch(/^Pavise /);
    }
    expect(info.ElectronAsarIntegrity).toMatchObject({ 'Resources/app.asar': { algorithm: 'SHA256', hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const helper = readPlist(join(app, 'Contents', 'Frameworks', 'Pavise Helper (Renderer).app', 'Contents', 'Info.plist'));
    expect(helper.CFBundleIdentifier).toBe('dev.pavise.app.helper.Renderer');
  });

  it('flips the fuses: no RunAsNode, no NODE_OPTIONS, no --inspect, cookies encrypted, asar only and validated', async () => {
    const fuses = (await import('@electron/fuses')) as typeof import('@electron/fuses');
    const wire = await fuses.getCurrentFuseWire(app);
    const state = (option: number) => wire[option as keyof typeof wire];
    const { FuseV1Options, FuseState } = fuses;
    expect(state(FuseV1Options.RunAsNode)).toBe(FuseState.DISABLE);
    expect(state(FuseV1Options.EnableCookieEncryption)).toBe(FuseState.ENABLE);
    expect(state(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe(FuseState.DISABLE);
    expect(state(FuseV1Options.EnableNodeCliInspectArguments)).toBe(FuseState.DISABLE);
    expect(state(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe(FuseState.ENABLE);
    expect(state(FuseV1Options.OnlyLoadAppFromAsar)).toBe(FuseState.ENABLE);
    expect(state(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe(FuseState.DISABLE);
  });

  it('app.asar holds the bundles, the renderer and the tray images, and of node_modules only the native modules and playwright-core', () => {
    const resources = join(app, 'Contents', 'Resources');
    const files = asar.listPackage(join(resources, 'app.asar'), { isPack: false });
    for (const file of ['/package.json', '/dist/electron/main.js', '/dist/electron/preload.cjs', '/assets/trayTemplate.png', '/assets/trayTemplate@2x.png', '/assets/trayPausedTemplate@2x.png']) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
    const modules = new Set(files.filter((file) => file.startsWith('/node_modules/')).map((file) => file.split('/').slice(2, file.startsWith('/node_modules/@') ? 4 : 3).join('/')));
    // playwright-core: browse drives Chromium with it, imported at the first browse (it has no native code).
    expect([...modules].filter((name) => !name.startsWith('@napi-rs/keyring') && name !== 'better-sqlite3' && name !== '@napi-rs' && name !== 'playwright-core')).toEqual([]);
    expect(modules.has('better-sqlite3')).toBe(true);
    expect(files.some((file) => /prebuilds\/(linux|win32)/.test(file))).toBe(false);
    // Native binaries are unpacked next to the asar, where they can be loaded.
    const unpacked = join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'prebuilds');
    expect(readdirSync(unpacked).sort()).toEqual(['darwin-arm64.node', 'darwin-x64.node']);
    const packageJson = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { main: string };
    expect(files).toContain(`/${packageJson.main}`);
    // osascript reads the calendar helper from a real file beside the asar, byte for byte the repository's.
    expect(readFileSync(join(resources, 'calendar-helper.jxa.js'), 'utf8')).toBe(readFileSync(join(REPO, 'native', 'calendar-helper.jxa.js'), 'utf8'));
  });

  it('signs with the hardened runtime and only the entitlements it needs', () => {
    const entitlements = readPlist(join(REPO, 'build', 'entitlements.mac.plist'));
    expect(entitlements).toEqual({
      'com.apple.security.cs.allow-jit': true,
      'com.apple.security.automation.apple-events': true,
      'com.apple.security.personal-information.calendars': true,
      'com.apple.security.personal-information.addressbook': true,
    });
    const inherited = readPlist(join(REPO, 'build', 'entitlements.mac.inherit.plist'));
    expect(inherited).toEqual({ 'com.apple.security.cs.allow-jit': true });
    const config = readFileSync(join(REPO, 'electron-builder.yml'), 'utf8');
    expect(config).toMatch(/^\s+hardenedRuntime: true$/m);
    expect(config).toMatch(/^\s+notarize: true$/m);
    expect(config).toMatch(/^npmRebuild: false$/m);
  });
});
