#!/usr/bin/env bash
# Installs everything this checkout needs, then builds it. Idempotent (every step checks before it acts), never
# reads standard input, changes nothing outside the checkout except system packages on Linux. Called by start.sh and
# test.sh; after it, `. scripts/env.sh` gives the same Node on PATH.
#
#   Linux (Debian/Ubuntu): apt packages the tests need (D-Bus + gnome-keyring for the Secret Service, bubblewrap,
#                          chromium), as root or through sudo. PAVISE_SETUP_SKIP_APT=1 skips this step.
#   Node >= 24:            the system's if new enough, else Node 24 from the npm registry into .toolchain/
#                          (on a Mac with no Node at all: the nodejs.org build, checksum-verified).
#   node_modules:          `npm ci` when missing or made from another package.json / package-lock.json / Node.
#   dist/:                 `npm run build`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec </dev/null # nothing here may wait for input (CI has none)
exec 1>&2       # progress goes to stderr, so a caller's stdout stays its own

OS="$(uname -s)"
NODE_MAJOR=24
APT_PACKAGES=(dbus gnome-keyring bubblewrap chromium openssl dovecot-imapd)

log() { printf 'setup: %s\n' "$*"; }
die() {
  printf 'setup: error: %s\n' "$*"
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (run this script as root, or install sudo)"
  fi
}

apt_missing() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

apt_install() {
  local missing
  mapfile -t missing < <(apt_missing "$@")
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  log "installing apt packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

node_major() {
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

# A Mac with no Node and no npm: unpack the official build into .toolchain/bootstrap.
bootstrap_node_macos() {
  local arch base tmp name
  case "$(uname -m)" in
    arm64) arch=arm64 ;;
    x86_64) arch=x64 ;;
    *) die "unsupported Mac architecture $(uname -m)" ;;
  esac
  base="https://nodejs.org/dist/latest-v${NODE_MAJOR}.x"
  tmp="$(mktemp -d)"
  log "no Node on this Mac: downloading Node ${NODE_MAJOR} (darwin-${arch}) from nodejs.org"
  curl -fsSL "$base/SHASUMS256.txt" -o "$tmp/SHASUMS256.txt"
  name="$(grep -E "  node-v${NODE_MAJOR}\.[0-9]+\.[0-9]+-darwin-${arch}\.tar\.gz\$" "$tmp/SHASUMS256.txt" | awk '{print $2}' | head -n 1)"
  [ -n "$name" ] || die "could not find the darwin-${arch} build in $base/SHASUMS256.txt"
  curl -fsSL "$base/$name" -o "$tmp/$name"
  (cd "$tmp" && grep "  $name\$" SHASUMS256.txt | shasum -a 256 -c -) || die "checksum mismatch for $name"
  mkdir -p "$tmp/unpacked" .toolchain
  tar -xzf "$tmp/$name" -C "$tmp/unpacked" --strip-components 1
  rm -rf .toolchain/bootstrap
  mv "$tmp/unpacked" .toolchain/bootstrap
  rm -rf "$tmp"
}

# Node 24 from the npm registry (the `node` package carries the real binary and headers).
install_toolchain_node() {
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$OS" = Darwin ]; then
      bootstrap_node_macos
      return 0
    elif command -v apt-get >/dev/null 2>&1; then
      apt_install nodejs npm
    else
      die "neither Node ${NODE_MAJOR} nor npm found; install Node ${NODE_MAJOR} (https://nodejs.org) and run this again"
    fi
  fi
  log "fetching Node ${NODE_MAJOR} into .toolchain/ (system node: $(command -v node >/dev/null 2>&1 && node -v || echo none))"
  mkdir -p .toolchain
  # The `node` package installs its binary from a preinstall script; npm 11 asks for that to be allowed by name.
  if [ ! -f .toolchain/package.json ]; then
    printf '%s\n' '{ "private": true, "description": "Node for this checkout, installed by scripts/setup.sh", "allowScripts": { "node": true } }' \
      >.toolchain/package.json
  fi
  npm install --prefix .toolchain --no-save --no-package-lock --no-audit --no-fund "node@${NODE_MAJOR}"
}

