//! Reports: credited revenue, cost and return by any grouping, under any
//! model — the marketer's answer to "which influencer moved sales?".
//!
//! The shell reads aggregated rollups (never raw clicks) grouped by the
//! requested dimensions; this module merges clicks, credits and costs by
//! group key, computes the metrics in integers where money is involved, and
//! renders JSON rows, totals, the model comparison and RFC 4180 CSV.

use crate::attribution::models::{Model, CONVERSION_UNIT};
use crate::base::decimal::ratio;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, DAY};
use crate::traffic::storefront::{self, EngagementAgg};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use url::form_urlencoded;

/// A report dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dim {
    Influencer,
    Campaign,
    Content,
    Platform,
    Link,
    App,
    Code,
    Channel,
    /// `link` or `qr`: how the credited click arrived.
    Trigger,
    /// The targeting rule that chose the click's destination.
    Rule,
    /// The A/B variant the click was given.
    Variant,
    /// The link's tags, as they are now: a link counts once under each of
    /// its tags, so rows may overlap (totals do not).
    Tag,
    /// The influencer's tier (from its follower count, as it is now).
    Tier,
    /// The link's content format (story, reel, ...).
    Format,
    /// The link's product category.
    ProductCategory,
    /// The Monday of the week the link's content was posted.
    PostedWeek,
    Day,
    Week,
    Month,
}

impl Dim {
    pub const ALL: [Dim; 19] = [
        Dim::Influencer,
        Dim::Campaign,
        Dim::Content,
        Dim::Platform,
        Dim::Link,
        Dim::App,
        Dim::Code,
        Dim::Channel,
        Dim::Trigger,
        Dim::Rule,
        Dim::Variant,
        Dim::Tag,
        Dim::Tier,
        Dim::Format,
        Dim::ProductCategory,
        Dim::PostedWeek,
        Dim::Day,
        Dim::Week,
        Dim::Month,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dim::Influencer => "influencer",
            Dim::Campaign => "campaign",
            Dim::Content => "content",
            Dim::Platform => "platform",
            Dim::Link => "link",
            Dim::App => "app",
            Dim::Code => "code",
            Dim::Channel => "channel",
            Dim::Trigger => "trigger",
            Dim::Rule => "rule",
            Dim::Variant => "variant",
            Dim::Tag => "tag",
            Dim::Tier => "tier",
            Dim::Format => "format",
            Dim::ProductCategory => "product_category",
            Dim::PostedWeek => "posted_week",
            Dim::Day => "day",
            Dim::Week => "week",
            Dim::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Whether costs (booked per influencer and campaign, on a date) can be
    /// broken down by this dimension.
    pub fn splits_costs(self) -> bool {
        matches!(
            self,
            Dim::Influencer | Dim::Campaign | Dim::Channel | Dim::Day | Dim::Week | Dim::Month
        )
    }

    /// Whether the dimension is a property of the link or influencer as it
    /// is now (read by joining the fine rollups), not of the click.
    pub fn is_attribute(self) -> bool {
        matches!(
            self,
            Dim::Tag | Dim::Tier | Dim::Format | Dim::ProductCategory | Dim::PostedWeek
        )
    }

    /// Whether the report's own time axis buckets this dimension.
    pub fn is_time(self) -> bool {
        matches!(self, Dim::Day | Dim::Week | Dim::Month)
    }

    /// The day-bucket label of a day number, for the time dimensions.
    pub fn bucket(self, day: i64) -> Option<String> {
        match self {
            Dim::Day => Some(time::format_date(day)),
            // ISO weeks start on Monday; 1970-01-01 was a Thursday.
            Dim::Week | Dim::PostedWeek => Some(time::format_date(day - (day + 3).rem_euclid(7))),
            Dim::Month => Some(time::format_date(day)[..7].to_owned()),
            _ => None,
        }
    }
}

/// Which model(s) a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelChoice {
    One(Model),
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// Validated report parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    pub model: ModelChoice,
    /// Inclusive day numbers.
    pub from_day: i64,
    pub to_day: i64,
    pub group_by: Vec<Dim>,
    pub format: Format,
}

