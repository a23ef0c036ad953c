# shellcheck shell=bash
# Puts this checkout's Node first on PATH. Sourced (bash) by setup.sh, start.sh and test.sh; installs nothing and
# writes nothing, so it is cheap and safe to source from your own shell too: `. scripts/env.sh`.
#
# Which Node, in order:
#   1. .toolchain/node_modules/.bin/node  — Node 24 from the npm registry (setup.sh fetches it when the system Node
#      is missing or older than 24);
#   2. .toolchain/bootstrap/bin/node      — the nodejs.org build setup.sh unpacks on a Mac that has no Node at all;
#   3. whatever `node` is already on PATH.
# npm_config_nodedir points at the headers of the Node in use, so a native build never compiles against another
# version's headers (a user ~/.npmrc may name a different nodedir).

_pavise_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

_pavise_prepend_path() {
  case "$PATH" in
    "$1" | "$1":*) ;;
    *) PATH="$1:$PATH" ;;
  esac
}

if [ -x "$_pavise_root/.toolchain/bootstrap/bin/node" ]; then
  # Also provides npm when the machine has none.
  _pavise_prepend_path "$_pavise_root/.toolchain/bootstrap/bin"
fi
if [ -x "$_pavise_root/.toolchain/node_modules/.bin/node" ]; then
  _pavise_prepend_path "$_pavise_root/.toolchain/node_modules/.bin"
fi
export PATH

_pavise_node="$(command -v node 2>/dev/null || true)"
if [ -n "$_pavise_node" ]; then
  case "$_pavise_node" in
    "$_pavise_root/.toolchain/node_modules/.bin/node")
      # The npm `node` package keeps the binary and headers in node_modules/node-<platform>-<arch>.
      for _pavise_dir in "$_pavise_root"/.toolchain/node_modules/node/node_modules/node-*-*; do
        if [ -f "$_pavise_dir/include/node/node_api.h" ]; then
          npm_config_nodedir="$_pavise_dir"
          export npm_config_nodedir
        fi
      done
      ;;
    *)
      # A nodejs.org layout (bin/node beside include/node), as the bootstrap and most installers use.
      _pavise_dir="$(cd "$(dirname "$_pavise_node")/.." && pwd)"
      if [ -f "$_pavise_dir/include/node/node_api.h" ]; then
        npm_config_nodedir="$_pavise_dir"
        export npm_config_nodedir
      fi
      ;;
  esac
fi

# Electron's binary comes from GitHub, which CI machines cannot reach; Linux only needs the package (types,
# packaging). A Mac downloads the binary so `npx electron .` works.
if [ "$(uname -s)" = Linux ] && [ -z "${ELECTRON_SKIP_BINARY_DOWNLOAD:-}" ]; then
  export ELECTRON_SKIP_BINARY_DOWNLOAD=1
fi

unset -f _pavise_prepend_path
unset _pavise_root _pavise_node _pavise_dir
