#!/usr/bin/env bash
#! scripts/dev.sh — the worker locally, with seeded demo data.
#!
#! Builds the worker, applies the D1 migrations to the local state in
#! .wrangler/state, seeds the demo influencers, campaigns and links
#! (idempotent), prints the demo links and serves the worker on
#! http://127.0.0.1:${PORT:-8787} with local KV and D1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8787}"
STATE="${DEV_STATE:-$ROOT/.wrangler/state}"

bash scripts/build-wasm.sh
bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATE"
bash scripts/wrangler.sh d1 execute DB --local --persist-to "$STATE" --file seed/demo.sql >/dev/null
ADMIN_TOKEN="$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars | tail -n1)"

cat <<INFO

linkcredit is starting on http://127.0.0.1:$PORT (local KV and D1 in .wrangler/state)

Demo links (open in a browser, or curl -i):
  http://127.0.0.1:$PORT/sarah-serum   -> glow serum, @sarah, SARAH20 applied Shopify-style (/discount/SARAH20?redirect=...)
  http://127.0.0.1:$PORT/sarah-bio     -> summer collection, keeps ?ref=bio and #bestsellers, SARAH20
  http://127.0.0.1:$PORT/marco-night   -> night repair, @marco, MARCO15 WooCommerce-style (?coupon=MARCO15)
  http://127.0.0.1:$PORT/jade-review   -> night repair 50ml, @jade, ?promo=JADE10; in-app visitors get "open in browser"
  http://127.0.0.1:$PORT/c/sarah20     -> a code as a URL: Sarah's link with SARAH20
Try an in-app browser: curl -i -A 'Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 Instagram 334.0' http://127.0.0.1:$PORT/jade-review

Admin API (token from .dev.vars):
  curl -H 'Authorization: Bearer $ADMIN_TOKEN' http://127.0.0.1:$PORT/api/v1/links
  curl -H 'Authorization: Bearer $ADMIN_TOKEN' http://127.0.0.1:$PORT/api/v1/links/sarah-serum/stats

Dashboard: http://127.0.0.1:$PORT/dashboard (sign in with REPORTS_TOKEN from .dev.vars)

INFO
# Demo traffic, conversions and costs once the worker answers (first run only).
(bash scripts/demo-activity.sh "http://127.0.0.1:$PORT" || echo "demo activity failed (the worker still runs)") &
# The demo shop's origin may send storefront events (/t.js).
exec bash scripts/wrangler.sh dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" --test-scheduled \
  --var "SHOP_ORIGINS:${SHOP_ORIGINS:-https://shop.example.com}"
