import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.js';
import { openStorage } from '../../main/storage/storage.js';
import { tempHome } from '../helpers/cli.js';

let home: ReturnType<typeof tempHome>;
beforeEach(() => {
  home = tempHome({ owner: { name: 'Robin' } });
  const storage = openStorage(join(home.home, 'pavise.db'), { grantTargetOf: () => '' });
  storage.memory.ingest([
    {
      kind: 'message',
      channel: 'telegram',
      conversation: '100',
      guid: '100:7',
      sender: '555',
      senderName: 'Jordan',
      fromOwner: false,
      isGroup: false,
      text: 'The \u001b]0;pwned\u0007 boat leaves from pier 4',
      at: Date.UTC(2024, 4, 2, 9),
      provenance: { kind: 'untrusted', source: 'non_owner_sender', detail: 'telegram Jordan' },
    },
  ]);
  storage.notes.add('Pier parking is free on Sundays');
  storage.close();
});
afterEach(() => home.cleanup());

async function run(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const code = await main(args, { stdin: new PassThrough(), stdout, stderr, env: home.env });
  return { code, stdout: out, stderr: err };
}

describe('pavise memory search', () => {
  it('--json prints one line per query with exactly the documented keys', async () => {
    const file = join(home.home, 'queries.txt');
    writeFileSync(file, 'boat pier\n\n  parking  \n');
    const result = await run(['memory', 'search', '--json', '--limit', '1', '--queries', file]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { query: string; hits: Record<string, unknown>[] });
    expect(lines.map((line) => line.query)).toEqual(['boat pier', 'parking']);
    expect(lines[0]).toEqual({
      query: 'boat pier',
      hits: [
        {
          id: 1,
          text: 'The \u001b]0;pwned\u0007 boat leaves from pier 4',
          at: '2024-05-02T09:00:00.000Z',
          provenance: { kind: 'untrusted', source: 'non_owner_sender', detail: 'telegram Jordan' },
          ref: { channel: 'telegram', conversation: '100', guid: '100:7' },
        },
      ],
    });
    expect(lines[1]?.hits[0]).toMatchObject({ text: 'Pier parking is free on Sundays', provenance: { kind: 'owner' }, ref: { channel: 'notes', guid: 'note:1' } });
  });

  it('prints hits for a person with their label, and never sends remembered control characters to the terminal', async () => {
    const result = await run(['memory', 'search', 'boat']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Jordan [untrusted: telegram Jordan]: The \\u{1b}]0;pwned\\u{7} boat leaves from pier 4');
    expect(result.stdout).not.toContain('\u001b');
    // A hit is a remembered message, not a long-term memory: it must not look like the "#ID" that
    // `pavise memory forget ID` takes, or forgetting "#1" from here deletes an unrelated memory.
    expect(result.stdout).toMatch(/^item 1 2024-05-02 09:00Z telegram Jordan/);
    expect(result.stdout).not.toMatch(/^#/m);
    expect((await run(['memory', 'search', 'submarine'])).stdout).toBe('Nothing remembered matches that.\n');
  });

  it('refuses bad input with what to do', async () => {
    expect(await run(['memory', 'search'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Say what to look for') });
    expect(await run(['memory', 'search', '--limit', '0', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--limit must be a whole number from 1 to 100') });
    expect(await run(['memory', 'search', '--queries', join(home.home, 'nope.txt')])).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read') });
    expect(await run(['memory', 'find', 'x'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Unknown memory command "find"') });
  });
});
