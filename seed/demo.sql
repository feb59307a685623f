-- Demo data for `make dev`: three influencers, two campaigns, four links.
-- Idempotent (INSERT OR IGNORE). Only D1 is seeded: the redirect refills
-- the KV cache from D1 on the first visit of each slug.
INSERT OR IGNORE INTO influencers (handle, name, platform, created_at) VALUES
  ('sarah', 'Sarah Lin', 'instagram', 1795939200000),
  ('marco', 'Marco Ruiz', 'tiktok', 1795939200000),
  ('jade', 'Jade Okafor', 'youtube', 1795939200000);

INSERT OR IGNORE INTO campaigns (slug, name, created_at) VALUES
  ('summer-glow', 'Summer Glow 2026', 1795939200000),
  ('night-repair', 'Night Repair Launch', 1795939200000);

INSERT OR IGNORE INTO links (slug, destination, influencer_id, campaign_id, content, platform, utm_medium, status, created_at, updated_at)
SELECT 'sarah-serum', 'https://shop.example.com/products/glow-serum', i.id, c.id, 'reel-1', 'instagram', 'influencer', 'active', 1795939200000, 1795939200000
  FROM influencers i, campaigns c WHERE i.handle = 'sarah' AND c.slug = 'summer-glow';
INSERT OR IGNORE INTO links (slug, destination, influencer_id, campaign_id, content, platform, utm_medium, status, created_at, updated_at)
SELECT 'sarah-bio', 'https://shop.example.com/collections/summer?ref=bio#bestsellers', i.id, c.id, 'bio', 'instagram', 'influencer', 'active', 1795939200000, 1795939200000
  FROM influencers i, campaigns c WHERE i.handle = 'sarah' AND c.slug = 'summer-glow';
INSERT OR IGNORE INTO links (slug, destination, influencer_id, campaign_id, content, platform, utm_medium, status, created_at, updated_at)
SELECT 'marco-night', 'https://shop.example.com/products/night-repair', i.id, c.id, 'video-1', 'tiktok', 'influencer', 'active', 1795939200000, 1795939200000
  FROM influencers i, campaigns c WHERE i.handle = 'marco' AND c.slug = 'night-repair';
INSERT OR IGNORE INTO links (slug, destination, influencer_id, campaign_id, content, platform, utm_medium, status, created_at, updated_at)
SELECT 'jade-review', 'https://shop.example.com/products/night-repair?variant=50ml', i.id, c.id, 'review', 'youtube', 'influencer', 'active', 1795939200000, 1795939200000
  FROM influencers i, campaigns c WHERE i.handle = 'jade' AND c.slug = 'night-repair';

-- Promo codes, and the discount styles and in-app escape on the demo links.
INSERT OR IGNORE INTO codes (code, influencer_id, campaign_id, link_id, description, created_at)
SELECT 'SARAH20', i.id, c.id, l.id, '20% off, Sarah''s audience', 1795939200000
  FROM influencers i, campaigns c, links l WHERE i.handle = 'sarah' AND c.slug = 'summer-glow' AND l.slug = 'sarah-serum';
INSERT OR IGNORE INTO codes (code, influencer_id, campaign_id, description, created_at)
SELECT 'MARCO15', i.id, c.id, '15% off night repair', 1795939200000
  FROM influencers i, campaigns c WHERE i.handle = 'marco' AND c.slug = 'night-repair';
INSERT OR IGNORE INTO codes (code, influencer_id, description, created_at)
SELECT 'JADE10', i.id, '10% off for Jade''s subscribers', 1795939200000 FROM influencers i WHERE i.handle = 'jade';

UPDATE links SET discount_code = 'SARAH20', discount_style = 'shopify' WHERE slug IN ('sarah-serum', 'sarah-bio');
UPDATE links SET discount_code = 'MARCO15', discount_style = 'woocommerce' WHERE slug = 'marco-night';
UPDATE links SET discount_code = 'JADE10', discount_style = 'query', discount_param = 'promo', escape_in_app = 1
 WHERE slug = 'jade-review';
