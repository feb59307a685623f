//! D1 access for conversions, touchpoints, identities and journeys.
//!
//! Ingesting a conversion is one read batch (existing order, the click's
//! visitor, registered codes, known identities) and one write batch, which
//! D1 runs as a transaction: the conversion row, its code touchpoints and
//! its identity links commit together or not at all. Every write after the
//! conversion insert is guarded by "the stored order has this payload's
//! fingerprint", so a conflicting concurrent request writes nothing.

use super::http::unavailable;
use super::rows::{query, row, D1Out, FromRow};
use super::store::{all, first, json_text, stmt};
use crate::attribution::journey::INFLUENCER_CHANNEL;
use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::ingest::conversion::NewConversion;
use crate::ingest::identity::{self, IdKind, LinkPlan};
use crate::ingest::touchpoint::NewTouchpoint;
use serde::Serialize;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement};

type Result<T> = std::result::Result<T, ApiError>;

/// What happened to an ingested conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingested {
    /// Newly stored: 201.
    Created(i64),
    /// A retry of the same payload: 200 with the original id.
    Duplicate(i64),
    /// The order exists with another payload: 409.
    Conflict(i64),
}

row! {
    struct ExistingRow {
        id: i64,
        fingerprint: String,
    }

    struct VisitorRow {
        visitor_id: String,
    }

    struct CodeRow {
        code: String,
        influencer_id: i64,
        campaign_id: Option<i64>,
    }

    struct IdentityRow {
        key: String,
        person_id: String,
    }
}

fn rows<T: FromRow>(r: Option<&D1Out>, what: &'static str) -> Result<Vec<T>> {
    match r {
        Some(r) => r.rows().map_err(unavailable(what)),
        None => Ok(Vec::new()),
    }
}

/// The identity keys an event carries.
fn keys_of(visitor: Option<&str>, customer: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(v) = visitor {
        keys.push(identity::key(IdKind::Visitor, v));
    }
    if let Some(c) = customer {
        keys.push(identity::key(IdKind::Customer, c));
    }
    if let Some(e) = email {
        keys.push(identity::key(IdKind::Email, e));
    }
    keys
}

/// Statements that apply a link plan, each guarded by `guard` (an SQL
/// boolean over `?1`/`?2`, bound to `guard_args`).
fn plan_statements(
    db: &D1Database,
    plan: &LinkPlan,
    now: Millis,
    guard: &str,
    guard_args: (&str, &str),
) -> Result<Vec<D1PreparedStatement>> {
    let mut out = Vec::new();
    for key in &plan.insert {
        out.push(stmt(
            query!(
                db,
                &format!(
                    "INSERT INTO identities (key, person_id, linked_at) SELECT ?3, ?4, ?5 WHERE {guard} \
                     ON CONFLICT(key) DO NOTHING"
                ),
                guard_args.0,
                guard_args.1,
                key,
                plan.person,
                now
            ),
            "binding identity insert",
        )?);
    }
    if !plan.merge.is_empty() {
        let merge = json_text(&plan.merge);
        out.push(stmt(
            query!(
                db,
                &format!(
                    "UPDATE identities SET person_id = ?3, linked_at = ?5 \
                     WHERE person_id IN (SELECT value FROM json_each(?4)) AND {guard}"
                ),
                guard_args.0,
                guard_args.1,
                plan.person,
                merge,
                now
            ),
            "binding identity merge",
        )?);
    }
    Ok(out)
}

