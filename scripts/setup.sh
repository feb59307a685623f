#!/usr/bin/env bash
#! scripts/setup.sh — install everything the wasm build and `wrangler dev` need.
#!
#! Usage:  bash scripts/setup.sh
#!   LINKCREDIT_FORCE_DEBIAN_WASM=1 bash scripts/setup.sh   # force Debian toolchain
#!
#! Idempotent and quick (well under 5 s) when everything is already present;
#! each step prints what it checked and what, if anything, it did:
#!   1. npm ci            only if node_modules is missing or older than package-lock.json
#!   2. wasm32 std        `rustup target add wasm32-unknown-unknown`; if that fails
#!                        (or is forced off), Debian's rustc-web/cargo-web/rust-web-src/
#!                        lld-22/rust-web-clippy via apt-get, built with -Zbuild-std.
#!                        The choice is written to target/.wasm-toolchain
#!                        (rustup|debian), which scripts/wasm-env.sh reads. A
#!                        failed `rustup target add` is remembered in
#!                        target/.wasm-rustup-failed and not retried (delete it
#!                        to retry).
#!   3. worker-build      `cargo install worker-build --version 0.8.7 --locked`
#!                        unless `worker-build --version` already says 0.8.7
#!   4. wasm-bindgen-cli  the exact version of wasm-bindgen in Cargo.lock
#!                        (generating Cargo.lock first if it is missing)
#!   5. .dev.vars         copied from .dev.vars.example if missing; keys the example
#!                        gained later are appended
#! `cargo install` is tried with --locked first and retried without it: a
#! crate's shipped lockfile can pin a dependency release that the registry
#! index visible here does not have yet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WORKER_BUILD_VERSION=0.8.7
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
case ":$PATH:" in *":$CARGO_BIN:"*) ;; *) export PATH="$CARGO_BIN:$PATH" ;; esac
# Never let the wasm-only variables leak into native cargo commands here.
unset RUSTC_BOOTSTRAP CARGO_UNSTABLE_BUILD_STD

T0=$(date +%s.%N)
say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not available; install manually: $*"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install -y $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

cargo_install() { # cargo_install CRATE VERSION
  say "cargo install $1 --version $2 --locked"
  if ! cargo install "$1" --version "$2" --locked; then
    say "  --locked failed (lockfile pins a release not in the visible index?); retrying without --locked"
    cargo install "$1" --version "$2"
  fi
}

# --- 0. a native cargo to install tools with --------------------------------
if ! command -v cargo >/dev/null 2>&1; then
  say "no cargo on PATH: installing Debian's cargo-web/rustc-web"
  apt_install rustc-web cargo-web
fi

# --- 1. node_modules ----------------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
  say "npm missing: installing Debian nodejs/npm"
  apt_install nodejs npm
fi
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$NODE_MAJOR" -lt 20 ]; then
  say "WARNING: node $(node --version 2>/dev/null || echo '?') found; wrangler 4 needs Node >= 20"
fi
# npm ci rewrites node_modules/.package-lock.json, so it is the stamp.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (node_modules missing or older than package-lock.json)"
  npm ci --no-audit --no-fund
else
  say "node_modules up to date"
fi

