#!/usr/bin/env bash
#! scripts/build-wasm.sh — build the worker (Rust -> wasm32 -> build/) with worker-build.
#!
#! Usage:  bash scripts/build-wasm.sh [--force] [worker-build args...]
#!   default args: --release           (wrangler.toml: [build] command = "bash scripts/build-wasm.sh")
#!   --release --out-dir build-redirect -- --features redirect-only
#!                                     the redirect worker (wrangler.redirect.toml)
#!   --force                           rebuild even if build/ looks up to date
#!   LINKCREDIT_FORCE_DEBIAN_WASM=1    build with Debian's toolchain (see scripts/wasm-env.sh)
#!
#! Sources scripts/wasm-env.sh (toolchain + local wasm-bindgen/wasm-opt/esbuild,
#! so nothing is downloaded), then runs `worker-build` in the project root.
#! Output: build/index.js (the module wrangler's `main` points at) and
#! build/index_bg.wasm. Skips with "up to date" when nothing in src/,
#! Cargo.toml, Cargo.lock (or build.rs) changed since the last successful
#! build started (stamp: build/.linkcredit-build, which also records the
#! toolchain, args and wasm32 rustflags; a different one rebuilds). Runs
#! scripts/setup.sh first if a tool is missing or the wasm-bindgen CLI does
#! not match Cargo.lock. Prints the wasm size, raw and gzip -9 (Workers'
#! size limit applies to the compressed upload).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FORCE=0
ARGS=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    *) ARGS+=("$a") ;;
  esac
done
[ "${#ARGS[@]}" -gt 0 ] || ARGS=(--release)
# `--out-dir DIR` (worker-build's own option) builds into DIR instead of
# build/: the redirect worker is `--out-dir build-redirect -- --features
# redirect-only` (wrangler.redirect.toml).
DIR=build
for ((i = 0; i < ${#ARGS[@]}; i++)); do
  [ "${ARGS[$i]}" = --out-dir ] && DIR="${ARGS[$((i + 1))]}"
done

OUT="$DIR/index.js"
WASM="$DIR/index_bg.wasm"
STAMP="$DIR/.linkcredit-build"

print_sizes() {
  if [ -f "$WASM" ]; then
    local raw gz
    raw=$(wc -c <"$WASM")
    gz=$(gzip -9 -c "$WASM" | wc -c)
    printf 'build-wasm: %s: %d bytes raw (%d KiB), %d bytes gzip (%d KiB)\n' \
      "$WASM" "$raw" $(((raw + 1023) / 1024)) "$gz" $(((gz + 1023) / 1024))
  fi
}

lock_bindgen_version() {
  [ -f Cargo.lock ] || return 0
  awk '/^\[\[package\]\]/ { name = "" }
    /^name = / { gsub(/"/, "", $3); name = $3 }
    /^version = / && name == "wasm-bindgen" { gsub(/"/, "", $3); print $3 }' Cargo.lock | sort -V | tail -n1
}

# Make sure the tools are there (cheap checks; setup.sh itself is idempotent).
need_setup() {
  local cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin" want have
  [ -f node_modules/.package-lock.json ] || return 0
  [ -f Cargo.lock ] || return 0
  [ -f target/.wasm-toolchain ] || return 0
  PATH="$cargo_bin:$PATH" command -v worker-build >/dev/null 2>&1 || return 0
  want="$(lock_bindgen_version)"
  have="$(PATH="$cargo_bin:$PATH" wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  [ "$want" = "$have" ] || return 0
  return 1
}
if need_setup; then
  echo "build-wasm: toolchain incomplete; running scripts/setup.sh"
  bash scripts/setup.sh
fi

# shellcheck source=scripts/wasm-env.sh
. scripts/wasm-env.sh
for v in WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN; do
  [ -n "${!v:-}" ] || { echo "build-wasm: $v unresolved (see messages above); refusing to let worker-build download it" >&2; exit 1; }
done

SIG="toolchain=$LINKCREDIT_WASM_TOOLCHAIN args=${ARGS[*]} rustflags=${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-}"
if [ "$FORCE" = 0 ] && [ -f "$OUT" ] && [ -f "$WASM" ] && [ -f Cargo.lock ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$SIG" ]; then
  INPUTS=(src Cargo.toml Cargo.lock)
  [ -f build.rs ] && INPUTS+=(build.rs)
  if [ -z "$(find "${INPUTS[@]}" -newer "$STAMP" -print -quit 2>/dev/null)" ]; then
    echo "build-wasm: up to date ($OUT built after the last change to src/, Cargo.toml, Cargo.lock; $SIG)"
    print_sizes
    exit 0
  fi
fi

echo "build-wasm: $SIG"
echo "build-wasm: WASM_BINDGEN_BIN=$WASM_BINDGEN_BIN ($("$WASM_BINDGEN_BIN" --version))"
echo "build-wasm: WASM_OPT_BIN=$WASM_OPT_BIN"
echo "build-wasm: ESBUILD_BIN=$ESBUILD_BIN"
if [ "$LINKCREDIT_WASM_TOOLCHAIN" = debian ]; then
  echo "build-wasm: $(rustc --version) via $(command -v cargo), CARGO_UNSTABLE_BUILD_STD=$CARGO_UNSTABLE_BUILD_STD, CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
fi
# The two workers share cargo's target directory (and its wasm output file):
# one worker-build at a time.
mkdir -p target
exec 9>target/.build-wasm.lock
flock 9
T0=$(date +%s.%N)
rm -f "$STAMP"
worker-build "${ARGS[@]}"
echo "$SIG" >"$STAMP"
# The stamp carries the build's START time (sub-second), so an edit made
# while cargo was already compiling still counts as newer next time.
touch -d "@$T0" "$STAMP"
echo "build-wasm: built in $(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
print_sizes
