import { EXIT, type CliIO } from '../io.js';

export async function imessageCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('carapace: imessage tail is not available yet.\n');
  return EXIT.failure;
}
