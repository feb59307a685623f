//! The reporting currency and exchange rates.
//!
//! Reports are in one currency (`REPORTING_CURRENCY`, USD by default).
//! Amounts in other currencies are converted with the rate valid on their
//! day (`PUT /api/v1/fx`); without a rate they are excluded and listed in
//! the quality report, never silently mixed. Rates are fixed point (×10⁹)
//! and conversion rounds half away from zero, in integers.

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::Currency;
use crate::base::time;
use serde_json::Value;
use std::collections::BTreeMap;

/// Fixed-point scale of rates.
pub const RATE_SCALE: i64 = 1_000_000_000;

/// Parses a positive decimal rate (`"1.0845"`, `0.92`) into ×10⁹ units.
pub fn parse_rate(v: &Value) -> Result<i64, ParseError> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => {
            return Err(ParseError::new(
                "invalid_type",
                "rate must be a decimal string or number",
            ))
        }
    };
    let invalid = || {
        ParseError::new(
            "invalid_rate",
            "rate must be a positive decimal with at most 9 decimals",
        )
    };
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 9
        || int.len() > 9
    {
        return Err(invalid());
    }
    let int: i64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| invalid())?
    };
    let mut f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| invalid())?
    };
    for _ in frac.len()..9 {
        f *= 10;
    }
    let rate = int * RATE_SCALE + f;
    if rate <= 0 {
        return Err(invalid());
    }
    Ok(rate)
}

/// Converts `amount` minor units of `from` into minor units of `to` at
/// `rate_nano` (units of `to` per unit of `from`, ×10⁹).
pub fn convert(amount: i64, from: Currency, to: Currency, rate_nano: i64) -> i64 {
    if from == to {
        return amount;
    }
    let num = i128::from(amount) * i128::from(rate_nano) * 10i128.pow(to.exponent());
    let den = i128::from(RATE_SCALE) * 10i128.pow(from.exponent());
    let q = num / den;
    let r = num % den;
    let q = if r * 2 >= den { q + 1 } else { q };
    q as i64
}

/// A validated `PUT /api/v1/fx` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRate {
    pub currency: Currency,
    pub rate_nano: i64,
    pub valid_day: i64,
}

impl NewRate {
    pub fn from_json(o: &JsonObject, reporting: Currency) -> Result<NewRate, ApiError> {
        o.deny_unknown(&["currency", "rate_to_reporting", "valid_from"])?;
        let currency = o.req("currency", Currency::parse)?;
        if currency == reporting {
            return Err(ParseError::new(
                "invalid_value",
                format!("{currency} is the reporting currency"),
            )
            .at("currency"));
        }
        let rate_nano = match o.value("rate_to_reporting") {
            Some(v) => parse_rate(v).map_err(|e| e.at("rate_to_reporting"))?,
            None => {
                return Err(ParseError::new("required", "rate_to_reporting is required")
                    .at("rate_to_reporting"))
            }
        };
        Ok(NewRate {
            currency,
            rate_nano,
            valid_day: o.req("valid_from", time::parse_date)?,
        })
    }
}

/// All known rates, to look up the one valid on a day.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    by_currency: BTreeMap<Currency, BTreeMap<i64, i64>>,
}

impl Rates {
    pub fn insert(&mut self, currency: Currency, valid_day: i64, rate_nano: i64) {
        self.by_currency
            .entry(currency)
            .or_default()
            .insert(valid_day, rate_nano);
    }

    /// The rate of `currency` on `day`: the latest with `valid_day <= day`.
    pub fn on(&self, currency: Currency, day: i64) -> Option<i64> {
        self.by_currency
            .get(&currency)?
            .range(..=day)
            .next_back()
            .map(|(_, r)| *r)
    }

    /// `amount` of `currency` on `day` in `reporting`, if a rate exists.
    pub fn to_reporting(
        &self,
        amount: i64,
        currency: Currency,
        day: i64,
        reporting: Currency,
    ) -> Option<i64> {
        if currency == reporting {
            return Some(amount);
        }
        self.on(currency, day)
            .map(|r| convert(amount, currency, reporting, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cur(s: &str) -> Currency {
        Currency::parse(s).unwrap()
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate(&json!("1.0845")), Ok(1_084_500_000));
        assert_eq!(parse_rate(&json!(0.92)), Ok(920_000_000));
        assert_eq!(parse_rate(&json!("150")), Ok(150 * RATE_SCALE));
        for bad in [
            json!("0"),
            json!("-1"),
            json!("1.0000000001"),
            json!("abc"),
            json!(true),
            // A JSON number is read from its text: no float rounds it to 1.
            serde_json::from_str("1.00000000000000001").unwrap(),
            serde_json::from_str("1e309").unwrap(),
        ] {
            assert!(parse_rate(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn conversion_rounds_half_away_from_zero() {
        // 10.00 EUR at 1.0845 = 10.845 USD → 10.85.
        assert_eq!(convert(1000, cur("EUR"), cur("USD"), 1_084_500_000), 1085);
        // 1000 JPY at 0.0067 = 6.70 USD.
        assert_eq!(convert(1000, cur("JPY"), cur("USD"), 6_700_000), 670);
        // 1.00 USD at 149.5 = 149.5 JPY → 150.
        assert_eq!(convert(100, cur("USD"), cur("JPY"), 149_500_000_000), 150);
        assert_eq!(convert(123, cur("USD"), cur("USD"), 1), 123);
    }

    #[test]
    fn rate_on_a_day() {
        let mut r = Rates::default();
        r.insert(cur("EUR"), 100, 1_100_000_000);
        r.insert(cur("EUR"), 200, 1_200_000_000);
        assert_eq!(r.on(cur("EUR"), 99), None);
        assert_eq!(r.on(cur("EUR"), 150), Some(1_100_000_000));
        assert_eq!(r.on(cur("EUR"), 200), Some(1_200_000_000));
        assert_eq!(
            r.to_reporting(1000, cur("EUR"), 250, cur("USD")),
            Some(1200)
        );
        assert_eq!(r.to_reporting(1000, cur("GBP"), 250, cur("USD")), None);
        assert_eq!(r.to_reporting(1000, cur("USD"), 0, cur("USD")), Some(1000));
    }
}
