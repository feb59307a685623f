-- linkcredit schema, part 12: the influencer roster and content pieces (the
-- marketer's master spreadsheet).
ALTER TABLE influencers ADD COLUMN follower_count INTEGER;    -- the tier is derived (TIER_THRESHOLDS)
ALTER TABLE influencers ADD COLUMN niche TEXT;
ALTER TABLE influencers ADD COLUMN contact_email TEXT;        -- private: the roster API and export only
ALTER TABLE influencers ADD COLUMN base_fee_minor INTEGER;    -- reporting currency
ALTER TABLE influencers ADD COLUMN bonus_minor INTEGER;       -- per credited conversion
ALTER TABLE influencers ADD COLUMN revenue_share_bp INTEGER;  -- basis points of credited revenue
ALTER TABLE influencers ADD COLUMN contract_start INTEGER;    -- day number
ALTER TABLE influencers ADD COLUMN contract_end INTEGER;

ALTER TABLE links ADD COLUMN format TEXT;                     -- story, reel, post, ...
ALTER TABLE links ADD COLUMN posted_at INTEGER;
ALTER TABLE links ADD COLUMN product_category TEXT;           -- in force when saved: explicit or derived
ALTER TABLE links ADD COLUMN category_explicit INTEGER NOT NULL DEFAULT 0;
