import { compose } from '../../compose.js';
import { EXIT, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

/** `pavise pause` stops every effect and model call; `pavise resume` restarts them and resets the breaker. */
export function pauseCommand(paused: boolean) {
  return async (args: string[], io: CliIO): Promise<number> => {
    parseCommandArgs(paused ? 'pause' : 'resume', args, {}, { min: 0, max: 0, usage: '' });
    const services = await compose({ env: io.env });
    try {
      const before = services.switches.get('paused');
      if (!services.setPaused(paused, 'owner:cli')) {
        const since = before.since === undefined ? '' : ` since ${new Date(before.since).toLocaleString()}`;
        io.stdout.write(paused ? `Already paused${since}${before.reason ? ` (${before.reason})` : ''}; \`pavise resume\` undoes it.\n` : 'Not paused; nothing to resume.\n');
        return EXIT.ok;
      }
      io.stdout.write(paused ? 'Paused: no tool effects, messages or model calls until `pavise resume`.\n' : 'Resumed.\n');
      return EXIT.ok;
    } finally {
      services.close();
    }
  };
}
