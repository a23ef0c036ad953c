import { text } from 'node:stream/consumers';
import type { ReadStream } from 'node:tty';
import { paviseHome, defaultPaviseHome } from '../../config/paths.js';
import { KeychainSecretStore, keychainServiceFor } from '../../secrets/keychain-secret-store.js';
import { checkSecretName, keyringIsEphemeral } from '../../secrets/secret-store.js';
import { EPHEMERAL_KEYRING_WHY, EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const USAGE = 'set NAME | list | delete NAME';

export async function secretsCommand(args: string[], io: CliIO): Promise<number> {
  const { positionals } = parseCommandArgs('secrets', args, {}, { min: 1, max: 2, usage: USAGE });
  const [action, name] = positionals;
  const store = new KeychainSecretStore(keychainServiceFor(paviseHome(io.env), defaultPaviseHome(io.env)));

  switch (action) {
    case 'list': {
      if (name !== undefined) throw new UsageError(`Usage: pavise secrets ${USAGE}`);
      const names = await store.list();
      io.stdout.write(names.length > 0 ? `${names.join('\n')}\n` : '');
      if (names.length === 0) io.stderr.write('No secrets stored. Add one with: pavise secrets set NAME\n');
      return EXIT.ok;
    }
    case 'set': {
      const valid = requireName(name);
      if (keyringIsEphemeral(io.env, process.platform)) {
        io.stderr.write(`pavise: nothing stored. ${EPHEMERAL_KEYRING_WHY}\n`);
        return EXIT.failure;
      }
      let value: string;
      if (io.stdin.isTTY && typeof (io.stdin as Partial<ReadStream>).setRawMode === 'function') {
        io.stderr.write(`Paste the value for "${valid}" and press Ctrl-D (it is not echoed back):\n`);
        const typed = await readWithoutEcho(io.stdin as ReadStream);
        io.stderr.write('\n');
        if (typed === undefined) {
          io.stderr.write('pavise: stopped; nothing stored.\n');
          return EXIT.failure;
        }
        value = stripFinalNewline(typed);
      } else {
        value = stripFinalNewline(await text(io.stdin));
      }
      // Only white space is an empty paste (`echo "$UNSET_VARIABLE "`), never a key.
      if (value.trim().length === 0) {
        io.stderr.write(`pavise: no value on stdin; nothing stored. Example: printf %s "$KEY" | pavise secrets set ${valid}\n`);
        return EXIT.failure;
      }
      await store.set(valid, value);
      io.stderr.write(`Stored "${valid}" in the Keychain.\n`);
      return EXIT.ok;
    }
    case 'delete': {
      const valid = requireName(name);
      const removed = await store.delete(valid);
      io.stderr.write(removed ? `Deleted "${valid}".\n` : `No secret named "${valid}"; nothing deleted.\n`);
      return removed ? EXIT.ok : EXIT.failure;
    }
    default:
      throw new UsageError(`Unknown secrets action "${action ?? ''}". Usage: pavise secrets ${USAGE}`);
  }
}

function requireName(name: string | undefined): string {
  if (name === undefined) throw new UsageError(`Give the secret's name, e.g. pavise secrets set anthropic`);
  const problem = checkSecretName(name);
  if (problem) throw new UsageError(problem);
  return name;
}

/**
 * What the owner types or pastes into a terminal, with the terminal's echo off (raw mode), so the value never shows
 * on screen or in its scrollback. Ctrl-D ends it; Ctrl-C gives undefined; Backspace removes the last character.
 */
function readWithoutEcho(stdin: ReadStream): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chars: string[] = [];
    const finish = (value: string | undefined): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.setRawMode(false);
      stdin.pause();
      resolve(value);
    };
    const onEnd = (): void => finish(chars.join(''));
    const onData = (chunk: Buffer | string): void => {
      for (const char of String(chunk)) {
        if (char === '\u0003') return finish(undefined);
        if (char === '\u0004') return finish(chars.join(''));
        if (char === '\u007f' || char === '\b') chars.pop();
        else chars.push(char === '\r' ? '\n' : char);
      }
    };
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

/** A value piped with `echo` ends in a newline that is not part of the key. */
function stripFinalNewline(value: string): string {
  return value.replace(/\r?\n$/, '');
}
