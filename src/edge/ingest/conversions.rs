//! Conversions in D1: one read batch, then one transactional write batch
//! (the order, its code touchpoints, its identity links), acting only when
//! the stored order carries this request's payload fingerprint.

use crate::attribution::journey::INFLUENCER_CHANNEL;
use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::edge::d1::{first, json_text, query, row, rows, stmt};
use crate::edge::ingest::identities::{
    keys_of, mark_dirty, plan_statements, IdentityRow, VisitorRow,
};
use crate::edge::ingest::sql::{
    code_touchpoint_sql, CLICK_VISITOR_SQL, CONVERSION_GUARD, CONVERSION_IDENTITIES_SQL,
    CONVERSION_INSERT_SQL,
};
use crate::ingest::conversion::NewConversion;
use crate::ingest::identity;
use crate::ingest::identity::IdKind;
use serde::Serialize;
use serde_json::json;
use worker::D1Database;

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

    struct CodeRow {
        code: String,
        influencer_id: i64,
        campaign_id: Option<i64>,
    }

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
        stmt(query!(db, CLICK_VISITOR_SQL, click_id), "binding click lookup")?,
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
                CONVERSION_IDENTITIES_SQL,
                json_text(&direct_keys),
                click_id
            ),
            "binding identity lookup",
        )?,
    ];
    let results = crate::edge::d1::batch(db, reads, "reading before ingest").await?;
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
    let landing = landing_utm.filter(|u| !u.is_empty()).map(|u| {
        json!(u
            .iter()
            .cloned()
            .collect::<std::collections::BTreeMap<_, _>>())
        .to_string()
    });
    let mut writes = vec![stmt(
        query!(
            db,
            CONVERSION_INSERT_SQL,
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
                &code_touchpoint_sql(INFLUENCER_CHANNEL),
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
            CONVERSION_GUARD,
            (&c.order_id, &fingerprint),
        )?);
        // The link may bring other touchpoints into this person's earlier
        // conversions.
        writes.push(mark_dirty(
            db,
            &keys,
            0,
            c.occurred_at,
            CONVERSION_GUARD,
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
    let results = crate::edge::d1::batch(db, writes, "storing conversion").await?;
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
