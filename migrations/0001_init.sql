-- linkcredit schema, part 1: influencers, campaigns, links and clicks.
-- D1 is the source of truth; KV `link:{slug}` only caches what the redirect
-- needs. Timestamps are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE influencers (
  id          INTEGER PRIMARY KEY,
  handle      TEXT    NOT NULL UNIQUE,          -- lowercase [a-z0-9_-]{1,64}; the utm_source
  name        TEXT,
  platform    TEXT,
  created_at  INTEGER NOT NULL
);

CREATE TABLE campaigns (
  id          INTEGER PRIMARY KEY,
  slug        TEXT    NOT NULL UNIQUE,          -- lowercase [a-z0-9_-]{1,64}; the utm_campaign
  name        TEXT,
  created_at  INTEGER NOT NULL
);

CREATE TABLE links (
  id             INTEGER PRIMARY KEY,
  slug           TEXT    NOT NULL UNIQUE,       -- [A-Za-z0-9_-]{1,64}, case-sensitive
  destination    TEXT    NOT NULL,              -- absolute http(s), registered by an admin
  influencer_id  INTEGER NOT NULL REFERENCES influencers(id),
  campaign_id    INTEGER NOT NULL REFERENCES campaigns(id),
  content        TEXT,                          -- utm_content
  platform       TEXT,
  utm_medium     TEXT    NOT NULL DEFAULT 'influencer',
  utm_term       TEXT,
  status         TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  expires_at     INTEGER,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX links_influencer ON links(influencer_id);
CREATE INDEX links_campaign ON links(campaign_id);

-- One row per redirect. No raw IP and no raw user agent are stored.
CREATE TABLE clicks (
  id            TEXT    PRIMARY KEY,            -- the lc_cid sent to the shop
  link_id       INTEGER NOT NULL REFERENCES links(id),
  ts            INTEGER NOT NULL,
  visitor_id    TEXT    NOT NULL,               -- the lc_vid first-party cookie
  ua_family     TEXT    NOT NULL,
  country       TEXT,
  referer_host  TEXT
);
CREATE INDEX clicks_link_ts ON clicks(link_id, ts);
CREATE INDEX clicks_visitor ON clicks(visitor_id);