# --- 2. wasm32 std ------------------------------------------------------------
mkdir -p target
MARKER=target/.wasm-toolchain
RUSTUP_FAILED=target/.wasm-rustup-failed
rustup_has_wasm32() {
  local libdir
  libdir="$(rustc --target wasm32-unknown-unknown --print target-libdir 2>/dev/null)" || return 1
  ls "$libdir"/libstd-*.rlib >/dev/null 2>&1
}
debian_pkgs_missing() {
  local p missing=()
  for p in rustc-web cargo-web rust-web-src lld-22 rust-web-clippy; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

TOOLCHAIN=""
if [ "${LINKCREDIT_FORCE_DEBIAN_WASM:-0}" = 1 ]; then
  say "wasm32: LINKCREDIT_FORCE_DEBIAN_WASM=1, using the Debian toolchain"
elif command -v rustup >/dev/null 2>&1 && rustup_has_wasm32; then
  say "wasm32: rustup target wasm32-unknown-unknown already installed"
  TOOLCHAIN=rustup
elif command -v rustup >/dev/null 2>&1 && [ -f "$RUSTUP_FAILED" ]; then
  say "wasm32: rustup target add failed before ($RUSTUP_FAILED); using the Debian toolchain (delete that file to retry rustup)"
elif command -v rustup >/dev/null 2>&1; then
  say "rustup target add wasm32-unknown-unknown"
  if rustup target add wasm32-unknown-unknown && rustup_has_wasm32; then
    TOOLCHAIN=rustup
  else
    say "wasm32: rustup target add failed; falling back to the Debian toolchain"
    # Remember, so later runs stay fast instead of retrying a slow failure.
    date >"$RUSTUP_FAILED"
  fi
else
  say "wasm32: no rustup; using the Debian toolchain"
fi

if [ -z "$TOOLCHAIN" ]; then
  TOOLCHAIN=debian
  MISSING="$(debian_pkgs_missing)"
  if [ -n "$MISSING" ]; then
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    apt_install $MISSING
  else
    say "wasm32: Debian rustc-web/cargo-web/rust-web-src/lld-22/rust-web-clippy installed"
  fi
  # worker-build checks that `rustc --print target-libdir` exists; Debian
  # ships no wasm32 std (it is built from rust-web-src with -Zbuild-std).
  LIBDIR="$(/usr/bin/rustc --target wasm32-unknown-unknown --print target-libdir)"
  if [ ! -d "$LIBDIR" ]; then
    say "mkdir -p $LIBDIR"
    mkdir -p "$LIBDIR"
  fi
  [ -d "$(/usr/bin/rustc --print sysroot)/lib/rustlib/src/rust/library/std" ] ||
    die "rust-web-src is installed but $(/usr/bin/rustc --print sysroot)/lib/rustlib/src/rust/library/std is missing"
fi
if [ "$(cat "$MARKER" 2>/dev/null || true)" != "$TOOLCHAIN" ]; then
  echo "$TOOLCHAIN" >"$MARKER"
  say "wrote $MARKER = $TOOLCHAIN"
else
  say "$MARKER = $TOOLCHAIN (unchanged)"
fi

# --- 3. worker-build ----------------------------------------------------------
HAVE_WB="$(worker-build --version 2>/dev/null || true)"
if [ "$HAVE_WB" != "$WORKER_BUILD_VERSION" ]; then
  say "worker-build: have '${HAVE_WB:-none}', want $WORKER_BUILD_VERSION"
  cargo_install worker-build "$WORKER_BUILD_VERSION"
else
  say "worker-build $HAVE_WB present"
fi

# --- 4. wasm-bindgen-cli == wasm-bindgen in Cargo.lock -----------------------
if [ ! -f Cargo.lock ]; then
  say "Cargo.lock missing: cargo generate-lockfile"
  cargo generate-lockfile
fi
# (worker-build reads the same entry; if several versions are locked, the
# highest one is assumed to be the one `worker` uses.)
WB_VERSION="$(awk '/^\[\[package\]\]/ { name = "" }
  /^name = / { gsub(/"/, "", $3); name = $3 }
  /^version = / && name == "wasm-bindgen" { gsub(/"/, "", $3); print $3 }' Cargo.lock | sort -V | tail -n1)"
[ -n "$WB_VERSION" ] || die "no wasm-bindgen in Cargo.lock (is worker a wasm32 dependency?)"
HAVE_BG="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$HAVE_BG" != "$WB_VERSION" ]; then
  say "wasm-bindgen-cli: have '${HAVE_BG:-none}', Cargo.lock wants $WB_VERSION"
  cargo_install wasm-bindgen-cli "$WB_VERSION"
else
  say "wasm-bindgen-cli $HAVE_BG present (matches Cargo.lock)"
fi

# --- 4b. Chromium for the dashboard's browser test ----------------------------
if [ -x /usr/bin/chromium ]; then
  say "chromium present"
else
  say "chromium missing (the dashboard test drives it)"
  apt_install chromium
fi

# --- 5. .dev.vars ------------------------------------------------------------
if [ ! -f .dev.vars ] && [ -f .dev.vars.example ]; then
  cp .dev.vars.example .dev.vars
  say "copied .dev.vars.example -> .dev.vars"
elif [ -f .dev.vars ]; then
  # Add secrets that .dev.vars.example gained since .dev.vars was made.
  ADDED=""
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%=*}"
    if ! grep -q "^$name=" .dev.vars; then
      printf '%s\n' "$line" >>.dev.vars
      ADDED="$ADDED $name"
    fi
  done <.dev.vars.example
  if [ -n "$ADDED" ]; then say ".dev.vars: added$ADDED from .dev.vars.example"; else say ".dev.vars present"; fi
fi

say "done in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s (wasm toolchain: $TOOLCHAIN)"
