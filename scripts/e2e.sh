#!/usr/bin/env bash
#! scripts/e2e.sh — the end-to-end tests against the real worker.
#!
#! Builds the worker, applies the D1 migrations to a fresh temporary state
#! directory, starts `wrangler dev` (workerd with local KV and D1) on a free
#! port, waits for /healthz, runs `cargo test --features e2e --test e2e`,
#! tests/dashboard.mjs and scripts/openapi-client.sh against it, and stops
#! it again, whatever happens.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/build-wasm.sh

mkdir -p target
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
# Every worker gets fresh local state, removed at the end whatever happens.
STATES=()
trap 'stop_worker; rm -rf "${STATES[@]}"' EXIT
fresh_state() { # fresh_state NAME: a migrated state directory, printed
  local dir
  dir="$(mktemp -d -t "linkcredit-$1-XXXXXX")"
  bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$dir" >"$ROOT/target/e2e-migrate.log" 2>&1 ||
    { cat "$ROOT/target/e2e-migrate.log" >&2; rm -rf "$dir"; return 1; }
  echo "$dir"
}

STATE="$(fresh_state e2e)"
STATES+=("$STATE")
LOG="$ROOT/target/e2e-wrangler.log"

echo "e2e: starting wrangler dev (state $STATE)"
# Two short domains for the multi-domain tests (links bound to one answer
# only on it; the others on every host); DNT and GPC honoured, and a consent
# cookie, and the shortest retention, for the privacy tests; product
# categories for the roster tests; a short link-check timeout; the test
# shop's origin for storefront events, at 30 a minute per visitor; webhook
# retries 200 ms apart at first, given up after 7.2 s (0.002 h).
start_worker "$STATE" "$LOG" --test-scheduled --var "SHORT_DOMAINS:go.brand.test,http://brand.test" \
  --var "PRIVACY_SIGNALS:dnt,gpc" --var "CONSENT_COOKIE:cmp_consent=yes" --var "RETENTION_DAYS:97" \
  --var "PRODUCT_CATEGORIES:/products/serum=skincare,/collections/hair=haircare" \
  --var "LINK_CHECK_TIMEOUT_MS:1500" --var "SHOP_ORIGINS:http://shop.test" --var "EVENTS_PER_MINUTE:30" \
  --var "WEBHOOK_RETRY_BASE_MS:200" --var "WEBHOOK_GIVE_UP_HOURS:0.002"

export LINKCREDIT_BASE_URL="$BASE" LINKCREDIT_ADMIN_TOKEN="$(devvar ADMIN_TOKEN)" \
  LINKCREDIT_INGEST_TOKEN="$(devvar INGEST_TOKEN)" LINKCREDIT_SHOPIFY_SECRET="$(devvar SHOPIFY_WEBHOOK_SECRET)" \
  LINKCREDIT_REPORTS_TOKEN="$(devvar REPORTS_TOKEN)" \
  LINKCREDIT_STATE="$STATE"
status=0
cargo test --features e2e --test e2e -- "$@" || status=$?
# The dashboard in a real headless browser, on the data the tests seeded
# (the attribution scenario ran the job, so the rollups are filled); then
# the client generated from src/openapi.json, each response checked
# against its schema.
if [ "$status" = 0 ] && [ "$#" = 0 ]; then
  BASE="$LINKCREDIT_BASE_URL" TOKEN="$(devvar REPORTS_TOKEN)" OUT="$ROOT/target/dashboard.png" \
    node tests/dashboard.mjs || status=$?
  bash scripts/openapi-client.sh || status=$?
fi
if [ "$status" != 0 ]; then
  echo "e2e: tests failed; worker log follows"; tail -n 100 "$LOG"
  exit "$status"
fi

# Fault injection (tests/e2e/faults.rs) takes tables away from D1, so it
# gets a worker and state of its own, and runs one test at a time. That
# worker also runs in strict privacy mode (tests/e2e/strict_privacy.rs).
if [ "$#" = 0 ] || [[ "$*" == *faults* ]] || [[ "$*" == *strict* ]]; then
  FSTATE="$(fresh_state faults)"
  STATES+=("$FSTATE")
  FLOG="$ROOT/target/e2e-faults-wrangler.log"
  echo "e2e: starting a second worker for fault injection (state $FSTATE)"
  WORKER_LOG_LEVEL=info start_worker "$FSTATE" "$FLOG" --test-scheduled \
    --var "PRIVACY_MODE:strict" --var "CONSENT_COOKIE:cmp_consent=yes"
  LINKCREDIT_BASE_URL="$BASE" LINKCREDIT_STATE="$FSTATE" LINKCREDIT_LOG="$FLOG" \
    cargo test --features e2e --test e2e -- --ignored --test-threads=1 faults:: strict_privacy:: || status=$?
  if [ "$status" != 0 ]; then
    echo "e2e: fault tests failed; worker log follows"; tail -n 100 "$FLOG"
  fi
fi

# The redirect worker (wrangler.redirect.toml with wrangler.toml's [vars],
# generated into .wrangler-redirect.toml; the `redirect-only` build) in
# front of the full one, as deployed: one `wrangler dev` runs both, the
# front serving the redirect itself and passing every API call through the
# APP service binding. The redirect, discount and bot tests run through it,
# but for the four that change a link and expect the very next visit to see
# it: only the isolate that made a change sees it at once; the front's
# isolates see it when their 30-second memo expires (as other locations see
# KV changes: up to 60 s).
if [ "$status" = 0 ] && { [ "$#" = 0 ] || [[ "$*" == *front* ]]; }; then
  RSTATE="$(fresh_state front)"
  STATES+=("$RSTATE")
  RLOG="$ROOT/target/e2e-front-wrangler.log"
  echo "e2e: starting the redirect worker in front of the full one (state $RSTATE)"
  RCONFIG="$(python3 scripts/wrangler_config.py redirect)"
  start_worker "$RSTATE" "$RLOG" -c "$RCONFIG" -c wrangler.toml
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/openapi.json")" != 200 ]; then
    echo "e2e: the front worker does not pass API calls through"; tail -n 50 "$RLOG"; exit 1
  fi
  LINKCREDIT_BASE_URL="$BASE" LINKCREDIT_STATE="$RSTATE" \
    cargo test --features e2e --test e2e -- redirect:: discounts:: bots:: \
      --skip redirect::a_link_is_404_before_starts_at --skip redirect::disabled_link_is_a_404 \
      --skip redirect::expired_link_is_410 --skip redirect::max_clicks_expires || status=$?
  if [ "$status" != 0 ]; then
    echo "e2e: tests through the redirect worker failed; its log follows"; tail -n 100 "$RLOG"
  fi
fi
exit "$status"
