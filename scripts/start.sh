#!/usr/bin/env bash
# README command 1: installs everything (scripts/setup.sh), then starts Pavise.
#
#   ./scripts/start.sh                 on macOS: the menu-bar app; elsewhere: chat with Pavise in this terminal
#   ./scripts/start.sh chat            the terminal chat on any platform
#   ./scripts/start.sh ARGS...         any other `pavise` command, e.g. ./scripts/start.sh secrets set anthropic
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# setup.sh never reads stdin and writes to stderr, so the chat keeps both the terminal's input and a clean stdout.
bash "$ROOT/scripts/setup.sh" </dev/null
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

if [ "$#" -eq 0 ]; then
  if [ "$(uname -s)" = Darwin ]; then
    # The menu-bar app: Electron (downloaded by npm on a Mac) running dist/electron/main.js from this checkout.
    exec "$ROOT/node_modules/.bin/electron" "$ROOT"
  fi
  set -- chat
fi
exec bash "$ROOT/scripts/with-keyring.sh" node "$ROOT/bin/pavise.js" "$@"
