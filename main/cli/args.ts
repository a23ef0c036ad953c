import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.js';

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
    // Node's message may run over several lines ("… is ambiguous.\nDid you forget …?\nTo specify … use '--limit=-XYZ'.").
    const detail = (error instanceof Error ? error.message : String(error)).split('\n').join(' ').replace(/\.$/, '');
    throw new UsageError(`${detail}. Usage: pavise ${command} ${positionals.usage}`);
  }
  if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
    throw new UsageError(`Usage: pavise ${command} ${positionals.usage}`);
  }
  return parsed;
}