impl ReportParams {
    /// Parses `model`, `from`, `to`, `group_by` (comma-separated or
    /// repeated) and `format`. Defaults: `linear`, the last 30 days to
    /// `today`, by influencer, JSON.
    pub fn from_query(query: &str, today: i64) -> Result<ReportParams, ApiError> {
        let mut p = ReportParams {
            model: ModelChoice::One(Model::Linear),
            from_day: today - 29,
            to_day: today,
            group_by: Vec::new(),
            format: Format::Json,
        };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "model" => {
                    p.model = match v.as_ref() {
                        "all" => ModelChoice::All,
                        m => ModelChoice::One(Model::parse(m).ok_or_else(|| {
                            ParseError::new(
                                "invalid_value",
                                "model must be first_touch, last_touch, linear, time_decay, position_based, data_driven or all",
                            )
                            .at("model")
                        })?),
                    }
                }
                "from" => p.from_day = time::parse_date(&v).map_err(|e| e.at("from"))?,
                "to" => p.to_day = time::parse_date(&v).map_err(|e| e.at("to"))?,
                "group_by" => {
                    for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let d = Dim::parse(part).ok_or_else(|| {
                            let all: Vec<&str> = Dim::ALL.iter().map(|d| d.as_str()).collect();
                            ParseError::new("invalid_value", format!("group_by takes {}", all.join(", "))).at("group_by")
                        })?;
                        if !p.group_by.contains(&d) {
                            p.group_by.push(d);
                        }
                    }
                }
                "format" => {
                    p.format = match v.as_ref() {
                        "json" => Format::Json,
                        "csv" => Format::Csv,
                        _ => return Err(ParseError::new("invalid_value", "format must be json or csv").at("format")),
                    }
                }
                _ => {}
            }
        }
        if p.group_by.is_empty() {
            p.group_by.push(Dim::Influencer);
        }
        if p.from_day > p.to_day {
            return Err(ParseError::new("invalid_range", "from must not be after to").at("from"));
        }
        if p.to_day - p.from_day > MAX_RANGE_DAYS {
            return Err(
                ParseError::new("invalid_range", "a report covers at most 10 years").at("from"),
            );
        }
        Ok(p)
    }

    pub fn models(&self) -> Vec<Model> {
        match self.model {
            ModelChoice::One(m) => vec![m],
            ModelChoice::All => Model::ALL.to_vec(),
        }
    }

    pub fn costs_split(&self) -> bool {
        self.group_by.iter().all(|d| d.splits_costs())
    }
}

/// The longest range a report (or a rollup rebuild) covers, in days.
pub const MAX_RANGE_DAYS: i64 = 3660;

/// The days `POST /api/v1/attribution/rollups` rebuilds: `from` and `to`
/// (dates, each optional) of the query; other parameters are ignored, as in
/// reports. Parsed before anything is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RollupRange {
    pub from_day: Option<i64>,
    pub to_day: Option<i64>,
}

impl RollupRange {
    pub fn from_query(query: &str) -> Result<RollupRange, ApiError> {
        let mut r = RollupRange {
            from_day: None,
            to_day: None,
        };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "from" => r.from_day = Some(time::parse_date(&v).map_err(|e| e.at("from"))?),
                "to" => r.to_day = Some(time::parse_date(&v).map_err(|e| e.at("to"))?),
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (r.from_day, r.to_day) {
            Self::check(from, to)?;
        }
        Ok(r)
    }

    /// The inclusive days to rebuild, given the first and last day with data
    /// (the defaults of a missing `from` / `to`); `None`: nothing to do. A
    /// range given (in part) by the caller is at most [`MAX_RANGE_DAYS`].
    pub fn days(&self, data: (Option<i64>, Option<i64>)) -> Result<Option<(i64, i64)>, ApiError> {
        let lo = self.from_day.or(data.0);
        let hi = self.to_day.or(data.1);
        match (lo, hi) {
            (Some(lo), Some(hi)) => {
                if self.from_day.is_some() || self.to_day.is_some() {
                    Self::check(lo, hi)?;
                }
                Ok(Some((lo, hi)))
            }
            _ => Ok(None),
        }
    }

    fn check(from: i64, to: i64) -> Result<(), ApiError> {
        if from > to {
            return Err(ParseError::new("invalid_range", "from must not be after to").at("from"));
        }
        if to - from > MAX_RANGE_DAYS {
            return Err(ParseError::new(
                "invalid_range",
                format!("a rebuild covers at most {MAX_RANGE_DAYS} days"),
            )
            .at("from"));
        }
        Ok(())
    }
}

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

