#!/usr/bin/env bash
#! bench/wasm-size.sh — what the worker's wasm is made of (part of `make bench`).
#! Prints the shipped sizes (build/index_bg.wasm, and the redirect worker's
#! build-redirect/index_bg.wasm, raw and gzip -9) and their compile times
#! in V8 (bench/wasm_compile.mjs, headless Chromium), then
#! builds the same release wasm with symbol names kept (profile
#! `wasm-names`) and attributes its code to crates and functions with
#! bench/wasm_size.py. Writes bench/wasm.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-wasm.sh | tail -n 1
# The redirect worker (wrangler.redirect.toml): the redirect path only.
bash scripts/build-wasm.sh --release --out-dir build-redirect -- --features redirect-only | tail -n 1
(
  # shellcheck source=scripts/wasm-env.sh
  . scripts/wasm-env.sh
  cargo build -q --lib --target wasm32-unknown-unknown --profile wasm-names
)
# Compile time of each module in V8 (median of 15): what a cold start pays.
node bench/wasm_compile.mjs build/index_bg.wasm build-redirect/index_bg.wasm >target/wasm-compile.json
echo "compile (V8, median of 15): $(cat target/wasm-compile.json)"
NAMED=target/wasm32-unknown-unknown/wasm-names/linkcredit.wasm
python3 bench/wasm_size.py "$NAMED"
python3 - "$NAMED" <<'PY'
import gzip, json, subprocess, sys
shipped = open("build/index_bg.wasm", "rb").read()
front = open("build-redirect/index_bg.wasm", "rb").read()
detail = json.loads(subprocess.run([sys.executable, "bench/wasm_size.py", sys.argv[1], "--json"],
                                   capture_output=True, text=True, check=True).stdout)
json.dump({"shipped_raw_bytes": len(shipped), "shipped_gzip_bytes": len(gzip.compress(shipped, 9)),
           "redirect_worker_raw_bytes": len(front), "redirect_worker_gzip_bytes": len(gzip.compress(front, 9)),
           "compile": json.load(open("target/wasm-compile.json")),
           "named_build": detail}, open("bench/wasm.json", "w"), indent=1)
PY
