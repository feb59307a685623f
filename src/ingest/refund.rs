//! Refunds (`POST /api/v1/conversions/{order_id}/refund`): a partial or
//! full refund of a stored order. A refund lowers the order's net revenue
//! (revenue less every refund); the attribution job then re-credits the
//! order under every model with the same integer split, so credited
//! revenue in reports drops by exactly the refund, to the cent.
//!
//! A refund is stored once per `refund_id` (the shop's own id, e.g.
//! Shopify's `refund.id`); without one, its amount is its key, so a retried
//! request never refunds twice (two partial refunds of the same amount need
//! their ids).

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis};

/// The longest accepted `refund_id`.
pub const MAX_REFUND_ID_LEN: usize = 128;

/// A validated refund body (amounts in the order's currency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    pub amount: Money,
    pub refund_id: Option<String>,
    pub refunded_at: Option<Millis>,
}

impl NewRefund {
    pub fn from_json(
        o: &JsonObject,
        currency: Currency,
        now: Millis,
    ) -> Result<NewRefund, ApiError> {
        o.deny_unknown(&["amount", "refund_id", "refunded_at"])?;
        let amount = match o.raw("amount") {
            None | Some(serde_json::Value::Null) => {
                return Err(ParseError::new("required", "amount is required").at("amount"))
            }
            Some(v) => crate::base::money::parse_amount(v, currency).map_err(|e| e.at("amount"))?,
        };
        if amount.minor == 0 {
            return Err(
                ParseError::new("invalid_value", "amount must be more than zero").at("amount"),
            );
        }
        let refund_id = o.opt("refund_id", |s: &str| {
            let s = s.trim();
            if s.is_empty() || s.len() > MAX_REFUND_ID_LEN || s.chars().any(char::is_control) {
                Err(ParseError::new(
                    "invalid_format",
                    format!("refund_id must be 1 to {MAX_REFUND_ID_LEN} printable characters"),
                ))
            } else {
                Ok(s.to_owned())
            }
        })?;
        let refunded_at = o.opt("refunded_at", time::parse_rfc3339)?;
        if refunded_at.is_some_and(|t| t > now + 5 * time::MINUTE) {
            return Err(
                ParseError::new("in_future", "refunded_at is in the future").at("refunded_at")
            );
        }
        Ok(NewRefund {
            amount,
            refund_id,
            refunded_at,
        })
    }

    /// What makes a retry the same refund: the refund id, else the amount.
    pub fn key(&self) -> String {
        match &self.refund_id {
            Some(id) => format!("id:{id}"),
            None => format!("amount:{}", self.amount.minor),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, expected: Result<(i64, &str), (&str, &str)>) {
        let usd = Currency::parse("USD").unwrap();
        let got =
            NewRefund::from_json(&JsonObject::parse(json.as_bytes()).unwrap(), usd, 1_000_000);
        match (got, expected) {
            (Ok(r), Ok((minor, key))) => {
                assert_eq!((r.amount.minor, r.key().as_str()), (minor, key), "{json}")
            }
            (Err(e), Err((code, field))) => {
                assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}")
            }
            (got, want) => panic!("{json}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn refund_bodies() {
        check(r#"{"amount":"30.00"}"#, Ok((3000, "amount:3000")));
        check(
            r#"{"amount":12.5,"refund_id":" r-77 "}"#,
            Ok((1250, "id:r-77")),
        );
        check(r#"{}"#, Err(("required", "amount")));
        check(r#"{"amount":"0"}"#, Err(("invalid_value", "amount")));
        check(r#"{"amount":"-5"}"#, Err(("negative", "amount")));
        check(r#"{"amount":"1.234"}"#, Err(("too_precise", "amount")));
        check(
            r#"{"amount":"5","refund_id":""}"#,
            Err(("invalid_format", "refund_id")),
        );
        check(
            r#"{"amount":"5","reason":"x"}"#,
            Err(("unknown_field", "reason")),
        );
        check(
            r#"{"amount":"5","refunded_at":"2999-01-01T00:00:00Z"}"#,
            Err(("in_future", "refunded_at")),
        );
    }
}
