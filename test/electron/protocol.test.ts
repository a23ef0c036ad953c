import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppProtocolHandler, registerAppScheme } from '../../electron/protocol.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/security.js';

let base: string;
let root: string;
let handler: (request: Request) => Promise<Response>;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'pavise-protocol-'));
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Pavise</title>');
  writeFileSync(join(root, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(base, 'secret.txt'), 'TOP SECRET');
  mkdirSync(join(base, 'renderer-evil'));
  writeFileSync(join(base, 'renderer-evil', 'x.js'), 'TOP SECRET');
  symlinkSync(join(base, 'secret.txt'), join(root, 'assets', 'link.txt'));
  handler = createAppProtocolHandler(root);
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** What Electron hands the handler; a plain object keeps the URL exactly as written (no WHATWG normalisation). */
const raw = (url: string, method = 'GET') => ({ url, method }) as Request;

describe('the app:// protocol', () => {
  it('registers app as a privileged standard, secure scheme that does not bypass the CSP', () => {
    const calls: unknown[] = [];
    registerAppScheme({ registerSchemesAsPrivileged: (schemes) => calls.push(...schemes) });
    expect(calls).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    expect((calls[0] as { privileges: Record<string, unknown> }).privileges.bypassCSP).toBeUndefined();
  });

  it('serves files under dist/renderer with their type and the CSP', async () => {
    const page = await handler(new Request('app://pavise/index.html'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('<title>Pavise</title>');
    const script = await handler(new Request('app://pavise/assets/app.js'));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await handler(new Request('app://pavise/'))).status).toBe(200);
  });

  it.each([
    'app://pavise/../../etc/passwd',
    'app://pavise/%2e%2e/%2e%2e/etc/passwd',
    'app://pavise/..%2f..%2f..%2fetc%2fpasswd',
    'app://pavise/assets/..%2f..%2fsecret.txt',
    'app://pavise/..%5c..%5csecret.txt',
    'app://pavise/%2e%2e%2fsecret.txt',
    'app://pavise/..%2frenderer-evil%2fx.js',
    'app://pavise/assets/link.txt',
    'app://pavise/index.html%00.png',
  ])('refuses %s, with the CSP on the refusal', async (url) => {
    for (const request of [raw(url), new Request(url)]) {
      const response = await handler(request);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      const body = await response.text();
      expect(body).not.toContain('root:');
      expect(body).not.toContain('TOP SECRET');
    }
  });

  it('answers only its own host, only GET and HEAD, and 404 for what is not there', async () => {
    expect((await handler(new Request('app://evil/index.html'))).status).toBe(404);
    expect((await handler(raw('file:///etc/passwd'))).status).toBe(404);
    expect((await handler(new Request('app://pavise/index.html', { method: 'POST', body: 'x' }))).status).toBe(405);
    expect((await handler(new Request('app://pavise/missing.js'))).status).toBe(404);
    expect((await handler(new Request('app://pavise/assets'))).status).toBe(404);
    expect((await handler(raw('app://pavise/%E0%A4%A'))).status).toBe(400);
  });
});
