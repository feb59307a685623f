"""Attribution cron throughput under wrangler dev (called by bench/cron.sh).

Seeds N conversions, each after 1-3 real clicks through the redirect (so
journeys are real), then runs the attribution job through the admin API
until the backlog is empty, and reports conversions attributed per second
and D1 rows read and written per run. Writes bench/cron.json.
"""
import json, os, random, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

BASE = os.environ["BASE"]
ADMIN = {"Authorization": "Bearer " + os.environ["ADMIN_TOKEN"], "Content-Type": "application/json"}
INGEST = {"Authorization": "Bearer " + os.environ["INGEST_TOKEN"], "Content-Type": "application/json"}
N = int(os.environ.get("N", "2000"))
rng = random.Random(7)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


opener = urllib.request.build_opener(NoRedirect)


def call(method, path, headers=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def setup():
    for i in range(8):
        call("POST", "/api/v1/influencers", ADMIN, {"handle": f"bench{i}"})
    call("POST", "/api/v1/campaigns", ADMIN, {"slug": "bench"})
    for i in range(8):
        call("POST", "/api/v1/links", ADMIN, {"slug": f"bench{i}", "destination": "https://shop.example.com/p",
                                              "influencer": f"bench{i}", "campaign": "bench"})


IG = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0"


def journey(i):
    """1-3 clicks by one visitor; returns the last click id."""
    cookie, cid = None, None
    for _ in range(1 + i % 3):
        h = {"User-Agent": IG}
        if cookie:
            h["Cookie"] = cookie
        status, headers, _ = call("GET", f"/bench{rng.randrange(8)}", h)
        assert status == 302, status
        if not cookie:
            cookie = headers["Set-Cookie"].split(";")[0]
        cid = headers["Location"].split("lc_cid=")[1].split("&")[0].split("#")[0]
    return cid


def main():
    setup()
    t0 = time.time()
    with ThreadPoolExecutor(16) as pool:
        cids = list(pool.map(journey, range(N)))
    seeded_clicks = time.time() - t0
    now = int(time.time() * 1000)
    t0 = time.time()
    batches = [[{"order_id": f"bench-{i}", "occurred_at": now + 1, "revenue": f"{20 + i % 80}.{i % 100:02d}",
                 "currency": "USD", "click_id": cids[i]} for i in range(s, min(s + 100, N))] for s in range(0, N, 100)]
    with ThreadPoolExecutor(4) as pool:
        for status, _, body in pool.map(lambda b: call("POST", "/api/v1/conversions:batch", INGEST, {"conversions": b}), batches):
            assert status == 200, body
    seeded_conversions = time.time() - t0
    runs = []
    while True:
        t0 = time.time()
        status, _, body = call("POST", "/api/v1/attribution/run", ADMIN, {})
        elapsed = time.time() - t0
        assert status == 200, body
        s = json.loads(body)
        runs.append({"processed": s["processed"], "seconds": round(elapsed, 3), "rows_read": s["rows_read"],
                     "rows_written": s["rows_written"], "credit_rows": s["credit_rows"]})
        if not s["more_pending"] or s["processed"] == 0:
            break
    total = sum(r["processed"] for r in runs)
    secs = sum(r["seconds"] for r in runs if r["processed"])
    result = {"conversions": N, "runs": runs, "conversions_per_second": round(total / secs, 1) if secs else None,
              "seed_seconds": {"clicks": round(seeded_clicks, 1), "conversions": round(seeded_conversions, 1)}}
    print(f"\nattribution cron under wrangler dev: {N} conversions (with {sum(1 + i % 3 for i in range(N))} clicks)")
    print(f"{'run':>4} {'processed':>10} {'seconds':>9} {'rows read':>10} {'rows written':>13} {'credit rows':>12}")
    for i, r in enumerate(runs):
        print(f"{i:>4} {r['processed']:>10} {r['seconds']:>9} {r['rows_read']:>10} {r['rows_written']:>13} {r['credit_rows']:>12}")
    print(f"conversions attributed per second: {result['conversions_per_second']}")
    with open("bench/cron.json", "w") as f:
        json.dump(result, f, indent=2)
    print("wrote bench/cron.json")


main()
