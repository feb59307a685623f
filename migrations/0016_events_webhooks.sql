-- linkcredit schema, part 16: on-site engagement events (src/engagement.rs)
-- and outbound webhooks (src/webhook.rs).

-- One row per storefront event (POST /api/v1/events, usually from /t.js).
-- No IP, no user agent, no query string: the page's host and path only.
CREATE TABLE events (
  id           TEXT    PRIMARY KEY,          -- random, base64url
  type         TEXT    NOT NULL CHECK (type IN ('page_view', 'product_view', 'add_to_cart', 'checkout_start')),
  visitor_key  TEXT    NOT NULL,             -- v:<the snippet's visitor id> or c:<click id>
  click_id     TEXT,                         -- lc_cid: given, or the visitor's earlier one
  visit_id     TEXT    NOT NULL,             -- id of the visit's first event (30 min inactivity)
  host         TEXT    NOT NULL,
  path         TEXT    NOT NULL,
  occurred_at  INTEGER NOT NULL,
  day          INTEGER NOT NULL,             -- occurred_at / 86400000
  received_at  INTEGER NOT NULL
);
-- The rate limit and the visit both look at a visitor's latest events.
CREATE INDEX events_visitor ON events(visitor_key, received_at);
CREATE INDEX events_click ON events(click_id, type, occurred_at);
CREATE INDEX events_day ON events(day);
CREATE INDEX events_received ON events(received_at);

-- Receivers of outbound webhooks. The secret signs deliveries, so it is
-- kept as given (the API never shows it again).
CREATE TABLE webhook_endpoints (
  id           INTEGER PRIMARY KEY,
  url          TEXT    NOT NULL,
  events       TEXT    NOT NULL,             -- comma-separated event names
  secret       TEXT    NOT NULL,
  description  TEXT,
  status       TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at   INTEGER NOT NULL
);

-- One delivery per endpoint and event; the payload is fixed when the event
-- happens, so a retry or a replay sends the same body (freshly signed).
CREATE TABLE webhook_deliveries (
  id               INTEGER PRIMARY KEY,
  endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints(id),
  event            TEXT    NOT NULL,
  event_key        TEXT    NOT NULL,         -- e.g. conversion.attributed:<order id>
  payload          TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,                  -- pending only
  last_status      INTEGER,                  -- HTTP status of the last attempt, NULL: no response
  last_error       TEXT,
  created_at       INTEGER NOT NULL,
  delivered_at     INTEGER,
  UNIQUE (endpoint_id, event_key)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at);

-- Every attempt of every delivery, for the delivery log.
CREATE TABLE webhook_attempts (
  id            INTEGER PRIMARY KEY,
  delivery_id   INTEGER NOT NULL REFERENCES webhook_deliveries(id),
  attempted_at  INTEGER NOT NULL,
  status        INTEGER,                     -- NULL: no response (network error, timeout)
  error         TEXT,
  duration_ms   INTEGER NOT NULL,
  replay        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);

-- Attributed conversions not yet handed to the webhook outbox. Conversions
-- attributed before this migration are not sent.
ALTER TABLE conversions ADD COLUMN exported INTEGER NOT NULL DEFAULT 0;
UPDATE conversions SET exported = 1 WHERE attributed_at IS NOT NULL;
CREATE INDEX conversions_unexported ON conversions(id) WHERE exported = 0 AND attributed_at IS NOT NULL;
