"""Load test: redirects and conversions at once, then exact accounting in D1.

Called by scripts/load.sh with BASE, STATE (the worker's local state) and
the tokens. Seeds LINKS links (each with its influencer's code), then in
parallel sends CLICKS redirects at CONCURRENCY over keep-alive connections
(user agents drawn from tests/ua_corpus.tsv: humans, in-app browsers and
bots, each with its expected classification) and CONVERSIONS conversions,
10% of them retried duplicates. Afterwards, once the worker's waitUntil
writes and the queue consumer have drained, D1 must hold exactly the human
and bot clicks sent and exactly one row per distinct order, and no response
may have been a 5xx. Prints a summary; exits non-zero on any mismatch.

  LOAD_TAG   distinguishes runs on one state (slugs, handles, orders)
"""
import http.client, json, os, random, sys, threading, time

import local
from urllib.parse import urlparse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.environ["BASE"]
STATE = os.environ["STATE"]
TAG = os.environ.get("LOAD_TAG", "load")
LINKS = int(os.environ.get("LINKS", "50"))
CLICKS = int(os.environ.get("CLICKS", "20000"))
CONVERSIONS = int(os.environ.get("CONVERSIONS", "2000"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "64"))
ADMIN = {"Authorization": "Bearer " + os.environ["ADMIN_TOKEN"], "Content-Type": "application/json"}
INGEST = {"Authorization": "Bearer " + os.environ["INGEST_TOKEN"], "Content-Type": "application/json"}
HOST = urlparse(BASE)


def corpus():
    """(user agent, is_bot) pairs from the classifier's corpus."""
    out = []
    for line in open(os.path.join(ROOT, "tests/ua_corpus.tsv"), encoding="utf-8"):
        if line.startswith("#") or not line.strip("\n"):
            continue
        fields = line.rstrip("\n").split("\t")
        if len(fields) == 5:
            out.append((fields[4], fields[3] != "-"))
    return out


class Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self):
        self.conn = None

    def call(self, method, path, headers, body=None):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=60)
                self.conn.request(method, path, body=body, headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, dict(r.getheaders()), data
            except (http.client.HTTPException, ConnectionError, OSError):
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.1)


def must(status, body, ok):
    if status not in ok:
        sys.exit(f"load: unexpected {status}: {body[:300]!r}")


def seed(client):
    must(*client.call("POST", "/api/v1/campaigns", ADMIN, json.dumps({"slug": f"{TAG}-camp"}))[::2], (201,))
    for i in range(LINKS):
        handle, code = f"{TAG}-inf{i}", f"{TAG}C{i}".upper().replace("-", "")
        must(*client.call("POST", "/api/v1/influencers", ADMIN, json.dumps({"handle": handle}))[::2], (201,))
        must(*client.call("POST", "/api/v1/codes", ADMIN, json.dumps({"code": code, "influencer": handle}))[::2], (201,))
        must(*client.call("POST", "/api/v1/links", ADMIN, json.dumps({
            "slug": f"{TAG}-l{i}", "destination": f"https://shop.example/p/{i}?ref=load",
            "influencer": handle, "campaign": f"{TAG}-camp", "discount_code": code}))[::2], (201,))


def d1(sql):
    return local.d1(STATE, sql)


def main():
    agents = corpus()
    rng = random.Random(11)
    client = Client()
    seed(client)
    plan = [(f"/{TAG}-l{rng.randrange(LINKS)}", *rng.choice(agents)) for _ in range(CLICKS)]
    orders = [f"{TAG}-order-{i}" for i in range(CONVERSIONS - CONVERSIONS // 10)]
    posts = orders + [rng.choice(orders) for _ in range(CONVERSIONS // 10)]
    rng.shuffle(posts)
    now = int(time.time() * 1000)
    statuses, lock = {}, threading.Lock()

    def count(kind, status):
        with lock:
            statuses[(kind, status)] = statuses.get((kind, status), 0) + 1

    def clicker(share):
        c = Client()
        for path, ua, _ in share:
            status, _, _ = c.call("GET", path, {"User-Agent": ua})
            count("redirect", status)

    def converter(share):
        c = Client()
        for order in share:
            i = int(order.rsplit("-", 1)[1])
            body = json.dumps({"order_id": order, "occurred_at": now, "revenue": f"{10 + i % 90}.{i % 100:02d}",
                               "currency": "USD", "customer_id": f"{TAG}-cust-{i}",
                               "promo_codes": [f"{TAG}C{i % LINKS}".upper().replace("-", "")]})
            status, _, data = c.call("POST", "/api/v1/conversions", INGEST, body)
            count("conversion", status)
            if status >= 500:
                print(f"load: conversion {order}: {status} {data[:200]!r}", flush=True)

    t0 = time.monotonic()
    threads = [threading.Thread(target=clicker, args=(plan[k::CONCURRENCY],)) for k in range(CONCURRENCY)]
    threads += [threading.Thread(target=converter, args=(posts[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    humans = sum(1 for _, _, bot in plan if not bot)
    bots = CLICKS - humans
    print(f"load: sent {CLICKS} redirects ({humans} human, {bots} bot) and {len(posts)} conversions "
          f"({len(orders)} distinct) in {elapsed:.1f} s ({CLICKS / elapsed:.0f} redirects/s); statuses {sorted(statuses.items())}",
          flush=True)

    # Drain: wait until the counts stop moving, then compare exactly.
    links = f"(SELECT id FROM links WHERE slug LIKE '{TAG}-l%')"
    sql = (f"SELECT (SELECT COUNT(*) FROM clicks WHERE is_bot = 0 AND link_id IN {links}) AS humans, "
           f"(SELECT COUNT(*) FROM clicks WHERE is_bot = 1 AND link_id IN {links}) AS bots, "
           f"(SELECT COUNT(*) FROM conversions WHERE order_id LIKE '{TAG}-order-%') AS conversions, "
           f"(SELECT COUNT(DISTINCT order_id) FROM conversions WHERE order_id LIKE '{TAG}-order-%') AS distinct_orders")
    last, deadline = None, time.monotonic() + 120
    while True:
        got = d1(sql)[0]
        if got == last or time.monotonic() > deadline:
            break
        last = got
        time.sleep(2)
    want = {"humans": humans, "bots": bots, "conversions": len(orders), "distinct_orders": len(orders)}
    print(f"load: D1 after drain {got}; expected {want}", flush=True)
    five = {k: v for k, v in statuses.items() if k[1] >= 500}
    bad = {k: v for k, v in statuses.items() if k[1] not in (200, 201, 302)}
    if got != want or five or bad:
        sys.exit(f"load: FAILED (mismatch or bad statuses: {bad})")
    with open(os.environ.get("LOAD_OUT", os.devnull), "w") as f:
        json.dump({"redirects": CLICKS, "humans": humans, "bots": bots, "conversions_posted": len(posts),
                   "distinct_orders": len(orders), "seconds": round(elapsed, 2),
                   "redirects_per_s": round(CLICKS / elapsed), "statuses": {f"{k}:{s}": n for (k, s), n in statuses.items()}}, f)
    print("load: ok — every click and every order exactly once, no 5xx")


if __name__ == "__main__":
    main()
