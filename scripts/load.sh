#!/usr/bin/env bash
#! scripts/load.sh — the load, restart and queue tests (`make test-load`;
#! `make test` runs them at a reduced size).
#!
#! 1. Direct path (the embedded default): a worker on fresh state, then
#!    tests/load/load.py at each of CONCURRENCIES (default "64 256"): CLICKS
#!    redirects (default 20000) across 50 links with mixed human, in-app and
#!    bot user agents, and
#!    CONVERSIONS (2000, 10% retried duplicates) at the same time; exact
#!    human, bot and order counts in D1 after drain; no 5xx.
#! 2. Restart: the worker is stopped and started again on the same state;
#!    every count is unchanged and new clicks are recorded.
#! 3. Queue path: the same load against a worker whose config adds a CLICKS
#!    queue producer and its consumer (generated from wrangler.toml into
#!    .wrangler-queue.toml); same exact counts. Then tests/load/queue_faults.py:
#!    with the clicks table gone, the consumer retries, the dead-letter
#!    queue's consumer spills the clicks to KV, and once the table is back the
#!    cron writes each of them exactly once.
#! Writes target/load-*.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-wasm.sh >/dev/null
export CLICKS="${CLICKS:-20000}" CONVERSIONS="${CONVERSIONS:-2000}"
CONCURRENCIES="${CONCURRENCIES:-64 256}"
STATES="$(mktemp -d -t linkcredit-load-XXXXXX)"
mkdir -p "$STATES/direct" "$STATES/queue" target
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
trap 'stop_worker; rm -rf "$STATES" .wrangler-queue.toml' EXIT
ADMIN_TOKEN="$(devvar ADMIN_TOKEN)"
INGEST_TOKEN="$(devvar INGEST_TOKEN)"
export ADMIN_TOKEN INGEST_TOKEN

migrate() { bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$1" "${@:2}" >/dev/null 2>&1; }
count() {
  bash scripts/wrangler.sh d1 execute DB --local --persist-to "$STATES/direct" --json \
    --command "SELECT (SELECT COUNT(*) FROM clicks) AS clicks, (SELECT COUNT(*) FROM conversions) AS conversions" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)[0]["results"][0]; print(r["clicks"], r["conversions"])'
}

migrate "$STATES/direct"
start_worker "$STATES/direct" target/load-direct.log
for c in $CONCURRENCIES; do
  echo "load: direct path (clicks $CLICKS, conversions $CONVERSIONS, concurrency $c)"
  BASE="$BASE" STATE="$STATES/direct" CONCURRENCY="$c" LOAD_TAG="direct$c" LOAD_OUT="target/load-direct-c$c.json" \
    python3 tests/load/load.py
done

echo "load: restart on the same state"
before="$(count)"
stop_worker
start_worker "$STATES/direct" target/load-restart.log
after="$(count)"
[ "$before" = "$after" ] || { echo "load: counts changed across the restart: $before -> $after"; exit 1; }
for i in 0 1 2 3 4; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -A 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' "$BASE/direct${CONCURRENCIES%% *}-l$i")"
  [ "$code" = 302 ] || { echo "load: redirect after restart answered $code"; exit 1; }
done
read -r clicks_before conversions_before <<<"$before"
want=$((clicks_before + 5))
for _ in $(seq 1 40); do
  read -r clicks conversions <<<"$(count)"
  [ "$clicks" = "$want" ] && break
  sleep 0.5
done
[ "$clicks" = "$want" ] && [ "$conversions" = "$conversions_before" ] ||
  { echo "load: after restart D1 has $clicks clicks, $conversions conversions; want $want, $conversions_before"; exit 1; }
echo "load: restart ok — $before (clicks conversions) kept, 5 new clicks recorded"
stop_worker

echo "load: queue path"
{
  sed 's#^\[build\]#[build]#' wrangler.toml
  cat <<'TOML'

[[queues.producers]]
binding = "CLICKS"
queue = "linkcredit-clicks"

[[queues.consumers]]
queue = "linkcredit-clicks"
max_batch_size = 100
max_batch_timeout = 1
max_retries = 2
dead_letter_queue = "linkcredit-clicks-dlq"

[[queues.consumers]]
queue = "linkcredit-clicks-dlq"
max_batch_size = 100
max_batch_timeout = 1
TOML
} >.wrangler-queue.toml
migrate "$STATES/queue" --config .wrangler-queue.toml
WORKER_LOG_LEVEL=info start_worker "$STATES/queue" target/load-queue.log --config .wrangler-queue.toml --test-scheduled
BASE="$BASE" STATE="$STATES/queue" CONCURRENCY=64 LOAD_TAG=queue LOAD_OUT=target/load-queue.json python3 tests/load/load.py
# The clicks really went through the queue: its consumer ran.
batches="$(grep -ac 'QUEUE linkcredit-clicks' target/load-queue.log || true)"
[ "$batches" -gt 0 ] || { echo "load: the queue consumer never ran"; tail -n 30 target/load-queue.log; exit 1; }
echo "load: queue consumer ran $batches batches"
# D1 keeps failing: retries, the dead-letter queue, a KV spill, the cron.
BASE="$BASE" STATE="$STATES/queue" CONFIG=.wrangler-queue.toml python3 tests/load/queue_faults.py
