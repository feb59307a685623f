#!/usr/bin/env bash
#! scripts/wasm-env.sh — environment for building the worker for wasm32.
#!
#! SOURCE this file (do not execute it):  . scripts/wasm-env.sh
#!
#! It decides which Rust toolchain builds the wasm32-unknown-unknown target and
#! exports the variables the wasm build (worker-build, cargo clippy) needs:
#!
#!   rustup  (default): the rustup toolchain with the prebuilt wasm32 std
#!           (`rustup target add wasm32-unknown-unknown`). Nothing Rust-related
#!           is changed except adding $CARGO_HOME/bin to PATH.
#!   debian  (fallback): Debian's rustc-web/cargo-web 1.96 in /usr/bin, which
#!           ships no prebuilt wasm32 std, so std is built from rust-web-src:
#!             PATH=/usr/bin first, RUSTC=/usr/bin/rustc, RUSTC_BOOTSTRAP=1,
#!             CARGO_UNSTABLE_BUILD_STD=std,panic_abort,
#!             CARGO_TARGET_DIR=target/wasm-debian (a different rustc: keep its
#!             artifacts away from the native target/ cache).
#!           These are exported ONLY here, so only the wasm32 build/clippy
#!           see them; native `cargo test` never does.
#!
#! Choice, first match wins:
#!   1. LINKCREDIT_FORCE_DEBIAN_WASM=1                     -> debian
#!   2. the marker target/.wasm-toolchain (scripts/setup.sh writes it)
#!   3. auto-detect: wasm32 std present for `rustc` -> rustup, else debian
#!
#! Always exported, for both toolchains: CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
#! with -Zfmt-debug=none -Zlocation-detail=none (wasm size; see below) and
#! RUSTC_BOOTSTRAP=1, which those unstable flags need.
#!
#! Always exported (so worker-build never tries to download anything):
#!   WASM_BINDGEN_BIN  wasm-bindgen CLI from `cargo install wasm-bindgen-cli`
#!   WASM_OPT_BIN      node_modules/binaryen/bin/wasm-opt (binaryen 132)
#!   ESBUILD_BIN       node_modules/@esbuild/<platform>/bin/esbuild (0.28.2)
#!   LINKCREDIT_ROOT, LINKCREDIT_WASM_TOOLCHAIN (rustup|debian)
#! A tool that is missing is left unset and reported: run scripts/setup.sh.
#!
#! Deliberately no `set -euo pipefail` here: this file is sourced, and those
#! options would leak into (and could kill) an interactive caller's shell. It
#! is written to be safe under them, as every script that sources it sets them.

LINKCREDIT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export LINKCREDIT_ROOT

_lc_cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"

_lc_rustup_has_wasm32() {
  # True when the first `rustc` on PATH has a wasm32 std installed.
  local libdir
  command -v rustc >/dev/null 2>&1 || return 1
  libdir="$(rustc --target wasm32-unknown-unknown --print target-libdir 2>/dev/null)" || return 1
  # Debian's libdir exists (setup.sh creates it for worker-build) but is
  # empty; only a real prebuilt std counts.
  [ -n "$libdir" ] && ls "$libdir"/libstd-*.rlib >/dev/null 2>&1
}

if [ "${LINKCREDIT_FORCE_DEBIAN_WASM:-0}" = 1 ]; then
  LINKCREDIT_WASM_TOOLCHAIN=debian
elif [ -f "$LINKCREDIT_ROOT/target/.wasm-toolchain" ]; then
  LINKCREDIT_WASM_TOOLCHAIN="$(tr -d '[:space:]' <"$LINKCREDIT_ROOT/target/.wasm-toolchain")"
elif PATH="$_lc_cargo_bin:$PATH" _lc_rustup_has_wasm32; then
  LINKCREDIT_WASM_TOOLCHAIN=rustup
else
  LINKCREDIT_WASM_TOOLCHAIN=debian
fi
export LINKCREDIT_WASM_TOOLCHAIN

