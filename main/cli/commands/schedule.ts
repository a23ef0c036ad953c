import { compose } from '../../compose.js';
import type { JobRun } from '../../storage/job-store.js';
import type { ScheduledItem } from '../../tools/schedule.js';
import { splitReminder } from '../../scheduler/times.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';

const USAGE = 'list [--json] | add TEXT [--at WHEN] | edit ID [--text TEXT] [--at WHEN] | pause ID | resume ID | remove ID | run ID';
const ACTIONS = ['list', 'add', 'edit', 'pause', 'resume', 'remove', 'run'] as const;
/** The actions that name one job by its id. */
const BY_ID = new Set<string>(['edit', 'pause', 'resume', 'remove', 'run']);

/** Reminders, alerts and briefings from the terminal; works beside a running gateway (it fires them). */
export async function scheduleCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'schedule',
    args,
    { json: { type: 'boolean', default: false }, at: { type: 'string' }, text: { type: 'string' } },
    { min: 1, max: 64, usage: USAGE },
  );
  const [action, ...rest] = positionals;
  if (!(ACTIONS as readonly (string | undefined)[]).includes(action)) {
    throw new UsageError(`Unknown schedule action "${action ?? ''}". Usage: pavise schedule ${USAGE}`);
  }
  if (action === 'list' && rest.length > 0) throw new UsageError(`Usage: pavise schedule ${USAGE}`);
  if (action === 'add' && rest.length === 0) throw new UsageError('Say what and when: pavise schedule add "call the plumber tomorrow at 9"');
  if (action === 'edit' && values.text === undefined && values.at === undefined) {
    throw new UsageError('Say what changes: pavise schedule edit 12 --text "call the plumber" --at "tomorrow at 9" (either or both)');
  }
  if (action === 'edit' && values.text !== undefined && values.text.trim() === '') {
    throw new UsageError('A reminder needs some text: pavise schedule edit 12 --text "call the plumber" (or leave --text out to keep it)');
  }
  const id = BY_ID.has(action as string) ? Number(rest[0]) : undefined;
  if (id !== undefined && (!Number.isSafeInteger(id) || id < 1 || rest.length !== 1)) {
    throw new UsageError(`Give one job id: pavise schedule ${action} 12  (see \`pavise schedule list\`)`);
  }

  /** Saves a reminder and prints it; a time that cannot be read is a usage error in the parser's words. */
  const saveReminder = async (save: () => Promise<ScheduledItem | undefined>, missing?: () => number): Promise<number> => {
    try {
      const item = await save();
      if (!item) return missing?.() ?? EXIT.failure;
      io.stdout.write(values.json ? `${JSON.stringify({ job: item })}\n` : `Reminder #${item.id} “${item.title}” — ${item.when}\n`);
      return EXIT.ok;
    } catch (error) {
      if (error instanceof Error && error.name === 'WhenError') {
        io.stderr.write(`pavise: ${error.message}\n`);
        return EXIT.usage;
      }
      throw error;
    }
  };

  const services = await compose({ env: io.env, loadProviderAtFirstCall: true });
  try {
    if (action === 'list') {
      const items = services.scheduling.list();
      if (values.json) io.stdout.write(`${JSON.stringify({ jobs: items.map((item) => ({ ...item, lastRun: lastRunOf(services.jobs.runs(item.id, 1)[0]) })) })}\n`);
      else if (items.length === 0) io.stdout.write('Nothing is scheduled. Add a reminder: pavise schedule add "stretch every day at 15:00"\n');
      else for (const item of items) io.stdout.write(`#${item.id}  ${item.kind.padEnd(8)} ${item.title}  —  ${item.when}${item.status === 'active' ? '' : `  [${item.status}]`}\n`);
      return EXIT.ok;
    }
    if (action === 'add') {
      const sentence = rest.join(' ');
      const split = values.at ? { text: sentence, when: values.at } : await splitReminder(sentence, Date.now());
      if (!split) {
        io.stderr.write(`pavise: no time found in "${sentence}"; add one ("… tomorrow at 9", "… in 20 minutes", "… weekdays at 7:30") or give it with --at.\n`);
        return EXIT.usage;
      }
      return await saveReminder(() => services.scheduling.remindOwner(split.text, split.when));
    }
    const missing = () => {
      io.stderr.write(`pavise: nothing scheduled has id #${id}; \`pavise schedule list\` shows the ids.\n`);
      return EXIT.failure;
    };
    if (action === 'edit') {
      return await saveReminder(() => services.scheduling.editReminder(id as number, { ...(values.text === undefined ? {} : { text: values.text }), ...(values.at === undefined ? {} : { when: values.at }) }), missing);
    }
    if (action === 'pause' || action === 'resume') {
      const item = await services.scheduling.setPaused(id as number, action === 'pause');
      if (!item) return missing();
      io.stdout.write(values.json ? `${JSON.stringify({ job: item })}\n` : `${action === 'pause' ? 'Paused' : 'Resumed'} #${item.id} “${item.title}”${action === 'resume' ? ` — ${item.when}` : ''}\n`);
      return EXIT.ok;
    }
    if (action === 'remove') {
      if (!services.scheduling.remove(id as number)) return missing();
      io.stdout.write(`Removed #${id}.\n`);
      return EXIT.ok;
    }
    const run = await services.runScheduledNow(id as number);
    if (!run) return missing();
    const state = run.status === 'running' ? 'queued; the gateway delivers it (pavise gateway)' : `${run.status}${run.detail ? ` — ${run.detail}` : ''}`;
    io.stdout.write(values.json ? `${JSON.stringify({ run })}\n` : `Ran #${id}: ${state}\n`);
    return run.status === 'failed' ? EXIT.failure : EXIT.ok;
  } finally {
    services.close();
  }
}

/** A job's latest run as `schedule list --json` shows it: "delivered" with the channel and the ids it returned. */
function lastRunOf(run: JobRun | undefined) {
  if (!run) return null;
  return {
    status: run.status,
    dueAt: run.dueAt,
    finishedAt: run.finishedAt ?? null,
    detail: run.detail ?? null,
    channel: run.deliveredVia ?? null,
    channelMessageIds: run.channelMessageIds ?? null,
  };
}
