//! Customer lifetime value by acquisition source
//! (`GET /api/v1/reports/ltv`).
//!
//! A customer (their `customer_id`, else their email's hash, else their
//! visitor id) is acquired by the attribution of their first order under
//! the chosen model (first touch by default): with linear credit, a
//! customer acquired by two influencers counts half for each. For each
//! acquisition group the report gives customers acquired, the share who
//! bought again, orders per customer and (net) revenue per customer within
//! the horizon after the first order. Only customers whose horizon has
//! fully elapsed count, so a young cohort never looks worse than it is;
//! the response says which first orders qualified. Every group is compared
//! with the customers the non-influencer channels brought.

use crate::attribution::models::Model;
use crate::base::decimal::ratio;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis, DAY};
use serde_json::{json, Map, Value};
use url::form_urlencoded;

/// What the groups are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LtvGroup {
    Influencer,
    Campaign,
    Channel,
    Tier,
}

impl LtvGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            LtvGroup::Influencer => "influencer",
            LtvGroup::Campaign => "campaign",
            LtvGroup::Channel => "channel",
            LtvGroup::Tier => "tier",
        }
    }
}

/// The horizons a report may ask for, in days.
pub const HORIZONS: [i64; 4] = [30, 90, 180, 365];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LtvParams {
    pub group: LtvGroup,
    pub horizon_days: i64,
    pub model: Model,
}

impl LtvParams {
    /// `group_by` (influencer, campaign, channel, tier; default influencer),
    /// `horizon` (30, 90, 180 or 365 days; default 90), `model` (default
    /// first_touch).
    pub fn from_query(query: &str) -> Result<LtvParams, ApiError> {
        let mut p = LtvParams {
            group: LtvGroup::Influencer,
            horizon_days: 90,
            model: Model::FirstTouch,
        };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "group_by" => {
                    p.group = match v.as_ref() {
                        "influencer" => LtvGroup::Influencer,
                        "campaign" => LtvGroup::Campaign,
                        "channel" => LtvGroup::Channel,
                        "tier" => LtvGroup::Tier,
                        _ => {
                            return Err(ParseError::new(
                                "invalid_value",
                                "group_by must be influencer, campaign, channel or tier",
                            )
                            .at("group_by"))
                        }
                    }
                }
                "horizon" => {
                    p.horizon_days = v
                        .parse::<i64>()
                        .ok()
                        .filter(|h| HORIZONS.contains(h))
                        .ok_or_else(|| {
                            ParseError::new(
                                "invalid_value",
                                "horizon must be 30, 90, 180 or 365 (days)",
                            )
                            .at("horizon")
                        })?
                }
                "model" => {
                    p.model = Model::parse(&v).ok_or_else(|| {
                        ParseError::new("invalid_value", "model must be one of the six models")
                            .at("model")
                    })?
                }
                _ => {}
            }
        }
        Ok(p)
    }

    /// The latest first order whose horizon has fully elapsed at `now`.
    pub fn cohort_end(&self, now: Millis) -> Millis {
        now - self.horizon_days * DAY
    }
}

/// One acquisition group's sums over its customers' shares (millionths of
/// a customer): the share, the share that bought again, orders and
/// revenue (minor units, reporting currency) weighted by the share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupSums {
    /// The group's key; `None` for no value (e.g. no influencer).
    pub key: Option<String>,
    /// The credited channel (`influencer`, `email`, ...).
    pub channel: String,
    pub customers_micros: i64,
    pub repeat_micros: i64,
    pub orders_micros: i64,
    /// Σ share × revenue, in millionths of a minor unit.
    pub revenue_micros: i128,
}

fn metrics(s: &GroupSums, currency: Currency) -> Map<String, Value> {
    let c = i128::from(s.customers_micros);
    let mut m = Map::new();
    m.insert("customers".into(), ratio(c, 1_000_000, 2));
    m.insert(
        "repeat_purchase_rate".into(),
        ratio(i128::from(s.repeat_micros), c, 4),
    );
    m.insert(
        "orders_per_customer".into(),
        ratio(i128::from(s.orders_micros), c, 2),
    );
    let per_customer = if c == 0 {
        Value::Null
    } else {
        // Half away from zero, to the minor unit.
        let minor = (s.revenue_micros * 2 + c) / (2 * c);
        json!(Money {
            minor: minor as i64,
            currency
        }
        .major())
    };
    m.insert("revenue_per_customer".into(), per_customer);
    m
}

