//! `GET /api/v1/reports`: SQL over the rollups for any grouping (the
//! per-dimension rollups for one non-time dimension, the fine ones
//! otherwise), the leading indicators from the storefront events, then
//! [`crate::reporting::report::build`].

use crate::attribution::models::Model;
use crate::base::error::ApiError;
use crate::config::Config;
use crate::edge::d1::{all_metered, json_text, query};
use crate::edge::reporting::costs::reporting_costs;
use crate::reporting::report;
use crate::reporting::report::{CreditAgg, Dim, Inputs, Key, ReportParams};
use crate::roster::influencers::Tiers;
use crate::traffic::storefront::EngagementAgg;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

/// The SQL expression of a dimension over `click_rollup r` joined with its
/// link `l`, influencer `i` and campaign `cp`.
fn click_expr(d: Dim, tiers: &Tiers) -> String {
    match d {
        Dim::Tier => tiers.sql("i.follower_count"),
        Dim::PostedWeek => "(l.posted_at / 86400000)".into(),
        d => click_static(d).into(),
    }
}

fn click_static(d: Dim) -> &'static str {
    match d {
        Dim::Influencer => "i.handle",
        Dim::Campaign => "cp.slug",
        Dim::Content => "l.content",
        Dim::Platform => "l.platform",
        Dim::Link => "l.slug",
        Dim::App => "r.app",
        Dim::Code => "l.discount_code",
        Dim::Channel => "'influencer'",
        Dim::Trigger => "r.trigger",
        Dim::Rule => "NULLIF(r.rule, '')",
        Dim::Variant => "NULLIF(r.variant, '')",
        Dim::Tag => "t.tag",
        Dim::Format => "l.format",
        Dim::ProductCategory => "l.product_category",
        Dim::Tier | Dim::PostedWeek => "NULL",
        Dim::Day => "r.day",
        Dim::Week => "(r.day - ((r.day + 3) % 7))",
        Dim::Month => "strftime('%Y-%m', r.day * 86400, 'unixepoch')",
    }
}

/// Time buckets in SQL, so grouped rows (not days) leave D1: the day, the
/// Monday of its ISO week (1970-01-01 was a Thursday), or `YYYY-MM`.
fn time_bucket(d: Dim, day: &str) -> Option<String> {
    match d {
        Dim::Day => Some(day.to_owned()),
        Dim::Week => Some(format!("({day} - (({day} + 3) % 7))")),
        Dim::Month => Some(format!("strftime('%Y-%m', {day} * 86400, 'unixepoch')")),
        _ => None,
    }
}

/// The SQL expression of a dimension over `credit_rollup`, with the
/// credited link's content piece `pc` and influencer `ti` joined in when
/// the report needs them.
fn credit_expr(d: Dim, tiers: &Tiers) -> String {
    match d {
        Dim::Tier => tiers.sql("ti.tier_followers"),
        Dim::PostedWeek => "(pc.piece_posted / 86400000)".into(),
        d => credit_static(d).into(),
    }
}

fn credit_static(d: Dim) -> &'static str {
    match d {
        Dim::Influencer => "NULLIF(influencer, '')",
        Dim::Campaign => "NULLIF(campaign, '')",
        Dim::Content => "NULLIF(content, '')",
        Dim::Platform => "NULLIF(platform, '')",
        Dim::Link => "NULLIF(link, '')",
        Dim::App => "COALESCE(NULLIF(app, ''), CASE WHEN link <> '' THEN 'browser' END)",
        Dim::Code => "NULLIF(code, '')",
        Dim::Channel => "channel",
        Dim::Trigger => "NULLIF(trigger, '')",
        Dim::Rule => "NULLIF(rule, '')",
        Dim::Variant => "NULLIF(variant, '')",
        Dim::Tag => "t.tag",
        Dim::Format => "pc.piece_format",
        Dim::ProductCategory => "pc.piece_category",
        Dim::Tier | Dim::PostedWeek => "NULL",
        Dim::Day => "day",
        Dim::Week => "(day - ((day + 3) % 7))",
        Dim::Month => "strftime('%Y-%m', day * 86400, 'unixepoch')",
    }
}

