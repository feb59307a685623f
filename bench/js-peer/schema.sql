-- The JS peer's click table (bench/redirect.sh applies it to local D1).
CREATE TABLE IF NOT EXISTS clicks (
  id          TEXT    PRIMARY KEY,
  link_id     INTEGER NOT NULL,
  ts          INTEGER NOT NULL,
  visitor_id  TEXT    NOT NULL,
  user_agent  TEXT,
  is_bot      INTEGER NOT NULL,
  country     TEXT
);
CREATE INDEX IF NOT EXISTS clicks_link_ts ON clicks(link_id, ts);
