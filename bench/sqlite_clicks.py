"""How fast the clicks table takes writes in SQLite, the engine under D1
(part of docs/scaling.md): the real schema (migrations/), 100,000 clicks,
written one row per transaction and in groups of 7-row INSERTs as the group
commit writes them, plus the bytes per stored click. An upper bound for
one D1 database: D1 adds the network and its own overhead on top.
"""
import glob, os, random, sqlite3, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(os.environ.get("N", "100000"))
COLS = "id, link_id, ts, visitor_id, ua_family, country, referer_host, app, os, device_class, is_bot, bot_name, via, code"


def fresh():
    path = tempfile.mktemp(suffix=".sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    for f in sorted(glob.glob(os.path.join(ROOT, "migrations", "*.sql"))):
        db.executescript(open(f).read())
    db.execute("INSERT INTO influencers (handle, created_at) VALUES ('a', 0)")
    db.execute("INSERT INTO campaigns (slug, created_at) VALUES ('c', 0)")
    for i in range(50):
        db.execute("INSERT INTO links (slug, destination, influencer_id, campaign_id, created_at, updated_at) "
                   "VALUES (?, 'https://shop.example/', 1, 1, 0, 0)", (f"l{i}",))
    return path, db


def rows(n, seed):
    rng = random.Random(seed)
    t = 1_795_000_000_000
    for i in range(n):
        yield (f"{seed:02d}{i:020d}", 1 + rng.randrange(50), t + i * 10, f"v{rng.randrange(n // 3):021d}",
               "instagram", "DE", "l.instagram.com", "instagram", "ios", "mobile", 0, None, "link", "SARAH20")


def run(group):
    path, db = fresh()
    data = list(rows(N, group))
    t0 = time.perf_counter()
    for s in range(0, N, group):
        chunk = data[s:s + group]
        db.execute("BEGIN")
        for c in range(0, len(chunk), 7):
            part = chunk[c:c + 7]
            values = ", ".join(["(" + ", ".join(["?"] * 14) + ")"] * len(part))
            db.execute(f"INSERT INTO clicks ({COLS}) VALUES {values} ON CONFLICT(id) DO NOTHING",
                       [v for r in part for v in r])
        db.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = os.path.getsize(path)
    db.close()
    os.remove(path)
    return N / elapsed, size / N


for group in (1, 50):
    rate, per = run(group)
    print(f"sqlite clicks, {group:>2} per transaction: {rate:>9,.0f} clicks/s; {per:.0f} bytes per stored click (table + indexes)")
