//! The reporting API: costs, exchange rates, campaign goals, reports, the
//! ranking and LTV. Reports need the reports or the admin token; writes the
//! admin token.

use crate::base::error::ApiError;
use crate::base::fx::{NewRate, RATE_SCALE};
use crate::base::money::Currency;
use crate::base::pagination::Page;
use crate::base::route::Route;
use crate::base::time;
use crate::edge::d1::{all, first, query, run, IdRow};
use crate::edge::fx::RateRow;
use crate::edge::http::{read_json, unavailable};
use crate::edge::reporting::costs::{create_cost, list_costs, patch_campaign};
use crate::edge::reporting::ltv::ltv;
use crate::edge::reporting::ranking::ranking;
use crate::edge::reporting::report::build_report_metered;
use crate::edge::{config, now, DB};
use crate::reporting::cost::{CampaignGoals, NewCost};
use crate::reporting::ltv::LtvParams;
use crate::reporting::report;
use crate::reporting::report::{Format, ReportParams};
use serde_json::{json, Value};
use worker::{Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// Reports accept the reports token or the admin token.
pub fn require_reader(req: &Request, env: &Env) -> Result<()> {
    crate::edge::auth::require_bearer(req, env, "REPORTS_TOKEN")
        .or_else(|_| crate::edge::auth::require_bearer(req, env, "ADMIN_TOKEN"))
}

pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    match route {
        Route::Report | Route::Ranking | Route::Ltv => require_reader(&req, env)?,
        _ => crate::edge::auth::require_bearer(&req, env, "ADMIN_TOKEN")?,
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
                Some(_) => crate::edge::http::json(200, &json!({"deleted": id})),
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
            crate::edge::http::json(
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
            crate::edge::http::json(
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
                Format::Json => crate::edge::http::json(
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
            crate::edge::http::json(200, &v)
        }
        Route::Ltv => {
            let p = LtvParams::from_query(&query)?;
            crate::edge::http::json(200, &ltv(&db, &p, &config).await?)
        }
        _ => Err(ApiError::NotFound { what: "route" }),
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
