//! Influencer payouts (`GET /api/v1/payouts?period=YYYY-MM&model=...`):
//! contract terms turned into line items per calendar month (UTC) under an
//! attribution model: the base fee (when the contract covers any of the
//! month), the bonus per credited conversion and the revenue share of
//! credited (net) revenue, each rounded half away from zero to the minor
//! unit.
//!
//! Closing a period freezes its lines. Late conversions and refunds change
//! a closed period's credits, never its lines: the difference between what
//! the period would pay now and what was frozen for it (including earlier
//! adjustments) becomes adjustment lines of the first open period, the
//! month after the last closed one.

use crate::base::error::{ApiError, ParseError};
use crate::base::time::{self, Millis, DAY};
use crate::roster::influencers::Contract;
use serde::Serialize;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub year: i64,
    pub month: u32,
}

impl Period {
    /// `YYYY-MM`.
    pub fn parse(s: &str) -> Result<Period, ParseError> {
        let bad = || ParseError::new("invalid_value", "period must be a month such as 2026-11");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let (year, month) = (
            y.parse::<i64>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        );
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) || year < 1970 {
            return Err(bad());
        }
        Ok(Period { year, month })
    }

    pub fn of_day(day: i64) -> Period {
        let (year, month, _) = time::civil_from_days(day);
        Period { year, month }
    }

    pub fn first_day(self) -> i64 {
        time::days_from_civil(self.year, self.month, 1)
    }

    pub fn next(self) -> Period {
        if self.month == 12 {
            Period {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Period {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// `[start, end)` in milliseconds.
    pub fn range(self) -> (Millis, Millis) {
        (self.first_day() * DAY, self.next().first_day() * DAY)
    }

    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// What an influencer earned on in a period under a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Earned {
    pub handle: String,
    /// Millionths of a credited conversion.
    pub conversion_micros: i64,
    /// Credited net revenue, reporting currency.
    pub revenue_minor: i64,
}

/// One line of a payout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub influencer: String,
    /// `base_fee`, `bonus`, `revenue_share`, or `adjustment:<kind>`.
    pub kind: String,
    /// For adjustments: the closed period they correct.
    pub for_period: Option<String>,
    pub amount_minor: i64,
}

fn div_round(n: i128, d: i128) -> i64 {
    let q = (n.abs() * 2 + d) / (2 * d);
    (if n < 0 { -q } else { q }) as i64
}

/// The lines of `period` from each influencer's contract and earnings
/// (influencers without a contract earn nothing). Zero lines are left out.
pub fn lines(period: Period, contracts: &[(String, Contract)], earned: &[Earned]) -> Vec<Line> {
    let (first, next) = (period.first_day(), period.next().first_day());
    let mut out = Vec::new();
    for (handle, c) in contracts {
        let active = c.start.is_none_or(|s| s < next) && c.end.is_none_or(|e| e >= first);
        if !active {
            continue;
        }
        let e = earned.iter().find(|e| &e.handle == handle);
        let micros = e.map_or(0, |e| e.conversion_micros);
        let revenue = e.map_or(0, |e| e.revenue_minor);
        let items = [
            ("base_fee", c.base_fee.as_ref().map_or(0, |m| m.minor)),
            (
                "bonus",
                c.bonus_per_conversion.as_ref().map_or(0, |m| {
                    div_round(i128::from(micros) * i128::from(m.minor), 1_000_000)
                }),
            ),
            (
                "revenue_share",
                c.revenue_share_bp.map_or(0, |bp| {
                    div_round(i128::from(revenue) * i128::from(bp), 10_000)
                }),
            ),
        ];
        for (kind, amount) in items {
            if amount != 0 {
                out.push(Line {
                    influencer: handle.clone(),
                    kind: kind.to_owned(),
                    for_period: None,
                    amount_minor: amount,
                });
            }
        }
    }
    out
}

/// The adjustments a closed period `for_period` needs now: what it would
/// pay (`now`) less what was frozen for it and already adjusted (`paid`:
/// its own lines and every adjustment line for it), per influencer and
/// kind.
pub fn adjustments(for_period: Period, now: &[Line], paid: &[Line]) -> Vec<Line> {
    let kind_of = |l: &Line| l.kind.trim_start_matches("adjustment:").to_owned();
    let mut keys: Vec<(String, String)> = now
        .iter()
        .chain(paid)
        .map(|l| (l.influencer.clone(), kind_of(l)))
        .collect();
    keys.sort();
    keys.dedup();
    let sum = |lines: &[Line], key: &(String, String)| -> i64 {
        lines
            .iter()
            .filter(|l| l.influencer == key.0 && kind_of(l) == key.1)
            .map(|l| l.amount_minor)
            .sum()
    };
    keys.into_iter()
        .filter_map(|key| {
            let diff = sum(now, &key) - sum(paid, &key);
            (diff != 0).then(|| Line {
                influencer: key.0,
                kind: format!("adjustment:{}", key.1),
                for_period: Some(for_period.label()),
                amount_minor: diff,
            })
        })
        .collect()
}

/// A period may be closed once it is over, and only after the last
/// closed one.
pub fn check_close(
    period: Period,
    last_closed: Option<Period>,
    today: i64,
) -> Result<(), ApiError> {
    if period.next().first_day() > today {
        return Err(
            ParseError::new("period_not_over", "a period can be closed once it is over")
                .at("period"),
        );
    }
    if last_closed.is_some_and(|l| period <= l) {
        return Err(ApiError::Conflict {
            code: "period_closed",
            message: format!("{} is closed; periods close in order", period.label()),
            field: Some("period".into()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::money::{Currency, Money};

    fn usd(minor: i64) -> Option<Money> {
        Some(Money {
            minor,
            currency: Currency::parse("USD").unwrap(),
        })
    }

    #[test]
    fn periods() {
        let p = Period::parse("2026-11").unwrap();
        assert_eq!(p.label(), "2026-11");
        assert_eq!(p.next().label(), "2026-12");
        assert_eq!(Period::parse("2026-12").unwrap().next().label(), "2027-01");
        assert_eq!(time::format_date(p.first_day()), "2026-11-01");
        assert_eq!(Period::of_day(p.first_day() + 29), p);
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "x"] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines_and_adjustments_to_the_cent() {
        let oct = Period::parse("2026-10").unwrap();
        let a = Contract {
            base_fee: usd(150_000),
            bonus_per_conversion: usd(250),
            revenue_share_bp: Some(1250),
            start: Some(Period::parse("2026-10").unwrap().first_day() + 20),
            end: None,
        };
        let ended = Contract {
            base_fee: usd(999),
            end: Some(oct.first_day() - 1),
            ..Contract::default()
        };
        let contracts = vec![("a".to_owned(), a), ("gone".to_owned(), ended)];
        let earned = [Earned {
            handle: "a".into(),
            conversion_micros: 1_500_000,
            revenue_minor: 14_003,
        }];
        let got = lines(oct, &contracts, &earned);
        let amounts: Vec<(&str, i64)> = got
            .iter()
            .map(|l| (l.kind.as_str(), l.amount_minor))
            .collect();
        // 1.5 × 2.50 = 3.75; 12.5% of 140.03 = 17.50375 → 17.50.
        assert_eq!(
            amounts,
            [
                ("base_fee", 150_000),
                ("bonus", 375),
                ("revenue_share", 1750)
            ]
        );

        // A late conversion: 2.5 conversions, 160.03 now.
        let later = [Earned {
            handle: "a".into(),
            conversion_micros: 2_500_000,
            revenue_minor: 16_003,
        }];
        let now = lines(oct, &contracts, &later);
        let adj = adjustments(oct, &now, &got);
        let amounts: Vec<(&str, i64)> = adj
            .iter()
            .map(|l| (l.kind.as_str(), l.amount_minor))
            .collect();
        assert_eq!(
            amounts,
            [("adjustment:bonus", 250), ("adjustment:revenue_share", 250)]
        );
        assert!(adj
            .iter()
            .all(|l| l.for_period.as_deref() == Some("2026-10")));
        // Once carried, nothing more; a refund then adjusts downwards.
        let paid: Vec<Line> = got.iter().chain(&adj).cloned().collect();
        assert!(adjustments(oct, &now, &paid).is_empty());
        let refunded = lines(oct, &contracts, &earned);
        let back = adjustments(oct, &refunded, &paid);
        assert_eq!(
            back.iter().map(|l| l.amount_minor).collect::<Vec<_>>(),
            [-250, -250]
        );
    }

    #[test]
    fn closing_rules() {
        let oct = Period::parse("2026-10").unwrap();
        let nov_29 = time::days_from_civil(2026, 11, 29);
        assert!(check_close(oct, None, nov_29).is_ok());
        assert_eq!(
            check_close(oct.next(), None, nov_29).unwrap_err().code(),
            "period_not_over"
        );
        assert_eq!(
            check_close(oct, Some(oct), nov_29).unwrap_err().code(),
            "period_closed"
        );
    }
}
