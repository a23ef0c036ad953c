import { createInterface } from 'node:readline/promises';
import { compose, type Core } from '../../compose.js';
import { grantOnly, NO_PERMISSIONS, parseGrant, permissionIds, type SkillPermissions } from '../../skills/permissions.js';
import { reviewFolder, stageSkill } from '../../skills/review.js';
import { callThroughGate } from '../../runtime/owner-tool-call.js';
import { qualifiedToolName } from '../../skills/tool-descriptor.js';
import { formatApprovalCard } from '../approval-card.js';
import { parseCommandArgs } from '../args.js';
import { EXIT, UsageError, type CliIO } from '../io.js';
import { formatGrant, formatSkillReview, skillJson } from '../skill-review.js';

const USAGE = 'install PATH [--grant SHA256] [--only ID,ID | --none] | list [--json] | show NAME [--json] | enable NAME [--grant SHA256] | disable NAME | remove NAME | call NAME.TOOL --input JSON [--json]';

export async function skillsCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'skills',
    args,
    { json: { type: 'boolean', default: false }, grant: { type: 'string' }, only: { type: 'string' }, none: { type: 'boolean', default: false }, input: { type: 'string' } },
    { min: 1, max: 2, usage: USAGE },
  );
  const [action, target] = positionals;
  const need = (what: string): string => {
    if (target === undefined) throw new UsageError(`Give the ${what}. Usage: pavise skills ${USAGE}`);
    return target;
  };
  if (action === 'list' && target !== undefined) throw new UsageError(`Usage: pavise skills ${USAGE}`);
  if (!['install', 'list', 'show', 'enable', 'disable', 'remove', 'call'].includes(action ?? '')) throw new UsageError(`Unknown skills action "${action ?? ''}". Usage: pavise skills ${USAGE}`);
  const core = await compose({ env: io.env });
  try {
    switch (action) {
      case 'install':
        return await install(core, need('folder or archive'), values, io);
      case 'list':
        return list(core, values.json, io);
      case 'show':
        return await show(core, need('skill name'), values.json, io);
      case 'enable':
        return await enable(core, need('skill name'), values.grant, io);
      case 'disable': {
        const result = core.skills.setEnabled(need('skill name'), false);
        io.stderr.write(result.ok ? `Disabled ${target}.\n` : `pavise: ${result.message}\n`);
        return result.ok ? EXIT.ok : EXIT.failure;
      }
      case 'remove': {
        const removed = await core.skills.remove(need('skill name'));
        io.stderr.write(removed ? `Removed ${target} and its files.\n` : `pavise: no skill named "${target}" is installed; nothing removed.\n`);
        return removed ? EXIT.ok : EXIT.failure;
      }
      default:
        return await call(core, need('NAME.TOOL'), values.input, values.json, io);
    }
  } finally {
    core.close();
  }
}

