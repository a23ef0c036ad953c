import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, UsageError, type CliIO } from './io.js';

declare const CARAPACE_VERSION: string | undefined;
const VERSION = typeof CARAPACE_VERSION === 'string' ? CARAPACE_VERSION : '0.0.0-dev';

export const HELP = `carapace — a personal AI assistant that stays safe when the model is fooled

Usage:
  carapace chat [--new]              talk in the terminal (Ctrl-C stops a turn, Ctrl-D quits)
  carapace ask TEXT [--json] [--new] one turn in the current session; prints the reply
  carapace secrets set NAME          store a secret in the Keychain (value read from stdin)
  carapace secrets list              names of stored secrets (never values)
  carapace secrets delete NAME       remove a secret
  carapace approvals list [--json] [--all]       what waits for your decision
  carapace approvals approve ID [--for-hour]     approve one action (or that target for an hour, low risk only)
  carapace approvals deny ID
  carapace activity [--json] [--since 2h]        the activity log (every decision and effect)
  carapace activity verify                       check the log's HMAC chain; exits 1 on tampering
  carapace pause | resume            stop / restart all effects, messages and model calls
  carapace audit [--json] [--deep]   security self-check; exits 1 on a critical finding
  carapace gateway                   run the enabled channels (iMessage, Telegram) in the foreground
  carapace pair telegram             a one-time code that makes your Telegram account an owner
  carapace imessage tail [--db PATH] [--since ROWID] [--limit N] [--json]   decoded chat.db messages
  carapace --help | --version

Environment:
  CARAPACE_HOME       where config.json, SOUL.md and the database live
  ANTHROPIC_API_KEY / OPENAI_API_KEY   used when the Keychain has no key for the provider
`;

type Command = (args: string[], io: CliIO) => Promise<number>;

/** Commands load their modules on demand so `--help` and `--version` stay instant. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  chat: async () => (await import('./commands/chat.js')).chatCommand,
  ask: async () => (await import('./commands/ask.js')).askCommand,
  secrets: async () => (await import('./commands/secrets.js')).secretsCommand,
  approvals: async () => (await import('./commands/approvals.js')).approvalsCommand,
  activity: async () => (await import('./commands/activity.js')).activityCommand,
  pause: async () => (await import('./commands/pause.js')).pauseCommand(true),
  resume: async () => (await import('./commands/pause.js')).pauseCommand(false),
  audit: async () => (await import('./commands/audit.js')).auditCommand,
  imessage: async () => (await import('./commands/imessage.js')).imessageCommand,
  gateway: async () => (await import('./commands/gateway.js')).gatewayCommand,
  pair: async () => (await import('./commands/pair.js')).pairCommand,
};

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      io.stdout.write(HELP);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === '--version' || first === '-v') {
      io.stdout.write(`carapace ${VERSION}\n`);
      return EXIT.ok;
    }
    const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!load) {
      throw new UsageError(
        first.startsWith('-')
          ? `Unknown option "${first}". Run \`carapace --help\` for the commands.`
          : `Unknown command "${first}". Run \`carapace --help\` for the commands.`,
      );
    }
    const command = await load();
    return await command(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof UsageError) {
    io.stderr.write(`carapace: ${error.message}\n`);
    return EXIT.usage;
  }
  const known = error instanceof Error && /^(ConfigError|DatabaseError|SecretStoreError|MissingKeyError|GatewayLockedError|ChatDbAccessError)$/.test(error.name);
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(known ? `carapace: ${message}\n` : `carapace: unexpected error: ${message}\n`);
  if (!known && io.env.CARAPACE_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}

/** parseArgs with errors that say what to do, raised as UsageError (exit 2). */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  command: string,
  args: string[],
  options: T,
  positionals: { min: number; max: number; usage: string },
) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`${detail}. Usage: carapace ${command} ${positionals.usage}`);
  }
  if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
    throw new UsageError(`Usage: carapace ${command} ${positionals.usage}`);
  }
  return parsed;
}
