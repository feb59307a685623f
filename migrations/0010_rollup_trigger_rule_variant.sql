-- linkcredit schema, part 10: reports by trigger (link | qr), targeting rule
-- and A/B variant. The fine rollups gain the three as key columns ('' where
-- they do not apply), so the tables are rebuilt with the wider keys; rows
-- rolled up before (all link visits, no rule, no variant) are kept.
CREATE TABLE click_rollup_new (
  day            INTEGER NOT NULL,
  link_id        INTEGER NOT NULL,
  app            TEXT    NOT NULL,
  trigger        TEXT    NOT NULL DEFAULT 'link',
  rule           TEXT    NOT NULL DEFAULT '',
  variant        TEXT    NOT NULL DEFAULT '',
  clicks         INTEGER NOT NULL,
  unique_clicks  INTEGER NOT NULL,
  bot_clicks     INTEGER NOT NULL,
  PRIMARY KEY (day, link_id, app, trigger, rule, variant)
);
INSERT INTO click_rollup_new (day, link_id, app, clicks, unique_clicks, bot_clicks)
  SELECT day, link_id, app, clicks, unique_clicks, bot_clicks FROM click_rollup;
DROP TABLE click_rollup;
ALTER TABLE click_rollup_new RENAME TO click_rollup;

CREATE TABLE credit_rollup_new (
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
  trigger             TEXT    NOT NULL DEFAULT '',   -- the credited click's; '' for other touches
  rule                TEXT    NOT NULL DEFAULT '',
  variant             TEXT    NOT NULL DEFAULT '',
  conversion_micros   INTEGER NOT NULL,
  revenue_minor       INTEGER NOT NULL,
  assisted_conversions INTEGER NOT NULL,
  assisted_revenue    INTEGER NOT NULL,
  days_to_convert_ms  INTEGER NOT NULL,
  PRIMARY KEY (day, model, channel, influencer, campaign, link, content, platform, app, code, trigger, rule, variant)
);
INSERT INTO credit_rollup_new (day, model, channel, influencer, campaign, link, content, platform, app, code,
                               trigger, conversion_micros, revenue_minor, assisted_conversions, assisted_revenue,
                               days_to_convert_ms)
  SELECT day, model, channel, influencer, campaign, link, content, platform, app, code,
         CASE WHEN link <> '' THEN 'link' ELSE '' END, conversion_micros, revenue_minor,
         assisted_conversions, assisted_revenue, days_to_convert_ms
    FROM credit_rollup;
DROP TABLE credit_rollup;
ALTER TABLE credit_rollup_new RENAME TO credit_rollup;
CREATE INDEX credit_rollup_model_day ON credit_rollup(model, day);

-- The per-dimension rollups gain trigger, rule and variant; days rolled up
-- before get them from what they already hold (every click was a link visit
-- without rule or variant; a credit with a link was a link visit).
INSERT INTO click_dim_rollup (dim, day, key, clicks, unique_clicks, bot_clicks)
  SELECT d.dim, day, CASE d.dim WHEN 'trigger' THEN 'link' ELSE '' END, clicks, unique_clicks, bot_clicks
    FROM click_dim_rollup, (SELECT 'trigger' AS dim UNION ALL SELECT 'rule' UNION ALL SELECT 'variant') d
   WHERE click_dim_rollup.dim = 'all';
INSERT INTO credit_dim_rollup (model, dim, day, key, conversion_micros, revenue_minor, assisted_conversions,
                               assisted_revenue, days_to_convert_ms)
  SELECT model, 'trigger', day, CASE WHEN key <> '' THEN 'link' ELSE '' END, SUM(conversion_micros),
         SUM(revenue_minor), SUM(assisted_conversions), SUM(assisted_revenue), SUM(days_to_convert_ms)
    FROM credit_dim_rollup WHERE dim = 'link' GROUP BY model, day, 4;
INSERT INTO credit_dim_rollup (model, dim, day, key, conversion_micros, revenue_minor, assisted_conversions,
                               assisted_revenue, days_to_convert_ms)
  SELECT model, d.dim, day, '', conversion_micros, revenue_minor, assisted_conversions, assisted_revenue,
         days_to_convert_ms
    FROM credit_dim_rollup, (SELECT 'rule' AS dim UNION ALL SELECT 'variant') d
   WHERE credit_dim_rollup.dim = 'all';
