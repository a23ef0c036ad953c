import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Protocol } from 'electron';
import { APP_HOST, APP_SCHEME, CONTENT_SECURITY_POLICY } from './security.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Must run before the app is ready. `standard` + `secure` give the scheme a real origin (so 'self' in the CSP,
 * relative URLs and module scripts work); `corsEnabled` lets Vite's `<script type="module" crossorigin>` load from
 * our own origin. Nothing bypasses the CSP.
 */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true } },
  ]);
}

function headers(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

function refuse(status: number, reason: string): Response {
  return new Response(reason, { status, headers: headers('text/plain; charset=utf-8') });
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/**
 * The `app://pavise/…` handler: serves files under `root` (dist/renderer) and nothing else. A path that decodes
 * to a `..` segment, a backslash or a NUL is refused before it touches the disk; what remains is resolved and must
 * still be inside `root` after symlinks are followed. Every response carries the CSP.
 */
export function createAppProtocolHandler(root: string): (request: Request) => Promise<Response> {
  const base = resolve(root);
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse(400, 'Bad request');
    }
    if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return refuse(404, 'Not found');
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405, 'Method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return refuse(400, 'Bad request');
    }
    if (path.includes('\0') || path.includes('\\') || path.split('/').some((segment) => segment === '..')) return refuse(403, 'Forbidden');
    if (path === '/' || path === '') path = '/index.html';
    const candidate = resolve(base, `.${path}`);
    if (!inside(base, candidate)) return refuse(403, 'Forbidden');
    try {
      const [realBase, realFile] = await Promise.all([realpath(base), realpath(candidate)]);
      if (!inside(realBase, realFile)) return refuse(403, 'Forbidden');
      if (!(await stat(realFile)).isFile()) return refuse(404, 'Not found');
      const body = request.method === 'HEAD' ? null : await readFile(realFile);
      return new Response(body, { status: 200, headers: headers(CONTENT_TYPES[extname(realFile).toLowerCase()] ?? 'application/octet-stream') });
    } catch {
      return refuse(404, 'Not found');
    }
  };
}
