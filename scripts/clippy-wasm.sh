#!/usr/bin/env bash
#! scripts/clippy-wasm.sh — clippy for the wasm32 build of the crate (the worker shell).
#!
#! Usage:  bash scripts/clippy-wasm.sh [extra cargo clippy args...]
#!   LINKCREDIT_FORCE_DEBIAN_WASM=1 bash scripts/clippy-wasm.sh   # Debian toolchain
#!
#! Runs, with the scoped env of scripts/wasm-env.sh:
#!   cargo clippy --target wasm32-unknown-unknown --lib [args] -- -D warnings
#! (default features only). On the rustup path that is rustup's clippy
#! component; on the Debian path PATH has /usr/bin first, so `cargo clippy`
#! is Debian's cargo running /usr/bin/cargo-clippy + /usr/bin/clippy-driver
#! (package rust-web-clippy), with -Zbuild-std building std from rust-web-src.
#! Native clippy (`cargo clippy --all-targets`) is a separate, plain command.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ ! -f target/.wasm-toolchain ] && [ "${LINKCREDIT_FORCE_DEBIAN_WASM:-0}" != 1 ]; then
  echo "clippy-wasm: no target/.wasm-toolchain; running scripts/setup.sh"
  bash scripts/setup.sh
fi
# shellcheck source=scripts/wasm-env.sh
. scripts/wasm-env.sh

if ! cargo clippy --version >/dev/null 2>&1; then
  if [ "$LINKCREDIT_WASM_TOOLCHAIN" = rustup ] && command -v rustup >/dev/null 2>&1; then
    echo "clippy-wasm: rustup component add clippy"
    rustup component add clippy
  else
    echo "clippy-wasm: cargo clippy unavailable; install rust-web-clippy (scripts/setup.sh does)" >&2
    exit 1
  fi
fi

echo "clippy-wasm: toolchain=$LINKCREDIT_WASM_TOOLCHAIN ($(cargo clippy --version))"
set -x
cargo clippy --target wasm32-unknown-unknown --lib "$@" -- -D warnings
