//! The master spreadsheet (`GET /api/v1/export/links.csv`): one row per
//! link with its influencer's roster columns, the content piece, the exact
//! short and tracking URLs, status, the latest link check, and clicks,
//! unique clicks, credited conversions and revenue (last touch), cost and
//! ROI. The import columns come first and in the import's spelling, so the
//! file imports back as a no-op; the others are ignored by the import.

use crate::base::csv;
use crate::base::decimal::ratio;
use crate::base::money::{Currency, Money};
use crate::roster::import;

/// Every column, in order: the import's, then [`import::EXTRA`].
pub fn columns() -> Vec<&'static str> {
    import::COLUMNS
        .iter()
        .chain(import::EXTRA.iter())
        .copied()
        .collect()
}

/// One link's row: the text of every column but the metrics, which are
/// numbers (money in minor units of the reporting currency).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRow {
    /// The first 26 columns ([`columns`] up to `last_check`), as text.
    pub text: Vec<String>,
    pub clicks: i64,
    pub unique_clicks: i64,
    /// Millionths of a conversion (last touch).
    pub conversion_micros: i64,
    pub revenue_minor: i64,
    pub cost_minor: i64,
}

/// Spreads each cost over the links it belongs to: a cost of an
/// influencer and campaign over that influencer's links in the campaign, a
/// cost without a campaign over all the influencer's links; evenly, the
/// remainder cent by cent to the first links, so the parts add up to the
/// cost. `links` are `(handle, campaign)`; `costs` are
/// `(handle, campaign, minor)`. A cost whose links do not exist is left out.
pub fn allocate(links: &[(String, String)], costs: &[(String, Option<String>, i64)]) -> Vec<i64> {
    let mut out = vec![0i64; links.len()];
    for (handle, campaign, minor) in costs {
        let mine: Vec<usize> = links
            .iter()
            .enumerate()
            .filter(|(_, (h, c))| h == handle && campaign.as_ref().is_none_or(|k| k == c))
            .map(|(i, _)| i)
            .collect();
        let n = mine.len() as i64;
        if n == 0 {
            continue;
        }
        for (k, i) in mine.iter().enumerate() {
            out[*i] += minor / n + i64::from((k as i64) < minor % n);
        }
    }
    out
}

/// The CSV: a header row, then one row per link.
pub fn links_csv(rows: &[ExportRow], currency: Currency) -> String {
    let mut out = String::new();
    csv::write_row(&mut out, &columns());
    let money = |minor: i64| Money { minor, currency }.major();
    for r in rows {
        let roi = (r.cost_minor > 0).then(|| {
            ratio(
                i128::from(r.revenue_minor - r.cost_minor),
                i128::from(r.cost_minor),
                4,
            )
            .to_string()
        });
        let metrics = [
            r.clicks.to_string(),
            r.unique_clicks.to_string(),
            ratio(i128::from(r.conversion_micros), 1_000_000, 2).to_string(),
            money(r.revenue_minor),
            money(r.cost_minor),
            roi.unwrap_or_default(),
        ];
        let fields: Vec<&str> = r
            .text
            .iter()
            .map(String::as_str)
            .chain(metrics.iter().map(String::as_str))
            .collect();
        csv::write_row(&mut out, &fields);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_spread_over_the_links_they_belong_to() {
        let links: Vec<(String, String)> = [("a", "x"), ("a", "x"), ("a", "y"), ("b", "x")]
            .iter()
            .map(|(h, c)| (h.to_string(), c.to_string()))
            .collect();
        let check = |costs: &[(&str, Option<&str>, i64)], want: [i64; 4]| {
            let costs: Vec<_> = costs
                .iter()
                .map(|(h, c, m)| (h.to_string(), c.map(str::to_owned), *m))
                .collect();
            assert_eq!(allocate(&links, &costs), want, "{costs:?}");
        };
        check(&[("a", Some("x"), 1001)], [501, 500, 0, 0]);
        check(&[("a", None, 1000)], [334, 333, 333, 0]);
        check(&[("b", Some("x"), 7), ("a", Some("y"), 5)], [0, 0, 5, 7]);
        check(&[("c", None, 100), ("a", Some("z"), 100)], [0, 0, 0, 0]);
    }

    #[test]
    fn rows_end_with_metrics() {
        let usd = Currency::parse("USD").unwrap();
        let mut text = vec![String::new(); 26];
        text[0] = "mia".into();
        text[13] = "https://s.example/p?a=1,2".into();
        let row = ExportRow {
            text,
            clicks: 12,
            unique_clicks: 10,
            conversion_micros: 1_500_000,
            revenue_minor: 15_000,
            cost_minor: 10_000,
        };
        let out = links_csv(&[row], usd);
        let mut lines = out.split("\r\n");
        assert!(lines
            .next()
            .unwrap()
            .starts_with("handle,name,primary_platform,"));
        let line = lines.next().unwrap();
        assert!(line.starts_with("mia,"), "{line}");
        assert!(line.contains(",\"https://s.example/p?a=1,2\","), "{line}");
        assert!(line.ends_with(",12,10,1.5,150.00,100.00,0.5"), "{line}");
        assert_eq!(columns().len(), 26 + 6);
        assert_eq!(columns()[25], "last_check");
    }
}
