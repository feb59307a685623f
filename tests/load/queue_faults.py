"""The queue path when D1 keeps failing (called by scripts/load.sh).

Against the queue-configured worker (BASE, STATE, CONFIG): takes the
clicks table away, sends N redirects, and waits until the consumer's
retries are exhausted and the dead-letter queue's consumer has spilled
every one of those click ids to KV. Then it puts the table back, runs the
cron, and checks that D1 holds each click exactly once and no spill is
left. Exits non-zero on any mismatch.
"""
import http.client, json, os, sys, time

import local
from urllib.parse import urlparse

BASE, STATE, CONFIG = os.environ["BASE"], os.environ["STATE"], os.environ["CONFIG"]
N = int(os.environ.get("N", "20"))
ADMIN = {"Authorization": "Bearer " + os.environ["ADMIN_TOKEN"], "Content-Type": "application/json"}
UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.5 Mobile/15E148 Safari/604.1")
HOST = urlparse(BASE)


def call(method, path, headers=None, body=None):
    c = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=60)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def wrangler(*args):
    try:
        return local.wrangler(STATE, *args, config=CONFIG)
    except RuntimeError as e:
        sys.exit(f"queue faults: {e}")


def d1(sql):
    return local.d1(STATE, sql, config=CONFIG)


def spilled():
    ids = set()
    for k in json.loads(wrangler("kv", "key", "list", "--binding", "LINKS", "--prefix", "spill:clicks:")):
        rows = json.loads(wrangler("kv", "key", "get", k["name"], "--binding", "LINKS", "--text"))
        ids.update(r["id"] for r in rows)
    return ids


def wait(what, f, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = f()
        if v:
            return v
        time.sleep(1)
    sys.exit(f"queue faults: timed out waiting for {what}")


def main():
    for path, body in [("/api/v1/influencers", {"handle": "dlq-inf"}), ("/api/v1/campaigns", {"slug": "dlq-camp"}),
                       ("/api/v1/links", {"slug": "dlq-link", "destination": "https://shop.example/dlq",
                                          "influencer": "dlq-inf", "campaign": "dlq-camp"})]:
        status, _, data = call("POST", path, ADMIN, json.dumps(body))
        if status != 201:
            sys.exit(f"queue faults: {path}: {status} {data[:200]!r}")
    d1("ALTER TABLE clicks RENAME TO clicks_offline")
    try:
        sent = set()
        for _ in range(N):
            status, headers, _ = call("GET", "/dlq-link", {"User-Agent": UA})
            if status != 302:
                sys.exit(f"queue faults: redirect answered {status} while D1 was failing")
            sent.add(headers["Location"].split("lc_cid=")[1].split("&")[0])
        got = wait("every click dead-lettered and spilled", lambda: (lambda s: s if s >= sent else None)(spilled()))
        if got != sent:
            sys.exit(f"queue faults: spilled {len(got)} ids, sent {len(sent)}")
        print(f"queue faults: {N} clicks retried by the consumer, dead-lettered and spilled to KV", flush=True)
    finally:
        d1("ALTER TABLE clicks_offline RENAME TO clicks")
    status, _, data = call("GET", "/__scheduled?cron=*/15+*+*+*+*")
    if status != 200:
        sys.exit(f"queue faults: cron answered {status} {data[:200]!r}")
    ids = ",".join(f"'{i}'" for i in sorted(sent))
    rows = wait("the spill drained into D1",
                lambda: (lambda r: r if r[0]["n"] == len(sent) else None)(
                    d1(f"SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM clicks WHERE id IN ({ids})")), timeout=60)
    if rows[0]["d"] != len(sent) or spilled():
        sys.exit(f"queue faults: after draining {rows}, spill left: {spilled()}")
    print(f"queue faults: ok — all {N} clicks in D1 exactly once after the cron, no spill left")


if __name__ == "__main__":
    main()
