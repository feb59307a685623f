"""The redirect benchmark's driver (called by bench/redirect.sh).

  peer-kv  prints the JS peer's KV bulk file: the LINKS bench links.
  run      seeds linkcredit's links through the admin API, warms both
           caches, runs wrk against linkcredit, the JS peer and the ceiling
           at each concurrency, and counts the clicks each wrote to D1 once
           their waitUntil writes have drained. Saves $STATES/run.json.
  cold     (workers stopped) cold start: process start to the first 302,
           and the first request's latency against the tenth's, for
           linkcredit and the peer. Adds the wasm size, prints the table
           and writes bench/redirect.json.
"""
import gzip, json, os, re, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINKS = int(os.environ.get("LINKS", "50"))
DEST = "https://shop.example.com/products/serum?variant=1"
UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
      "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


opener = urllib.request.build_opener(NoRedirect)


def call(base, method, path, headers=None, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wrangler(*args):
    out = subprocess.run(["bash", f"{ROOT}/scripts/wrangler.sh", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stdout + out.stderr)
    return out.stdout


def d1_count(target):
    states = os.environ["STATES"]
    extra = [] if target == "lc" else ["--config", "bench/js-peer/wrangler.toml"]
    for _ in range(10):
        try:
            out = wrangler("d1", "execute", "DB", "--local", "--persist-to", f"{states}/{target}", *extra,
                           "--json", "--command", "SELECT COUNT(*) AS n FROM clicks")
            return json.loads(out)[0]["results"][0]["n"]
        except RuntimeError as e:
            if "SQLITE_BUSY" not in str(e):
                raise
            time.sleep(0.5)
    raise RuntimeError("D1 stayed busy")


def drained_count(target):
    """The click count once it has stopped growing (waitUntil writes done)."""
    last = -1
    while True:
        n = d1_count(target)
        if n == last:
            return n
        last = n
        time.sleep(1.0)


def peer_kv():
    entries = [{"key": f"link:bench{i}", "value": json.dumps({
        "id": i + 1, "destination": DEST, "utm_source": f"bench{i}", "utm_medium": "influencer",
        "utm_campaign": "bench", "code": f"BENCH{i}"})} for i in range(LINKS)]
    print(json.dumps(entries))


def seed_linkcredit(base):
    admin = {"Authorization": "Bearer " + os.environ["ADMIN_TOKEN"], "Content-Type": "application/json"}
    assert call(base, "POST", "/api/v1/campaigns", admin, {"slug": "bench"})[0] == 201
    for i in range(LINKS):
        assert call(base, "POST", "/api/v1/influencers", admin, {"handle": f"bench{i}"})[0] == 201
        status, body = call(base, "POST", "/api/v1/codes", admin, {"code": f"BENCH{i}", "influencer": f"bench{i}"})
        assert status == 201, body
        status, body = call(base, "POST", "/api/v1/links", admin, {
            "slug": f"bench{i}", "destination": DEST, "influencer": f"bench{i}", "campaign": "bench",
            "discount_code": f"BENCH{i}"})
        assert status == 201, body
        # The same link with targeting rules and an A/B split: mobile
        # Safari in the US matches none of the five rules (every one is
        # evaluated), then gets its sticky variant.
        status, body = call(base, "POST", "/api/v1/links", admin, {
            "slug": f"routed{i}", "destination": DEST, "influencer": f"bench{i}", "campaign": "bench",
            "discount_code": f"BENCH{i}", "rules": ROUTED_RULES, "variants": ROUTED_VARIANTS})
        assert status == 201, body


ROUTED_RULES = [
    {"name": "tiktok", "when": {"app": ["tiktok"]}, "destination": "https://shop.example.com/tiktok"},
    {"name": "android", "when": {"os": ["android"]}, "destination": "https://play.google.com/store/apps/details?id=x"},
    {"name": "dach", "when": {"country": ["DE", "AT", "CH"]}, "destination": "https://shop.example.com/de"},
    {"name": "french", "when": {"language": ["fr"]}, "destination": "https://shop.example.com/fr"},
    {"name": "desktop", "when": {"device_class": ["desktop"], "os": ["windows", "macos"]},
     "destination": "https://shop.example.com/desktop"},
]
ROUTED_VARIANTS = [
    {"name": "a", "destination": "https://shop.example.com/products/serum?variant=1", "weight": 50},
    {"name": "b", "destination": "https://shop.example.com/products/serum-b?variant=1", "weight": 50},
]


def warm(base, prefix="bench"):
    for i in range(LINKS):
        status, _ = call(base, "GET", f"/{prefix}{i}", {"User-Agent": UA})
        assert status == 302, (base, i, status)


def parse_wrk(text):
    def latency_ms(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    m = re.search(r"(\d+) requests in", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "requests": int(m.group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_ms": latency_ms(50), "p99_ms": latency_ms(99),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "non_2xx_3xx": int(non3xx.group(1)) if non3xx else 0,
    }


def cpu_busy_ms():
    """Busy CPU time of the whole machine so far (all cores), in ms."""
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) * 1000 / os.sysconf("SC_CLK_TCK")


def wrk(base, conns, seconds, prefix="bench"):
    busy = cpu_busy_ms()
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s",
                          f"{ROOT}/bench/wrk-links.lua", base + "/"], capture_output=True, text=True, check=True,
                         env={**os.environ, "PREFIX": prefix})
    r = parse_wrk(out.stdout)
    # Machine CPU per answered request: the worker, the runtime's local
    # KV/D1 services and wrk itself (about the same share for every target).
    r["machine_cpu_ms_per_request"] = round((cpu_busy_ms() - busy) / max(r["requests"], 1), 3)
    return r


def run():
    bases = {"linkcredit": os.environ["LC_BASE"], "lc_routed": os.environ["LC_BASE"],
             "js_peer": os.environ["PEER_BASE"], "ceiling": os.environ["CEILING_BASE"]}
    prefixes = {"lc_routed": "routed"}
    seed_linkcredit(bases["linkcredit"])
    warm(bases["linkcredit"])
    warm(bases["linkcredit"], "routed")
    warm(bases["js_peer"])
    seconds = int(os.environ.get("DURATION", "10"))
    results = []
    for conns in [int(c) for c in os.environ.get("CONCURRENCY", "32 128").split()]:
        for name, base in bases.items():
            target = {"linkcredit": "lc", "lc_routed": "lc", "js_peer": "peer"}.get(name)
            before = drained_count(target) if target else None
            r = wrk(base, conns, seconds, prefixes.get(name, "bench"))
            r.update(target=name, concurrency=conns, seconds=seconds)
            if target:
                r["clicks_in_d1"] = drained_count(target) - before
            results.append(r)
            print(f"  c{conns} {name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms"
                  + (f", {r['clicks_in_d1']} clicks in D1 for {r['requests']} responses" if target else ""),
                  flush=True)
    json.dump(results, open(os.path.join(os.environ["STATES"], "run.json"), "w"))


def cold_start(name, state, config):
    port = subprocess.run(["bash", f"{ROOT}/scripts/free-port.sh"], capture_output=True, text=True).stdout.strip()
    inspector = subprocess.run(["bash", f"{ROOT}/scripts/free-port.sh"], capture_output=True, text=True).stdout.strip()
    base = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    proc = subprocess.Popen(["bash", f"{ROOT}/scripts/wrangler.sh", "dev", "--ip", "127.0.0.1", "--port", port,
                             "--inspector-port", inspector, "--persist-to", state, "--log-level", "warn", *config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        latencies = []
        while True:
            t = time.monotonic()
            try:
                status, _ = call(base, "GET", "/bench0", {"User-Agent": UA}, timeout=30)
            except OSError:
                if time.monotonic() - t0 > 120:
                    raise RuntimeError(f"{name} never answered")
                time.sleep(0.02)
                continue
            if status == 302:
                latencies.append((time.monotonic() - t) * 1000)
                first_302 = (time.monotonic() - t0) * 1000
                break
        for i in range(1, 10):
            t = time.monotonic()
            assert call(base, "GET", f"/bench{i}", {"User-Agent": UA})[0] == 302
            latencies.append((time.monotonic() - t) * 1000)
        return {"target": name, "start_to_first_302_ms": round(first_302), "first_request_ms": round(latencies[0], 1),
                "tenth_request_ms": round(latencies[9], 1)}
    finally:
        os.killpg(proc.pid, 15)
        proc.wait()


def cold():
    states = os.environ["STATES"]
    results = json.load(open(os.path.join(states, "run.json")))
    starts = [cold_start("linkcredit", f"{states}/lc", []),
              cold_start("js_peer", f"{states}/peer", ["--config", "bench/js-peer/wrangler.toml"])]
    wasm = open(os.path.join(ROOT, "build/index_bg.wasm"), "rb").read()
    size = {"wasm_raw_bytes": len(wasm), "wasm_gzip_bytes": len(gzip.compress(wasm, 9))}
    table(results, starts, size)
    with open(os.path.join(ROOT, "bench/redirect.json"), "w") as f:
        json.dump({"redirect": results, "cold_start": starts, "size": size}, f, indent=1)
        f.write("\n")


def table(results, starts, size):
    print("\nredirect (wrk, mobile Safari, {} links; every click inserted into D1)".format(LINKS))
    print(f"{'conc':>5} {'target':<11} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'clicks/resp':>13} {'vs peer':>8} {'vs ceil':>8} {'cpu ms/req':>11}")
    for conns in sorted({r["concurrency"] for r in results}):
        row = {r["target"]: r for r in results if r["concurrency"] == conns}
        for name in ["linkcredit", "lc_routed", "js_peer", "ceiling"]:
            r = row[name]
            persisted = f"{r['clicks_in_d1']}/{r['requests']}" if "clicks_in_d1" in r else "-"
            print(f"{conns:>5} {name:<11} {r['rps']:>8.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {persisted:>13} "
                  f"{r['rps'] / row['js_peer']['rps']:>7.2f}x {r['rps'] / row['ceiling']['rps']:>7.2f}x "
                  f"{r['machine_cpu_ms_per_request']:>11.2f}")
        print(f"      lc_routed (5 rules, 2 variants) / plain link: {row['lc_routed']['rps'] / row['linkcredit']['rps']:.3f}")
    print("\ncold start (wrangler dev process start to the first 302)")
    for s in starts:
        print(f"  {s['target']:<11} {s['start_to_first_302_ms']:>6} ms; first request {s['first_request_ms']} ms, "
              f"tenth {s['tenth_request_ms']} ms")
    print(f"\nwasm: {size['wasm_raw_bytes']} B raw, {size['wasm_gzip_bytes']} B gzip")


if __name__ == "__main__":
    {"peer-kv": peer_kv, "run": run, "cold": cold}[sys.argv[1]]()
