#!/usr/bin/env bash
#! scripts/e2e.sh — the end-to-end tests against the real worker.
#!
#! Builds the worker, applies the D1 migrations to a fresh temporary state
#! directory, starts `wrangler dev` (workerd with local KV and D1) on a free
#! port, waits for /healthz, runs `cargo test --features e2e --test e2e`
#! against it, and stops it again, whatever happens.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-wasm.sh

STATE="$(mktemp -d -t linkcredit-e2e-XXXXXX)"
PORT="$(bash scripts/free-port.sh)"
INSPECTOR="$(bash scripts/free-port.sh)"
LOG="$ROOT/target/e2e-wrangler.log"
mkdir -p target

bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATE" >"$ROOT/target/e2e-migrate.log" 2>&1 ||
  { cat "$ROOT/target/e2e-migrate.log"; exit 1; }

echo "e2e: starting wrangler dev on 127.0.0.1:$PORT (state $STATE)"
setsid bash scripts/wrangler.sh dev --ip 127.0.0.1 --port "$PORT" --inspector-port "$INSPECTOR" \
  --persist-to "$STATE" --test-scheduled --log-level warn >"$LOG" 2>&1 &
WRANGLER_PID=$!
cleanup() {
  # wrangler runs in its own process group (setsid): stop node and workerd.
  kill -- "-$WRANGLER_PID" 2>/dev/null || kill "$WRANGLER_PID" 2>/dev/null || true
  wait "$WRANGLER_PID" 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT

for _ in $(seq 1 240); do
  if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then
    echo "e2e: wrangler dev exited early:"; cat "$LOG"; exit 1
  fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "e2e: worker never became healthy"; cat "$LOG"; exit 1; }

var() { sed -n "s/^$1=//p" .dev.vars | tail -n1; }
export LINKCREDIT_BASE_URL="http://127.0.0.1:$PORT" LINKCREDIT_ADMIN_TOKEN="$(var ADMIN_TOKEN)" \
  LINKCREDIT_INGEST_TOKEN="$(var INGEST_TOKEN)" LINKCREDIT_SHOPIFY_SECRET="$(var SHOPIFY_WEBHOOK_SECRET)" \
  LINKCREDIT_REPORTS_TOKEN="$(var REPORTS_TOKEN)" \
  LINKCREDIT_STATE="$STATE"
status=0
cargo test --features e2e --test e2e -- "$@" || status=$?
# The dashboard in a real headless browser, on the data the tests seeded
# (the attribution scenario ran the job, so the rollups are filled).
if [ "$status" = 0 ] && [ "$#" = 0 ]; then
  BASE="$LINKCREDIT_BASE_URL" TOKEN="$(var REPORTS_TOKEN)" OUT="$ROOT/target/dashboard.png" \
    node tests/dashboard.mjs || status=$?
fi
if [ "$status" != 0 ]; then
  echo "e2e: tests failed; worker log follows"; tail -n 100 "$LOG"
fi
exit "$status"
