//! Building a report: the aggregates merged by group key into rows (one
//! model's metrics, or every model's conversions and revenue side by side),
//! the totals over every group, and the column order.

use super::aggregates::{ClickAgg, CreditAgg, Inputs, Key};
use super::metrics::{metrics, money, METRIC_COLUMNS};
use super::params::{ModelChoice, ReportParams};
use crate::attribution::models::CONVERSION_UNIT;
use crate::base::decimal::ratio;
use crate::base::money::Currency;
use crate::traffic::storefront::{self, EngagementAgg};
use serde_json::{json, Map, Value};

/// A computed report.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Map<String, Value>>,
    pub totals: Map<String, Value>,
    pub columns: Vec<String>,
}

/// Builds the report from aggregated inputs.
pub fn build(p: &ReportParams, inputs: &Inputs, cur: Currency) -> Report {
    let models = p.models();
    let mut keys: Vec<&Key> = inputs
        .clicks
        .keys()
        .chain(inputs.credits.keys().map(|(k, _)| k))
        .chain(inputs.engagement.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let zero_clicks = ClickAgg::default();
    let zero_credit = CreditAgg::default();
    let zero_engagement = EngagementAgg::default();
    let mut rows = Vec::new();
    for key in keys {
        let mut row = Map::new();
        for (d, v) in p.group_by.iter().zip(key) {
            row.insert(
                d.as_str().into(),
                v.as_ref().map_or(Value::Null, |s| json!(s)),
            );
        }
        let c = inputs.clicks.get(key).unwrap_or(&zero_clicks);
        let cost = if p.costs_split() {
            Some(inputs.costs.get(key).copied().unwrap_or(0))
        } else {
            None
        };
        match p.model {
            ModelChoice::One(m) => {
                let k = inputs
                    .credits
                    .get(&(key.clone(), m))
                    .unwrap_or(&zero_credit);
                metrics(c, k, cost, cur, &mut row);
            }
            ModelChoice::All => {
                row.insert("clicks".into(), json!(c.clicks));
                row.insert("unique_clicks".into(), json!(c.unique_clicks));
                row.insert("bot_clicks".into(), json!(c.bot_clicks));
                row.insert(
                    "cost".into(),
                    cost.map_or(Value::Null, |c| json!(money(c, cur))),
                );
                for m in &models {
                    let k = inputs
                        .credits
                        .get(&(key.clone(), *m))
                        .unwrap_or(&zero_credit);
                    row.insert(
                        format!("conversions_{}", m.as_str()),
                        ratio(
                            i128::from(k.conversion_micros),
                            i128::from(CONVERSION_UNIT),
                            2,
                        ),
                    );
                    row.insert(
                        format!("revenue_{}", m.as_str()),
                        json!(money(k.revenue_minor, cur)),
                    );
                }
            }
        }
        let e = inputs.engagement.get(key).unwrap_or(&zero_engagement);
        row.extend(e.columns().map(|(k, v)| (k.to_owned(), v)));
        rows.push(row);
    }
    // Totals over every group.
    let mut total_clicks = ClickAgg::default();
    for c in inputs.clicks.values() {
        total_clicks.clicks += c.clicks;
        total_clicks.unique_clicks += c.unique_clicks;
        total_clicks.bot_clicks += c.bot_clicks;
    }
    let mut totals = Map::new();
    match p.model {
        ModelChoice::One(m) => {
            let mut k = CreditAgg::default();
            inputs
                .credits
                .iter()
                .filter(|((_, mm), _)| *mm == m)
                .for_each(|(_, v)| k.add(v));
            metrics(&total_clicks, &k, Some(inputs.total_cost), cur, &mut totals);
        }
        ModelChoice::All => {
            totals.insert("clicks".into(), json!(total_clicks.clicks));
            totals.insert("unique_clicks".into(), json!(total_clicks.unique_clicks));
            totals.insert("bot_clicks".into(), json!(total_clicks.bot_clicks));
            totals.insert("cost".into(), json!(money(inputs.total_cost, cur)));
            for m in &models {
                let mut k = CreditAgg::default();
                inputs
                    .credits
                    .iter()
                    .filter(|((_, mm), _)| mm == m)
                    .for_each(|(_, v)| k.add(v));
                totals.insert(
                    format!("conversions_{}", m.as_str()),
                    ratio(
                        i128::from(k.conversion_micros),
                        i128::from(CONVERSION_UNIT),
                        2,
                    ),
                );
                totals.insert(
                    format!("revenue_{}", m.as_str()),
                    json!(money(k.revenue_minor, cur)),
                );
            }
        }
    }
    let mut all_engagement = EngagementAgg::default();
    inputs
        .engagement
        .values()
        .for_each(|e| all_engagement.add(e));
    totals.extend(all_engagement.columns().map(|(k, v)| (k.to_owned(), v)));
    let mut columns: Vec<String> = p.group_by.iter().map(|d| d.as_str().to_owned()).collect();
    match p.model {
        ModelChoice::One(_) => columns.extend(METRIC_COLUMNS.iter().map(|c| c.to_string())),
        ModelChoice::All => {
            columns.extend(["clicks", "unique_clicks", "bot_clicks", "cost"].map(String::from));
            for m in &models {
                columns.push(format!("conversions_{}", m.as_str()));
                columns.push(format!("revenue_{}", m.as_str()));
            }
        }
    }
    columns.extend(storefront::COLUMNS.iter().map(|c| c.to_string()));
    Report {
        rows,
        totals,
        columns,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::attribution::models::Model;
    use crate::base::time::DAY;
    use crate::reporting::report::dim::tests::TODAY;

    /// The reporting currency of the tests (also `csv`'s).
    pub(in crate::reporting::report) fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn metrics_by_hand() {
        // Sarah: 40 unique clicks, 1.5 credited conversions worth 150.00,
        // cost 60.00 → ROI 1.5, ROAS 2.5, CPA 40.00, AOV 100.00, rate 0.0375.
        let key: Key = vec![Some("sarah".into())];
        let mut inputs = Inputs::default();
        inputs.clicks.insert(
            key.clone(),
            ClickAgg {
                clicks: 50,
                unique_clicks: 40,
                bot_clicks: 7,
            },
        );
        inputs.credits.insert(
            (key.clone(), Model::Linear),
            CreditAgg {
                conversion_micros: 1_500_000,
                revenue_minor: 15_000,
                assisted_conversions: 1,
                assisted_revenue: 9_000,
                days_to_convert_ms: 3 * DAY,
            },
        );
        inputs.costs.insert(key.clone(), 6_000);
        inputs.total_cost = 6_000;
        // 20 visits with 50 page views, 10 with a product view, 5 with a
        // cart; carts 1 min, 2 min and 30 s after their clicks.
        inputs.engagement.insert(
            key.clone(),
            EngagementAgg {
                visits: 20,
                page_views: 50,
                product_view_visits: 10,
                cart_visits: 5,
                click_to_cart_ms: vec![60_000, 120_000, 30_000],
            },
        );
        let p = ReportParams::from_query("group_by=influencer", TODAY).unwrap();
        let r = build(&p, &inputs, usd());
        let row = Value::Object(r.rows[0].clone());
        assert_eq!(
            row,
            json!({"influencer": "sarah", "clicks": 50, "unique_clicks": 40, "bot_clicks": 7, "conversions": 1.5,
                   "revenue": "150.00", "cost": "60.00", "roi": 1.5, "roas": 2.5, "cpa": "40.00", "aov": "100.00",
                   "conversion_rate": 0.0375, "assisted_conversions": 1, "assisted_revenue": "90.00", "avg_days_to_convert": 2.0,
                   "visits": 20, "pages_per_visit": 2.5, "product_view_rate": 0.5, "add_to_cart_rate": 0.25,
                   "median_seconds_to_cart": 60.0})
        );
        assert_eq!(r.totals["revenue"], "150.00");
        assert_eq!(r.totals["visits"], 20);
        assert_eq!(
            r.columns.last().map(String::as_str),
            Some("median_seconds_to_cart")
        );
        // No cost: ROI and ROAS have no divisor (null); CPA is 0.00.
        inputs.costs.clear();
        inputs.total_cost = 0;
        let r = build(&p, &inputs, usd());
        assert_eq!(
            (r.rows[0]["roi"].clone(), r.rows[0]["cpa"].clone()),
            (Value::Null, json!("0.00"))
        );
        // Not splittable by costs: cost is null per row, totals keep it.
        let p = ReportParams::from_query("group_by=app", TODAY).unwrap();
        assert_eq!(build(&p, &inputs, usd()).rows[0]["cost"], Value::Null);
    }
}
