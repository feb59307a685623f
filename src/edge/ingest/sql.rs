//! Ingest's SQL: storing conversions and touchpoints, identity stitching
//! and dirty marking, and the data-subject erasure. Only constants and text
//! builders, no bindings: the handlers bind them, and `tests/sql/` runs
//! them against SQLite with the migrations applied.

// ---- Conversions and touchpoints (conversions.rs, touchpoints.rs) ------------

/// The visitor of click `?1`.
pub const CLICK_VISITOR_SQL: &str = "SELECT visitor_id FROM clicks WHERE id = ?1";

/// The persons of the identity keys in `?1` (JSON) and of the visitor of
/// click `?2`.
pub const CONVERSION_IDENTITIES_SQL: &str =
    "SELECT key, person_id FROM identities WHERE key IN (SELECT value FROM json_each(?1)) \
                 OR key = 'v:' || (SELECT visitor_id FROM clicks WHERE id = ?2)";

/// The persons of the identity keys in `?1` (JSON).
pub const IDENTITIES_SQL: &str =
    "SELECT key, person_id FROM identities WHERE key IN (SELECT value FROM json_each(?1))";

/// Stores an order once: `?1` order id … `?13` received at.
pub const CONVERSION_INSERT_SQL: &str =
    "INSERT INTO conversions (order_id, occurred_at, revenue_minor, currency, click_id, visitor_id, customer_id, \
                                      email_sha256, promo_codes, landing_utm, source, fingerprint, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT(order_id) DO NOTHING";

/// The guard of a conversion's writes: the stored order `?1` carries this
/// request's payload fingerprint `?2` (a concurrent request with another
/// payload writes nothing).
pub const CONVERSION_GUARD: &str =
    "EXISTS (SELECT 1 FROM conversions WHERE order_id = ?1 AND fingerprint = ?2)";

/// The code touchpoint of order `?1` for one registered code (`channel`
/// is the influencer channel), under [`CONVERSION_GUARD`]: `?3` occurred
/// at, `?4` visitor, `?5` customer, `?6` influencer id, `?7` campaign id,
/// `?8` code, `?9` received at.
pub fn code_touchpoint_sql(channel: &str) -> String {
    format!(
        "INSERT OR IGNORE INTO touchpoints (kind, occurred_at, channel, visitor_id, customer_id, influencer_id, \
                                                        campaign_id, code, conversion_id, received_at) \
                     SELECT 'code', ?3, '{channel}', ?4, ?5, ?6, ?7, ?8, \
                            (SELECT id FROM conversions WHERE order_id = ?1), ?9 WHERE {CONVERSION_GUARD}"
    )
}

/// Stores an other-channel touchpoint: `?1` occurred at, `?2` channel, `?3`
/// source, `?4` medium, `?5` campaign, `?6` visitor, `?7` customer, `?8`
/// received at.
pub const TOUCHPOINT_INSERT_SQL: &str =
    "INSERT INTO touchpoints (kind, occurred_at, channel, source, medium, campaign, visitor_id, customer_id, received_at) \
             VALUES ('channel', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// The guard of a touchpoint's writes: always true (bound to `"1", "1"`).
pub const TOUCHPOINT_GUARD: &str = "?1 = ?2";

// ---- Identities and dirty marking (identities.rs) ----------------------------

/// Links key `?3` to person `?4` at `?5`, unless the key is linked
/// already, when `guard` (over `?1`/`?2`) holds.
pub fn identity_insert_sql(guard: &str) -> String {
    format!(
        "INSERT INTO identities (key, person_id, linked_at) SELECT ?3, ?4, ?5 WHERE {guard} \
                     ON CONFLICT(key) DO NOTHING"
    )
}

/// Merges the persons in `?4` (JSON) into person `?3` at `?5`, when `guard`
/// (over `?1`/`?2`) holds.
pub fn identity_merge_sql(guard: &str) -> String {
    format!(
        "UPDATE identities SET person_id = ?3, linked_at = ?5 \
                     WHERE person_id IN (SELECT value FROM json_each(?4)) AND {guard}"
    )
}

/// Marks for reprocessing the attributed conversions that occurred between
/// `?4` and `?5` (ms, inclusive) of the person behind the keys in `?3`
/// (JSON: the keys and every key linked to them), when `guard` (over
/// `?1`/`?2`) holds.
pub fn mark_dirty_sql(guard: &str) -> String {
    format!(
        "WITH person(key) AS (SELECT value FROM json_each(?3) UNION SELECT b.key FROM identities a \
                   JOIN identities b ON b.person_id = a.person_id WHERE a.key IN (SELECT value FROM json_each(?3))) \
                 UPDATE conversions SET dirty = 1 \
                 WHERE attributed_at IS NOT NULL AND occurred_at BETWEEN ?4 AND ?5 AND {guard} \
                   AND ('v:' || visitor_id IN (SELECT key FROM person) OR 'c:' || customer_id IN (SELECT key FROM person) \
                        OR 'e:' || email_sha256 IN (SELECT key FROM person))"
    )
}

// ---- Erasure (erasure.rs: `erase_person`, in this order) ---------------------

/// Every identity of the persons of `?1` as a visitor or a customer id.
pub const ERASE_FIND_SQL: &str = "SELECT key, person_id FROM identities WHERE person_id IN \
               (SELECT person_id FROM identities WHERE key IN ('v:' || ?1, 'c:' || ?1))";

/// Deletes the storefront events of visitor `?1` (the snippet's own id) and
/// of any click of the visitors in `?2` (JSON).
pub const ERASE_EVENTS_SQL: &str = "DELETE FROM events WHERE visitor_key = 'v:' || ?1 \
                OR click_id IN (SELECT id FROM clicks WHERE visitor_id IN (SELECT value FROM json_each(?2)))";

/// Moves visitor `?1`'s clicks to the fresh visitor id `?2`, without their
/// ad-platform click ids.
pub const ERASE_CLICKS_SQL: &str =
    "UPDATE clicks SET visitor_id = ?2, ad_click_ids = NULL WHERE visitor_id = ?1";

/// Removes the visitor (`?1`), customer (`?2`) and email (`?3`) ids (JSON
/// lists) from conversions.
pub const ERASE_CONVERSIONS_SQL: &str = "UPDATE conversions SET visitor_id = NULL, customer_id = NULL, email_sha256 = NULL \
             WHERE visitor_id IN (SELECT value FROM json_each(?1)) OR customer_id IN (SELECT value FROM json_each(?2)) \
                OR email_sha256 IN (SELECT value FROM json_each(?3))";

/// Removes the visitor (`?1`) and customer (`?2`) ids (JSON lists) from
/// touchpoints.
pub const ERASE_TOUCHPOINTS_SQL: &str = "UPDATE touchpoints SET visitor_id = NULL, customer_id = NULL \
             WHERE visitor_id IN (SELECT value FROM json_each(?1)) OR customer_id IN (SELECT value FROM json_each(?2))";

/// Deletes the identities of the persons in `?1` (JSON) and of `?2` as a
/// visitor or customer id.
pub const ERASE_IDENTITIES_SQL: &str =
    "DELETE FROM identities WHERE person_id IN (SELECT value FROM json_each(?1)) \
                OR key IN ('v:' || ?2, 'c:' || ?2)";