/// The response: a row per group (largest revenue per customer first),
/// the non-influencer baseline, and each row's revenue per customer
/// against it.
pub fn build(p: &LtvParams, sums: &[GroupSums], now: Millis, currency: Currency) -> Value {
    let baseline = sums.iter().filter(|s| s.channel != "influencer").fold(
        GroupSums::default(),
        |mut acc, s| {
            acc.customers_micros += s.customers_micros;
            acc.repeat_micros += s.repeat_micros;
            acc.orders_micros += s.orders_micros;
            acc.revenue_micros += s.revenue_micros;
            acc
        },
    );
    let base_rpc = (baseline.customers_micros > 0)
        .then(|| baseline.revenue_micros * 1_000_000 / i128::from(baseline.customers_micros));
    let mut rows: Vec<(i128, Map<String, Value>)> = sums
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert(p.group.as_str().into(), json!(s.key));
            if p.group != LtvGroup::Channel {
                m.insert("channel".into(), json!(s.channel));
            }
            m.extend(metrics(s, currency));
            let rpc = if s.customers_micros > 0 {
                s.revenue_micros * 1_000_000 / i128::from(s.customers_micros)
            } else {
                0
            };
            m.insert(
                "revenue_per_customer_vs_non_influencer".into(),
                base_rpc.map_or(Value::Null, |b| ratio(rpc, b, 2)),
            );
            (rpc, m)
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    json!({
        "model": p.model.as_str(),
        "group_by": p.group.as_str(),
        "horizon_days": p.horizon_days,
        "cohort": {
            "first_orders_through": time::format_rfc3339(p.cohort_end(now)),
            "rule": format!("only customers whose first order is at least {} days old count, so every customer had the whole horizon to buy again", p.horizon_days),
        },
        "currency": currency.as_str(),
        "rows": rows.into_iter().map(|r| Value::Object(r.1)).collect::<Vec<_>>(),
        "non_influencer": Value::Object(metrics(&baseline, currency)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let p = LtvParams::from_query("").unwrap();
        assert_eq!(
            (p.group, p.horizon_days, p.model),
            (LtvGroup::Influencer, 90, Model::FirstTouch)
        );
        let p = LtvParams::from_query("group_by=tier&horizon=365&model=linear").unwrap();
        assert_eq!(
            (p.group, p.horizon_days, p.model),
            (LtvGroup::Tier, 365, Model::Linear)
        );
        for (q, field) in [
            ("horizon=60", "horizon"),
            ("group_by=link", "group_by"),
            ("model=best", "model"),
        ] {
            assert_eq!(
                LtvParams::from_query(q).unwrap_err().field(),
                Some(field),
                "{q}"
            );
        }
        assert_eq!(p.cohort_end(400 * DAY), 35 * DAY);
    }

    #[test]
    fn groups_and_the_non_influencer_baseline() {
        let usd = Currency::parse("USD").unwrap();
        let p = LtvParams::from_query("horizon=90").unwrap();
        let g = |key: Option<&str>, channel: &str, c: i64, r: i64, o: i64, rev: i128| GroupSums {
            key: key.map(str::to_owned),
            channel: channel.into(),
            customers_micros: c,
            repeat_micros: r,
            orders_micros: o,
            revenue_micros: rev,
        };
        // A: two customers (one bought again), 230.00 between them; B: one
        // customer, two orders, 120.00; email: one customer, 40.00.
        let sums = [
            g(
                Some("a"),
                "influencer",
                2_000_000,
                1_000_000,
                3_000_000,
                23_000 * 1_000_000,
            ),
            g(
                Some("b"),
                "influencer",
                1_000_000,
                1_000_000,
                2_000_000,
                12_000 * 1_000_000,
            ),
            g(None, "email", 1_000_000, 0, 1_000_000, 4_000 * 1_000_000),
        ];
        let v = build(&p, &sums, 400 * DAY, usd);
        assert_eq!(
            v["rows"],
            json!([
                {"influencer": "b", "channel": "influencer", "customers": 1.0, "repeat_purchase_rate": 1.0,
                 "orders_per_customer": 2.0, "revenue_per_customer": "120.00", "revenue_per_customer_vs_non_influencer": 3.0},
                {"influencer": "a", "channel": "influencer", "customers": 2.0, "repeat_purchase_rate": 0.5,
                 "orders_per_customer": 1.5, "revenue_per_customer": "115.00", "revenue_per_customer_vs_non_influencer": 2.88},
                {"influencer": null, "channel": "email", "customers": 1.0, "repeat_purchase_rate": 0.0,
                 "orders_per_customer": 1.0, "revenue_per_customer": "40.00", "revenue_per_customer_vs_non_influencer": 1.0},
            ])
        );
        assert_eq!(v["non_influencer"]["revenue_per_customer"], "40.00");
        assert_eq!(
            v["cohort"]["first_orders_through"],
            "1970-11-07T00:00:00.000Z"
        );
    }
}
