#!/usr/bin/env bash
#! bench/cron.sh — the attribution job's throughput under wrangler dev.
#! Starts the worker on a free port with fresh local state, seeds N
#! conversions (default 2000) with real clicks, and runs bench/cron_bench.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-wasm.sh >/dev/null
STATE="$(mktemp -d -t linkcredit-bench-XXXXXX)"
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
trap 'stop_worker; rm -rf "$STATE"' EXIT
bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATE" >/dev/null 2>&1
start_worker "$STATE" "$ROOT/target/bench-wrangler.log"
BASE="$BASE" ADMIN_TOKEN="$(devvar ADMIN_TOKEN)" INGEST_TOKEN="$(devvar INGEST_TOKEN)" \
  python3 bench/cron_bench.py
