import { compose } from '../../compose.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { shown } from '../printable.js';

const USAGE = '[--json] [--since TIME] [--limit N] | verify';

export async function activityCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'activity',
    args,
    { json: { type: 'boolean', default: false }, since: { type: 'string' }, limit: { type: 'string' } },
    { min: 0, max: 1, usage: USAGE },
  );
  const [action] = positionals;
  if (action !== undefined && action !== 'verify') throw new UsageError(`Unknown activity action "${action}". Usage: pavise activity ${USAGE}`);
  const since = values.since === undefined ? 0 : parseSince(values.since);
  const limit = values.limit === undefined ? 200 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError(`--limit takes a whole number from 1 to 100000, not "${values.limit}".`);

  const services = await compose({ env: io.env });
  try {
    if (action === 'verify') {
      const result = services.activity.verify();
      if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.ok && result.unverifiable === result.count && result.count > 0) {
        io.stdout.write(`Activity log: none of its ${result.count} rows can be checked; they were written under a key that is gone (its keyring did not last).\n`);
      } else if (result.ok && result.unverifiable > 0) {
        io.stdout.write(
          `Activity log verified from row ${result.unverifiable + 1}: ${result.count - result.unverifiable} rows, chain intact; ` +
            `rows 1–${result.unverifiable} were written under a key that is gone and cannot be checked.\n`,
        );
      } else if (result.ok) io.stdout.write(`Activity log verified: ${result.count} rows, chain intact.\n`);
      else io.stdout.write(`Activity log FAILED verification at row ${result.badRowId}: ${result.problem}.\n`);
      return result.ok ? EXIT.ok : EXIT.failure;
    }
    const rows = services.activity.list({ since, limit });
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ activity: rows })}\n`);
      return EXIT.ok;
    }
    if (rows.length === 0) io.stdout.write(values.since === undefined ? 'No activity yet.\n' : `No activity since ${values.since}; \`pavise activity\` shows the newest rows.\n`);
    for (const row of rows) {
      const when = localStamp(row.ts);
      io.stdout.write(`${when}  ${row.kind.padEnd(18)} ${(row.decision ?? '').padEnd(8)} ${shown(row.summary)}  — ${shown(row.actor)}\n`);
    }
    return EXIT.ok;
  } finally {
    services.close();
  }
}

/** Accepts an ISO date/time or a relative age: 30m, 2h, 7d. */
export function parseSince(value: string, now = Date.now()): number {
  const relative = /^(\d+)\s*([mhd])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd'];
    return now - Number(relative[1]) * unit;
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new UsageError(`--since takes a date like 2026-11-22 or 2026-11-22T09:00 or an age like 30m, 2h, 7d — not "${value}".`);
  return parsed;
}

/** `2026-12-03 09:41:07` in this machine's time zone, the one the owner reads clocks in (the JSON keeps epoch ms). */
function localStamp(ts: number): string {
  const at = new Date(ts);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}
