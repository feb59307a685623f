#!/usr/bin/env bash
#! bench/cron.sh — the attribution job's throughput under wrangler dev.
#! Starts the worker on a free port with fresh local state, seeds N
#! conversions (default 2000) with real clicks, and runs bench/cron_bench.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-wasm.sh >/dev/null
STATE="$(mktemp -d -t linkcredit-bench-XXXXXX)"
PORT="$(bash scripts/free-port.sh)"
INSPECTOR="$(bash scripts/free-port.sh)"
bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATE" >/dev/null 2>&1
setsid bash scripts/wrangler.sh dev --ip 127.0.0.1 --port "$PORT" --inspector-port "$INSPECTOR" \
  --persist-to "$STATE" --log-level warn >"$ROOT/target/bench-wrangler.log" 2>&1 &
PID=$!
trap 'kill -- "-$PID" 2>/dev/null || true; rm -rf "$STATE"' EXIT
for _ in $(seq 1 240); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
var() { sed -n "s/^$1=//p" .dev.vars | tail -n1; }
BASE="http://127.0.0.1:$PORT" ADMIN_TOKEN="$(var ADMIN_TOKEN)" INGEST_TOKEN="$(var INGEST_TOKEN)" \
  python3 bench/cron_bench.py
