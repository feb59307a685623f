//! `Money`: an amount in integer minor units of an ISO 4217 currency.
//!
//! Amounts arrive as decimal strings or JSON numbers in major units
//! (`"19.99"`, `19.99`, `"1200"`) and are converted exactly, digit by digit:
//! no float is ever computed or stored. More fraction digits than the
//! currency has (`19.999` USD) are refused rather than rounded.

use crate::base::error::ParseError;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// An ISO 4217 code: three upper-case letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(s: &str) -> Result<Currency, ParseError> {
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(ParseError::new(
                "invalid_currency",
                "currency must be an ISO 4217 code: three upper-case letters such as USD",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point (ISO 4217 minor unit).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            "CLF" | "UYW" => 4,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-negative amount in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Parses a major-unit decimal (`"19.99"`, `"0"`, `"1200.5"`).
    pub fn parse(amount: &str, currency: Currency) -> Result<Money, ParseError> {
        let s = amount.trim();
        if s.starts_with('-') {
            return Err(ParseError::new("negative", "amount must not be negative"));
        }
        let s = s.strip_prefix('+').unwrap_or(s);
        let invalid = || {
            ParseError::new(
                "invalid_amount",
                "amount must be a decimal number such as 19.99",
            )
        };
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(invalid());
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let exp = currency.exponent() as usize;
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > exp {
            return Err(ParseError::new(
                "too_precise",
                format!("{currency} has {exp} decimal places; {s} has more"),
            ));
        }
        let mut minor: i64 = 0;
        let too_big = || ParseError::new("too_large", "amount is too large");
        for b in int.bytes().chain(frac_trimmed.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(too_big)?;
        }
        for _ in frac_trimmed.len()..exp {
            minor = minor.checked_mul(10).ok_or_else(too_big)?;
        }
        Ok(Money { minor, currency })
    }

    /// The major-unit decimal string (`1999` USD is `"19.99"`).
    pub fn major(&self) -> String {
        let exp = self.currency.exponent();
        if exp == 0 {
            return self.minor.to_string();
        }
        let div = 10i64.pow(exp);
        format!(
            "{}.{:0width$}",
            self.minor / div,
            self.minor % div,
            width = exp as usize
        )
    }
}

/// An amount given in JSON (`revenue`, a cost, a fee): a decimal string or
/// a JSON number in major units, at least 0.
pub fn parse_amount(v: &Value, currency: Currency) -> Result<Money, ParseError> {
    match v {
        Value::String(s) => Money::parse(s, currency),
        // serde_json (with `arbitrary_precision`) keeps the number's exact
        // text as sent; it is parsed digit by digit, never as a float, so
        // `19.9999999999999999` is too precise rather than 20, and `1e309`
        // an invalid amount rather than a malformed body.
        Value::Number(n) => Money::parse(&n.to_string(), currency),
        _ => Err(ParseError::new(
            "invalid_type",
            "revenue must be a decimal string or number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(amount: &str, currency: &str, expected: Result<i64, &str>) {
        let got = Money::parse(amount, Currency::parse(currency).unwrap());
        assert_eq!(
            got.map(|m| m.minor).map_err(|e| e.code),
            expected,
            "{amount} {currency}"
        );
    }

    #[test]
    fn parse_table() {
        check("19.99", "USD", Ok(1999));
        check("19.9", "USD", Ok(1990));
        check("19", "USD", Ok(1900));
        check("19.", "USD", Ok(1900));
        check(".5", "EUR", Ok(50));
        check("0", "USD", Ok(0));
        check("19.990", "USD", Ok(1999));
        check("1200", "JPY", Ok(1200));
        check("1200.5", "JPY", Err("too_precise"));
        check("1.234", "KWD", Ok(1234));
        check("19.999", "USD", Err("too_precise"));
        check("-1", "USD", Err("negative"));
        check("abc", "USD", Err("invalid_amount"));
        check("1e3", "USD", Err("invalid_amount"));
        check("", "USD", Err("invalid_amount"));
        check(".", "USD", Err("invalid_amount"));
        check("99999999999999999999", "USD", Err("too_large"));
    }

    #[test]
    fn currencies() {
        assert!(Currency::parse("USD").is_ok());
        for bad in ["usd", "US", "USDD", "U$D", ""] {
            assert_eq!(
                Currency::parse(bad).unwrap_err().code,
                "invalid_currency",
                "{bad}"
            );
        }
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
    }

    proptest! {
        #[test]
        fn major_round_trips(minor in 0i64..1_000_000_000_000, cur in prop_oneof![Just("USD"), Just("JPY"), Just("KWD")]) {
            let c = Currency::parse(cur).unwrap();
            let m = Money { minor, currency: c };
            prop_assert_eq!(Money::parse(&m.major(), c), Ok(m));
        }
    }
}