async function install(core: Core, path: string, values: { grant?: string | undefined; only?: string | undefined; none?: boolean; json?: boolean }, io: CliIO): Promise<number> {
  const staged = await stageSkill(path).catch((error: unknown) => {
    throw new UsageError(`Cannot install ${path}: ${(error as Error).message}`);
  });
  try {
    const { review } = staged;
    io.stdout.write(formatSkillReview(review));
    const requested = review.manifest.permissions;
    let granted: SkillPermissions;
    let hash: string;
    if (values.grant !== undefined) {
      hash = values.grant;
      granted = pickGrant(requested, values.only, values.none ?? false);
    } else if (io.stdin.isTTY) {
      const answers = await askGrant(review.content.hash, requested, io);
      if (!answers) {
        io.stderr.write('Nothing installed.\n');
        return EXIT.failure;
      }
      ({ hash, granted } = answers);
    } else {
      io.stderr.write(`pavise: not installed. After reading the review above, install it non-interactively with: pavise skills install ${path} --grant ${review.content.hash} [--only ID,ID | --none]\n`);
      return EXIT.failure;
    }
    const result = await core.skills.install(review, hash, granted);
    if (!result.ok) {
      io.stderr.write(`pavise: ${result.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`Installed ${review.manifest.name}, pinned to ${review.content.hash}; granted: ${formatGrant(granted)}.\n`);
    return EXIT.ok;
  } finally {
    await staged.dispose();
  }
}

function pickGrant(requested: SkillPermissions, only: string | undefined, none: boolean): SkillPermissions {
  if (none && only !== undefined) throw new UsageError('Give --only or --none, not both.');
  if (none) return NO_PERMISSIONS;
  if (only === undefined) return requested;
  const picked = grantOnly(requested, only.split(',').map((id) => id.trim()).filter(Boolean));
  if (!picked.ok) throw new UsageError(picked.message);
  return picked.value;
}

async function askGrant(hash: string, requested: SkillPermissions, io: CliIO): Promise<{ hash: string; granted: SkillPermissions } | undefined> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  // Input that ends at a question (Ctrl-D) is a "no" to the whole install; a pending question alone never settles.
  const ended = new Promise<undefined>((resolve) => rl.once('close', () => resolve(undefined)));
  const ask = (question: string): Promise<string | undefined> => Promise.race([rl.question(question), ended]);
  try {
    const ids: string[] = [];
    for (const id of permissionIds(requested)) {
      const answer = await ask(`Grant ${id}? [y/N] `);
      if (answer === undefined) return undefined;
      if (/^y(es)?$/i.test(answer.trim())) ids.push(id);
    }
    const confirm = await ask(`Install this exact content (SHA-256 ${hash.slice(0, 12)}…)? [y/N] `);
    if (confirm === undefined || !/^y(es)?$/i.test(confirm.trim())) return undefined;
    const picked = grantOnly(requested, ids);
    return picked.ok ? { hash, granted: picked.value } : undefined;
  } catch (error) {
    // Ctrl-D or Ctrl-C at a question in a terminal is a "no" to the whole install as well.
    if (error instanceof Error && error.name === 'AbortError') return undefined;
    throw error;
  } finally {
    rl.close();
  }
}

function list(core: Core, json: boolean | undefined, io: CliIO): number {
  const records = core.skills.list();
  if (json) {
    io.stdout.write(`${JSON.stringify({ skills: records.map((record) => skillJson(record)) })}\n`);
    return EXIT.ok;
  }
  if (records.length === 0) io.stdout.write('No skills installed. Install one with: pavise skills install PATH\n');
  for (const record of records) {
    const state = record.state === 'changed' ? 'CHANGED ON DISK (needs review)' : record.state;
    io.stdout.write(`${record.name.padEnd(24)} ${state.padEnd(10)} ${record.contentHash.slice(0, 12)}…  granted: ${formatGrant(parseGrant(record.granted))}\n`);
  }
  return EXIT.ok;
}

async function show(core: Core, name: string, json: boolean | undefined, io: CliIO): Promise<number> {
  const record = core.skills.get(name);
  if (!record) {
    io.stderr.write(`pavise: no skill named "${name}" is installed. See: pavise skills list\n`);
    return EXIT.failure;
  }
  const review = await reviewFolder(core.skills.dirOf(name), record.source).catch((error: unknown) => error as Error);
  const matches = !(review instanceof Error) && review.content.hash === record.contentHash;
  if (json) {
    io.stdout.write(`${JSON.stringify(skillJson(record, { currentHash: review instanceof Error ? null : review.content.hash, matchesPin: matches, problem: review instanceof Error ? review.message : null }))}\n`);
    return EXIT.ok;
  }
  io.stdout.write(`${name}: ${record.state}; pinned ${record.contentHash}; granted: ${formatGrant(parseGrant(record.granted))}\n`);
  if (review instanceof Error) io.stdout.write(`  its files cannot be reviewed: ${review.message}\n`);
  else {
    if (!matches) io.stdout.write(`  CHANGED ON DISK: the files now hash to ${review.content.hash}. Read the review below; to trust it: pavise skills enable ${name} --grant ${review.content.hash}\n`);
    io.stdout.write(formatSkillReview(review));
  }
  return EXIT.ok;
}

async function enable(core: Core, name: string, grant: string | undefined, io: CliIO): Promise<number> {
  const record = core.skills.get(name);
  if (record?.state === 'changed' || (record && grant !== undefined)) {
    if (grant === undefined) {
      io.stderr.write(`pavise: skill "${name}" changed on disk after review. Read it: pavise skills show ${name}; then: pavise skills enable ${name} --grant NEW_HASH\n`);
      return EXIT.failure;
    }
    const review = await reviewFolder(core.skills.dirOf(name), record.source);
    const result = await core.skills.repin(review, grant);
    io.stderr.write(result.ok ? `Re-pinned ${name} to ${review.content.hash} and enabled it.\n` : `pavise: ${result.message}\n`);
    return result.ok ? EXIT.ok : EXIT.failure;
  }
  const result = core.skills.setEnabled(name, true);
  if (!result.ok) {
    io.stderr.write(`pavise: ${result.message}\n`);
    return EXIT.failure;
  }
  const verified = await core.skills.verify(name);
  io.stderr.write(verified.ok ? `Enabled ${name}.\n` : `pavise: ${verified.message}\n`);
  return verified.ok ? EXIT.ok : EXIT.failure;
}

/** One tool call through the gate, as the owner: for skill authors testing their work. */
async function call(core: Core, spec: string, inputText: string | undefined, json: boolean | undefined, io: CliIO): Promise<number> {
  const dot = spec.indexOf('.');
  if (dot <= 0) throw new UsageError('Name the tool as SKILL.TOOL, e.g. pavise skills call weather.forecast --input \'{"latitude":52.5,"longitude":13.4}\'');
  const skill = spec.slice(0, dot);
  const toolName = spec.slice(dot + 1);
  let input: unknown = {};
  if (inputText !== undefined) {
    try {
      input = JSON.parse(inputText);
    } catch (error) {
      throw new UsageError(`--input is not JSON: ${(error as Error).message}`);
    }
  }
  await core.tools.ready();
  const tool = core.tools.get(qualifiedToolName(skill, toolName));
  if (!tool) {
    const record = core.skills.get(skill);
    const why = !record ? `no skill named "${skill}" is installed` : record.state !== 'enabled' ? `skill "${skill}" is ${record.state === 'changed' ? 'changed on disk and needs review' : 'disabled'}` : `skill "${skill}" has no tool "${toolName}"`;
    io.stderr.write(`pavise: ${why}.\n`);
    return EXIT.failure;
  }
  const parsed = core.tools.validate(tool, input);
  if (!parsed.success) {
    io.stderr.write(`pavise: the input does not fit ${spec}: ${parsed.problems}\n`);
    return EXIT.failure;
  }
  const stop = core.events.on('approval', (approval) => {
    io.stderr.write(formatApprovalCard(approval));
    io.stderr.write(`Waiting for your decision: pavise approvals approve ${approval.id} (or deny) in another terminal.\n`);
  });
  try {
    const outcome = await callThroughGate(core, tool, parsed.data, `pavise skills call ${spec} --input ${inputText ?? '{}'}`);
    if (!outcome.ok) {
      io.stderr.write(`pavise: the gate refused it: ${outcome.reason}\n`);
      return EXIT.failure;
    }
    const message = outcome.message;
    if (json) io.stdout.write(`${JSON.stringify({ content: message.content, isError: message.isError, provenance: message.provenance })}\n`);
    else io.stdout.write(`${message.content}\n`);
    return message.isError ? EXIT.failure : EXIT.ok;
  } finally {
    stop();
  }
}
