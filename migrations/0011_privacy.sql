-- linkcredit schema, part 11: privacy by default.
-- The salt of each UTC day's anonymous visitor ids (src/privacy.rs). The
-- cron deletes a day's salt once the day is over, so those ids can no
-- longer be recomputed from anyone's IP prefix and user agent.
CREATE TABLE daily_salts (
  day   INTEGER PRIMARY KEY,    -- days since 1970-01-01 (UTC)
  salt  TEXT    NOT NULL
);

-- Retention (RETENTION_DAYS): the cron prunes a raw click only when no
-- conversion still waiting for attribution names it.
CREATE INDEX conversions_click ON conversions(click_id);
