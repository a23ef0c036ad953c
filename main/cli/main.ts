import { EPHEMERAL_KEYRING_WHY, EXIT, UsageError, type CliIO } from './io.js';
import { keyringIsEphemeral } from '../secrets/secret-store.js';

declare const PAVISE_VERSION: string | undefined;
const VERSION = typeof PAVISE_VERSION === 'string' ? PAVISE_VERSION : '0.0.0-dev';

export const HELP = `pavise — a personal AI assistant that stays safe when the model is fooled

Usage:
  pavise chat [--new]              talk in the terminal (Ctrl-C stops a turn, Ctrl-D quits)
  pavise ask TEXT [--json] [--new] one turn in the current session; prints the reply
  pavise secrets set NAME          store a secret in the Keychain (value read from stdin)
  pavise secrets list              names of stored secrets (never values)
  pavise secrets delete NAME       remove a secret
  pavise approvals list [--json] [--all]       what waits for your decision
  pavise approvals approve ID [--for-hour]     approve one action (or that target for an hour, low risk only)
  pavise approvals deny ID
  pavise activity [--json] [--since 2h]        the activity log (every decision and effect)
  pavise activity verify                       check the log's HMAC chain; exits 1 on tampering
  pavise pause | resume            stop / restart all effects, messages and model calls
  pavise audit [--json] [--deep]   security self-check; exits 1 on a critical finding
  pavise doctor [--json]           does Pavise work here (keyring, chat.db, Telegram, model, gateway, disk)
  pavise gateway                   run the enabled channels (iMessage, Telegram) in the foreground
  pavise pair telegram             a one-time code that makes your Telegram account an owner
  pavise imessage tail [--db PATH] [--since ROWID] [--limit N] [--json]   decoded chat.db messages
  pavise imessage import [--db PATH] [--since DATE]   remember your whole chat.db (resumable; answers nothing)
  pavise memory search [--json] [--limit N] [--queries FILE] QUERY   recall from remembered messages and notes
  pavise memory list [--json] [--all] [--label KIND]   long-term memories, each with its label
  pavise memory show ID [--json] | forget ID | add TEXT   one memory: its sources and history; delete it; write one
  pavise memory export [--format jsonl|md]   every memory, replaced ones included
  pavise calendar events (--ics FILE | --calendar NAME) --from DATE --to DATE [--json]   occurrences in [from, to)
  pavise schedule list [--json] | add TEXT [--at WHEN] | edit ID | pause ID | resume ID | remove ID | run ID   reminders, alerts, briefings
  pavise skills install PATH [--grant SHA256] [--only ID,ID | --none]   review, then pin a skill (folder, .zip or .tgz)
  pavise skills list [--json] | show NAME | enable NAME [--grant SHA256] | disable NAME | remove NAME
  pavise skills call NAME.TOOL --input JSON [--json]   run one skill tool through the gate, as the owner
  pavise --help | --version

Environment:
  PAVISE_HOME       where config.json, SOUL.md and the database live
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
  doctor: async () => (await import('./commands/doctor.js')).doctorCommand,
  imessage: async () => (await import('./commands/imessage.js')).imessageCommand,
  gateway: async () => {
    // Before the gateway's modules load: loading them is what grows the heap that these limits keep small. Its own
    // chunk, so that other commands do not load node:v8.
    (await import('./gateway-heap.js')).limitGatewayHeap();
    return (await import('./commands/gateway.js')).gatewayCommand;
  },
  pair: async () => (await import('./commands/pair.js')).pairCommand,
  calendar: async () => (await import('./commands/calendar.js')).calendarCommand,
  schedule: async () => (await import('./commands/schedule.js')).scheduleCommand,
  skills: async () => (await import('./commands/skills.js')).skillsCommand,
  memory: async () => (await import('./commands/memory.js')).memoryCommand,
};

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      io.stdout.write(HELP);
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === '--version' || first === '-v') {
      io.stdout.write(`pavise ${VERSION}\n`);
      return EXIT.ok;
    }
    const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!load) {
      throw new UsageError(
        first.startsWith('-')
          ? `Unknown option "${first}". Run \`pavise --help\` for the commands.`
          : `Unknown command "${first}". Run \`pavise --help\` for the commands.`,
      );
    }
    const dashes = rest.indexOf('--');
    if ((dashes === -1 ? rest : rest.slice(0, dashes)).some((arg) => arg === '--help' || arg === '-h')) {
      io.stdout.write(commandHelp(first));
      return EXIT.ok;
    }
    const command = await load();
    return await command(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/** `pavise COMMAND --help`: that command's lines of HELP. */
function commandHelp(command: string): string {
  const own = new RegExp(`^  pavise (?:[a-z]+ \\| )?${command}(?: |$)`);
  const lines = HELP.split('\n').filter((line) => own.test(line));
  return `Usage:\n${lines.join('\n')}\n\nAll commands: pavise --help\n`;
}

export function reportError(error: unknown, io: CliIO): number {
  if (error instanceof UsageError) {
    io.stderr.write(`pavise: ${error.message}\n`);
    return EXIT.usage;
  }
  const known = error instanceof Error && /^(ConfigError|DatabaseError|SecretStoreError|MissingKeyError|GatewayLockedError|ChatDbAccessError|WhenError|ActivityKeyError)$/.test(error.name);
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(known ? `pavise: ${message}\n` : `pavise: unexpected error: ${message}\n`);
  if (error instanceof Error && error.name === 'ActivityKeyError' && keyringIsEphemeral(io.env, process.platform)) io.stderr.write(`pavise: ${EPHEMERAL_KEYRING_WHY}\n`);
  if (!known && io.env.PAVISE_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}
