import { UsageError, type CliIO } from '../io.js';

type Subcommand = (args: string[], io: CliIO) => Promise<number>;

/** One row per `pavise memory` subcommand, each loaded on demand. */
const SUBCOMMANDS: Readonly<Record<string, { usage: string; load: () => Promise<Subcommand> }>> = {
  search: { usage: 'search [--json] [--limit N] [--queries FILE] QUERY', load: async () => (await import('./memory-search.js')).memorySearchCommand },
  list: { usage: 'list [--json] [--all] [--label KIND]', load: async () => (await import('./memory-manage.js')).memoryListCommand },
  show: { usage: 'show ID [--json]', load: async () => (await import('./memory-manage.js')).memoryShowCommand },
  forget: { usage: 'forget ID', load: async () => (await import('./memory-manage.js')).memoryForgetCommand },
  export: { usage: 'export [--format jsonl|md]', load: async () => (await import('./memory-manage.js')).memoryExportCommand },
  add: { usage: 'add TEXT', load: async () => (await import('./memory-manage.js')).memoryAddCommand },
};

export async function memoryCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  const usage = Object.values(SUBCOMMANDS).map((entry) => entry.usage).join(' | ');
  const entry = sub !== undefined && Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (!entry) throw new UsageError(sub === undefined ? `Usage: pavise memory ${usage}` : `Unknown memory command "${sub}". Usage: pavise memory ${usage}`);
  return (await entry.load())(rest, io);
}
