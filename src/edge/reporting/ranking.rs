//! `GET /api/v1/reports/ranking`: influencers by ROI from the rollups.

use crate::attribution::models::Model;
use crate::base::error::ApiError;
use crate::base::time;
use crate::config::Config;
use crate::edge::d1::{all, query, row};
use crate::edge::reporting::report::build_report;
use crate::reporting::report;
use crate::reporting::report::{Dim, Format, ReportParams};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

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
