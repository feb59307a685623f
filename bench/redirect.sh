#!/usr/bin/env bash
#! bench/redirect.sh — linkcredit's redirect against a JS peer and the
#! runtime's ceiling, in one harness and one run (part of `make bench`).
#!
#! Starts three `wrangler dev` processes on free ports, each with its own
#! fresh local state: linkcredit (50 links seeded through the admin API), the
#! JS peer in bench/js-peer (the same job: KV lookup, UTM merge, 302, click
#! insert in waitUntil; the same 50 links in its KV) and the constant-302
#! ceiling in bench/ceiling. Then wrk at each concurrency (CONCURRENCY,
#! default "32 128") for DURATION seconds (default 10) against each, the
#! click counts in D1 after drain, the wasm size and the cold start. Prints
#! a table and writes bench/redirect.json (via bench/redirect_bench.py).
#! LC_ARGS adds wrangler dev arguments for linkcredit only (e.g.
#! "--var CLICK_BATCH_MAX:1" to measure without group commit).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
command -v wrk >/dev/null || { echo "bench: installing wrk"; apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
bash scripts/build-wasm.sh >/dev/null
export LINKS="${LINKS:-50}"
STATES="$(mktemp -d -t linkcredit-redirect-bench-XXXXXX)"
mkdir -p "$STATES/lc" "$STATES/peer" "$STATES/ceiling" target
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
trap 'stop_worker; rm -rf "$STATES"' EXIT

# The JS peer's state: its click table and the same links in its KV.
PEER=(--config bench/js-peer/wrangler.toml --persist-to "$STATES/peer")
bash scripts/wrangler.sh d1 execute DB --local "${PEER[@]}" --file bench/js-peer/schema.sql >/dev/null 2>&1
python3 bench/redirect_bench.py peer-kv >"$STATES/peer-kv.json"
bash scripts/wrangler.sh kv bulk put "$STATES/peer-kv.json" --binding LINKS --local "${PEER[@]}" >/dev/null 2>&1

bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATES/lc" >/dev/null 2>&1
start_worker "$STATES/lc" target/bench-lc.log ${LC_ARGS:-}
export LC_BASE="$BASE"
start_worker "$STATES/peer" target/bench-peer.log --config bench/js-peer/wrangler.toml
export PEER_BASE="$BASE"
start_worker "$STATES/ceiling" target/bench-ceiling.log --config bench/ceiling/wrangler.toml
export CEILING_BASE="$BASE"

export STATES ADMIN_TOKEN
ADMIN_TOKEN="$(devvar ADMIN_TOKEN)"
python3 bench/redirect_bench.py run
stop_worker
python3 bench/redirect_bench.py cold
