-- linkcredit schema, part 4: attribution output, run state and data quality.

ALTER TABLE conversions ADD COLUMN attributed_at INTEGER;       -- last time credits were written
ALTER TABLE conversions ADD COLUMN dirty INTEGER NOT NULL DEFAULT 0;  -- a late touchpoint may change its journey
ALTER TABLE conversions ADD COLUMN path TEXT;                   -- JSON array of channel keys (data-driven model)
CREATE INDEX conversions_dirty ON conversions(dirty, occurred_at);

-- One row per (conversion, model, touchpoint), with the report dimensions.
-- Replaced per conversion on every (re)attribution.
CREATE TABLE credits (
  conversion_id     INTEGER NOT NULL REFERENCES conversions(id),
  model             TEXT    NOT NULL,
  position          INTEGER NOT NULL,          -- 0-based index in the journey
  touchpoint_key    TEXT    NOT NULL,          -- click:<id>, code:<id>, tp:<id>
  touch_kind        TEXT    NOT NULL,          -- click | code | channel
  touched_at        INTEGER NOT NULL,
  converted_at      INTEGER NOT NULL,
  channel           TEXT    NOT NULL,          -- influencer, email, ...
  channel_key       TEXT    NOT NULL,          -- influencer handle or channel
  influencer        TEXT,
  campaign          TEXT,
  link              TEXT,
  content           TEXT,
  platform          TEXT,
  app               TEXT,
  code              TEXT,
  revenue_minor     INTEGER NOT NULL,
  currency          TEXT    NOT NULL,
  conversion_micros INTEGER NOT NULL,          -- fractional conversion, millionths
  is_assist         INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (conversion_id, model, position)
);
CREATE INDEX credits_model_influencer ON credits(model, influencer);
CREATE INDEX credits_converted ON credits(model, converted_at);

-- The attribution job's single state row: watermark and lease.
CREATE TABLE attribution_state (
  id              INTEGER PRIMARY KEY CHECK (id = 1),
  watermark       INTEGER NOT NULL DEFAULT 0,   -- highest conversion id processed
  lease_owner     TEXT,
  lease_until     INTEGER NOT NULL DEFAULT 0,
  last_run_at     INTEGER,
  last_run        TEXT                          -- JSON summary of the last run
);
INSERT INTO attribution_state (id) VALUES (1);

-- The global removal-effect table of the last run (data-driven model).
CREATE TABLE removal_effects (
  channel_key   TEXT    PRIMARY KEY,
  effect        REAL    NOT NULL,
  computed_at   INTEGER NOT NULL
);

-- Data-quality findings recorded by each run.
CREATE TABLE findings (
  id             INTEGER PRIMARY KEY,
  kind           TEXT    NOT NULL,   -- no_touchpoints | code_without_clicks | unknown_code | bot_share | disabled_link_clicks
  conversion_id  INTEGER,
  subject        TEXT,               -- a code, a link slug, ...
  detail         TEXT,               -- JSON
  recorded_at    INTEGER NOT NULL
);
CREATE INDEX findings_kind ON findings(kind);
CREATE INDEX findings_conversion ON findings(conversion_id);

-- Visits to links that exist but did not redirect (disabled or expired).
CREATE TABLE link_misses (
  id        INTEGER PRIMARY KEY,
  link_id   INTEGER NOT NULL REFERENCES links(id),
  ts        INTEGER NOT NULL,
  reason    TEXT    NOT NULL,        -- disabled | expired
  is_bot    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX link_misses_link ON link_misses(link_id, ts);
