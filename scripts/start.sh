#!/usr/bin/env bash
# README command 1: installs everything (scripts/setup.sh), then starts Carapace.
#
#   ./scripts/start.sh                 chat with Carapace in this terminal
#   ./scripts/start.sh ARGS...         any other `carapace` command, e.g. ./scripts/start.sh secrets set anthropic
#
# Until the menu-bar app exists this starts the terminal chat on every platform; on macOS it will launch the app.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# setup.sh never reads stdin and writes to stderr, so the chat keeps both the terminal's input and a clean stdout.
bash "$ROOT/scripts/setup.sh" </dev/null
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

if [ "$#" -eq 0 ]; then
  set -- chat
fi
exec bash "$ROOT/scripts/with-keyring.sh" node "$ROOT/bin/carapace.js" "$@"
