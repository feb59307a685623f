"""Seeds a large local D1 for the report-speed benchmark (make seed-large).

Writes straight into the SQLite file of a local D1 state directory (after
the migrations ran): 200 influencers, 400 links, CLICKS clicks (default 10M)
over 90 days and CONVERSIONS conversions (default 1M) with their credit rows
under all six models. Rollups are then built by the worker itself
(POST /api/v1/attribution/rollups), see bench/reports.sh.

Usage: python3 bench/seed_large.py STATE_DIR
"""
import glob, json, os, random, sqlite3, sys, time

state = sys.argv[1]
CLICKS = int(os.environ.get("CLICKS", "10000000"))
CONVERSIONS = int(os.environ.get("CONVERSIONS", "1000000"))
DAY = 86_400_000
now = int(time.time() * 1000)
start = (now // DAY - 89) * DAY
rng = random.Random(42)

files = [f for f in glob.glob(f"{state}/v3/d1/**/*.sqlite", recursive=True) if "metadata" not in f]
assert len(files) == 1, files
db = sqlite3.connect(files[0])
db.execute("PRAGMA synchronous = OFF")
db.execute("PRAGMA journal_mode = WAL")
t0 = time.time()

INF, LINKS, CAMPAIGNS = 200, 400, 20
APPS = ["instagram", "tiktok", "facebook", "snapchat", None, None]
db.executemany("INSERT INTO influencers (id, handle, name, platform, created_at) VALUES (?, ?, ?, 'instagram', ?)",
               [(i + 1, f"lg{i:03d}", f"Large {i}", start) for i in range(INF)])
db.executemany("INSERT INTO campaigns (id, slug, name, created_at) VALUES (?, ?, ?, ?)",
               [(c + 1, f"lgc{c:02d}", f"Campaign {c}", start) for c in range(CAMPAIGNS)])
db.executemany("INSERT INTO codes (id, code, influencer_id, created_at) VALUES (?, ?, ?, ?)",
               [(i + 1, f"LG{i:03d}", i + 1, start) for i in range(INF)])
links = [(l + 1, f"lg-link-{l:03d}", "https://shop.example.com/p", l % INF + 1, (l % INF) % CAMPAIGNS + 1,
          f"post-{l % 3}", "instagram", f"LG{l % INF:03d}", start, start) for l in range(LINKS)]
db.executemany("INSERT INTO links (id, slug, destination, influencer_id, campaign_id, content, platform, utm_medium, "
               "status, created_at, updated_at, discount_code) VALUES (?, ?, ?, ?, ?, ?, ?, 'influencer', 'active', ?, ?, ?)",
               [l[:7] + l[8:10] + (l[7],) for l in links])
link_of = {l[0]: l for l in links}

# Clicks: 8 per visitor on average, in time order over 90 days; 5% bots.
def clicks():
    span = 89 * DAY
    for k in range(CLICKS):
        visitor = k // 8
        ts = start + (k * span) // CLICKS + rng.randrange(60_000)
        link = (visitor * 7 + (k % 8) * 13) % LINKS + 1
        bot = 1 if rng.random() < 0.05 else 0
        app = None if bot else APPS[visitor % len(APPS)]
        yield (f"c{k:021d}", link, ts, f"v{visitor:021d}", "bot" if bot else (app or "chrome"), app, "ios", "mobile", bot,
               link_of[link][7])
db.executemany("INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, app, os, device_class, is_bot, code) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", clicks())
db.commit()
t_clicks = time.time() - t0

# Conversions: visitor j converts an hour after their last click, with a
# journey of their last two (distinct-link) clicks; credit rows for all six
# models, written the way the job writes them.
MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based", "data_driven"]
conv_rows, credit_rows = [], []
def flush():
    db.executemany("INSERT INTO conversions (id, order_id, occurred_at, revenue_minor, currency, visitor_id, promo_codes, "
                   "source, fingerprint, received_at, attributed_at, path) VALUES (?, ?, ?, ?, 'USD', ?, '[]', 'api', 'x', ?, ?, ?)",
                   conv_rows)
    db.executemany("INSERT INTO credits (conversion_id, model, position, touchpoint_key, touch_kind, touched_at, converted_at, "
                   "channel, channel_key, influencer, campaign, link, content, platform, app, code, revenue_minor, currency, "
                   "conversion_micros, is_assist, reporting_minor) VALUES (?, ?, ?, ?, 'click', ?, ?, 'influencer', ?, ?, ?, ?, ?, "
                   "'instagram', ?, ?, ?, 'USD', ?, ?, ?)", credit_rows)
    conv_rows.clear()
    credit_rows.clear()

span = 89 * DAY
for j in range(CONVERSIONS):
    visitor = j * (CLICKS // 8) // CONVERSIONS
    k_last = visitor * 8 + 7
    ts_last = start + (k_last * span) // CLICKS
    occurred = min(ts_last + 3_600_000, now - 60_000)
    revenue = rng.randrange(2_000, 20_000)
    touches = []
    for k in (visitor * 8 + 3, k_last):
        link = (visitor * 7 + (k % 8) * 13) % LINKS + 1
        touches.append((k, link, start + (k * span) // CLICKS))
    n = len(touches)
    splits = {
        "first_touch": [revenue, 0], "last_touch": [0, revenue],
        "linear": [revenue - revenue // 2, revenue // 2], "time_decay": [revenue * 2 // 5, revenue - revenue * 2 // 5],
        "position_based": [revenue - revenue // 2, revenue // 2], "data_driven": [revenue // 3, revenue - revenue // 3],
    }
    micros = {"first_touch": [1_000_000, 0], "last_touch": [0, 1_000_000], "linear": [500_000, 500_000],
              "time_decay": [400_000, 600_000], "position_based": [500_000, 500_000], "data_driven": [333_333, 666_667]}
    app = APPS[visitor % len(APPS)]
    for m in MODELS:
        for pos, (k, link, tts) in enumerate(touches):
            l = link_of[link]
            handle = f"lg{(l[3] - 1):03d}"
            credit_rows.append((j + 1, m, pos, f"click:c{k:021d}", tts, occurred, handle, handle, f"lgc{l[4] - 1:02d}", l[1],
                                l[5], app, l[7], splits[m][pos], micros[m][pos], 1 if pos < n - 1 else 0, splits[m][pos]))
    conv_rows.append((j + 1, f"L{j:08d}", occurred, revenue, f"v{visitor:021d}", occurred, now,
                      json.dumps([f"lg{(link_of[t[1]][3] - 1):03d}" for t in touches])))
    if len(conv_rows) >= 20_000:
        flush()
flush()
db.execute("UPDATE attribution_state SET watermark = ?", (CONVERSIONS,))
db.commit()
counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ["clicks", "conversions", "credits"]}
print(json.dumps({"seeded": counts, "seconds": {"clicks": round(t_clicks, 1), "total": round(time.time() - t0, 1)},
                  "file_bytes": os.path.getsize(files[0])}))