/// Marks the attributed conversions of the person behind `keys` that
/// occurred between `from` and `to` for reprocessing: a late touchpoint or a
/// new identity link may change their journeys. It runs after the identity
/// writes of its batch, so the person includes the new links.
fn mark_dirty(
    db: &D1Database,
    keys: &[String],
    from: Millis,
    to: Millis,
    guard: &str,
    guard_args: (&str, &str),
) -> Result<D1PreparedStatement> {
    stmt(
        query!(
            db,
            &format!(
                "WITH person(key) AS (SELECT value FROM json_each(?3) UNION SELECT b.key FROM identities a \
                   JOIN identities b ON b.person_id = a.person_id WHERE a.key IN (SELECT value FROM json_each(?3))) \
                 UPDATE conversions SET dirty = 1 \
                 WHERE attributed_at IS NOT NULL AND occurred_at BETWEEN ?4 AND ?5 AND {guard} \
                   AND ('v:' || visitor_id IN (SELECT key FROM person) OR 'c:' || customer_id IN (SELECT key FROM person) \
                        OR 'e:' || email_sha256 IN (SELECT key FROM person))"
            ),
            guard_args.0,
            guard_args.1,
            json_text(keys),
            from,
            to
        ),
        "binding reprocess mark",
    )
}

/// Stores a conversion exactly once.
pub async fn ingest_conversion(
    db: &D1Database,
    c: &NewConversion,
    landing_utm: Option<&[(String, String)]>,
    now: Millis,
) -> Result<Ingested> {
    let fingerprint = c.fingerprint();
    let codes = json_text(&c.promo_codes);
    let direct_keys = keys_of(
        c.visitor_id.as_ref().map(|v| v.as_str()),
        c.customer_id.as_deref(),
        c.email_sha256.as_deref(),
    );
    let click_id = c.click_id.as_ref().map(|id| id.as_str());

    // 1. Reads, in one round trip.
    let reads = vec![
        stmt(
            query!(db, "SELECT id, fingerprint FROM conversions WHERE order_id = ?1", c.order_id),
            "binding order lookup",
        )?,
        stmt(query!(db, "SELECT visitor_id FROM clicks WHERE id = ?1", click_id), "binding click lookup")?,
        stmt(
            query!(
                db,
                "SELECT code, influencer_id, campaign_id FROM codes WHERE code IN (SELECT value FROM json_each(?1))",
                codes
            ),
            "binding code lookup",
        )?,
        stmt(
            query!(
                db,
                "SELECT key, person_id FROM identities WHERE key IN (SELECT value FROM json_each(?1)) \
                 OR key = 'v:' || (SELECT visitor_id FROM clicks WHERE id = ?2)",
                json_text(&direct_keys),
                click_id
            ),
            "binding identity lookup",
        )?,
    ];
    let results = super::store::batch(db, reads, "reading before ingest").await?;
    let existing: Vec<ExistingRow> = rows(results.first(), "decoding order lookup")?;
    if let Some(e) = existing.first() {
        return Ok(if e.fingerprint == fingerprint {
            Ingested::Duplicate(e.id)
        } else {
            Ingested::Conflict(e.id)
        });
    }
    let click_visitor: Option<String> =
        rows::<VisitorRow>(results.get(1), "decoding click lookup")?
            .into_iter()
            .next()
            .map(|r| r.visitor_id);
    let registered: Vec<CodeRow> = rows(results.get(2), "decoding code lookup")?;
    let known: Vec<(String, String)> =
        rows::<IdentityRow>(results.get(3), "decoding identity lookup")?
            .into_iter()
            .map(|r| (r.key, r.person_id))
            .collect();

    // The conversion's visitor: the one given, else the click's.
    let visitor = c
        .visitor_id
        .as_ref()
        .map(|v| v.as_str().to_owned())
        .or_else(|| click_visitor.clone());
    let mut keys = direct_keys;
    if let Some(cv) = &click_visitor {
        let k = identity::key(IdKind::Visitor, cv);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let plan = identity::plan(&keys, &known);

    // 2. Writes, as one transaction.
    const GUARD: &str =
        "EXISTS (SELECT 1 FROM conversions WHERE order_id = ?1 AND fingerprint = ?2)";
    let landing = landing_utm
        .filter(|u| !u.is_empty())
        .map(|u| json!(crate::base::sorting::map(u.iter().cloned())).to_string());
    let mut writes = vec![stmt(
        query!(
            db,
            "INSERT INTO conversions (order_id, occurred_at, revenue_minor, currency, click_id, visitor_id, customer_id, \
                                      email_sha256, promo_codes, landing_utm, source, fingerprint, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT(order_id) DO NOTHING",
            c.order_id,
            c.occurred_at,
            c.revenue.minor,
            c.revenue.currency.as_str(),
            click_id,
            visitor,
            c.customer_id,
            c.email_sha256,
            codes,
            landing,
            c.source.as_str(),
            fingerprint,
            now
        ),
        "binding conversion insert",
    )?];
    for code in &registered {
        writes.push(stmt(
            query!(
                db,
                &format!(
                    "INSERT OR IGNORE INTO touchpoints (kind, occurred_at, channel, visitor_id, customer_id, influencer_id, \
                                                        campaign_id, code, conversion_id, received_at) \
                     SELECT 'code', ?3, '{INFLUENCER_CHANNEL}', ?4, ?5, ?6, ?7, ?8, \
                            (SELECT id FROM conversions WHERE order_id = ?1), ?9 WHERE {GUARD}"
                ),
                c.order_id,
                fingerprint,
                c.occurred_at,
                visitor,
                c.customer_id,
                code.influencer_id,
                code.campaign_id,
                code.code,
                now
            ),
            "binding code touchpoint",
        )?);
    }
    if let Some(plan) = &plan {
        writes.extend(plan_statements(
            db,
            plan,
            now,
            GUARD,
            (&c.order_id, &fingerprint),
        )?);
        // The link may bring other touchpoints into this person's earlier
        // conversions.
        writes.push(mark_dirty(
            db,
            &keys,
            0,
            c.occurred_at,
            GUARD,
            (&c.order_id, &fingerprint),
        )?);
    }
    writes.push(stmt(
        query!(
            db,
            "SELECT id, fingerprint FROM conversions WHERE order_id = ?1",
            c.order_id
        ),
        "binding order read-back",
    )?);
    let results = super::store::batch(db, writes, "storing conversion").await?;
    let inserted = results.first().and_then(|r| r.meta().changes).unwrap_or(0) > 0;
    let stored: Vec<ExistingRow> = rows(results.last(), "decoding order read-back")?;
    let Some(row) = stored.into_iter().next() else {
        return Err(ApiError::Unavailable);
    };
    Ok(match (inserted, row.fingerprint == fingerprint) {
        (true, _) => Ingested::Created(row.id),
        (false, true) => Ingested::Duplicate(row.id),
        (false, false) => Ingested::Conflict(row.id),
    })
}

/// Stores an other-channel touchpoint and links its ids.
pub async fn ingest_touchpoint(db: &D1Database, t: &NewTouchpoint, now: Millis) -> Result<i64> {
    let visitor = t.visitor_id.as_ref().map(|v| v.as_str());
    let keys = keys_of(visitor, t.customer_id.as_deref(), None);
    let known: Vec<IdentityRow> = all(
        query!(
            db,
            "SELECT key, person_id FROM identities WHERE key IN (SELECT value FROM json_each(?1))",
            json_text(&keys)
        ),
        "reading identities",
    )
    .await?;
    let known: Vec<(String, String)> = known.into_iter().map(|r| (r.key, r.person_id)).collect();
    let mut writes = vec![stmt(
        query!(
            db,
            "INSERT INTO touchpoints (kind, occurred_at, channel, source, medium, campaign, visitor_id, customer_id, received_at) \
             VALUES ('channel', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
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
        writes.extend(plan_statements(db, &plan, now, "?1 = ?2", ("1", "1"))?);
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
        "?1 = ?2",
        ("1", "1"),
    )?);
    let results = super::store::batch(db, writes, "storing touchpoint").await?;
    results
        .first()
        .and_then(|r| r.meta().last_row_id)
        .ok_or(ApiError::Unavailable)
}

row! {
    /// A stored conversion, as the journey and conversion endpoints show it.
    #[derive(Debug, Clone, Serialize)]
    pub struct ConversionRow {
        pub id: i64,
        pub order_id: String,
        pub occurred_at: Millis,
        pub revenue_minor: i64,
        pub currency: String,
        pub click_id: Option<String>,
        pub visitor_id: Option<String>,
        pub customer_id: Option<String>,
        pub email_sha256: Option<String>,
        pub promo_codes: String,
        pub source: String,
        pub refunded_minor: i64,
        pub attributed_at: Option<i64>,
    }
}

pub async fn load_conversion(db: &D1Database, order_id: &str) -> Result<Option<ConversionRow>> {
    first(
        query!(
            db,
            "SELECT id, order_id, occurred_at, revenue_minor, currency, click_id, visitor_id, customer_id, \
                    email_sha256, promo_codes, source, refunded_minor, attributed_at FROM conversions WHERE order_id = ?1",
            order_id
        ),
        "loading conversion",
    )
    .await
}

/// What became of a refund request.
pub enum Refunded {
    /// Stored now; the order's refunds now total this much.
    Created { refunded_total: i64 },
    /// The same refund again: nothing changed.
    Duplicate { refunded_total: i64 },
    /// This refund id was used with another amount.
    Conflict,
    /// More than the order's remaining net revenue.
    Exceeds { remaining: i64 },
}

/// Stores a refund of conversion `c` in one batch: the refund (only when it
/// fits the remaining net revenue, once per key), the order's refunded
/// total, and the mark for re-attribution (dirty = 2) when it was new.
pub async fn refund(
    db: &D1Database,
    c: &ConversionRow,
    r: &crate::ingest::refund::NewRefund,
    now: Millis,
) -> Result<Refunded> {
    row! {
        struct After {
            amount: Option<i64>,
            revenue_minor: i64,
            refunded_minor: i64,
        }
    }
    let key = r.key();
    let writes = vec![
        stmt(
            query!(
                db,
                "INSERT INTO refunds (conversion_id, refund_key, amount_minor, currency, refunded_at, received_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
                  WHERE (SELECT revenue_minor - refunded_minor FROM conversions WHERE id = ?1) >= ?3 \
                 ON CONFLICT(conversion_id, refund_key) DO NOTHING",
                c.id,
                &key,
                r.amount.minor,
                &c.currency,
                r.refunded_at.unwrap_or(now),
                now
            ),
            "binding refund insert",
        )?,
        stmt(
            query!(
                db,
                "UPDATE conversions SET dirty = CASE WHEN changes() > 0 THEN 2 ELSE dirty END, \
                   refunded_minor = (SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE conversion_id = ?1) \
                 WHERE id = ?1",
                c.id
            ),
            "binding refund total",
        )?,
        stmt(
            query!(
                db,
                "SELECT (SELECT amount_minor FROM refunds WHERE conversion_id = ?1 AND refund_key = ?2) AS amount, \
                        revenue_minor, refunded_minor FROM conversions WHERE id = ?1",
                c.id,
                &key
            ),
            "binding refund read-back",
        )?,
    ];
    let results = super::store::batch(db, writes, "storing refund").await?;
    let inserted = results.first().and_then(|r| r.meta().changes).unwrap_or(0) > 0;
    let after: Vec<After> = rows(results.last(), "decoding refund read-back")?;
    let after = after.into_iter().next().ok_or(ApiError::Unavailable)?;
    Ok(match after.amount {
        _ if inserted => Refunded::Created {
            refunded_total: after.refunded_minor,
        },
        Some(a) if a == r.amount.minor => Refunded::Duplicate {
            refunded_total: after.refunded_minor,
        },
        Some(_) => Refunded::Conflict,
        None => Refunded::Exceeds {
            remaining: after.revenue_minor - after.refunded_minor,
        },
    })
}
