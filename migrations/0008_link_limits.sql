-- linkcredit schema, part 8: link schedules and limits.
-- starts_at: the link 404s before it (prepared before a posting date).
-- max_clicks: once that many human clicks are stored, the link has expired.
-- expired_url: where an expired link sends visitors (else 410 Gone).
-- link_misses.reason gains not_started and click_limit.
ALTER TABLE links ADD COLUMN starts_at INTEGER;
ALTER TABLE links ADD COLUMN max_clicks INTEGER;
ALTER TABLE links ADD COLUMN expired_url TEXT;
