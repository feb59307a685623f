//! The master spreadsheet export (`GET /api/v1/export/links.csv`): links
//! with their influencer's roster columns, rollup metrics, the latest link
//! check and costs spread over the links.

use crate::base::error::ApiError;
use crate::base::money::{Currency, Money};
use crate::base::route::Route;
use crate::base::time;
use crate::config::Config;
use crate::edge::auth::Admin;
use crate::edge::d1::{all, query, row};
use crate::edge::http::unavailable;
use crate::edge::reporting::costs::reporting_costs;
use crate::links::link::LinkRecord;
use crate::roster::export;
use crate::roster::export::ExportRow;
use crate::roster::influencers::{format_percent, Profile, Tiers};
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    struct MetricRow {
        id: i64,
        clicks: i64,
        unique_clicks: i64,
        micros: i64,
        revenue: i64,
        checked_at: Option<i64>,
        check_ok: Option<i64>,
        check_reasons: Option<String>,
    }
}

/// The influencer columns of the spreadsheet (`handle` … `contract_end`).
fn profile_columns(handle: &str, p: &Profile) -> [String; 11] {
    let c = &p.contract;
    let money = |m: &Option<Money>| m.as_ref().map(Money::major).unwrap_or_default();
    [
        handle.to_owned(),
        p.name.clone().unwrap_or_default(),
        p.platform
            .map(|x| x.as_str().to_owned())
            .unwrap_or_default(),
        p.follower_count.map(|f| f.to_string()).unwrap_or_default(),
        p.niche
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default(),
        p.contact_email.clone().unwrap_or_default(),
        money(&c.base_fee),
        money(&c.bonus_per_conversion),
        c.revenue_share_bp.map(format_percent).unwrap_or_default(),
        c.start.map(time::format_date).unwrap_or_default(),
        c.end.map(time::format_date).unwrap_or_default(),
    ]
}

/// One link's text columns (up to `last_check`).
fn link_columns(
    l: &LinkRecord,
    profile: &Profile,
    tiers: &Tiers,
    short_url: String,
    tracking_url: String,
    check: &MetricRow,
) -> Vec<String> {
    let mut text: Vec<String> = profile_columns(l.influencer.as_str(), profile).into();
    let tags: Vec<&str> = l.tags.iter().map(|t| t.as_str()).collect();
    let last_check = match (check.check_ok, &check.check_reasons) {
        (Some(1), _) => "ok".to_owned(),
        (Some(_), Some(r)) => serde_json::from_str::<Vec<String>>(r)
            .map(|v| v.join(";"))
            .unwrap_or_default(),
        _ => String::new(),
    };
    text.extend([
        l.campaign.as_str().to_owned(),
        l.slug.as_str().to_owned(),
        l.destination.as_str().to_owned(),
        l.piece
            .format
            .map(|f| f.as_str().to_owned())
            .unwrap_or_default(),
        l.piece
            .posted_at
            .map(time::format_rfc3339)
            .unwrap_or_default(),
        l.piece
            .product_category
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        l.discount_code
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        l.discount
            .style
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        tags.join(";"),
        profile
            .follower_count
            .map(|f| tiers.tier(f).to_owned())
            .unwrap_or_default(),
        short_url,
        tracking_url,
        l.status.as_str().to_owned(),
        check
            .checked_at
            .map(time::format_rfc3339)
            .unwrap_or_default(),
        last_check,
    ]);
    text
}

/// The master spreadsheet of every link, oldest first.
pub async fn links_csv(db: &D1Database, config: &Config, origin: &str) -> Result<String> {
    let currency: Currency = config.reporting_currency;
    let links = crate::edge::links::link_rows::all_links(db).await?;
    let profiles = crate::edge::roster::records::all_profiles(db, currency).await?;
    let metrics: Vec<MetricRow> = all(
        Ok(query!(
            db,
            "SELECT l.id, \
               (SELECT COALESCE(SUM(clicks), 0) FROM click_rollup WHERE link_id = l.id) AS clicks, \
               (SELECT COALESCE(SUM(unique_clicks), 0) FROM click_rollup WHERE link_id = l.id) AS unique_clicks, \
               (SELECT COALESCE(SUM(conversion_micros), 0) FROM credit_rollup WHERE model = 'last_touch' AND link = l.slug) AS micros, \
               (SELECT COALESCE(SUM(revenue_minor), 0) FROM credit_rollup WHERE model = 'last_touch' AND link = l.slug) AS revenue, \
               k.checked_at, k.ok AS check_ok, k.reasons AS check_reasons \
             FROM links l LEFT JOIN link_checks k ON k.link_id = l.id ORDER BY l.id"
        )),
        "reading link metrics",
    )
    .await?;
    let costs: Vec<(String, Option<String>, i64)> = reporting_costs(db, None, currency, &mut 0)
        .await?
        .into_iter()
        .map(|c| (c.handle, c.campaign, c.amount))
        .collect();
    let pairs: Vec<(String, String)> = links
        .iter()
        .map(|l| {
            (
                l.influencer.as_str().to_owned(),
                l.campaign.as_str().to_owned(),
            )
        })
        .collect();
    let cost = export::allocate(&pairs, &costs);
    let empty = Profile::default();
    let none = MetricRow {
        id: 0,
        clicks: 0,
        unique_clicks: 0,
        micros: 0,
        revenue: 0,
        checked_at: None,
        check_ok: None,
        check_reasons: None,
    };
    let mut rows = Vec::with_capacity(links.len());
    for (i, l) in links.iter().enumerate() {
        let profile = profiles
            .iter()
            .find(|(h, _)| h == l.influencer.as_str())
            .map_or(&empty, |(_, p)| p);
        let m = metrics.iter().find(|m| m.id == l.id).unwrap_or(&none);
        let base = config.short_base_for(l.domain.as_deref(), origin);
        let text = link_columns(
            l,
            profile,
            &config.tiers,
            crate::links::link::short_url(&base, &l.slug),
            l.tracking_url(&config.store),
            m,
        );
        rows.push(ExportRow {
            text,
            clicks: m.clicks,
            unique_clicks: m.unique_clicks,
            conversion_micros: m.micros,
            revenue_minor: m.revenue,
            cost_minor: cost[i],
        });
    }
    Ok(export::links_csv(&rows, currency))
}

/// `GET /api/v1/export/links.csv`: the master spreadsheet.
pub async fn handle(req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    let Admin {
        db, config, origin, ..
    } = Admin::from_request(&req, env)?;
    match route {
        Route::ExportLinks => {
            let text = crate::edge::reporting::export::links_csv(&db, &config, &origin).await?;
            let resp = Response::ok(text).map_err(unavailable("building the export"))?;
            let h = resp.headers();
            let _ = h.set("Content-Type", "text/csv; charset=utf-8");
            let _ = h.set("Content-Disposition", "attachment; filename=\"links.csv\"");
            let _ = h.set("Cache-Control", "private, no-store");
            Ok(resp)
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}
