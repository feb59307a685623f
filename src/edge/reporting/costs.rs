//! Costs (create, list, delete) and campaign goals, and the costs of a
//! period in the reporting currency, as every report and the export read
//! them.

use crate::base::body::Patch;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::Currency;
use crate::base::pagination::{next_cursor, Page};
use crate::base::time;
use crate::config::Config;
use crate::edge::d1::{all, all_metered, first, query, row, run};
use crate::edge::fx::load_rates;
use crate::edge::now;
use crate::reporting::cost::{CampaignGoals, NewCost};
use crate::reporting::report;
use serde_json::{json, Value};
use worker::{D1Database, Response};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    struct RefRow {
        influencer_id: Option<i64>,
        campaign_id: Option<i64>,
    }

    struct CostRow {
        id: i64,
        handle: String,
        campaign: Option<String>,
        kind: String,
        amount_minor: i64,
        currency: String,
        incurred_day: i64,
        note: Option<String>,
    }
}

pub async fn create_cost(db: &D1Database, c: &NewCost) -> Result<Response> {
    let refs: Option<RefRow> = first(
        query!(
            db,
            "SELECT (SELECT id FROM influencers WHERE handle = ?1) AS influencer_id, \
                    (SELECT id FROM campaigns WHERE slug = ?2) AS campaign_id",
            c.influencer.as_str(),
            c.campaign.as_ref().map(|s| s.as_str())
        ),
        "looking up cost references",
    )
    .await?;
    let refs = refs.ok_or(ApiError::Unavailable)?;
    let influencer_id = refs.influencer_id.ok_or_else(|| {
        ParseError::new(
            "unknown_influencer",
            format!("no influencer with handle '{}'", c.influencer),
        )
        .at("influencer")
    })?;
    if c.campaign.is_some() && refs.campaign_id.is_none() {
        return Err(
            ParseError::new("unknown_campaign", "no campaign with that slug").at("campaign"),
        );
    }
    row! {
        struct Inserted {
            id: i64,
        }
    }
    let row: Option<Inserted> = first(
        query!(
            db,
            "INSERT INTO costs (influencer_id, campaign_id, kind, amount_minor, currency, incurred_day, note, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            influencer_id,
            refs.campaign_id,
            c.kind,
            c.amount.minor,
            c.amount.currency.as_str(),
            c.incurred_day,
            c.note,
            now()
        ),
        "inserting cost",
    )
    .await?;
    let id = row.ok_or(ApiError::Unavailable)?.id;
    crate::edge::http::json(
        201,
        &json!({"id": id, "influencer": c.influencer.as_str(), "campaign": c.campaign.as_ref().map(|s| s.as_str()),
                "kind": c.kind, "amount": c.amount.major(), "currency": c.amount.currency.as_str(),
                "incurred_on": time::format_date(c.incurred_day), "note": c.note}),
    )
}

pub async fn list_costs(db: &D1Database, page: Page) -> Result<Response> {
    let rows: Vec<CostRow> = all(
        query!(
            db,
            "SELECT k.id, i.handle, c.slug AS campaign, k.kind, k.amount_minor, k.currency, k.incurred_day, k.note \
             FROM costs k JOIN influencers i ON i.id = k.influencer_id LEFT JOIN campaigns c ON c.id = k.campaign_id \
             WHERE k.id > ?1 ORDER BY k.id LIMIT ?2",
            page.after,
            page.limit
        ),
        "listing costs",
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let costs: Vec<Value> = rows
        .iter()
        .map(|r| {
            let amount = Currency::parse(&r.currency)
                .map(|c| report::money(r.amount_minor, c))
                .unwrap_or_default();
            json!({"id": r.id, "influencer": r.handle, "campaign": r.campaign, "kind": r.kind, "amount": amount,
                   "currency": r.currency, "incurred_on": time::format_date(r.incurred_day), "note": r.note})
        })
        .collect();
    crate::edge::http::json(
        200,
        &json!({"costs": costs, "next_cursor": next_cursor(&ids, page)}),
    )
}

pub async fn patch_campaign(
    db: &D1Database,
    slug: &str,
    goals: &CampaignGoals,
    config: &Config,
) -> Result<Response> {
    row! {
        struct Goals {
            target_cpa_minor: Option<i64>,
            min_roas_milli: Option<i64>,
        }
    }
    let current: Option<Goals> = first(
        query!(
            db,
            "SELECT target_cpa_minor, min_roas_milli FROM campaigns WHERE slug = ?1",
            slug
        ),
        "loading campaign",
    )
    .await?;
    let current = current.ok_or(ApiError::NotFound { what: "campaign" })?;
    let (mut cpa, mut roas) = (current.target_cpa_minor, current.min_roas_milli);
    goals.target_cpa_minor.clone().apply(&mut cpa);
    goals.min_roas_milli.clone().apply(&mut roas);
    run(
        query!(
            db,
            "UPDATE campaigns SET target_cpa_minor = ?1, min_roas_milli = ?2 WHERE slug = ?3",
            cpa,
            roas,
            slug
        ),
        "updating campaign goals",
    )
    .await?;
    let _ = Patch::<i64>::Keep;
    crate::edge::http::json(
        200,
        &json!({"slug": slug, "target_cpa": cpa.map(|c| report::money(c, config.reporting_currency)),
                "min_roas": roas.map(|r| crate::base::decimal::ratio(i128::from(r), 1000, 3))}),
    )
}

/// A cost in the reporting currency.
pub struct ReportingCost {
    pub handle: String,
    pub campaign: Option<String>,
    pub day: i64,
    pub amount: i64,
}

/// The costs of the days `from..=to` (every day: `None`), each converted
/// at its day's rate. A cost without a rate is left out (`/api/v1/quality`
/// lists it as `missing_fx_rate`).
pub async fn reporting_costs(
    db: &D1Database,
    days: Option<(i64, i64)>,
    currency: Currency,
    rows_read: &mut usize,
) -> Result<Vec<ReportingCost>> {
    row! {
        struct Booked {
            handle: String,
            campaign: Option<String>,
            amount_minor: i64,
            currency: String,
            incurred_day: i64,
        }
    }
    let (from, to) = days.unzip();
    let booked: Vec<Booked> = all_metered(
        query!(
            db,
            "SELECT i.handle, c.slug AS campaign, k.amount_minor, k.currency, k.incurred_day \
             FROM costs k JOIN influencers i ON i.id = k.influencer_id LEFT JOIN campaigns c ON c.id = k.campaign_id \
             WHERE ?1 IS NULL OR k.incurred_day BETWEEN ?1 AND ?2",
            from,
            to
        ),
        "reading costs",
        rows_read,
    )
    .await?;
    let rates = load_rates(db).await?;
    Ok(booked
        .into_iter()
        .filter_map(|c| {
            let cur = Currency::parse(&c.currency).ok()?;
            Some(ReportingCost {
                amount: rates.to_reporting(c.amount_minor, cur, c.incurred_day, currency)?,
                handle: c.handle,
                campaign: c.campaign,
                day: c.incurred_day,
            })
        })
        .collect())
}
