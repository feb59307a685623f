//! Payouts' shell (the rules are [`crate::reporting::payout`]): earnings from the
//! credits of a month, frozen lines of closed months, adjustments carried
//! into the first open month, and closing.

use crate::attribution::models::Model;
use crate::base::error::{ApiError, ParseError};
use crate::base::route::Route;
use crate::base::time;
use crate::config::Config;
use crate::edge::auth::Admin;
use crate::edge::d1::{all, query, row, stmt};
use crate::edge::http::unavailable;
use crate::reporting::payout;
use crate::reporting::payout::{Earned, Line, Period};
use crate::reporting::report::money;
use serde_json::{json, Value};
use url::form_urlencoded;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    struct EarnedRow {
        influencer: String,
        micros: i64,
        revenue: i64,
    }

    struct LineRow {
        influencer: String,
        kind: String,
        for_period: Option<String>,
        amount_minor: i64,
    }

    struct ClosedRow {
        period: String,
        model: String,
        closed_at: i64,
    }
}

/// What `period` pays under `model` by the credits as they are now.
async fn earned_lines(
    db: &D1Database,
    config: &Config,
    period: Period,
    model: Model,
) -> Result<Vec<Line>> {
    let (from, to) = period.range();
    let earned: Vec<EarnedRow> = all(
        query!(
            db,
            "SELECT influencer, SUM(conversion_micros) AS micros, COALESCE(SUM(reporting_minor), 0) AS revenue \
             FROM credits WHERE model = ?1 AND influencer IS NOT NULL AND converted_at >= ?2 AND converted_at < ?3 \
             GROUP BY influencer",
            model.as_str(),
            from,
            to
        ),
        "reading credited earnings",
    )
    .await?;
    let earned: Vec<Earned> = earned
        .into_iter()
        .map(|e| Earned {
            handle: e.influencer,
            conversion_micros: e.micros,
            revenue_minor: e.revenue,
        })
        .collect();
    let contracts: Vec<_> =
        crate::edge::roster::records::all_profiles(db, config.reporting_currency)
            .await?
            .into_iter()
            .map(|(h, p)| (h, p.contract))
            .collect();
    Ok(payout::lines(period, &contracts, &earned))
}

async fn closed_periods(db: &D1Database) -> Result<Vec<(Period, Model, i64)>> {
    let rows: Vec<ClosedRow> = all(
        Ok(query!(
            db,
            "SELECT period, model, closed_at FROM payout_periods ORDER BY period"
        )),
        "reading closed periods",
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some((
                Period::parse(&r.period).ok()?,
                Model::parse(&r.model)?,
                r.closed_at,
            ))
        })
        .collect())
}

async fn frozen(db: &D1Database, sql: &str, period: Period) -> Result<Vec<Line>> {
    let rows: Vec<LineRow> = all(query!(db, sql, period.label()), "reading payout lines").await?;
    Ok(rows
        .into_iter()
        .map(|r| Line {
            influencer: r.influencer,
            kind: r.kind,
            for_period: r.for_period,
            amount_minor: r.amount_minor,
        })
        .collect())
}

/// The lines of an open `period`: its own, plus (when it is the first open
/// period) the adjustments every closed period needs now.
async fn open_lines(
    db: &D1Database,
    config: &Config,
    period: Period,
    model: Model,
    closed: &[(Period, Model, i64)],
) -> Result<Vec<Line>> {
    let mut lines = earned_lines(db, config, period, model).await?;
    let first_open = closed.last().map(|c| c.0.next());
    if first_open == Some(period) {
        for (c, m, _) in closed {
            let now = earned_lines(db, config, *c, *m).await?;
            let paid = frozen(
                db,
                "SELECT influencer, kind, for_period, amount_minor FROM payout_lines \
                 WHERE (period = ?1 AND for_period IS NULL) OR for_period = ?1",
                *c,
            )
            .await?;
            lines.extend(payout::adjustments(*c, &now, &paid));
        }
    }
    Ok(lines)
}

fn view(
    period: Period,
    model: &str,
    closed_at: Option<i64>,
    lines: &[Line],
    config: &Config,
) -> Value {
    let cur = config.reporting_currency;
    let mut totals: Vec<(String, i64)> = Vec::new();
    for l in lines {
        match totals.iter_mut().find(|t| t.0 == l.influencer) {
            Some(t) => t.1 += l.amount_minor,
            None => totals.push((l.influencer.clone(), l.amount_minor)),
        }
    }
    totals.sort();
    json!({
        "period": period.label(),
        "model": model,
        "status": if closed_at.is_some() { "closed" } else { "open" },
        "closed_at": closed_at.map(time::format_rfc3339),
        "currency": cur.as_str(),
        "lines": lines.iter().map(|l| json!({"influencer": l.influencer, "kind": l.kind,
            "for_period": l.for_period, "amount": money(l.amount_minor, cur)})).collect::<Vec<_>>(),
        "totals": totals.iter().map(|(h, a)| json!({"influencer": h, "amount": money(*a, cur)})).collect::<Vec<_>>(),
        "total": money(lines.iter().map(|l| l.amount_minor).sum(), cur),
    })
}

