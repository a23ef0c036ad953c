import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WebTransport } from '../../main/tools/web/web-fetcher.js';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTPS server on 127.0.0.1 with a throwaway self-signed certificate for the given test host names. */
export interface LoopbackServer {
  readonly port: number;
  readonly httpPort: number;
  readonly cert: string;
  /** A transport that resolves the test names to 127.0.0.1, may connect only there, and trusts the certificate. */
  readonly transport: WebTransport;
  url(host: string, path: string, scheme?: 'https' | 'http'): string;
  close(): Promise<void>;
}

export async function startLoopbackHttps(names: readonly string[], handler: Handler): Promise<LoopbackServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pavise-tls-'));
  try {
    const san = [...names.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=pavise-test', '-addext', `subjectAltName=${san}`,
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const server = createServer({ key, cert }, handler);
    const plain = createHttpServer(handler);
    await Promise.all([new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))]);
    const port = (server.address() as AddressInfo).port;
    const httpPort = (plain.address() as AddressInfo).port;
    return {
      port,
      httpPort,
      cert,
      transport: {
        resolve: async (hostname) => {
          if (names.includes(hostname)) return [{ address: '127.0.0.1', family: 4 }];
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        },
        permits: (address) => address === '127.0.0.1',
        ca: cert,
      },
      url: (host, path, scheme = 'https') => `${scheme}://${host}:${scheme === 'https' ? port : httpPort}${path}`,
      close: async () => {
        server.closeAllConnections();
        plain.closeAllConnections();
        await Promise.all([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => plain.close(resolve))]);
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