/// A row's group key: SQL returns `k0..kn`; time dimensions come back as
/// day numbers and are bucketed here.
fn key_of(row: &Map<String, Value>, dims: &[Dim]) -> Key {
    dims.iter()
        .enumerate()
        .map(|(i, d)| {
            let v = row.get(&format!("k{i}"));
            match (d.bucket(0), v) {
                (Some(_), Some(Value::Number(n))) => n.as_i64().and_then(|day| d.bucket(day)),
                (_, Some(Value::String(s))) => Some(s.clone()),
                (_, Some(Value::Number(n))) => Some(n.to_string()),
                _ => None,
            }
        })
        .collect()
}

fn int(row: &Map<String, Value>, k: &str) -> i64 {
    row.get(k)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
        .unwrap_or(0)
}

/// Loads the report inputs from the rollups and costs, and builds it.
pub async fn build_report(
    db: &D1Database,
    p: &ReportParams,
    config: &Config,
) -> Result<report::Report> {
    build_report_metered(db, p, config, &mut 0).await
}

/// [`build_report`], adding the D1 rows read to `rows_read`.
pub async fn build_report_metered(
    db: &D1Database,
    p: &ReportParams,
    config: &Config,
    rows_read: &mut usize,
) -> Result<report::Report> {
    let dims = &p.group_by;
    let select = |expr| grouped(dims, &config.tiers, expr);
    let models_json = json_text(&p.models().iter().map(|m| m.as_str()).collect::<Vec<_>>());
    let non_time: Vec<Dim> = dims.iter().copied().filter(|d| !d.is_time()).collect();
    type Rows = Vec<Map<String, Value>>;
    // Tags are many per link and read as they are now: always the fine
    // rollups, joined with the links' tags (untagged links: no tag).
    let by_tag = dims.contains(&Dim::Tag);
    let mut click_tags = String::new();
    let mut credit_tags = String::new();
    if by_tag {
        click_tags.push_str(" LEFT JOIN link_tags t ON t.link_id = r.link_id");
        credit_tags.push_str(
            " LEFT JOIN (SELECT tl.slug AS tag_link, lt.tag FROM link_tags lt JOIN links tl ON tl.id = lt.link_id) t \
             ON t.tag_link = link",
        );
    }
    // Link and influencer attributes as they are now (the click side has
    // them joined already).
    if dims
        .iter()
        .any(|d| matches!(d, Dim::Format | Dim::ProductCategory | Dim::PostedWeek))
    {
        credit_tags.push_str(
            " LEFT JOIN (SELECT slug AS piece_link, format AS piece_format, product_category AS piece_category, \
             posted_at AS piece_posted FROM links) pc ON pc.piece_link = link",
        );
    }
    if dims.contains(&Dim::Tier) {
        credit_tags.push_str(
            " LEFT JOIN (SELECT handle AS tier_handle, follower_count AS tier_followers FROM influencers) ti \
             ON ti.tier_handle = influencer",
        );
    }
    let attributes = dims.iter().any(|d| d.is_attribute());
    let (clicks, credits): (Rows, Rows) = if non_time.len() <= 1 && !attributes {
        // At most one non-time dimension: the per-dimension rollups, whose
        // size is days × keys whatever the traffic.
        let dim = non_time.first().map_or("all", |d| d.as_str());
        let cols: Vec<String> = dims
            .iter()
            .enumerate()
            .map(|(i, d)| match time_bucket(*d, "day") {
                Some(expr) => format!("{expr} AS k{i}"),
                None => format!("NULLIF(key, '') AS k{i}"),
            })
            .collect();
        let cols = cols.join(", ");
        let group: Vec<String> = (0..dims.len()).map(|i| format!("k{i}")).collect();
        let group = group.join(", ");
        let click_sql = format!(
            "SELECT {cols}, SUM(clicks) AS clicks, SUM(unique_clicks) AS unique_clicks, SUM(bot_clicks) AS bot_clicks \
             FROM click_dim_rollup WHERE dim = ?3 AND day BETWEEN ?1 AND ?2 GROUP BY {group}"
        );
        let credit_sql = format!(
            "SELECT {cols}, model, SUM(conversion_micros) AS micros, SUM(revenue_minor) AS revenue, \
                    SUM(assisted_conversions) AS assisted, SUM(assisted_revenue) AS assisted_revenue, \
                    SUM(days_to_convert_ms) AS dtc \
             FROM credit_dim_rollup WHERE model IN (SELECT value FROM json_each(?3)) AND dim = ?4 \
               AND day BETWEEN ?1 AND ?2 GROUP BY {group}, model"
        );
        (
            all_metered(
                query!(db, &click_sql, p.from_day, p.to_day, dim),
                "reading click rollups",
                rows_read,
            )
            .await?,
            all_metered(
                query!(db, &credit_sql, p.from_day, p.to_day, models_json, dim),
                "reading credit rollups",
                rows_read,
            )
            .await?,
        )
    } else {
        // Several dimensions: the fine rollups.
        let (ccols, cgroup) = select(click_expr);
        let click_sql = format!(
            "SELECT {ccols}, SUM(r.clicks) AS clicks, SUM(r.unique_clicks) AS unique_clicks, SUM(r.bot_clicks) AS bot_clicks \
             FROM click_rollup r JOIN links l ON l.id = r.link_id JOIN influencers i ON i.id = l.influencer_id \
             JOIN campaigns cp ON cp.id = l.campaign_id{click_tags} WHERE r.day BETWEEN ?1 AND ?2 GROUP BY {cgroup}"
        );
        let (kcols, kgroup) = select(credit_expr);
        let credit_sql = format!(
            "SELECT {kcols}, model, SUM(conversion_micros) AS micros, SUM(revenue_minor) AS revenue, \
                    SUM(assisted_conversions) AS assisted, SUM(assisted_revenue) AS assisted_revenue, \
                    SUM(days_to_convert_ms) AS dtc \
             FROM credit_rollup{credit_tags} WHERE model IN (SELECT value FROM json_each(?3)) AND day BETWEEN ?1 AND ?2 \
             GROUP BY {kgroup}, model"
        );
        (
            all_metered(
                query!(db, &click_sql, p.from_day, p.to_day),
                "reading click rollups",
                rows_read,
            )
            .await?,
            all_metered(
                query!(db, &credit_sql, p.from_day, p.to_day, models_json),
                "reading credit rollups",
                rows_read,
            )
            .await?,
        )
    };
    let costs = reporting_costs(
        db,
        Some((p.from_day, p.to_day)),
        config.reporting_currency,
        rows_read,
    )
    .await?;
    let engagement = engagement_inputs(db, p, config, &click_tags, rows_read).await?;

    let mut inputs = Inputs {
        engagement,
        ..Inputs::default()
    };
    for row in &clicks {
        let agg = inputs.clicks.entry(key_of(row, dims)).or_default();
        agg.clicks += int(row, "clicks");
        agg.unique_clicks += int(row, "unique_clicks");
        agg.bot_clicks += int(row, "bot_clicks");
    }
    for row in &credits {
        let Some(m) = row
            .get("model")
            .and_then(Value::as_str)
            .and_then(Model::parse)
        else {
            continue;
        };
        inputs
            .credits
            .entry((key_of(row, dims), m))
            .or_default()
            .add(&CreditAgg {
                conversion_micros: int(row, "micros"),
                revenue_minor: int(row, "revenue"),
                assisted_conversions: int(row, "assisted"),
                assisted_revenue: int(row, "assisted_revenue"),
                days_to_convert_ms: int(row, "dtc"),
            });
    }
    for c in &costs {
        let amount = c.amount;
        inputs.total_cost += amount;
        if p.costs_split() {
            let key: Key = dims
                .iter()
                .map(|d| match d {
                    Dim::Influencer => Some(c.handle.clone()),
                    Dim::Campaign => c.campaign.clone(),
                    Dim::Channel => Some("influencer".to_owned()),
                    d => d.bucket(c.day),
                })
                .collect();
            *inputs.costs.entry(key).or_default() += amount;
        }
    }
    let mut report = report::build(p, &inputs, config.reporting_currency);
    if by_tag {
        // A link counts under each of its tags, so the rows overlap; the
        // totals are those of a report whose rows do not overlap.
        let whole = ReportParams {
            group_by: vec![Dim::Channel],
            ..p.clone()
        };
        report.totals = Box::pin(build_report_metered(db, &whole, config, rows_read))
            .await?
            .totals;
    }
    Ok(report)
}