fn params(query: &str) -> Result<(Period, Model)> {
    let mut period = None;
    let mut model = Model::LastTouch;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "period" => period = Some(Period::parse(&v).map_err(|e| e.at("period"))?),
            "model" => {
                model = Model::parse(&v).ok_or_else(|| {
                    ParseError::new("invalid_value", "model must be one of the six models")
                        .at("model")
                })?
            }
            _ => {}
        }
    }
    let period = period
        .ok_or_else(|| ParseError::new("required", "period is required (YYYY-MM)").at("period"))?;
    Ok((period, model))
}

/// `GET /api/v1/payouts?period=&model=` (JSON, or `format=csv`).
pub async fn get(db: &D1Database, config: &Config, query: &str) -> Result<(Value, String)> {
    let (period, model) = params(query)?;
    let closed = closed_periods(db).await?;
    let v = match closed.iter().find(|c| c.0 == period) {
        Some((p, m, at)) => {
            let lines = frozen(
                db,
                "SELECT influencer, kind, for_period, amount_minor FROM payout_lines WHERE period = ?1 ORDER BY id",
                *p,
            )
            .await?;
            view(period, m.as_str(), Some(*at), &lines, config)
        }
        None => {
            let lines = open_lines(db, config, period, model, &closed).await?;
            view(period, model.as_str(), None, &lines, config)
        }
    };
    let mut csv = String::new();
    crate::base::csv::write_row(&mut csv, &["influencer", "kind", "for_period", "amount"]);
    for l in v["lines"].as_array().into_iter().flatten() {
        let s = |k: &str| l[k].as_str().unwrap_or("").to_owned();
        crate::base::csv::write_row(
            &mut csv,
            &[&s("influencer"), &s("kind"), &s("for_period"), &s("amount")],
        );
    }
    Ok((v, csv))
}

/// `POST /api/v1/payouts/{period}/close?model=`: freezes the period's lines
/// (its adjustments included) in one batch.
pub async fn close(db: &D1Database, config: &Config, raw: &str, query: &str) -> Result<Value> {
    let period = Period::parse(raw).map_err(|e| e.at("period"))?;
    let (_, model) = params(&format!("period={}&{query}", period.label()))?;
    let closed = closed_periods(db).await?;
    payout::check_close(
        period,
        closed.last().map(|c| c.0),
        time::day_of(crate::edge::now()),
    )?;
    if closed.last().is_some_and(|c| c.0.next() != period) {
        return Err(ParseError::new(
            "period_gap",
            "close the periods in order: the one after the last closed period first",
        )
        .at("period"));
    }
    let lines = open_lines(db, config, period, model, &closed).await?;
    let now = crate::edge::now();
    let rows: Vec<Value> = lines
        .iter()
        .map(|l| json!({"i": l.influencer, "k": l.kind, "f": l.for_period, "a": l.amount_minor}))
        .collect();
    let writes = vec![
        stmt(
            query!(
                db,
                "INSERT INTO payout_periods (period, model, closed_at) VALUES (?1, ?2, ?3)",
                period.label(),
                model.as_str(),
                now
            ),
            "binding period close",
        )?,
        stmt(
            query!(
                db,
                "INSERT INTO payout_lines (period, influencer, kind, for_period, amount_minor) \
                 SELECT ?1, json_extract(value, '$.i'), json_extract(value, '$.k'), json_extract(value, '$.f'), \
                        json_extract(value, '$.a') FROM json_each(?2)",
                period.label(),
                crate::edge::d1::json_text(&rows)
            ),
            "binding payout lines",
        )?,
    ];
    crate::edge::d1::batch(db, writes, "closing a payout period").await?;
    Ok(view(period, model.as_str(), Some(now), &lines, config))
}

/// `GET /api/v1/payouts` and `POST /api/v1/payouts/{period}/close`.
pub async fn handle(req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    let Admin {
        db, config, query, ..
    } = Admin::from_request(&req, env)?;
    match route {
        Route::Payouts => {
            let (v, csv) = crate::edge::reporting::payouts::get(&db, &config, &query).await?;
            let wants_csv =
                form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k == "format" && v == "csv");
            if wants_csv {
                let resp = Response::ok(csv).map_err(unavailable("building the payout CSV"))?;
                let _ = resp
                    .headers()
                    .set("Content-Type", "text/csv; charset=utf-8");
                Ok(resp)
            } else {
                crate::edge::http::json(200, &v)
            }
        }
        Route::ClosePayout(period) => crate::edge::http::json(
            200,
            &crate::edge::reporting::payouts::close(&db, &config, period, &query).await?,
        ),
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}
