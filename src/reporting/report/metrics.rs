//! The metric columns of one group under one model (clicks, conversions,
//! revenue, cost, ROI, ROAS, CPA, AOV, rates), computed in integers where
//! money is involved, and money formatting.

use super::aggregates::{ClickAgg, CreditAgg};
use crate::attribution::models::CONVERSION_UNIT;
use crate::base::decimal::ratio;
use crate::base::money::{Currency, Money};
use crate::base::time::DAY;
use serde_json::{json, Map, Value};

/// Formats minor units as a decimal string of the currency.
pub fn money(minor: i64, currency: Currency) -> String {
    let m = Money {
        minor: minor.abs(),
        currency,
    };
    if minor < 0 {
        format!("-{}", m.major())
    } else {
        m.major()
    }
}

/// The metric columns of one group under one model.
pub(super) fn metrics(
    c: &ClickAgg,
    k: &CreditAgg,
    cost: Option<i64>,
    cur: Currency,
    out: &mut Map<String, Value>,
) {
    let conversions_hundredths = ratio(
        i128::from(k.conversion_micros),
        i128::from(CONVERSION_UNIT),
        2,
    );
    out.insert("clicks".into(), json!(c.clicks));
    out.insert("unique_clicks".into(), json!(c.unique_clicks));
    out.insert("bot_clicks".into(), json!(c.bot_clicks));
    out.insert("conversions".into(), conversions_hundredths);
    out.insert("revenue".into(), json!(money(k.revenue_minor, cur)));
    out.insert(
        "cost".into(),
        cost.map_or(Value::Null, |c| json!(money(c, cur))),
    );
    let (rev, micros) = (i128::from(k.revenue_minor), i128::from(k.conversion_micros));
    let cost_i = cost.map(i128::from);
    out.insert(
        "roi".into(),
        cost_i.map_or(Value::Null, |c| ratio(rev - c, c, 4)),
    );
    out.insert(
        "roas".into(),
        cost_i.map_or(Value::Null, |c| ratio(rev, c, 4)),
    );
    // cost / conversions and revenue / conversions, in minor units.
    let per_conversion = |amount: i128| -> Value {
        if micros == 0 {
            return Value::Null;
        }
        let minor = ratio(amount * i128::from(CONVERSION_UNIT), micros, 0);
        minor
            .as_f64()
            .map_or(Value::Null, |m| json!(money(m as i64, cur)))
    };
    out.insert("cpa".into(), cost_i.map_or(Value::Null, per_conversion));
    out.insert("aov".into(), per_conversion(rev));
    out.insert(
        "conversion_rate".into(),
        ratio(
            micros,
            i128::from(c.unique_clicks) * i128::from(CONVERSION_UNIT),
            4,
        ),
    );
    out.insert("assisted_conversions".into(), json!(k.assisted_conversions));
    out.insert(
        "assisted_revenue".into(),
        json!(money(k.assisted_revenue, cur)),
    );
    out.insert(
        "avg_days_to_convert".into(),
        ratio(
            i128::from(k.days_to_convert_ms) * i128::from(CONVERSION_UNIT),
            micros * i128::from(DAY),
            2,
        ),
    );
}

/// The metric columns of a single-model report, in CSV order.
pub const METRIC_COLUMNS: [&str; 14] = [
    "clicks",
    "unique_clicks",
    "bot_clicks",
    "conversions",
    "revenue",
    "cost",
    "roi",
    "roas",
    "cpa",
    "aov",
    "conversion_rate",
    "assisted_conversions",
    "assisted_revenue",
    "avg_days_to_convert",
];