/// A report's grouped columns (`expr(d) AS k0, …`) and their `GROUP BY`
/// list (`k0, …`).
fn grouped(dims: &[Dim], tiers: &Tiers, expr: fn(Dim, &Tiers) -> String) -> (String, String) {
    let cols: Vec<String> = dims
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{} AS k{i}", expr(*d, tiers)))
        .collect();
    let group: Vec<String> = (0..dims.len()).map(|i| format!("k{i}")).collect();
    (cols.join(", "), group.join(", "))
}

/// The leading indicators of the report's groups, from the storefront
/// events whose click is known: the events joined with their click (as
/// `r`, with the rollups' column names, so [`click_expr`] applies), its
/// link, influencer and campaign. Events without a click id are not
/// influencer traffic and count nowhere here.
async fn engagement_inputs(
    db: &D1Database,
    p: &ReportParams,
    config: &Config,
    tags: &str,
    rows_read: &mut usize,
) -> Result<BTreeMap<Key, EngagementAgg>> {
    let dims = &p.group_by;
    let (cols, group) = grouped(dims, &config.tiers, click_expr);
    let from = format!(
        "(SELECT e.visit_id, e.type, e.occurred_at, e.click_id, e.day, c.ts AS click_ts, c.link_id, \
             COALESCE(c.app, 'browser') AS app, c.trigger, COALESCE(c.rule, '') AS rule, \
             COALESCE(c.variant, '') AS variant \
             FROM events e JOIN clicks c ON c.id = e.click_id WHERE e.day BETWEEN ?1 AND ?2) r \
             JOIN links l ON l.id = r.link_id JOIN influencers i ON i.id = l.influencer_id \
             JOIN campaigns cp ON cp.id = l.campaign_id{tags}"
    );
    let sums: Vec<Map<String, Value>> = all_metered(
        query!(
            db,
            &format!(
                "SELECT {cols}, COUNT(DISTINCT r.visit_id) AS visits, SUM(r.type = 'page_view') AS page_views, \
             COUNT(DISTINCT CASE WHEN r.type = 'product_view' THEN r.visit_id END) AS product_visits, \
             COUNT(DISTINCT CASE WHEN r.type = 'add_to_cart' THEN r.visit_id END) AS cart_visits \
             FROM {from} GROUP BY {group}"
            ),
            p.from_day,
            p.to_day
        ),
        "reading engagement",
        rows_read,
    )
    .await?;
    let carts: Vec<Map<String, Value>> = all_metered(
        query!(
            db,
            &format!(
                "SELECT {cols}, MIN(r.occurred_at) - MIN(r.click_ts) AS dt FROM {from} \
             WHERE r.type = 'add_to_cart' AND r.occurred_at >= r.click_ts GROUP BY r.click_id, {group}"
            ),
            p.from_day,
            p.to_day
        ),
        "reading time to cart",
        rows_read,
    )
    .await?;
    let mut out: BTreeMap<Key, EngagementAgg> = BTreeMap::new();
    for row in &sums {
        out.entry(key_of(row, dims))
            .or_default()
            .add(&EngagementAgg {
                visits: int(row, "visits"),
                page_views: int(row, "page_views"),
                product_view_visits: int(row, "product_visits"),
                cart_visits: int(row, "cart_visits"),
                click_to_cart_ms: Vec::new(),
            });
    }
    for row in &carts {
        out.entry(key_of(row, dims))
            .or_default()
            .click_to_cart_ms
            .push(int(row, "dt"));
    }
    Ok(out)
}