case "$LINKCREDIT_WASM_TOOLCHAIN" in
  debian)
    if [ ! -x /usr/bin/rustc ] || [ ! -x /usr/bin/cargo ]; then
      echo "wasm-env: Debian toolchain selected but /usr/bin/rustc or /usr/bin/cargo is missing; run scripts/setup.sh" >&2
    fi
    # /usr/bin first so `cargo`, `rustc`, `cargo-clippy`, `clippy-driver` are
    # Debian's; $CARGO_HOME/bin next for worker-build and wasm-bindgen.
    export PATH="/usr/bin:$_lc_cargo_bin:$PATH"
    export RUSTC=/usr/bin/rustc
    export RUSTC_BOOTSTRAP=1
    export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
    export CARGO_TARGET_DIR="$LINKCREDIT_ROOT/target/wasm-debian"
    # A rustup override must not leak into Debian's cargo.
    unset RUSTUP_TOOLCHAIN
    ;;
  rustup)
    case ":$PATH:" in
      *":$_lc_cargo_bin:"*) ;;
      *) export PATH="$_lc_cargo_bin:$PATH" ;;
    esac
    ;;
  *)
    echo "wasm-env: unknown toolchain '$LINKCREDIT_WASM_TOOLCHAIN' in target/.wasm-toolchain (want rustup|debian); run scripts/setup.sh" >&2
    ;;
esac

# --- size flags for the wasm32 target (both toolchains) -------------------
# -Zfmt-debug=none: every `{:?}` formats as nothing and derived `Debug`
#   impls compile to no-ops, so the wasm carries no Debug machinery. Nothing
#   the worker answers or logs on purpose uses `{:?}` (src/ has it only in
#   tests); serde's type errors lose the quoted value ("invalid type:
#   string , expected ...") and panics their payload, in logs only.
# -Zlocation-detail=none: panics and `#[track_caller]` carry no file/line
#   strings.
# About 8 KB gzip. Both are unstable flags, so RUSTC_BOOTSTRAP=1 (already
# set on the debian path) for the rustup toolchain too; the variable is
# target-specific, so build scripts and proc macros (host) never see the
# flags. RUSTFLAGS, if set, overrides it (cargo's precedence).
case " ${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} " in
  *" -Zfmt-debug=none "*) ;;
  *)
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:+$CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS }-Zfmt-debug=none -Zlocation-detail=none"
    ;;
esac
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
export RUSTC_BOOTSTRAP=1

# --- local binaries for worker-build ---------------------------------------
# worker-build uses $WASM_BINDGEN_BIN / $WASM_OPT_BIN / $ESBUILD_BIN when they
# resolve to an executable, and otherwise silently downloads its own copy
# (which fails offline). So export them only when they really exist.
_lc_nm="$LINKCREDIT_ROOT/node_modules"

unset WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN
if [ -x "$_lc_cargo_bin/wasm-bindgen" ]; then
  export WASM_BINDGEN_BIN="$_lc_cargo_bin/wasm-bindgen"
elif command -v wasm-bindgen >/dev/null 2>&1; then
  WASM_BINDGEN_BIN="$(command -v wasm-bindgen)"
  export WASM_BINDGEN_BIN
else
  echo "wasm-env: wasm-bindgen CLI not found; run scripts/setup.sh" >&2
fi

# binaryen's npm package ships wasm-opt compiled to wasm, run by node.
if [ -x "$_lc_nm/binaryen/bin/wasm-opt" ]; then
  export WASM_OPT_BIN="$_lc_nm/binaryen/bin/wasm-opt"
elif [ -x "$_lc_nm/.bin/wasm-opt" ]; then
  export WASM_OPT_BIN="$_lc_nm/.bin/wasm-opt"
else
  echo "wasm-env: node_modules/binaryen (wasm-opt) missing; run scripts/setup.sh" >&2
fi

# Prefer esbuild's native platform binary; the .bin shim works too.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) _lc_esb_plat=linux-x64 ;;
  Linux-aarch64 | Linux-arm64) _lc_esb_plat=linux-arm64 ;;
  Darwin-arm64) _lc_esb_plat=darwin-arm64 ;;
  Darwin-x86_64) _lc_esb_plat=darwin-x64 ;;
  *) _lc_esb_plat=unknown ;;
esac
if [ -x "$_lc_nm/@esbuild/$_lc_esb_plat/bin/esbuild" ]; then
  export ESBUILD_BIN="$_lc_nm/@esbuild/$_lc_esb_plat/bin/esbuild"
elif [ -x "$_lc_nm/.bin/esbuild" ]; then
  export ESBUILD_BIN="$_lc_nm/.bin/esbuild"
else
  echo "wasm-env: node_modules/esbuild missing; run scripts/setup.sh" >&2
fi

unset _lc_cargo_bin _lc_nm _lc_esb_plat
unset -f _lc_rustup_has_wasm32
