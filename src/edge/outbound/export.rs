//! Attributed conversions to the outbox: one batch queues each
//! conversion's `conversion.attributed` delivery and marks it exported.

use crate::attribution::models::Model;
use crate::base::error::ApiError;
use crate::base::money::Currency;
use crate::base::time::Millis;
use crate::edge::d1::{all, batch, json_text, query, row, stmt};
use crate::edge::outbox::{enqueue, event_id};
use crate::outbound::webhook;
use crate::outbound::webhook::{AttributedConversion, CreditLine, EventKind};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

/// Attributed conversions handed to the outbox per run at most.
const EXPORT_PER_RUN: u32 = 200;

row! {
    struct UnexportedRow {
        id: i64,
        order_id: String,
        occurred_at: i64,
        revenue_minor: i64,
        currency: String,
        click_id: Option<String>,
        email_sha256: Option<String>,
    }

    struct CreditRow {
        conversion_id: i64,
        model: String,
        channel: String,
        influencer: Option<String>,
        campaign: Option<String>,
        link: Option<String>,
        code: Option<String>,
        revenue_minor: i64,
        conversion_micros: i64,
        touchpoint_key: String,
    }

    struct ClickAdRow {
        id: String,
        ts: i64,
        ad_click_ids: Option<String>,
    }
}

/// Hands attributed conversions to the outbox: one batch queues their
/// `conversion.attributed` deliveries and marks them exported.
pub async fn export(db: &D1Database, now: Millis) -> Result<usize> {
    let pending: Vec<UnexportedRow> = all(
        query!(
            db,
            "SELECT id, order_id, occurred_at, revenue_minor - refunded_minor AS revenue_minor, currency, click_id, \
                    email_sha256 FROM conversions WHERE exported = 0 AND attributed_at IS NOT NULL ORDER BY id LIMIT ?1",
            EXPORT_PER_RUN
        ),
        "reading conversions to export",
    )
    .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = pending.iter().map(|c| c.id).collect();
    let credits: Vec<CreditRow> = all(
        query!(
            db,
            "SELECT conversion_id, model, channel, influencer, campaign, link, code, revenue_minor, conversion_micros, \
                    touchpoint_key FROM credits WHERE conversion_id IN (SELECT value FROM json_each(?1)) ORDER BY conversion_id, model, position",
            json_text(&ids)
        ),
        "reading credits to export",
    )
    .await?;
    // The converting click: the order's own click id, else its last-touch
    // click. Its ad-platform click ids go out with the conversion.
    let click_of = |c: &UnexportedRow| -> Option<String> {
        c.click_id.clone().or_else(|| {
            credits
                .iter()
                .find(|k| k.conversion_id == c.id && k.model == Model::LastTouch.as_str())
                .and_then(|k| k.touchpoint_key.strip_prefix("click:"))
                .map(str::to_owned)
        })
    };
    let click_ids: Vec<String> = pending.iter().filter_map(click_of).collect();
    let clicks: Vec<ClickAdRow> = all(
        query!(
            db,
            "SELECT id, ts, ad_click_ids FROM clicks WHERE id IN (SELECT value FROM json_each(?1))",
            json_text(&click_ids)
        ),
        "reading converting clicks",
    )
    .await?;
    let mut writes = Vec::with_capacity(pending.len() + 1);
    for c in &pending {
        let click = click_of(c).and_then(|id| clicks.iter().find(|k| k.id == id));
        let Ok(currency) = Currency::parse(&c.currency) else {
            continue;
        };
        let lines = credits
            .iter()
            .filter(|k| k.conversion_id == c.id)
            .filter_map(|k| {
                Some(CreditLine {
                    model: Model::parse(&k.model)?,
                    channel: k.channel.clone(),
                    influencer: k.influencer.clone(),
                    campaign: k.campaign.clone(),
                    link: k.link.clone(),
                    code: k.code.clone(),
                    revenue_minor: k.revenue_minor,
                    conversion_micros: k.conversion_micros,
                })
            })
            .collect();
        let conversion = AttributedConversion {
            order_id: c.order_id.clone(),
            occurred_at: c.occurred_at,
            value_minor: c.revenue_minor,
            currency,
            click_id: c.click_id.clone(),
            email_sha256: c.email_sha256.clone(),
            credits: lines,
            ad_click_ids: crate::traffic::ad_click_ids::parse(
                click.and_then(|k| k.ad_click_ids.as_deref()),
            ),
            click_at: click.map(|k| k.ts),
        };
        let key = format!("conversion.attributed:{}", c.order_id);
        let payload = webhook::conversion_attributed(&event_id(&key), now, &conversion);
        writes.push(enqueue(
            db,
            EventKind::ConversionAttributed,
            &key,
            &payload,
            now,
        )?);
    }
    writes.push(stmt(
        query!(
            db,
            "UPDATE conversions SET exported = 1 WHERE id IN (SELECT value FROM json_each(?1))",
            json_text(&ids)
        ),
        "binding the export mark",
    )?);
    batch(db, writes, "queueing conversion.attributed").await?;
    Ok(pending.len())
}
