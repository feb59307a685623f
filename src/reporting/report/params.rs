//! Report parameters: the model(s), the day range, the grouping and the
//! format of a report's query, and the day range of a rollup rebuild.

use super::dim::Dim;
use crate::attribution::models::Model;
use crate::base::error::{ApiError, ParseError};
use crate::base::time;
use url::form_urlencoded;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reporting::report::dim::tests::TODAY;

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
}
