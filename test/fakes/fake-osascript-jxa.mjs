#!/usr/bin/env node
// A stand-in for `osascript -l JavaScript SCRIPT` that runs the real calendar helper script under Node against the
// mocked Objective-C bridge of test/fakes/objc-bridge.ts, over the fake EventKit and Contacts stores in the JSON
// file named by PAVISE_FAKE_EVENTKIT (written back after a call that changed it, so changes persist across calls).
// It refuses any other argv than osascript's own for a JavaScript file, so the host's argv is checked too.
// PAVISE_FAKE_EVENTKIT_LOG, when set, gets one JSON line per call: { argv, request }.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { runHelperScript } from './objc-bridge.ts';

const argv = process.argv.slice(2);
if (argv.length !== 3 || argv[0] !== '-l' || argv[1] !== 'JavaScript') {
  process.stderr.write(`fake osascript: unexpected argv ${JSON.stringify(argv)}\n`);
  process.exit(2);
}
const statePath = process.env.PAVISE_FAKE_EVENTKIT;
if (!statePath) {
  process.stderr.write('fake osascript: PAVISE_FAKE_EVENTKIT is not set\n');
  process.exit(2);
}
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const stdin = Buffer.concat(chunks).toString('utf8');
if (process.env.PAVISE_FAKE_EVENTKIT_LOG) appendFileSync(process.env.PAVISE_FAKE_EVENTKIT_LOG, `${JSON.stringify({ argv, request: stdin })}\n`);
const state = JSON.parse(readFileSync(statePath, 'utf8'));
const before = JSON.stringify([state.access, state.journal ?? []]);
const out = runHelperScript(state, stdin, argv[2]);
// Written back only when something changed (a granted access, a journalled change), as a store would persist.
if (JSON.stringify([state.access, state.journal ?? []]) !== before) writeFileSync(statePath, JSON.stringify(state));
// osascript prints the value run() returns, then a newline.
process.stdout.write(`${out}\n`);
