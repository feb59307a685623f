-- linkcredit schema, part 2: promo codes, discount URLs, in-app escape,
-- and user-agent classification with bot flags on clicks.

CREATE TABLE codes (
  id             INTEGER PRIMARY KEY,
  code           TEXT    NOT NULL UNIQUE,        -- [A-Z0-9_-]{3,32}, stored upper-case
  influencer_id  INTEGER NOT NULL REFERENCES influencers(id),
  campaign_id    INTEGER REFERENCES campaigns(id),
  link_id        INTEGER REFERENCES links(id),   -- where /c/{code} goes, when set
  description    TEXT,
  created_at     INTEGER NOT NULL
);
CREATE INDEX codes_influencer ON codes(influencer_id);

ALTER TABLE campaigns ADD COLUMN discount_style TEXT;   -- shopify | woocommerce | query | none
ALTER TABLE campaigns ADD COLUMN discount_param TEXT;

ALTER TABLE links ADD COLUMN discount_code TEXT;        -- a code of the same influencer
ALTER TABLE links ADD COLUMN discount_style TEXT;
ALTER TABLE links ADD COLUMN discount_param TEXT;
ALTER TABLE links ADD COLUMN escape_in_app INTEGER NOT NULL DEFAULT 0;
CREATE INDEX links_discount_code ON links(discount_code);

ALTER TABLE clicks ADD COLUMN app TEXT;                 -- in-app browser, NULL for none
ALTER TABLE clicks ADD COLUMN os TEXT;
ALTER TABLE clicks ADD COLUMN device_class TEXT;
ALTER TABLE clicks ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clicks ADD COLUMN bot_name TEXT;
ALTER TABLE clicks ADD COLUMN via TEXT NOT NULL DEFAULT 'link';   -- link | code
ALTER TABLE clicks ADD COLUMN code TEXT;                -- the code the visitor was sent with
CREATE INDEX clicks_link_visitor_ts ON clicks(link_id, visitor_id, ts);
