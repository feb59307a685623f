//! Conversions: validated input of the conversions API, the Shopify order
//! mapping, and the payload fingerprint that makes ingestion idempotent.
//!
//! The same `order_id` with the same payload is a retry (answered with the
//! original id); with a different payload it is a conflict. "Same payload"
//! means the same normalised fields, fingerprinted by [`NewConversion::fingerprint`].

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis, MINUTE};
use crate::traffic::ids::{ClickId, VisitorId};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How far in the future `occurred_at` may be (clock skew allowance).
pub const MAX_FUTURE: Millis = 5 * MINUTE;
pub const MAX_ID_LEN: usize = 128;
/// Most promo codes one conversion may carry.
pub const MAX_CODES: usize = 20;
/// Most conversions one batch may carry.
pub const MAX_BATCH: usize = 100;

/// Where a conversion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Api,
    Shopify,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Shopify => "shopify",
        }
    }
}

/// A validated conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversion {
    pub order_id: String,
    pub occurred_at: Millis,
    pub revenue: Money,
    pub click_id: Option<ClickId>,
    pub visitor_id: Option<VisitorId>,
    pub customer_id: Option<String>,
    /// Trimmed and upper-cased, without duplicates, in the order given.
    /// Registered or not: unknown codes are kept and reported.
    pub promo_codes: Vec<String>,
    pub email_sha256: Option<String>,
    pub source: Source,
}

/// An external id (order, customer): 1 to 128 printable characters. JSON
/// integers are accepted and kept as their decimal text.
pub fn parse_external_id(v: &Value, what: &str) -> Result<String, ParseError> {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        _ => {
            return Err(ParseError::new(
                "invalid_type",
                format!("{what} must be a string"),
            ))
        }
    };
    if s.is_empty() {
        return Err(ParseError::new(
            "empty",
            format!("{what} must not be empty"),
        ));
    }
    if s.chars().count() > MAX_ID_LEN {
        return Err(ParseError::new(
            "too_long",
            format!("{what} must be at most {MAX_ID_LEN} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ParseError::new(
            "invalid_format",
            format!("{what} must not contain control characters"),
        ));
    }
    Ok(s)
}

/// A promo code as seen on an order: trimmed, upper-case, at most 64
/// characters. Shops allow codes our own registry would refuse, so this is
/// deliberately looser than [`crate::links::code::PromoCode`].
pub fn normalise_order_code(s: &str) -> Result<String, ParseError> {
    let c = s.trim().to_uppercase();
    if c.is_empty() || c.chars().count() > 64 || c.chars().any(char::is_control) {
        return Err(ParseError::new(
            "invalid_value",
            "promo codes must be 1 to 64 printable characters",
        ));
    }
    Ok(c)
}

/// `occurred_at`: RFC 3339 or epoch milliseconds, not before 1970 (either
/// way) and at most 5 minutes ahead.
pub fn parse_occurred_at(v: &Value, now: Millis) -> Result<Millis, ParseError> {
    let t = match v {
        Value::String(s) => Some(time::parse_rfc3339(s)?)
            .filter(|t| *t >= 0)
            .ok_or_else(|| {
                ParseError::new("invalid_timestamp", "timestamps before 1970 are refused")
            })?,
        Value::Number(n) => n.as_i64().filter(|t| *t >= 0).ok_or_else(|| {
            ParseError::new(
                "invalid_timestamp",
                "epoch timestamps are whole, non-negative milliseconds",
            )
        })?,
        _ => {
            return Err(ParseError::new(
                "invalid_type",
                "occurred_at must be an RFC 3339 string or epoch milliseconds",
            ))
        }
    };
    if t > now + MAX_FUTURE {
        return Err(ParseError::new(
            "in_future",
            "occurred_at is more than 5 minutes in the future",
        ));
    }
    Ok(t)
}

fn parse_email_sha256(s: &str) -> Result<String, ParseError> {
    let s = s.trim().to_ascii_lowercase();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s)
    } else {
        Err(ParseError::new(
            "invalid_format",
            "email_sha256 must be 64 hexadecimal characters",
        ))
    }
}