/// A computed report.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Map<String, Value>>,
    pub totals: Map<String, Value>,
    pub columns: Vec<String>,
}

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
fn metrics(
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

/// Builds the report from aggregated inputs.
pub fn build(p: &ReportParams, inputs: &Inputs, cur: Currency) -> Report {
    let models = p.models();
    let mut keys: Vec<&Key> = inputs
        .clicks
        .keys()
        .chain(inputs.credits.keys().map(|(k, _)| k))
        .chain(inputs.engagement.keys())
        .collect();
    crate::base::sorting::sort(&mut keys);
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

/// One CSV field, quoted when it must be (RFC 4180).
fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The rows as RFC 4180 CSV with a header row and CRLF line ends.
pub fn to_csv(r: &Report) -> String {
    let mut out = String::new();
    out.push_str(
        &r.columns
            .iter()
            .map(|c| csv_field(&json!(c)))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    for row in &r.rows {
        let line: Vec<String> = r
            .columns
            .iter()
            .map(|c| csv_field(row.get(c).unwrap_or(&Value::Null)))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    const TODAY: i64 = 20_786; // 2026-11-29

    #[test]
    fn rollup_ranges() {
        let r = |q: &str| RollupRange::from_query(q);
        let err = |q: &str| {
            let e = r(q).unwrap_err();
            (e.code(), e.field().map(str::to_owned))
        };
        let data = (Some(TODAY - 10), Some(TODAY));
        assert_eq!(
            r("").unwrap().days(data),
            Ok(Some(data).map(|(a, b)| (a.unwrap(), b.unwrap())))
        );
        assert_eq!(r("").unwrap().days((None, None)), Ok(None));
        assert_eq!(
            r("from=2026-11-28&x=1&foo=bar").unwrap().days(data),
            Ok(Some((TODAY - 1, TODAY)))
        );
        assert_eq!(
            err("foo=1&from=soon"),
            ("invalid_date", Some("from".into()))
        );
        assert_eq!(err("to=2026-13-01"), ("invalid_date", Some("to".into())));
        assert_eq!(
            err("from=2026-11-29&to=2026-11-28"),
            ("invalid_range", Some("from".into()))
        );
        assert_eq!(
            err("from=1970-01-01&to=2026-11-29"),
            ("invalid_range", Some("from".into()))
        );
        // One bound given, the other from the data: still bounded.
        let e = r("from=1970-01-01").unwrap().days(data).unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_range", Some("from")));
    }

    #[test]
    fn params() {
        let p = ReportParams::from_query("", TODAY).unwrap();
        assert_eq!(
            (p.model, p.from_day, p.to_day, p.group_by.clone()),
            (
                ModelChoice::One(Model::Linear),
                TODAY - 29,
                TODAY,
                vec![Dim::Influencer]
            )
        );
        let p = ReportParams::from_query("model=all&from=2026-11-01&to=2026-11-29&group_by=influencer,week&group_by=app&format=csv", TODAY).unwrap();
        assert_eq!(
            (p.model, p.from_day, p.group_by.clone(), p.format),
            (
                ModelChoice::All,
                20_758,
                vec![Dim::Influencer, Dim::Week, Dim::App],
                Format::Csv
            )
        );
        assert!(!p.costs_split());
        for (q, field) in [
            ("model=best", "model"),
            ("from=x", "from"),
            ("group_by=followers", "group_by"),
            ("format=xml", "format"),
            ("from=2026-11-29&to=2026-11-01", "from"),
        ] {
            assert_eq!(
                ReportParams::from_query(q, TODAY).unwrap_err().field(),
                Some(field),
                "{q}"
            );
        }
    }

    #[test]
    fn buckets() {
        assert_eq!(
            Dim::Week.bucket(TODAY),
            Some("2026-11-23".into()),
            "the Monday"
        );
        assert_eq!(Dim::Week.bucket(TODAY - 6), Some("2026-11-23".into()));
        assert_eq!(Dim::Month.bucket(TODAY), Some("2026-11".into()));
        assert_eq!(Dim::Day.bucket(0), Some("1970-01-01".into()));
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

    #[test]
    fn csv_quotes_and_header() {
        let key: Key = vec![Some("a,\"b\"".into())];
        let mut inputs = Inputs::default();
        inputs.clicks.insert(
            key,
            ClickAgg {
                clicks: 1,
                unique_clicks: 1,
                bot_clicks: 0,
            },
        );
        let p = ReportParams::from_query("group_by=content", TODAY).unwrap();
        let csv = to_csv(&build(&p, &inputs, usd()));
        let mut lines = csv.split("\r\n");
        assert!(lines.next().unwrap().starts_with("content,"));
        assert!(lines.next().unwrap().starts_with("\"a,\"\"b\"\"\",1,1,0,"));
    }
}

/// Influencers need at least this many unique clicks to be tiered.
pub const MIN_SAMPLE_UNIQUE_CLICKS: i64 = 20;

/// One influencer's numbers, for the ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankInput {
    pub influencer: String,
    pub unique_clicks: i64,
    pub revenue_minor: i64,
    pub cost_minor: i64,
}

/// Where an influencer stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub influencer: String,
    /// 1-based, by ROI, among tiered influencers.
    pub rank: Option<usize>,
    /// 1, 2 or 3 by ROI tercile; `None` below the minimum sample or
    /// without cost (no ROI).
    pub tier: Option<u8>,
    /// (revenue − cost) / cost, in ten-thousandths.
    pub roi_bp: Option<i64>,
    pub reason: Option<&'static str>,
}

/// Ranks influencers by ROI and tiers them by tercile. Ties rank by
/// handle. Tier sizes: the first ⌈n/3⌉ are tier 1, the next ⌈(n−t₁)/2⌉
/// tier 2, the rest tier 3.
pub fn rank(inputs: &[RankInput], min_sample: i64) -> Vec<Ranked> {
    let roi_bp = |i: &RankInput| -> Option<i64> {
        (i.cost_minor > 0).then(|| {
            let n = (i128::from(i.revenue_minor) - i128::from(i.cost_minor)) * 10_000;
            let d = i128::from(i.cost_minor);
            let (q, r) = (n / d, n % d);
            (if (r * 2).abs() >= d {
                q + n.signum()
            } else {
                q
            }) as i64
        })
    };
    let mut eligible: Vec<(&RankInput, i64)> = inputs
        .iter()
        .filter(|i| i.unique_clicks >= min_sample)
        .filter_map(|i| roi_bp(i).map(|r| (i, r)))
        .collect();
    crate::base::sorting::sort_by(&mut eligible, |a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.influencer.cmp(&b.0.influencer))
    });
    let n = eligible.len();
    let t1 = n.div_ceil(3);
    let t2 = (n - t1).div_ceil(2);
    let mut out: Vec<Ranked> = eligible
        .iter()
        .enumerate()
        .map(|(i, (inp, r))| Ranked {
            influencer: inp.influencer.clone(),
            rank: Some(i + 1),
            tier: Some(if i < t1 {
                1
            } else if i < t1 + t2 {
                2
            } else {
                3
            }),
            roi_bp: Some(*r),
            reason: None,
        })
        .collect();
    let mut rest: Vec<Ranked> = inputs
        .iter()
        .filter(|i| !out.iter().any(|o| o.influencer == i.influencer))
        .map(|i| Ranked {
            influencer: i.influencer.clone(),
            rank: None,
            tier: None,
            roi_bp: roi_bp(i),
            reason: Some(if i.unique_clicks < min_sample {
                "below_minimum_sample"
            } else {
                "no_cost"
            }),
        })
        .collect();
    crate::base::sorting::sort_by(&mut rest, |a, b| a.influencer.cmp(&b.influencer));
    out.extend(rest);
    out
}

#[cfg(test)]
mod ranking_tests {
    use super::*;

    fn input(h: &str, unique: i64, revenue: i64, cost: i64) -> RankInput {
        RankInput {
            influencer: h.into(),
            unique_clicks: unique,
            revenue_minor: revenue,
            cost_minor: cost,
        }
    }

    #[test]
    fn terciles_and_minimum_sample() {
        let r = rank(
            &[
                input("a", 100, 30_000, 10_000), // ROI 2.0
                input("b", 100, 20_000, 10_000), // 1.0
                input("c", 100, 15_000, 10_000), // 0.5
                input("d", 100, 10_000, 10_000), // 0.0
                input("e", 100, 5_000, 10_000),  // -0.5
                input("f", 5, 90_000, 10_000),   // too few clicks
                input("g", 100, 9_000, 0),       // no cost
            ],
            MIN_SAMPLE_UNIQUE_CLICKS,
        );
        type Standing<'a> = (&'a str, Option<usize>, Option<u8>, Option<i64>);
        let got: Vec<Standing> = r
            .iter()
            .map(|x| (x.influencer.as_str(), x.rank, x.tier, x.roi_bp))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a", Some(1), Some(1), Some(20_000)),
                ("b", Some(2), Some(1), Some(10_000)),
                ("c", Some(3), Some(2), Some(5_000)),
                ("d", Some(4), Some(2), Some(0)),
                ("e", Some(5), Some(3), Some(-5_000)),
                ("f", None, None, Some(80_000)),
                ("g", None, None, None),
            ]
        );
        assert_eq!(
            (r[5].reason, r[6].reason),
            (Some("below_minimum_sample"), Some("no_cost"))
        );
    }
}
