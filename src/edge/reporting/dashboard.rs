//! The dashboard (`GET /dashboard`) and its login form: the session cookie
//! check, the data the page shows (reports under every model, apps,
//! cohorts, link checks, findings), rendered by
//! [`crate::reporting::dashboard`].

use crate::attribution::models::Model;
use crate::base::error::ApiError;
use crate::base::time;
use crate::edge::d1::{all, query, row};
use crate::edge::http::unavailable;
use crate::edge::reporting::api::require_reader;
use crate::edge::reporting::ltv::ltv;
use crate::edge::reporting::report::build_report;
use crate::edge::{config, now, DB};
use crate::reporting::ltv::LtvParams;
use crate::reporting::report;
use crate::reporting::report::{Dim, Format, ReportParams};
use serde_json::{Map, Value};
use worker::{Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

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
            crate::edge::http::status(&e),
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
        quality: counts.into_iter().map(|c| (c.kind, c.n)).collect(),
        checks,
        ltv: cohorts,
    })
}