# ---- 1. system packages ---------------------------------------------------------------------------------------------
if [ "$OS" = Linux ] && [ "${PAVISE_SETUP_SKIP_APT:-}" != 1 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    apt_install "${APT_PACKAGES[@]}"
  else
    log "not a Debian-like system: make sure these are installed: ${APT_PACKAGES[*]} (D-Bus, gnome-keyring, bubblewrap, chromium)"
  fi
fi

# ---- 2. Node ---------------------------------------------------------------------------------------------------------
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"
if ! command -v node >/dev/null 2>&1 || [ "$(node_major)" -lt "$NODE_MAJOR" ]; then
  install_toolchain_node
  # shellcheck source=scripts/env.sh
  . "$ROOT/scripts/env.sh"
  hash -r
fi
[ "$(node_major)" -ge "$NODE_MAJOR" ] || die "still no Node >= ${NODE_MAJOR} on PATH ($(command -v node || echo none))"
log "using node $(node -v) at $(command -v node), npm $(npm -v)${npm_config_nodedir:+, headers in $npm_config_nodedir}"

# ---- 3. dependencies -------------------------------------------------------------------------------------------------
# A stamp of what the last successful install was made from (manifest, lockfile, Node major, platform): install
# again only when one of them changed or node_modules is gone.
install_stamp() {
  node - <<'EOF'
const { createHash } = require('node:crypto');
const { existsSync, readFileSync } = require('node:fs');
const hash = createHash('sha256');
for (const file of ['package.json', 'package-lock.json']) hash.update(existsSync(file) ? readFileSync(file) : '-');
hash.update(`${process.versions.node.split('.')[0]} ${process.platform} ${process.arch}`);
process.stdout.write(hash.digest('hex'));
EOF
}
stamp_file=node_modules/.pavise-install-stamp
wanted_stamp="$(install_stamp)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$wanted_stamp" ] && [ -f node_modules/.package-lock.json ]; then
  log "node_modules is up to date"
else
  if [ -f package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund
  else
    log "npm install (no package-lock.json)"
    npm install --no-audit --no-fund
  fi
fi

# The native and binary packages must load. None of them needs its install script (better-sqlite3 ships
# prebuilds, esbuild resolves its platform package, @napi-rs/keyring has no script), so this holds even when npm
# skips scripts that package.json's allowScripts does not cover.
smoke_check() {
  node - <<'EOF'
const { readFileSync } = require('node:fs');
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }));
const checks = {
  'better-sqlite3': () => {
    const Database = require('better-sqlite3');
    const db = new Database(':memory:');
    db.exec('create virtual table t using fts5(body)');
    db.close();
  },
  '@napi-rs/keyring': () => {
    if (typeof require('@napi-rs/keyring').AsyncEntry !== 'function') throw new Error('AsyncEntry is missing');
  },
  esbuild: () => {
    require('esbuild').transformSync('const a: number = 1', { loader: 'ts' });
  },
};
const broken = [];
for (const [name, check] of Object.entries(checks)) {
  if (!declared.has(name)) continue;
  try {
    check();
  } catch (error) {
    broken.push(name);
    process.stderr.write(`setup: ${name} does not load: ${String(error && error.message).split('\n')[0]}\n`);
  }
}
process.stdout.write(broken.join(' '));
process.exit(broken.length > 0 ? 1 : 0);
EOF
}
if ! broken="$(smoke_check)"; then
  log "rebuilding: $broken"
  # shellcheck disable=SC2086 # a list of package names
  npm rebuild $broken || true
  smoke_check >/dev/null || die "these packages do not load: $broken. Try: rm -rf node_modules && ./scripts/setup.sh"
fi

# Electron's binary is fetched by its install script; on a Mac the app needs it.
if [ "$OS" = Darwin ] && [ -f node_modules/electron/package.json ] && [ ! -f node_modules/electron/path.txt ]; then
  log "downloading the Electron binary"
  node node_modules/electron/install.js
fi

install_stamp >"$stamp_file" # after the install: `npm install` may just have written the lockfile

# ---- 4. build --------------------------------------------------------------------------------------------------------
log "npm run build"
npm run build --silent
log "ready"
