//! Costs, exchange rates, campaign goals, the reports endpoint and the
//! ranking. Reports read the rollups the attribution job maintains, never
//! raw clicks or credits.

use super::http::{self, read_json, unavailable};
use super::rows::{query, row};
use super::store::{all, all_metered, first, json_text, run};
use super::{auth, config, now, DB};
use crate::attribution::models::Model;
use crate::base::body::Patch;
use crate::base::error::{ApiError, ParseError};
use crate::base::fx::{NewRate, Rates, RATE_SCALE};
use crate::base::money::Currency;
use crate::base::pagination::{next_cursor, Page};
use crate::base::route::Route;
use crate::base::time;
use crate::config::Config;
use crate::reporting::cost::{CampaignGoals, NewCost};
use crate::reporting::ltv::{GroupSums, LtvGroup, LtvParams};
use crate::reporting::report::{self, CreditAgg, Dim, Format, Inputs, Key, ReportParams};
use crate::roster::influencers::Tiers;
use crate::traffic::storefront::EngagementAgg;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// Reports accept the reports token or the admin token.
pub fn require_reader(req: &Request, env: &Env) -> Result<()> {
    auth::require_bearer(req, env, "REPORTS_TOKEN")
        .or_else(|_| auth::require_bearer(req, env, "ADMIN_TOKEN"))
}

pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    match route {
        Route::Report | Route::Ranking | Route::Ltv => require_reader(&req, env)?,
        _ => auth::require_bearer(&req, env, "ADMIN_TOKEN")?,
    }
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    let config = config(env);
    let query = req
        .url()
        .ok()
        .and_then(|u| u.query().map(str::to_owned))
        .unwrap_or_default();
    match route {
        Route::CreateCost => {
            let c = NewCost::from_json(&read_json(&mut req).await?)?;
            create_cost(&db, &c).await
        }
        Route::ListCosts => list_costs(&db, Page::from_query(&query)?).await,
        Route::DeleteCost(id) => {
            let id: i64 = id
                .parse()
                .map_err(|_| ApiError::NotFound { what: "cost" })?;
            // An id that names no cost is a 404, not a "deleted".
            let deleted: Option<IdRow> = first(
                query!(&db, "DELETE FROM costs WHERE id = ?1 RETURNING id", id),
                "deleting cost",
            )
            .await?;
            match deleted {
                Some(_) => http::json(200, &json!({"deleted": id})),
                None => Err(ApiError::NotFound { what: "cost" }),
            }
        }
        Route::PutRate => {
            let r = NewRate::from_json(&read_json(&mut req).await?, config.reporting_currency)?;
            run(
                query!(
                    &db,
                    "INSERT INTO fx_rates (currency, valid_day, rate_nano, created_at) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(currency, valid_day) DO UPDATE SET rate_nano = excluded.rate_nano, created_at = excluded.created_at",
                    r.currency.as_str(),
                    r.valid_day,
                    r.rate_nano,
                    now()
                ),
                "storing rate",
            )
            .await?;
            // Conversions in that currency since then are re-attributed with it.
            run(
                query!(
                    &db,
                    "UPDATE conversions SET dirty = 2 WHERE currency = ?1 AND occurred_at >= ?2 AND attributed_at IS NOT NULL",
                    r.currency.as_str(),
                    r.valid_day * time::DAY
                ),
                "marking conversions for the new rate",
            )
            .await?;
            http::json(
                200,
                &rate_view(
                    r.currency.as_str(),
                    r.valid_day,
                    r.rate_nano,
                    config.reporting_currency,
                ),
            )
        }
        Route::ListRates => {
            let rows: Vec<RateRow> = all(
                Ok(query!(&db, "SELECT currency, valid_day, rate_nano FROM fx_rates ORDER BY currency, valid_day")),
                "listing rates",
            )
            .await?;
            let rates: Vec<Value> = rows
                .iter()
                .map(|r| {
                    rate_view(
                        &r.currency,
                        r.valid_day,
                        r.rate_nano,
                        config.reporting_currency,
                    )
                })
                .collect();
            http::json(
                200,
                &json!({"reporting_currency": config.reporting_currency.as_str(), "rates": rates}),
            )
        }
        Route::PatchCampaign(slug) => {
            let goals =
                CampaignGoals::from_json(&read_json(&mut req).await?, config.reporting_currency)?;
            patch_campaign(&db, slug, &goals, &config).await
        }
        Route::Report => {
            let p = ReportParams::from_query(&query, time::day_of(now()))?;
            let mut rows_read = 0;
            let r = build_report_metered(&db, &p, &config, &mut rows_read).await?;
            match p.format {
                Format::Json => http::json(
                    200,
                    &json!({
                        "model": match p.model { report::ModelChoice::All => "all", report::ModelChoice::One(m) => m.as_str() },
                        "from": time::format_date(p.from_day),
                        "to": time::format_date(p.to_day),
                        "group_by": p.group_by.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
                        "currency": config.reporting_currency.as_str(),
                        "rows": r.rows,
                        "totals": r.totals,
                        "meta": {"d1_rows_read": rows_read},
                    }),
                ),
                Format::Csv => {
                    let resp =
                        Response::ok(report::to_csv(&r)).map_err(unavailable("building CSV"))?;
                    let h = resp.headers();
                    let name = format!(
                        "linkcredit-{}-{}-to-{}.csv",
                        p.group_by
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join("-"),
                        time::format_date(p.from_day),
                        time::format_date(p.to_day)
                    );
                    let _ = h.set("Content-Type", "text/csv; charset=utf-8");
                    let _ = h.set(
                        "Content-Disposition",
                        &format!("attachment; filename=\"{name}\""),
                    );
                    let _ = h.set("Cache-Control", "no-store");
                    Ok(resp)
                }
            }
        }
        Route::Ranking => {
            let p = ReportParams::from_query(&query, time::day_of(now()))?;
            let v = ranking(&db, &p, &config).await?;
            http::json(200, &v)
        }
        Route::Ltv => {
            let p = LtvParams::from_query(&query)?;
            http::json(200, &ltv(&db, &p, &config).await?)
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}

row! {
    struct IdRow {
        #[allow(dead_code)]
        id: i64,
    }

    struct RateRow {
        currency: String,
        valid_day: i64,
        rate_nano: i64,
    }
}

fn rate_view(currency: &str, valid_day: i64, rate_nano: i64, reporting: Currency) -> Value {
    let int = rate_nano / RATE_SCALE;
    let frac = format!("{:09}", rate_nano % RATE_SCALE);
    let frac = frac.trim_end_matches('0');
    let rate = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    json!({"currency": currency, "rate_to_reporting": rate, "valid_from": time::format_date(valid_day), "reporting_currency": reporting.as_str()})
}

row! {
    struct RefRow {
        influencer_id: Option<i64>,
        campaign_id: Option<i64>,
    }
}

async fn create_cost(db: &D1Database, c: &NewCost) -> Result<Response> {
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
    http::json(
        201,
        &json!({"id": id, "influencer": c.influencer.as_str(), "campaign": c.campaign.as_ref().map(|s| s.as_str()),
                "kind": c.kind, "amount": c.amount.major(), "currency": c.amount.currency.as_str(),
                "incurred_on": time::format_date(c.incurred_day), "note": c.note}),
    )
}

row! {
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

async fn list_costs(db: &D1Database, page: Page) -> Result<Response> {
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
    http::json(
        200,
        &json!({"costs": costs, "next_cursor": next_cursor(&ids, page)}),
    )
}

async fn patch_campaign(
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
    http::json(
        200,
        &json!({"slug": slug, "target_cpa": cpa.map(|c| report::money(c, config.reporting_currency)),
                "min_roas": roas.map(|r| crate::base::decimal::ratio(i128::from(r), 1000, 3))}),
    )
}

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

/// Lifetime value by acquisition source ([`crate::reporting::ltv`]): one query over
/// the conversions, their credits and (for tiers) the roster. An order's
/// revenue is its credited revenue in the reporting currency (net of
/// refunds); an order no model credited counts its net revenue as its last
/// attribution run converted it (`conversions.reporting_minor`).
async fn ltv(db: &D1Database, p: &LtvParams, config: &Config) -> Result<serde_json::Value> {
    row! {
        struct LtvRow {
            k: Option<String>,
            channel: String,
            customers_micros: i64,
            repeat_micros: i64,
            orders_micros: i64,
            revenue_milli: i64,
        }
    }
    let (key, join) = match p.group {
        LtvGroup::Influencer => ("k.influencer".to_owned(), ""),
        LtvGroup::Campaign => ("k.campaign".to_owned(), ""),
        LtvGroup::Channel => ("k.channel".to_owned(), ""),
        LtvGroup::Tier => (
            config.tiers.sql("i.follower_count"),
            " LEFT JOIN influencers i ON i.handle = k.influencer",
        ),
    };
    let now = now();
    let rows: Vec<LtvRow> = all(
        query!(
            db,
            &format!(
                "WITH orders AS ( \
                   SELECT c.id, c.occurred_at AS at, \
                          COALESCE('c:' || c.customer_id, 'e:' || c.email_sha256, 'v:' || c.visitor_id) AS customer, \
                          COALESCE((SELECT SUM(reporting_minor) FROM credits k \
                                     WHERE k.conversion_id = c.id AND k.model = ?1), \
                                   c.reporting_minor, \
                                   CASE WHEN c.currency = ?4 THEN c.revenue_minor - c.refunded_minor END, 0) AS revenue \
                     FROM conversions c \
                    WHERE c.attributed_at IS NOT NULL AND COALESCE(c.customer_id, c.email_sha256, c.visitor_id) IS NOT NULL), \
                 firsts AS (SELECT customer, MIN(at) AS first_at FROM orders GROUP BY customer HAVING MIN(at) <= ?2), \
                 value AS ( \
                   SELECT f.customer, \
                          (SELECT o.id FROM orders o WHERE o.customer = f.customer ORDER BY o.at, o.id LIMIT 1) AS first_id, \
                          COUNT(o.id) AS orders, SUM(o.revenue) AS revenue \
                     FROM firsts f JOIN orders o ON o.customer = f.customer AND o.at < f.first_at + ?3 \
                    GROUP BY f.customer) \
                 SELECT {key} AS k, k.channel AS channel, SUM(k.conversion_micros) AS customers_micros, \
                        SUM(CASE WHEN v.orders > 1 THEN k.conversion_micros ELSE 0 END) AS repeat_micros, \
                        SUM(k.conversion_micros * v.orders) AS orders_micros, \
                        SUM(k.conversion_micros * v.revenue) / 1000 AS revenue_milli \
                   FROM value v JOIN credits k ON k.conversion_id = v.first_id AND k.model = ?1{join} \
                  GROUP BY 1, 2"
            ),
            p.model.as_str(),
            p.cohort_end(now),
            p.horizon_days * time::DAY,
            config.reporting_currency.as_str()
        ),
        "reading lifetime values",
    )
    .await?;
    let sums: Vec<GroupSums> = rows
        .into_iter()
        .map(|r| GroupSums {
            key: r.k,
            channel: r.channel,
            customers_micros: r.customers_micros,
            repeat_micros: r.repeat_micros,
            orders_micros: r.orders_micros,
            revenue_micros: i128::from(r.revenue_milli) * 1000,
        })
        .collect();
    Ok(crate::reporting::ltv::build(
        p,
        &sums,
        now,
        config.reporting_currency,
    ))
}

pub async fn load_rates(db: &D1Database) -> Result<Rates> {
    let rows: Vec<RateRow> = all(
        Ok(query!(
            db,
            "SELECT currency, valid_day, rate_nano FROM fx_rates"
        )),
        "loading exchange rates",
    )
    .await?;
    let mut rates = Rates::default();
    for r in rows {
        if let Ok(c) = Currency::parse(&r.currency) {
            rates.insert(c, r.valid_day, r.rate_nano);
        }
    }
    Ok(rates)
}

/// Influencers ranked by ROI, tiered by tercile, with campaign-goal flags.
pub async fn ranking(db: &D1Database, p: &ReportParams, config: &Config) -> Result<Value> {
    let by_influencer = ReportParams {
        group_by: vec![Dim::Influencer],
        format: Format::Json,
        ..p.clone()
    };
    let model = match p.model {
        report::ModelChoice::One(m) => m,
        report::ModelChoice::All => Model::Linear,
    };
    let by_influencer = ReportParams {
        model: report::ModelChoice::One(model),
        ..by_influencer
    };
    let r = build_report(db, &by_influencer, config).await?;
    let minor = |v: Option<&Value>| -> i64 {
        v.and_then(Value::as_str)
            .and_then(|s| {
                crate::base::money::Money::parse(
                    s.trim_start_matches('-'),
                    config.reporting_currency,
                )
                .ok()
            })
            .map_or(0, |m| m.minor)
    };
    let inputs: Vec<report::RankInput> = r
        .rows
        .iter()
        .filter_map(|row| {
            Some(report::RankInput {
                influencer: row.get("influencer")?.as_str()?.to_owned(),
                unique_clicks: row
                    .get("unique_clicks")
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                revenue_minor: minor(row.get("revenue")),
                cost_minor: minor(row.get("cost")),
            })
        })
        .collect();
    let ranked = report::rank(&inputs, report::MIN_SAMPLE_UNIQUE_CLICKS);

    // Goal flags per influencer and campaign.
    row! {
        struct GoalRow {
            slug: String,
            target_cpa_minor: Option<i64>,
            min_roas_milli: Option<i64>,
        }
    }
    let goals: Vec<GoalRow> = all(
        Ok(query!(
            db,
            "SELECT slug, target_cpa_minor, min_roas_milli FROM campaigns \
             WHERE target_cpa_minor IS NOT NULL OR min_roas_milli IS NOT NULL"
        )),
        "reading campaign goals",
    )
    .await?;
    let mut flags: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    if !goals.is_empty() {
        let pair = ReportParams {
            group_by: vec![Dim::Influencer, Dim::Campaign],
            ..by_influencer.clone()
        };
        let rows = build_report(db, &pair, config).await?.rows;
        for row in &rows {
            let (Some(h), Some(c)) = (
                row.get("influencer").and_then(Value::as_str),
                row.get("campaign").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Some(goal) = goals.iter().find(|g| g.slug == c) else {
                continue;
            };
            let cpa = row
                .get("cpa")
                .and_then(Value::as_str)
                .map(|s| minor(Some(&json!(s))));
            if let (Some(target), Some(cpa)) = (goal.target_cpa_minor, cpa) {
                if cpa > target {
                    flags.entry(h.to_owned()).or_default().push(json!({"campaign": c, "flag": "cpa_above_target",
                        "cpa": report::money(cpa, config.reporting_currency), "target_cpa": report::money(target, config.reporting_currency)}));
                }
            }
            if let (Some(min), Some(roas)) =
                (goal.min_roas_milli, row.get("roas").and_then(Value::as_f64))
            {
                if roas * 1000.0 < min as f64 {
                    flags
                        .entry(h.to_owned())
                        .or_default()
                        .push(json!({"campaign": c, "flag": "roas_below_min",
                        "roas": roas, "min_roas": min as f64 / 1000.0}));
                }
            }
        }
    }
    let rows: Vec<Value> = ranked
        .iter()
        .map(|x| {
            let src = r.rows.iter().find(|row| {
                row.get("influencer").and_then(Value::as_str) == Some(x.influencer.as_str())
            });
            json!({
                "influencer": x.influencer,
                "rank": x.rank,
                "tier": x.tier,
                "roi": x.roi_bp.map(|b| b as f64 / 10_000.0),
                "not_tiered": x.reason,
                "unique_clicks": src.and_then(|s| s.get("unique_clicks")).cloned(),
                "revenue": src.and_then(|s| s.get("revenue")).cloned(),
                "cost": src.and_then(|s| s.get("cost")).cloned(),
                "roas": src.and_then(|s| s.get("roas")).cloned(),
                "cpa": src.and_then(|s| s.get("cpa")).cloned(),
                "flags": flags.get(&x.influencer).cloned().unwrap_or_default(),
            })
        })
        .collect();
    Ok(json!({
        "model": model.as_str(),
        "from": time::format_date(p.from_day),
        "to": time::format_date(p.to_day),
        "minimum_unique_clicks": report::MIN_SAMPLE_UNIQUE_CLICKS,
        "currency": config.reporting_currency.as_str(),
        "influencers": rows,
    }))
}

fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

fn html(status: u16, body: String) -> worker::Result<Response> {
    let resp = Response::from_html(body)?.with_status(status);
    resp.headers().set("Cache-Control", "no-store")?;
    resp.headers().set("X-Frame-Options", "DENY")?;
    resp.headers()
        .set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")?;
    Ok(resp)
}

/// Whether the request carries a dashboard session, or a reports/admin
/// bearer token.
fn dashboard_access(req: &Request, env: &Env) -> bool {
    if require_reader(req, env).is_ok() {
        return true;
    }
    let cookie = req
        .headers()
        .get("Cookie")
        .ok()
        .flatten()
        .unwrap_or_default();
    let Some(value) = crate::reporting::session::from_cookie(&cookie) else {
        return false;
    };
    ["REPORTS_TOKEN", "ADMIN_TOKEN"]
        .iter()
        .filter_map(|n| secret(env, n))
        .any(|s| crate::reporting::session::verify(&s, value, now()))
}

/// `POST /dashboard/login`: a form with the token; sets the session cookie.
pub async fn login(mut req: Request, env: &Env) -> worker::Result<Response> {
    let body = req.bytes().await.unwrap_or_default();
    let token = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    use subtle::ConstantTimeEq;
    let matched = ["REPORTS_TOKEN", "ADMIN_TOKEN"]
        .iter()
        .filter_map(|n| secret(env, n))
        .find(|s| bool::from(s.as_bytes().ct_eq(token.trim().as_bytes())));
    match matched {
        Some(s) => {
            let resp = Response::empty()?.with_status(303);
            resp.headers().set("Location", "/dashboard")?;
            resp.headers().set(
                "Set-Cookie",
                &crate::reporting::session::set_cookie(&crate::reporting::session::issue(
                    &s,
                    now(),
                )),
            )?;
            resp.headers().set("Cache-Control", "no-store")?;
            Ok(resp)
        }
        None => html(
            401,
            crate::reporting::dashboard::login_page(Some("That token is not valid.")),
        ),
    }
}

/// `GET /dashboard`.
pub async fn dashboard(req: Request, env: &Env) -> worker::Result<Response> {
    if !dashboard_access(&req, env) {
        return html(401, crate::reporting::dashboard::login_page(None));
    }
    let query = req
        .url()
        .ok()
        .and_then(|u| u.query().map(str::to_owned))
        .unwrap_or_default();
    match dashboard_data(env, &query).await {
        Ok(d) => html(200, crate::reporting::dashboard::render(&d)),
        Err(ApiError::Unavailable) => html(
            503,
            "<!doctype html><p>Storage is unavailable; retry in a moment.</p>".into(),
        ),
        Err(e) => html(
            http::status(&e),
            format!(
                "<!doctype html><p>{}</p>",
                crate::base::html::escape(&e.to_string())
            ),
        ),
    }
}

async fn dashboard_data(env: &Env, query: &str) -> Result<crate::reporting::dashboard::Data> {
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    let config = config(env);
    let today = time::day_of(now());
    let mut p = ReportParams::from_query(query, today)?;
    if p.model == report::ModelChoice::All {
        p.model = report::ModelChoice::One(Model::Linear);
    }
    let model = match p.model {
        report::ModelChoice::One(m) => m,
        report::ModelChoice::All => Model::Linear,
    };
    let with = |dims: Vec<Dim>, m: report::ModelChoice| ReportParams {
        group_by: dims,
        model: m,
        format: Format::Json,
        ..p.clone()
    };
    let main = build_report(&db, &with(vec![Dim::Influencer], p.model), &config).await?;
    let comparison = build_report(
        &db,
        &with(vec![Dim::Influencer], report::ModelChoice::All),
        &config,
    )
    .await?;
    let weekly = build_report(&db, &with(vec![Dim::Week], p.model), &config).await?;
    let apps = build_report(&db, &with(vec![Dim::App], p.model), &config).await?;
    // The cohort view: 90-day value of the customers each influencer brought
    // (first touch), against the other channels.
    let ltv_params = LtvParams::from_query("")?;
    let cohorts = ltv(&db, &ltv_params, &config).await?["rows"]
        .as_array()
        .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
        .unwrap_or_default();
    row! {
        struct KindCount {
            kind: String,
            n: u64,
        }
    }
    let counts: Vec<KindCount> = all(
        Ok(query!(
            &db,
            "SELECT kind, COUNT(*) AS n FROM findings GROUP BY kind \
             UNION ALL SELECT 'broken_link', COUNT(*) FROM link_checks k JOIN links l ON l.id = k.link_id \
               WHERE k.ok = 0 AND l.status = 'active'"
        )),
        "counting findings",
    )
    .await?;
    row! {
        struct CheckRow {
            slug: String,
            checked_at: i64,
            ok: i64,
            reasons: String,
        }
    }
    // The latest link checks, broken ones first.
    let checks: Vec<CheckRow> = all(
        Ok(query!(
            &db,
            "SELECT l.slug, k.checked_at, k.ok, k.reasons FROM link_checks k JOIN links l ON l.id = k.link_id \
             WHERE l.status = 'active' ORDER BY k.ok, k.checked_at DESC LIMIT 20"
        )),
        "reading link checks",
    )
    .await?;
    let checks = checks
        .into_iter()
        .map(|c| {
            let verdict = if c.ok != 0 {
                "ok".to_owned()
            } else {
                serde_json::from_str::<Vec<String>>(&c.reasons)
                    .map(|r| r.join(", ").replace('_', " "))
                    .unwrap_or_default()
            };
            let mut m = Map::new();
            m.insert("slug".into(), Value::String(c.slug));
            m.insert(
                "checked_at".into(),
                Value::String(time::format_rfc3339(c.checked_at)),
            );
            m.insert("verdict".into(), Value::String(verdict));
            m
        })
        .collect();
    Ok(crate::reporting::dashboard::Data {
        model: Some(model),
        from: time::format_date(p.from_day),
        to: time::format_date(p.to_day),
        currency: config.reporting_currency.as_str().to_owned(),
        by_influencer: main.rows,
        totals: main.totals,
        comparison: comparison.rows,
        weekly: weekly.rows,
        by_app: apps.rows,
        quality: crate::base::sorting::map(counts.into_iter().map(|c| (c.kind, c.n))),
        checks,
        ltv: cohorts,
    })
}
