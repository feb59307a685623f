#!/usr/bin/env bash
#! bench/profile.sh — where a redirect's CPU goes (part of `make bench`).
#! Starts linkcredit on fresh state (LC_ARGS adds wrangler dev arguments),
#! seeds the bench links, runs wrk at c32 for DURATION seconds (default 8)
#! while bench/profile.mjs samples the isolate through the inspector, and
#! prints the self-time breakdown (the worker's wasm, its JS glue, the
#! runtime, GC, idle). Writes bench/profile.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/build-wasm.sh >/dev/null
STATE="$(mktemp -d -t linkcredit-profile-XXXXXX)"
# shellcheck source=scripts/local-worker.sh
. scripts/local-worker.sh
trap 'stop_worker; rm -rf "$STATE"' EXIT
bash scripts/wrangler.sh d1 migrations apply DB --local --persist-to "$STATE" >/dev/null 2>&1
# shellcheck disable=SC2086
start_worker "$STATE" target/profile-wrangler.log ${LC_ARGS:-}
ADMIN_TOKEN="$(devvar ADMIN_TOKEN)" LC_BASE="$BASE" python3 -c '
import os, sys
sys.path.insert(0, "bench")
import redirect_bench as r
r.seed_linkcredit(os.environ["LC_BASE"])
r.warm(os.environ["LC_BASE"])'
DURATION="${DURATION:-8}"
(sleep 1 && wrk -t2 -c32 -d"${DURATION}s" -s bench/wrk-links.lua "$BASE/" | grep "Requests/sec") &
load=$!
node bench/profile.mjs "$INSPECTOR_PORT" "$((DURATION + 1))" >bench/profile.json
wait "$load"
python3 - <<'PY'
import json
d = json.load(open("bench/profile.json"))
print("CPU self time while serving redirects (share of samples):")
for k, v in d["groups"].items():
    print(f"  {v:>5.1f}%  {k}")
print("top functions:")
for k, v in d["top"][:15]:
    print(f"  {v:>5.1f}%  {k}")
PY
