#!/usr/bin/env bash
# Runs a command where a Secret Service is available (Linux only; elsewhere the command runs as is).
#   scripts/with-keyring.sh [--isolated] COMMAND ARGS...
# --isolated always starts a private D-Bus session with a throwaway, unlocked gnome-keyring (tests, benchmarks), so
# the user's own keyring is never touched. Without it, a private session is started only when none exists (a
# headless Linux box); secrets stored there last for that session only.
set -euo pipefail

isolated=0
if [ "${1:-}" = --isolated ]; then
  isolated=1
  shift
fi

if [ "$(uname -s)" != Linux ] || { [ "$isolated" -eq 0 ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; }; then
  exec "$@"
fi

for tool in dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "pavise: $tool is missing; run scripts/setup.sh (apt: dbus gnome-keyring)" >&2
    exit 1
  }
done
if [ "$isolated" -eq 0 ]; then
  echo "pavise: no D-Bus session here; using a private keyring that lasts only until this command exits (or set ANTHROPIC_API_KEY)." >&2
  # Pavise refuses to store a secret there (it would be gone at once) and says why when an earlier key is missing.
  export PAVISE_KEYRING_EPHEMERAL=1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/pavise-keyring.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -m 700 "$work/data" "$work/runtime"
status=0
# The command travels as arguments to `sh -c`, never spliced into the script.
# shellcheck disable=SC2016 # $1 and $@ belong to the inner sh
XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work/runtime" \
  dbus-run-session -- sh -c '
    log="$1"; shift
    if ! printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>"$log"; then
      echo "pavise: gnome-keyring-daemon did not start:" >&2
      cat "$log" >&2
      exit 1
    fi
    exec "$@"' pavise-keyring "$work/keyring.log" "$@" 2> >(grep --line-buffered -v "Failed to set fd limit" >&2) || status=$?
exit "$status"
