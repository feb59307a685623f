-- linkcredit schema, part 7: per-dimension rollups. A report grouped by at
-- most one non-time dimension reads these: days × keys rows, whatever the
-- click and conversion volume. dim is influencer, campaign, content,
-- platform, link, app, code, channel, or 'all' (time-only groupings); key is
-- '' where the dimension does not apply.
CREATE TABLE click_dim_rollup (
  dim            TEXT    NOT NULL,
  day            INTEGER NOT NULL,
  key            TEXT    NOT NULL,
  clicks         INTEGER NOT NULL,
  unique_clicks  INTEGER NOT NULL,
  bot_clicks     INTEGER NOT NULL,
  PRIMARY KEY (dim, day, key)
);

CREATE TABLE credit_dim_rollup (
  model                TEXT    NOT NULL,
  dim                  TEXT    NOT NULL,
  day                  INTEGER NOT NULL,
  key                  TEXT    NOT NULL,
  conversion_micros    INTEGER NOT NULL,
  revenue_minor        INTEGER NOT NULL,
  assisted_conversions INTEGER NOT NULL,
  assisted_revenue     INTEGER NOT NULL,
  days_to_convert_ms   INTEGER NOT NULL,
  PRIMARY KEY (model, dim, day, key)
);
