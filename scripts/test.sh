#!/usr/bin/env bash
# README command 2: installs everything (scripts/setup.sh), then runs every test and prints, as the last line of
# output, `N passed, N failed` (`, N skipped` when some were). Exits non-zero when a test failed or the suite did
# not run. Arguments go to vitest: `./scripts/test.sh test/secrets`, `./scripts/test.sh -t "round trip"`.
#
# On Linux the tests run inside a private D-Bus session with a throwaway, unlocked gnome-keyring, so the Keychain
# tests exercise the real Secret Service without touching the user's own keyring. On macOS they use the login
# keychain under service names unique to the run, and remove what they create.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh </dev/null
# shellcheck source=scripts/env.sh
. scripts/env.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/pavise-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
report="$work/vitest.json"

vitest=(node_modules/.bin/vitest run --reporter=default --reporter=json "--outputFile=$report" "$@")
# Tells the Keychain tests that a keyring is provided: without one they fail instead of skipping.
export PAVISE_TEST_KEYRING=1

status=0
bash scripts/with-keyring.sh --isolated "${vitest[@]}" </dev/null || status=$?

summary="$(
  node - "$report" "$status" <<'JS'
const { readFileSync } = require('node:fs');
const [reportPath, statusText] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(reportPath, 'utf8'));
} catch {
  process.stderr.write(`test: vitest wrote no report (exit status ${statusText}); the suite did not run.\n`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
let failed = report.numFailedTests ?? 0;
for (const file of report.testResults ?? []) {
  const failedTests = (file.assertionResults ?? []).filter((test) => test.status === 'failed').length;
  if (file.status === 'failed' && failedTests === 0) {
    failed += 1;
    process.stderr.write(`test: ${file.name} failed outside its tests: ${String(file.message).split('\n')[0]}\n`);
  }
}
if (failed === 0 && (report.success === false || statusText !== '0')) {
  failed = 1;
  process.stderr.write(`test: vitest exited with status ${statusText} (an error outside any test; see above).\n`);
}
const ran = passed + failed + skipped > 0;
if (!ran) process.stderr.write('test: no tests ran.\n');
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || !ran ? 1 : 0);
JS
)" || summary_status=$?
if [ -n "$summary" ]; then
  printf '%s\n' "$summary"
fi
if [ "$status" -eq 0 ] && [ "${summary_status:-0}" -ne 0 ]; then
  status=1
fi
exit "$status"
