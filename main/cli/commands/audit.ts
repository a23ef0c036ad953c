import { EXIT, type CliIO } from '../io.js';

export async function auditCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr.write('carapace: audit is not available yet.\n');
  return EXIT.failure;
}
