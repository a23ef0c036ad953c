import { compose } from '../../compose.js';
import { formatApprovalCard } from '../approval-card.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const USAGE = 'list [--json] [--all] | approve ID [--for-hour] | deny ID';

/** Local decisions on pending approvals; works beside a running gateway through the shared database. */
export async function approvalsCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'approvals',
    args,
    { json: { type: 'boolean', default: false }, all: { type: 'boolean', default: false }, 'for-hour': { type: 'boolean', default: false } },
    { min: 1, max: 2, usage: USAGE },
  );
  const [action, id] = positionals;
  if (action === 'list') {
    if (id !== undefined) throw new UsageError(`Usage: pavise approvals ${USAGE}`);
  } else if (action === 'approve' || action === 'deny') {
    if (id === undefined) throw new UsageError(`Give the approval's ID: pavise approvals ${action} ap_…  (see \`pavise approvals list\`)`);
    if (action === 'deny' && values['for-hour']) throw new UsageError('--for-hour goes with approve, not deny.');
  } else {
    throw new UsageError(`Unknown approvals action "${action ?? ''}". Usage: pavise approvals ${USAGE}`);
  }

  const services = await compose({ env: io.env });
  try {
    if (action === 'list') {
      const approvals = values.all ? services.approvals.list({ limit: 50 }) : services.approvals.pending();
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ approvals })}\n`);
      } else if (approvals.length === 0) {
        io.stdout.write(values.all ? 'No approvals yet.\n' : 'Nothing needs you.\n');
      } else {
        for (const approval of approvals) {
          io.stdout.write(`${formatApprovalCard(approval)}  status: ${approval.status}${approval.decidedBy ? ` (by ${approval.decidedBy})` : ''}\n\n`);
        }
      }
      return EXIT.ok;
    }
    const result = services.gate.decide(id as string, action as 'approve' | 'deny', 'cli', values['for-hour'] ? { grantMinutes: 60 } : {});
    if (!result.ok) {
      io.stderr.write(`pavise: ${result.message}\n`);
      return result.code === 'invalid_id' ? EXIT.usage : EXIT.failure;
    }
    io.stdout.write(`${action === 'approve' ? 'Approved' : 'Denied'}: ${result.value.title}${values['for-hour'] ? ' (and the same for the next hour)' : ''}\n`);
    return EXIT.ok;
  } finally {
    services.close();
  }
}
