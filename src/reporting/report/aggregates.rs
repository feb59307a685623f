//! The aggregates a report is built from: click counts, credit sums and
//! costs by group key, as the shell reads them from the rollups.

use crate::attribution::models::Model;
use crate::traffic::storefront::EngagementAgg;
use std::collections::BTreeMap;

/// A group key: one value per dimension (`None`: not applicable, e.g. the
/// influencer of an email touchpoint).
pub type Key = Vec<Option<String>>;

/// Click counts of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClickAgg {
    pub clicks: i64,
    pub unique_clicks: i64,
    pub bot_clicks: i64,
}

/// Credit sums of one group under one model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditAgg {
    pub conversion_micros: i64,
    pub revenue_minor: i64,
    pub assisted_conversions: i64,
    pub assisted_revenue: i64,
    /// Σ (conversion − touch) × conversion share, in milliseconds.
    pub days_to_convert_ms: i64,
}

impl CreditAgg {
    pub fn add(&mut self, o: &CreditAgg) {
        self.conversion_micros += o.conversion_micros;
        self.revenue_minor += o.revenue_minor;
        self.assisted_conversions += o.assisted_conversions;
        self.assisted_revenue += o.assisted_revenue;
        self.days_to_convert_ms += o.days_to_convert_ms;
    }
}

/// Everything the report is built from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub clicks: BTreeMap<Key, ClickAgg>,
    pub credits: BTreeMap<(Key, Model), CreditAgg>,
    pub costs: BTreeMap<Key, i64>,
    /// All costs of the range (for totals, whatever the grouping).
    pub total_cost: i64,
    /// Storefront engagement of the groups' clicks (leading indicators).
    pub engagement: BTreeMap<Key, EngagementAgg>,
}
