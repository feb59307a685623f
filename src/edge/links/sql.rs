//! The links' list SQL: the link select every link read shares, and the
//! keyset pages of links and codes. Only constants and text builders, no
//! bindings: the handlers bind them, and `tests/sql/` runs them against
//! SQLite with the migrations applied.

/// A link row with its influencer, campaign and tags (the columns
/// `LinkRow` reads); reads add their `WHERE` and `ORDER BY`.
pub const LINK_SELECT: &str = "SELECT l.id, l.slug, l.destination, i.handle, c.slug AS campaign, \
     l.content, l.platform, l.utm_medium, l.utm_term, l.status, l.expires_at, l.starts_at, l.max_clicks, l.expired_url, \
     l.created_at, l.updated_at, \
     l.discount_code, l.discount_style, l.discount_param, l.escape_in_app, \
     c.discount_style AS campaign_discount_style, c.discount_param AS campaign_discount_param, \
     l.rules, l.variants, l.domain, l.format, l.posted_at, l.product_category, l.category_explicit, \
     (SELECT json_group_array(tag) FROM (SELECT tag FROM link_tags WHERE link_id = l.id ORDER BY tag)) AS tags \
     FROM links l JOIN influencers i ON i.id = l.influencer_id JOIN campaigns c ON c.id = l.campaign_id";

/// A page of links: ids after `?1` (the cursor), at most `?2`, only those
/// tagged `?3` unless it is `NULL`.
#[cfg(any(full, test))]
pub fn list_links_sql() -> String {
    format!(
        "{LINK_SELECT} WHERE l.id > ?1 \
                 AND (?3 IS NULL OR l.id IN (SELECT link_id FROM link_tags WHERE tag = ?3)) \
                 ORDER BY l.id LIMIT ?2"
    )
}

/// A page of codes: ids after `?1` (the cursor), at most `?2`.
#[cfg(any(full, test))]
pub const LIST_CODES_SQL: &str =
    "SELECT k.id, k.code, i.handle, c.slug AS campaign, l.slug AS link, k.description, k.created_at \
         FROM codes k JOIN influencers i ON i.id = k.influencer_id \
         LEFT JOIN campaigns c ON c.id = k.campaign_id LEFT JOIN links l ON l.id = k.link_id \
         WHERE k.id > ?1 ORDER BY k.id LIMIT ?2";
