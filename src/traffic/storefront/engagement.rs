//! The leading indicators: an [`EngagementAgg`] sums one report group's
//! visits, and its [`EngagementAgg::columns`] are the report's engagement
//! columns ([`COLUMNS`]).

use crate::base::decimal::ratio;
use crate::base::time::{self, Millis};
use serde_json::{json, Value};

/// The names of [`EngagementAgg::columns`], in order.
pub const COLUMNS: [&str; 5] = [
    "visits",
    "pages_per_visit",
    "product_view_rate",
    "add_to_cart_rate",
    "median_seconds_to_cart",
];

/// Engagement sums of one report group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngagementAgg {
    pub visits: i64,
    pub page_views: i64,
    /// Visits with at least one `product_view`.
    pub product_view_visits: i64,
    /// Visits with at least one `add_to_cart`.
    pub cart_visits: i64,
    /// Per click: from the click to its visitor's first `add_to_cart`.
    pub click_to_cart_ms: Vec<Millis>,
}

impl EngagementAgg {
    pub fn add(&mut self, other: &EngagementAgg) {
        self.visits += other.visits;
        self.page_views += other.page_views;
        self.product_view_visits += other.product_view_visits;
        self.cart_visits += other.cart_visits;
        self.click_to_cart_ms
            .extend_from_slice(&other.click_to_cart_ms);
    }

    /// The report columns, named as in [`COLUMNS`]: ratios are `null`
    /// without visits, the median is `null` without carts.
    pub fn columns(&self) -> [(&'static str, Value); 5] {
        let visits = i128::from(self.visits);
        [
            (COLUMNS[0], json!(self.visits)),
            (COLUMNS[1], ratio(i128::from(self.page_views), visits, 2)),
            (
                COLUMNS[2],
                ratio(i128::from(self.product_view_visits), visits, 4),
            ),
            (COLUMNS[3], ratio(i128::from(self.cart_visits), visits, 4)),
            (COLUMNS[4], median_seconds(&self.click_to_cart_ms)),
        ]
    }
}

/// The median in seconds to one decimal (an even count takes the mean of
/// the two middle values); `null` when empty.
fn median_seconds(ms: &[Millis]) -> Value {
    if ms.is_empty() {
        return Value::Null;
    }
    let mut v = ms.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        ratio(i128::from(v[mid]), i128::from(time::SECOND), 1)
    } else {
        ratio(
            i128::from(v[mid - 1]) + i128::from(v[mid]),
            2 * i128::from(time::SECOND),
            1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_columns(agg: &EngagementAgg, expected: Value) {
        let got: serde_json::Map<String, Value> = agg
            .columns()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Value::Object(got), expected, "{agg:?}");
        let names: Vec<&str> = agg.columns().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, COLUMNS);
    }

    #[test]
    fn columns() {
        check_columns(
            &EngagementAgg::default(),
            json!({"visits": 0, "pages_per_visit": null, "product_view_rate": null,
                   "add_to_cart_rate": null, "median_seconds_to_cart": null}),
        );
        let a = EngagementAgg {
            visits: 3,
            page_views: 10,
            product_view_visits: 2,
            cart_visits: 1,
            click_to_cart_ms: vec![90_050, 10_000, 30_000],
        };
        check_columns(
            &a,
            json!({"visits": 3, "pages_per_visit": 3.33, "product_view_rate": 0.6667,
                   "add_to_cart_rate": 0.3333, "median_seconds_to_cart": 30.0}),
        );
        let mut sum = a.clone();
        sum.add(&EngagementAgg {
            visits: 5,
            page_views: 7,
            product_view_visits: 3,
            cart_visits: 2,
            click_to_cart_ms: vec![45_050],
        });
        // Median of 10 000, 30 000, 45 050, 90 050: (30 000 + 45 050) / 2 =
        // 37 525 ms, 37.5 s (half away from zero: 37.525 → 37.5).
        check_columns(
            &sum,
            json!({"visits": 8, "pages_per_visit": 2.13, "product_view_rate": 0.625,
                   "add_to_cart_rate": 0.375, "median_seconds_to_cart": 37.5}),
        );
        let even = EngagementAgg {
            visits: 1,
            click_to_cart_ms: vec![1_000, 2_100],
            ..EngagementAgg::default()
        };
        // (1 000 + 2 100) / 2 = 1 550 ms, 1.6 s.
        assert_eq!(even.columns()[4].1, json!(1.6));
    }
}
