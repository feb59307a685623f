-- linkcredit schema, part 5: costs, goals, exchange rates, and the rollups
-- that reports read (never raw clicks).

CREATE TABLE costs (
  id             INTEGER PRIMARY KEY,
  influencer_id  INTEGER NOT NULL REFERENCES influencers(id),
  campaign_id    INTEGER REFERENCES campaigns(id),
  kind           TEXT    NOT NULL CHECK (kind IN ('fee', 'gifting', 'production', 'amplification', 'platform_fee', 'other')),
  amount_minor   INTEGER NOT NULL CHECK (amount_minor >= 0),
  currency       TEXT    NOT NULL,
  incurred_day   INTEGER NOT NULL,            -- days since 1970-01-01 (UTC)
  note           TEXT,
  created_at     INTEGER NOT NULL
);
CREATE INDEX costs_day ON costs(incurred_day);

ALTER TABLE campaigns ADD COLUMN target_cpa_minor INTEGER;   -- in the reporting currency
ALTER TABLE campaigns ADD COLUMN min_roas_milli INTEGER;     -- 3.5 is 3500

-- Rates to the reporting currency; a rate applies from valid_day until the
-- next one of the same currency.
CREATE TABLE fx_rates (
  currency     TEXT    NOT NULL,
  valid_day    INTEGER NOT NULL,
  rate_nano    INTEGER NOT NULL CHECK (rate_nano > 0),        -- rate × 10^9
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (currency, valid_day)
);

-- Credits in the reporting currency (NULL: no rate; excluded and reported).
ALTER TABLE credits ADD COLUMN reporting_minor INTEGER;

-- Rollups, maintained by the attribution job for the days it touches.
CREATE TABLE click_rollup (
  day            INTEGER NOT NULL,
  link_id        INTEGER NOT NULL,
  app            TEXT    NOT NULL,              -- 'browser' for none
  clicks         INTEGER NOT NULL,
  unique_clicks  INTEGER NOT NULL,
  bot_clicks     INTEGER NOT NULL,
  PRIMARY KEY (day, link_id, app)
);

CREATE TABLE credit_rollup (
  day                 INTEGER NOT NULL,
  model               TEXT    NOT NULL,
  channel             TEXT    NOT NULL,
  influencer          TEXT    NOT NULL DEFAULT '',
  campaign            TEXT    NOT NULL DEFAULT '',
  link                TEXT    NOT NULL DEFAULT '',
  content             TEXT    NOT NULL DEFAULT '',
  platform            TEXT    NOT NULL DEFAULT '',
  app                 TEXT    NOT NULL DEFAULT '',
  code                TEXT    NOT NULL DEFAULT '',
  conversion_micros   INTEGER NOT NULL,
  revenue_minor       INTEGER NOT NULL,         -- reporting currency
  assisted_conversions INTEGER NOT NULL,
  assisted_revenue    INTEGER NOT NULL,
  days_to_convert_ms  INTEGER NOT NULL,         -- Σ (converted_at − touched_at) × conversion_micros / 10^6
  PRIMARY KEY (day, model, channel, influencer, campaign, link, content, platform, app, code)
);
CREATE INDEX credit_rollup_model_day ON credit_rollup(model, day);

-- The last click (rowid) the click rollup has seen: each run re-rolls the
-- days of the clicks written since, however late they arrive.
ALTER TABLE attribution_state ADD COLUMN click_rollup_rowid INTEGER NOT NULL DEFAULT 0;
