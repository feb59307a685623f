#!/usr/bin/env bash
#! bench/reports.sh — report speed over a large volume (make seed-large).
#! Seeds a fresh local D1 with bench/seed_large.py (10M clicks, 1M
#! conversions by default; CLICKS= and CONVERSIONS= override; SKIP_SEED=1
#! reuses the last seeded state), starts the
#! worker on it, lets the worker build the rollups, then times reports and
#! prints the D1 rows each one read. Writes bench/reports.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-wasm.sh >/dev/null
STATE="${SEED_STATE:-$ROOT/target/seed-large}"
if [ "${SKIP_SEED:-0}" = 1 ] && [ -d "$STATE" ]; then
  echo "reusing the seeded state in $STATE (SKIP_SEED=1)"
else
  rm -rf "$STATE"
  bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATE" >/dev/null 2>&1
  echo "seeding $STATE ..."
  python3 bench/seed_large.py "$STATE" | tee target/seed-large.json
fi
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
trap stop_worker EXIT
start_worker "$STATE" "$ROOT/target/reports-wrangler.log"
AUTH="Authorization: Bearer $(devvar ADMIN_TOKEN)"
echo "building rollups through the worker ..."
START=$(date +%s.%N)
curl -fsS -X POST -H "$AUTH" "$BASE/api/v1/attribution/rollups" | tee target/rollups.json; echo
echo "rollups built in $(awk -v a="$START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
FROM=$(date -u -d '-89 days' +%F); TO=$(date -u +%F)
python3 - "$BASE" "$AUTH" "$FROM" "$TO" <<'PY'
import json, statistics, sys, time, urllib.request
base, auth, frm, to = sys.argv[1:5]
key, value = auth.split(": ", 1)
queries = [
    f"model=linear&group_by=influencer&from={frm}&to={to}",
    f"model=all&group_by=influencer&from={frm}&to={to}",
    f"model=linear&group_by=influencer,week&from={frm}&to={to}",
    f"model=data_driven&group_by=link&from={frm}&to={to}",
    f"model=linear&group_by=app&from={frm}&to={to}",
    f"model=linear&group_by=campaign,month&from={frm}&to={to}&format=csv",
]
results = []
print(f"\n{'report':<70} {'p50 ms':>8} {'max ms':>8} {'rows':>6} {'D1 rows read':>13}")
for q in queries:
    times, rows_read, n = [], None, None
    for _ in range(7):
        req = urllib.request.Request(f"{base}/api/v1/reports?{q}", headers={key: value})
        t0 = time.time()
        with urllib.request.urlopen(req, timeout=120) as r:
            body = r.read()
        times.append((time.time() - t0) * 1000)
        if "format=csv" not in q:
            doc = json.loads(body)
            rows_read, n = doc["meta"]["d1_rows_read"], len(doc["rows"])
        else:
            n = body.count(b"\r\n") - 1
    times = times[1:]  # the first request warms the isolate
    results.append({"query": q, "p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1),
                    "rows": n, "d1_rows_read": rows_read})
    print(f"{q[:70]:<70} {statistics.median(times):>8.1f} {max(times):>8.1f} {n:>6} {str(rows_read):>13}")
json.dump(results, open("bench/reports.json", "w"), indent=2)
print("wrote bench/reports.json")
PY
