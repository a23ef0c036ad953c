#!/usr/bin/env node
// A stand-in for /usr/bin/osascript, used through PAVISE_OSASCRIPT (or the sender's osascriptPath option).
//
// Every call appends one JSON line to the file named by PAVISE_OSASCRIPT_LOG:
//   { "argv": [...process.argv.slice(2)], "scriptSha256": "<hex>", "scriptMode": 384, "folderMode": 448, "pid": 123 }
// scriptSha256 is the SHA-256 of the script osascript would run: the text of the script file (the first argument
// that is not an option), or the -e lines joined with "\n" as osascript joins them. scriptMode and folderMode are the
// permission bits of the script file and its folder while osascript runs (null for -e scripts).
//
// Failures are simulated with PAVISE_OSASCRIPT_FAIL, shaped like osascript's own reports on stderr:
//   -1743      Automation permission denied        -1744  consent would be required
//   -1728      no such chat / participant          -600   Messages is not running
//   ambiguous  the script's pavise:ambiguous-handle error
//   timeout    never answers (waits until killed)
//   any other value: a generic execution error with that text
// PAVISE_OSASCRIPT_FAIL_AFTER=n lets the first n calls (counted in the log) succeed before failing;
// PAVISE_OSASCRIPT_FAIL_MODE=chat|buddy fails only calls in that mode (the item after the script file).
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

const argv = process.argv.slice(2);

/** Mirrors osascript's options: -l LANG, -s FLAGS, -i, -e LINE; the first other argument is the script file. */
function parse(args) {
  const lines = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i];
    if (arg === '-e') {
      lines.push(args[i + 1] ?? '');
      i += 2;
    } else if (arg === '-l' || arg === '-s') {
      i += 2;
    } else if (arg === '-i') {
      i += 1;
    } else if (arg === '--') {
      i += 1;
      break;
    } else {
      break;
    }
  }
  if (lines.length > 0) return { script: lines.join('\n'), rest: args.slice(i) };
  const file = args[i];
  if (file === undefined) return { script: undefined, rest: [] };
  const script = file === '-' ? readFileSync(0) : readFileSync(file);
  return { script, file, rest: args.slice(i + 1) };
}

const { script, file, rest } = parse(argv);
const scriptSha256 = script === undefined ? null : createHash('sha256').update(script).digest('hex');
const log = process.env.PAVISE_OSASCRIPT_LOG;
const modeOf = (path) => (path === undefined || path === '-' ? null : statSync(path).mode & 0o777);
const scriptMode = modeOf(file);
const folderMode = file === undefined || file === '-' ? null : modeOf(dirname(file));

let previousCalls = 0;
if (log) {
  try {
    previousCalls = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    previousCalls = 0;
  }
  appendFileSync(log, `${JSON.stringify({ argv, scriptSha256, scriptMode, folderMode, pid: process.pid })}\n`);
}

const fail = process.env.PAVISE_OSASCRIPT_FAIL;
const failAfter = Number(process.env.PAVISE_OSASCRIPT_FAIL_AFTER ?? 0);
const failMode = process.env.PAVISE_OSASCRIPT_FAIL_MODE;
const failing = Boolean(fail) && previousCalls >= failAfter && (!failMode || rest[0] === failMode);

const where = `${file ?? '-e'}:0:0`;
function executionError(message, number) {
  process.stderr.write(`${where}: execution error: ${message} (${number})\n`);
  process.exit(1);
}

if (!failing) {
  process.stdout.write('ok\n');
} else if (fail === 'timeout') {
  setInterval(() => {}, 60_000);
} else if (fail === '-1743') {
  executionError('Not authorized to send Apple events to Messages.', -1743);
} else if (fail === '-1744') {
  executionError('Messages got an error: A privilege violation occurred.', -1744);
} else if (fail === '-1728') {
  executionError(`Messages got an error: Can’t get chat id "${rest[1] ?? ''}".`, -1728);
} else if (fail === '-600') {
  executionError('Messages got an error: Application isn’t running.', -600);
} else if (fail === 'ambiguous') {
  executionError('pavise:ambiguous-handle the handle matches more than one participant', 1001);
} else {
  executionError(fail, -2700);
}