impl NewConversion {
    pub const FIELDS: &'static [&'static str] = &[
        "order_id",
        "occurred_at",
        "revenue",
        "currency",
        "click_id",
        "visitor_id",
        "customer_id",
        "promo_codes",
        "email_sha256",
    ];

    /// Validates a conversions-API body received at `now`.
    pub fn from_json(o: &JsonObject, now: Millis) -> Result<NewConversion, ApiError> {
        o.deny_unknown(Self::FIELDS)?;
        let order_id = match o.value("order_id") {
            Some(v) => parse_external_id(v, "order_id").map_err(|e| e.at("order_id"))?,
            None => return Err(ParseError::new("required", "order_id is required").at("order_id")),
        };
        let occurred_at = match o.value("occurred_at") {
            Some(v) => parse_occurred_at(v, now).map_err(|e| e.at("occurred_at"))?,
            None => {
                return Err(ParseError::new("required", "occurred_at is required").at("occurred_at"))
            }
        };
        let currency = o.req("currency", Currency::parse)?;
        let revenue = match o.value("revenue") {
            Some(v) => {
                crate::base::money::parse_amount(v, currency).map_err(|e| e.at("revenue"))?
            }
            None => return Err(ParseError::new("required", "revenue is required").at("revenue")),
        };
        let customer_id = o
            .value("customer_id")
            .map(|v| parse_external_id(v, "customer_id"))
            .transpose()
            .map_err(|e| e.at("customer_id"))?;
        let mut promo_codes: Vec<String> = Vec::new();
        match o.value("promo_codes") {
            None => {}
            Some(Value::Array(items)) => {
                if items.len() > MAX_CODES {
                    return Err(ParseError::new(
                        "too_many",
                        format!("at most {MAX_CODES} promo codes"),
                    )
                    .at("promo_codes"));
                }
                for item in items {
                    let code = item
                        .as_str()
                        .ok_or_else(|| {
                            ParseError::new("invalid_type", "promo codes must be strings")
                        })
                        .and_then(normalise_order_code)
                        .map_err(|e| e.at("promo_codes"))?;
                    if !promo_codes.contains(&code) {
                        promo_codes.push(code);
                    }
                }
            }
            Some(_) => {
                return Err(ParseError::new(
                    "invalid_type",
                    "promo_codes must be an array of strings",
                )
                .at("promo_codes"))
            }
        }
        Ok(NewConversion {
            order_id,
            occurred_at,
            revenue,
            click_id: o.opt("click_id", ClickId::parse)?,
            visitor_id: o.opt("visitor_id", VisitorId::parse)?,
            customer_id,
            promo_codes,
            email_sha256: o.opt("email_sha256", parse_email_sha256)?,
            source: Source::Api,
        })
    }

    /// SHA-256 over the normalised payload: equal for a retry, different
    /// for any change of a stored field.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.order_id,
            self.occurred_at,
            self.revenue.minor,
            self.revenue.currency.as_str(),
            self.click_id.as_ref().map(ClickId::as_str),
            self.visitor_id.as_ref().map(VisitorId::as_str),
            self.customer_id,
            self.promo_codes,
            self.email_sha256,
        ]);
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// One result of a batch, in the order of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItem {
    pub index: usize,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_795_939_200_000; // 2026-11-29T08:00:00Z

    fn parse(json: &str) -> Result<NewConversion, ApiError> {
        NewConversion::from_json(&JsonObject::parse(json.as_bytes()).unwrap(), NOW)
    }

    fn check_error(json: &str, code: &str, field: &str) {
        let e = parse(json).unwrap_err();
        assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}");
    }

    const OK: &str = r#""order_id":"1001","occurred_at":"2026-11-29T07:00:00Z","revenue":"49.90","currency":"USD""#;

    #[test]
    fn valid_conversions() {
        let c = parse(&format!(
            r#"{{{OK},"click_id":"AAAAAAAAAAAAAAAAAAAAAA","customer_id":42,"promo_codes":["sarah20"," SARAH20 ","glow 10"],
                "email_sha256":"{}"}}"#,
            "A".repeat(64)
        ))
        .unwrap();
        assert_eq!(
            (c.order_id.as_str(), c.occurred_at, c.revenue.minor),
            ("1001", NOW - 3_600_000, 4990)
        );
        assert_eq!(c.customer_id.as_deref(), Some("42"));
        assert_eq!(
            c.promo_codes,
            vec!["SARAH20".to_owned(), "GLOW 10".to_owned()]
        );
        assert_eq!(c.email_sha256, Some("a".repeat(64)));
        let n =
            parse(r#"{"order_id":7,"occurred_at":1795939200000,"revenue":19.99,"currency":"EUR"}"#)
                .unwrap();
        assert_eq!((n.order_id.as_str(), n.revenue.minor), ("7", 1999));
    }

    #[test]
    fn field_errors() {
        check_error(
            r#"{"occurred_at":"2026-11-29T07:00:00Z","revenue":"1","currency":"USD"}"#,
            "required",
            "order_id",
        );
        check_error(
            &format!(
                r#"{{"order_id":"{}","occurred_at":1,"revenue":"1","currency":"USD"}}"#,
                "x".repeat(129)
            ),
            "too_long",
            "order_id",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":"yesterday","revenue":"1","currency":"USD"}"#,
            "invalid_timestamp",
            "occurred_at",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":"2026-11-29T08:06:00Z","revenue":"1","currency":"USD"}"#,
            "in_future",
            "occurred_at",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":1,"revenue":"-1","currency":"USD"}"#,
            "negative",
            "revenue",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":1,"revenue":-1,"currency":"USD"}"#,
            "negative",
            "revenue",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":1,"revenue":"abc","currency":"USD"}"#,
            "invalid_amount",
            "revenue",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":1,"revenue":true,"currency":"USD"}"#,
            "invalid_type",
            "revenue",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":1,"revenue":"1","currency":"usd"}"#,
            "invalid_currency",
            "currency",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":1,"revenue":"1"}"#,
            "required",
            "currency",
        );
        check_error(
            &format!(r#"{{{OK},"click_id":"nope"}}"#),
            "invalid_format",
            "click_id",
        );
        check_error(
            &format!(r#"{{{OK},"promo_codes":"SARAH20"}}"#),
            "invalid_type",
            "promo_codes",
        );
        check_error(
            &format!(r#"{{{OK},"email_sha256":"abc"}}"#),
            "invalid_format",
            "email_sha256",
        );
        check_error(
            &format!(r#"{{{OK},"coupon":"x"}}"#),
            "unknown_field",
            "coupon",
        );
        check_error(
            r#"{"order_id":"1","occurred_at":"1969-12-31T23:59:59Z","revenue":"1","currency":"USD"}"#,
            "invalid_timestamp",
            "occurred_at",
        );
    }

    #[test]
    fn json_numbers_are_read_from_their_text_never_through_a_float() {
        let revenue = |n: &str| {
            parse(&format!(
                r#"{{"order_id":"1","occurred_at":1,"revenue":{n},"currency":"USD"}}"#
            ))
            .map(|c| c.revenue.minor)
            .map_err(|e| (e.code(), e.field().map(str::to_owned)))
        };
        let at = |code| Err((code, Some("revenue".to_owned())));
        assert_eq!(revenue("49.90"), Ok(4990));
        assert_eq!(revenue("0.1"), Ok(10));
        // An f64 would round these to 20 and 0.3 (= 0.30000000000000004).
        assert_eq!(revenue("19.9999999999999999"), at("too_precise"));
        assert_eq!(revenue("0.30000000000000004"), at("too_precise"));
        // Beyond f64, the field is named instead of the body being malformed.
        assert_eq!(revenue("1e309"), at("invalid_amount"));
        assert_eq!(revenue("123456789012345678901234567890"), at("too_large"));
        assert_eq!(revenue("-0.5"), at("negative"));
    }

    #[test]
    fn fingerprint_is_stable_and_sensitive() {
        let a = parse(&format!("{{{OK}}}")).unwrap();
        let b = parse(
            r#"{"currency":"USD","revenue":49.9,"occurred_at":1795935600000,"order_id":"1001"}"#,
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint(), "same normalised payload");
        let c = parse(&format!("{{{OK}}}").replace("49.90", "49.91")).unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(a.fingerprint().len(), 64);
    }
}
