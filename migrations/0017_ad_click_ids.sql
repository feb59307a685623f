-- linkcredit schema, part 17: ad-platform click ids (fbclid, ttclid, gclid,
-- ...) that arrived on a short link's URL, as JSON text (src/adclick.rs).
-- Kept only for visits that may use the cookie; cleared by an erasure.
ALTER TABLE clicks ADD COLUMN ad_click_ids TEXT;
