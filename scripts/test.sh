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

work="$(mktemp -d "${TMPDIR:-/tmp}/carapace-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
report="$work/vitest.json"

vitest=(node_modules/.bin/vitest run --reporter=default --reporter=json "--outputFile=$report" "$@")
# Tells the Keychain tests that a keyring is provided: without one they fail instead of skipping.
export CARAPACE_TEST_KEYRING=1

status=0
if [ "$(uname -s)" = Linux ]; then
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "test: $tool is missing; run scripts/setup.sh (apt: dbus gnome-keyring)" >&2
      exit 1
    }
  done
  mkdir -m 700 "$work/data" "$work/runtime"
  # The keyring lives in $work/data; its control socket in $work/runtime, never the user's own session's.
  # The command travels as arguments to `sh -c`, never spliced into the script.
  # shellcheck disable=SC2016 # $1 and $@ belong to the inner sh
  XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work/runtime" \
    dbus-run-session -- sh -c '
      log="$1"; shift
      if ! printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>"$log"; then
        echo "test: gnome-keyring-daemon did not start:" >&2
        cat "$log" >&2
        exit 1
      fi
      exec "$@"' carapace-test "$work/keyring.log" "${vitest[@]}" </dev/null || status=$?
else
  "${vitest[@]}" </dev/null || status=$?
fi

# vitest's own summary is for people; CI reads this line. A file that fails before its tests run (a syntax or
# import error) counts as one failure, as does an error vitest reports outside any test.
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
