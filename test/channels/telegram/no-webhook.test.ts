import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Invariant 1: Telegram is long polling only. No code under main/ can receive a webhook: grammY's webhookCallback
 * is never imported, setWebhook is never called, and the Telegram channel opens no server. The only webhook call
 * allowed is removing one someone else set (deleteWebhook, keeping pending updates).
 */

const ROOT = resolve(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(?:ts|tsx|mjs|js)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('no webhook code path', () => {
  const files = sources(join(ROOT, 'main')).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));

  it('finds the Telegram channel in the tree it searches', () => {
    expect(files.map((f) => f.path)).toContain('main/channels/telegram/telegram-channel.ts');
  });

  it('never mentions webhookCallback or setWebhook under main/', () => {
    const offenders = files.filter((f) => /webhookCallback|setWebhook|webhookReply/i.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('calls deleteWebhook only in the Telegram channel, and only keeping pending updates', () => {
    const uses = files.filter((f) => /deleteWebhook/.test(f.text));
    expect(uses.map((f) => f.path)).toEqual(['main/channels/telegram/telegram-channel.ts']);
    const calls = uses[0]!.text.match(/deleteWebhook\b.*/g) ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^deleteWebhook\(\{ drop_pending_updates: false \}/);
  });

  it('imports no server machinery and no grammY Bot (which could be started with a webhook) in the channel', () => {
    for (const f of files.filter((file) => file.path.startsWith('main/channels/'))) {
      expect(f.text, f.path).not.toMatch(/from '(?:node:)?(?:http|https|net|dgram|http2)'|createServer|\.listen\(/);
      expect(f.text, f.path).not.toMatch(/import\s*\{[^}]*\bBot\b[^}]*\}\s*from 'grammy'/);
    }
  });
});
