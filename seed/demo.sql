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
