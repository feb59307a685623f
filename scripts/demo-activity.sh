#!/usr/bin/env bash
#! scripts/demo-activity.sh — demo traffic for `make dev`: a few in-app
#! clicks on the demo links, conversions (one through its click id, one with
#! only a code), costs, then one attribution run, so the reports and the
#! dashboard have something to show. Runs once per local state (it checks
#! for the demo order first). Usage: scripts/demo-activity.sh BASE_URL
set -euo pipefail
BASE="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
var() { sed -n "s/^$1=//p" "$ROOT/.dev.vars" | tail -n1; }
ADMIN="Authorization: Bearer $(var ADMIN_TOKEN)"
INGEST="Authorization: Bearer $(var INGEST_TOKEN)"
JSON="Content-Type: application/json"
for _ in $(seq 1 240); do curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$ADMIN" "$BASE/api/v1/conversions/demo-1001")" = 200 ]; then
  exit 0
fi
IG='Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98'
TT='Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0 Mobile Safari/537.36 musical_ly_2023405020'
click() { # click SLUG UA -> prints lc_cid
  curl -s -o /dev/null -D - -A "$2" "$BASE/$1" | tr -d '\r' | sed -n 's/^[Ll]ocation: .*lc_cid%\{0,1\}3\{0,1\}D\{0,1\}\([A-Za-z0-9_-]\{22\}\).*/\1/p; s/^[Ll]ocation: .*lc_cid=\([A-Za-z0-9_-]\{22\}\).*/\1/p' | head -n1
}
for slug in sarah-serum sarah-bio marco-night jade-review; do
  for _ in 1 2 3; do click "$slug" "$IG" >/dev/null; click "$slug" "$TT" >/dev/null; done
done
CID1="$(click sarah-serum "$IG")"
CID2="$(click jade-review "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15")"
# Clicks are written right after each redirect; give the last ones a moment.
sleep 1
NOW="$(date -u +%FT%TZ)"
# Storefront events, as /t.js on the demo shop sends them (SHOP_ORIGINS is
# the demo shop in scripts/dev.sh): the visitors' page and product views
# and carts, minutes after their clicks.
event() { # event CLICK_ID VISITOR TYPE PATH
  curl -s -o /dev/null -X POST -H 'Content-Type: text/plain' -H 'Origin: https://shop.example.com' -A "$IG" \
    "$BASE/api/v1/events" -d "{\"type\":\"$3\",\"click_id\":\"$1\",\"visitor_id\":\"$2\",\"url\":\"https://shop.example.com$4\"}"
}
event "$CID1" demo-visitor-1 page_view /products/glow-serum
event "$CID1" demo-visitor-1 product_view /products/glow-serum
event "$CID1" demo-visitor-1 add_to_cart /products/glow-serum
event "$CID1" demo-visitor-1 checkout_start /checkout
event "$CID2" demo-visitor-2 page_view /products/night-repair
event "$CID2" demo-visitor-2 page_view /collections/all
CID3="$(click marco-night "$IG")"
sleep 1
event "$CID3" demo-visitor-3 page_view /products/night-repair
event "$CID3" demo-visitor-3 product_view /products/night-repair
conv() { curl -s -o /dev/null -X POST -H "$INGEST" -H "$JSON" "$BASE/api/v1/conversions" -d "$1"; }
conv "{\"order_id\":\"demo-1001\",\"occurred_at\":\"$NOW\",\"revenue\":\"54.90\",\"currency\":\"USD\",\"click_id\":\"$CID1\",\"promo_codes\":[\"SARAH20\"]}"
conv "{\"order_id\":\"demo-1002\",\"occurred_at\":\"$NOW\",\"revenue\":\"89.00\",\"currency\":\"USD\",\"promo_codes\":[\"MARCO15\"]}"
conv "{\"order_id\":\"demo-1003\",\"occurred_at\":\"$NOW\",\"revenue\":\"42.50\",\"currency\":\"USD\",\"click_id\":\"$CID2\"}"
conv "{\"order_id\":\"demo-1004\",\"occurred_at\":\"$NOW\",\"revenue\":\"120.00\",\"currency\":\"USD\",\"promo_codes\":[\"SUMMER-LEAK\"]}"
TODAY="$(date -u +%F)"
cost() { curl -s -o /dev/null -X POST -H "$ADMIN" -H "$JSON" "$BASE/api/v1/costs" -d "$1"; }
cost "{\"influencer\":\"sarah\",\"campaign\":\"summer-glow\",\"kind\":\"fee\",\"amount\":\"40.00\",\"currency\":\"USD\",\"incurred_on\":\"$TODAY\"}"
cost "{\"influencer\":\"sarah\",\"campaign\":\"summer-glow\",\"kind\":\"gifting\",\"amount\":\"15.00\",\"currency\":\"USD\",\"incurred_on\":\"$TODAY\"}"
cost "{\"influencer\":\"marco\",\"campaign\":\"night-repair\",\"kind\":\"fee\",\"amount\":\"60.00\",\"currency\":\"USD\",\"incurred_on\":\"$TODAY\"}"
cost "{\"influencer\":\"jade\",\"campaign\":\"night-repair\",\"kind\":\"production\",\"amount\":\"25.00\",\"currency\":\"USD\",\"incurred_on\":\"$TODAY\"}"
curl -s -o /dev/null -X POST -H "$ADMIN" "$BASE/api/v1/attribution/run"
echo "demo activity: clicks, storefront events, 4 conversions, 4 costs and one attribution run recorded; see $BASE/dashboard"
