-- linkcredit schema, part 3: server-side conversions, other-channel
-- touchpoints, promo-code touchpoints and identity stitching.

-- One row per order, ever: order_id is unique, so retries and concurrent
-- duplicates can never be counted twice.
CREATE TABLE conversions (
  id            INTEGER PRIMARY KEY,
  order_id      TEXT    NOT NULL UNIQUE,
  occurred_at   INTEGER NOT NULL,
  revenue_minor INTEGER NOT NULL CHECK (revenue_minor >= 0),   -- integer minor units, never floats
  currency      TEXT    NOT NULL,
  click_id      TEXT,                 -- lc_cid
  visitor_id    TEXT,                 -- lc_vid (given, or the click's visitor)
  customer_id   TEXT,
  email_sha256  TEXT,                 -- never the raw address
  promo_codes   TEXT    NOT NULL DEFAULT '[]',  -- JSON array, upper-case, registered or not
  landing_utm   TEXT,                 -- JSON object of the landing site's utm_* (Shopify)
  source        TEXT    NOT NULL,     -- api | shopify
  fingerprint   TEXT    NOT NULL,     -- SHA-256 of the normalised payload (idempotency)
  received_at   INTEGER NOT NULL
);
CREATE INDEX conversions_occurred ON conversions(occurred_at);
CREATE INDEX conversions_customer ON conversions(customer_id);

-- Touchpoints other than link clicks: other channels (API) and promo codes
-- used on an order (kind 'code', one per conversion and code).
CREATE TABLE touchpoints (
  id             INTEGER PRIMARY KEY,
  kind           TEXT    NOT NULL CHECK (kind IN ('channel', 'code')),
  occurred_at    INTEGER NOT NULL,
  channel        TEXT    NOT NULL,    -- email, paid_search, ... or 'influencer' for codes
  source         TEXT,
  medium         TEXT,
  campaign       TEXT,
  visitor_id     TEXT,
  customer_id    TEXT,
  influencer_id  INTEGER REFERENCES influencers(id),
  campaign_id    INTEGER REFERENCES campaigns(id),
  code           TEXT,
  conversion_id  INTEGER REFERENCES conversions(id),
  received_at    INTEGER NOT NULL
);
CREATE INDEX touchpoints_visitor ON touchpoints(visitor_id, occurred_at);
CREATE INDEX touchpoints_customer ON touchpoints(customer_id, occurred_at);
CREATE UNIQUE INDEX touchpoints_code_once ON touchpoints(conversion_id, code);

-- Identity stitching: key 'v:<visitor>', 'c:<customer>' or 'e:<email sha256>'
-- to the person it belongs to. Linking two keys merges their persons.
CREATE TABLE identities (
  key        TEXT    PRIMARY KEY,
  person_id  TEXT    NOT NULL,
  linked_at  INTEGER NOT NULL
);
CREATE INDEX identities_person ON identities(person_id);
