//! The attribution API: run now, rebuild rollups for a range, the job's
//! status, and the quality findings.

use crate::base::error::ApiError;
use crate::base::money::Currency;
use crate::base::time;
use crate::base::time::Millis;
use crate::edge::attribution::rollups::{rebuild_rollups, retained_from};
use crate::edge::d1::{query, read, row, Meter};
use crate::edge::http::unavailable;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

type Result<T> = std::result::Result<T, ApiError>;

/// The admin endpoints: run now, status, and quality findings.
pub async fn handle(
    req: worker::Request,
    env: &worker::Env,
    route: crate::base::route::Route<'_>,
) -> Result<worker::Response> {
    use crate::base::route::Route;
    crate::edge::auth::require_bearer(&req, env, "ADMIN_TOKEN")?;
    let db = env.d1(crate::edge::DB).map_err(unavailable("D1 binding"))?;
    match route {
        Route::RunAttribution => {
            let summary = crate::edge::attribution::run::run(
                &db,
                &crate::edge::config(env),
                crate::edge::now(),
                "api",
            )
            .await?;
            let status = if summary.status == "busy" { 409 } else { 200 };
            crate::edge::http::json(status, &summary)
        }
        Route::RebuildRollups => {
            let query = req
                .url()
                .ok()
                .and_then(|u| u.query().map(str::to_owned))
                .unwrap_or_default();
            let kept_from = retained_from(&crate::edge::config(env), crate::edge::now());
            let v = rebuild_rollups(&db, &query, kept_from).await?;
            crate::edge::http::json(200, &v)
        }
        Route::AttributionStatus => {
            row! {
                #[derive(Serialize)]
                struct State {
                    watermark: i64,
                    last_run_at: Option<Millis>,
                    last_run: Option<String>,
                }
            }
            row! {
                #[derive(Serialize)]
                struct Effect {
                    channel_key: String,
                    effect: f64,
                }
            }
            let mut meter = Meter::default();
            let state: Vec<State> = read(
                &mut meter,
                Ok(query!(
                    &db,
                    "SELECT watermark, last_run_at, last_run FROM attribution_state WHERE id = 1"
                )),
                "reading attribution state",
            )
            .await?;
            let effects: Vec<Effect> = read(
                &mut meter,
                Ok(query!(&db, "SELECT channel_key, effect FROM removal_effects ORDER BY effect DESC, channel_key")),
                "reading removal effects",
            )
            .await?;
            let state = state.into_iter().next();
            crate::edge::http::json(
                200,
                &json!({
                    "watermark": state.as_ref().map(|s| s.watermark),
                    "last_run_at": state.as_ref().and_then(|s| s.last_run_at).map(crate::base::time::format_rfc3339),
                    "last_run": state.as_ref().and_then(|s| s.last_run.as_deref()).and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok()),
                    "removal_effects": effects,
                }),
            )
        }
        Route::Quality => {
            row! {
                #[derive(Serialize)]
                struct Row {
                    kind: String,
                    order_id: Option<String>,
                    subject: Option<String>,
                    detail: Option<String>,
                    recorded_at: Millis,
                }
            }
            let mut meter = Meter::default();
            let rows: Vec<Row> = read(
                &mut meter,
                Ok(query!(
                    &db,
                    "SELECT f.kind, c.order_id, f.subject, f.detail, f.recorded_at FROM findings f \
                     LEFT JOIN conversions c ON c.id = f.conversion_id \
                     UNION ALL \
                     SELECT 'broken_link', NULL, l.slug, json_object('reasons', json(k.reasons)), k.checked_at \
                       FROM link_checks k JOIN links l ON l.id = k.link_id WHERE k.ok = 0 AND l.status = 'active' \
                     ORDER BY 1 LIMIT 5000"
                )),
                "reading findings",
            )
            .await?;
            let mut groups: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
            for kind in [
                "no_touchpoints",
                "code_without_clicks",
                "unknown_code",
                "bot_share",
                "disabled_link_clicks",
                "missing_fx_rate",
                "broken_link",
            ] {
                groups.insert(kind.to_owned(), Vec::new());
            }
            // Costs that cannot be converted to the reporting currency.
            row! {
                #[derive(Serialize)]
                struct CostRow {
                    id: i64,
                    handle: String,
                    currency: String,
                    amount_minor: i64,
                    incurred_day: i64,
                }
            }
            let reporting = crate::edge::config(env).reporting_currency;
            let costs: Vec<CostRow> = read(
                &mut meter,
                query!(
                    &db,
                    "SELECT k.id, i.handle, k.currency, k.amount_minor, k.incurred_day FROM costs k \
                     JOIN influencers i ON i.id = k.influencer_id WHERE k.currency <> ?1 AND NOT EXISTS \
                     (SELECT 1 FROM fx_rates f WHERE f.currency = k.currency AND f.valid_day <= k.incurred_day)",
                    reporting.as_str()
                ),
                "reading costs without rates",
            )
            .await?;
            for c in costs {
                let amount = Currency::parse(&c.currency)
                    .map(|cur| crate::reporting::report::money(c.amount_minor, cur))
                    .unwrap_or_default();
                groups.entry("missing_fx_rate".into()).or_default().push(json!({
                    "cost_id": c.id,
                    "subject": c.currency,
                    "detail": {"influencer": c.handle, "amount": amount, "incurred_on": time::format_date(c.incurred_day)},
                }));
            }
            for r in rows {
                let detail = r
                    .detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
                groups.entry(r.kind.clone()).or_default().push(json!({
                    "order_id": r.order_id,
                    "subject": r.subject,
                    "detail": detail,
                    "recorded_at": crate::base::time::format_rfc3339(r.recorded_at),
                }));
            }
            crate::edge::http::json(200, &json!({"findings": groups}))
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}
