//! Touchpoints of other channels in D1, with their identity links and the
//! dirty marking of the person's later conversions.

use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::edge::d1::{all, json_text, query, stmt};
use crate::edge::ingest::identities::{keys_of, mark_dirty, plan_statements, IdentityRow};
use crate::edge::ingest::sql::{IDENTITIES_SQL, TOUCHPOINT_GUARD, TOUCHPOINT_INSERT_SQL};
use crate::ingest::identity;
use crate::ingest::touchpoint::NewTouchpoint;
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

/// Stores an other-channel touchpoint and links its ids.
pub async fn ingest_touchpoint(db: &D1Database, t: &NewTouchpoint, now: Millis) -> Result<i64> {
    let visitor = t.visitor_id.as_ref().map(|v| v.as_str());
    let keys = keys_of(visitor, t.customer_id.as_deref(), None);
    let known: Vec<IdentityRow> = all(
        query!(db, IDENTITIES_SQL, json_text(&keys)),
        "reading identities",
    )
    .await?;
    let known: Vec<(String, String)> = known.into_iter().map(|r| (r.key, r.person_id)).collect();
    let mut writes = vec![stmt(
        query!(
            db,
            TOUCHPOINT_INSERT_SQL,
            t.occurred_at,
            t.channel,
            t.source.as_ref().map(|s| s.as_str()),
            t.medium.as_ref().map(|s| s.as_str()),
            t.campaign.as_ref().map(|s| s.as_str()),
            visitor,
            t.customer_id,
            now
        ),
        "binding touchpoint insert",
    )?];
    if let Some(plan) = identity::plan(&keys, &known) {
        writes.extend(plan_statements(
            db,
            &plan,
            now,
            TOUCHPOINT_GUARD,
            ("1", "1"),
        )?);
    }
    // Conversions after this touchpoint (within the longest window) may now
    // have it on their journeys.
    let reach = crate::attribution::journey::JourneyConfig::default()
        .max_window()
        .max(365 * crate::base::time::DAY);
    writes.push(mark_dirty(
        db,
        &keys,
        t.occurred_at,
        t.occurred_at + reach,
        TOUCHPOINT_GUARD,
        ("1", "1"),
    )?);
    let results = crate::edge::d1::batch(db, writes, "storing touchpoint").await?;
    results
        .first()
        .and_then(|r| r.meta().last_row_id)
        .ok_or(ApiError::Unavailable)
}
