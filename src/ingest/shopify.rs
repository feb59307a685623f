//! Shopify order webhooks: signature verification and the order → conversion
//! mapping.
//!
//! Verification comes first: `X-Shopify-Hmac-Sha256` must be
//! base64(HMAC-SHA256(raw body, secret)), compared in constant time, before
//! the body is parsed at all.

use crate::base::error::{ApiError, ParseError};
use crate::base::money::Currency;
use crate::base::time::Millis;
use crate::ingest::conversion::{self, parse_external_id, NewConversion, Source};
use crate::links::landing::{parse_landing, Landing};
use crate::traffic::ids::{ClickId, VisitorId};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The topics that become conversions; any other topic is acknowledged and
/// ignored.
pub const ORDER_TOPICS: &[&str] = &["orders/create", "orders/paid"];

/// Whether `signature` (the header's base64) is the HMAC of `body`.
pub fn verify(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given).is_ok()
}

/// The signature Shopify would send for `body` (for tests and tooling).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

fn field<'a>(order: &'a Value, name: &str) -> Option<&'a Value> {
    order.get(name).filter(|v| !v.is_null())
}

/// Maps a verified order payload to a conversion. Also returns the landing
/// site's UTM tags.
pub fn order_to_conversion(body: &[u8], now: Millis) -> Result<(NewConversion, Landing), ApiError> {
    let order: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(
            "malformed_json",
            format!("order payload is not valid JSON: {e}"),
        )
    })?;
    if !order.is_object() {
        return Err(ApiError::invalid(
            "expected_object",
            "order payload must be a JSON object",
        ));
    }
    let order_id = field(&order, "id")
        .ok_or_else(|| ParseError::new("required", "order id is required").at("id"))
        .and_then(|v| parse_external_id(v, "id").map_err(|e| e.at("id")))?;
    let occurred_at = field(&order, "created_at")
        .or_else(|| field(&order, "processed_at"))
        .ok_or_else(|| ParseError::new("required", "created_at is required").at("created_at"))
        .and_then(|v| conversion::parse_occurred_at(v, now).map_err(|e| e.at("created_at")))?;
    let currency = field(&order, "currency")
        .and_then(Value::as_str)
        .ok_or_else(|| ParseError::new("required", "currency is required").at("currency"))
        .and_then(|c| Currency::parse(c).map_err(|e| e.at("currency")))?;
    let (price_field, price) = match field(&order, "current_total_price") {
        Some(p) => ("current_total_price", p),
        None => (
            "total_price",
            field(&order, "total_price").ok_or_else(|| {
                ParseError::new("required", "total_price is required").at("total_price")
            })?,
        ),
    };
    let revenue =
        crate::base::money::parse_amount(price, currency).map_err(|e| e.at(price_field))?;

    let mut promo_codes: Vec<String> = Vec::new();
    if let Some(Value::Array(codes)) = field(&order, "discount_codes") {
        for c in codes
            .iter()
            .filter_map(|c| c.get("code").and_then(Value::as_str))
        {
            if let Ok(code) = conversion::normalise_order_code(c) {
                if !promo_codes.contains(&code) && promo_codes.len() < conversion::MAX_CODES {
                    promo_codes.push(code);
                }
            }
        }
    }

    let landing = field(&order, "landing_site")
        .and_then(Value::as_str)
        .map(parse_landing)
        .unwrap_or_default();
    let mut click_id = landing.click_id.clone();
    let mut visitor_id = None;
    if let Some(Value::Array(attrs)) = field(&order, "note_attributes") {
        for a in attrs {
            let (Some(name), Some(value)) = (
                a.get("name").and_then(Value::as_str),
                a.get("value").and_then(Value::as_str),
            ) else {
                continue;
            };
            match name {
                "lc_cid" => click_id = click_id.or_else(|| ClickId::parse(value.trim()).ok()),
                "lc_vid" => visitor_id = visitor_id.or_else(|| VisitorId::parse(value.trim()).ok()),
                _ => {}
            }
        }
    }
    let customer_id = field(&order, "customer")
        .and_then(|c| field(c, "id"))
        .and_then(|id| parse_external_id(id, "customer.id").ok());
    let email = field(&order, "email")
        .or_else(|| field(&order, "contact_email"))
        .or_else(|| field(&order, "customer").and_then(|c| field(c, "email")))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| e.contains('@'));
    let email_sha256 = email.map(|e| hex::encode(Sha256::digest(e.to_lowercase().as_bytes())));

    Ok((
        NewConversion {
            order_id,
            occurred_at,
            revenue,
            click_id,
            visitor_id,
            customer_id,
            promo_codes,
            email_sha256,
            source: Source::Shopify,
        },
        landing,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_795_939_200_000; // 2026-11-29T08:00:00Z
    const CID: &str = "q1w2e3r4t5y6u7i8o9p0aA";

    #[test]
    fn hmac_known_vector() {
        // RFC 4231 test case 2.
        let sig = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            STANDARD.decode(&sig).unwrap(),
            (0..32)
                .map(|i| u8::from_str_radix(
                    &"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
                        [i * 2..i * 2 + 2],
                    16
                )
                .unwrap())
                .collect::<Vec<_>>()
        );
        assert!(verify(b"Jefe", b"what do ya want for nothing?", &sig));
        assert!(!verify(b"Jefe", b"what do ya want for nothing!", &sig));
        assert!(!verify(b"jefe", b"what do ya want for nothing?", &sig));
        assert!(!verify(
            b"Jefe",
            b"what do ya want for nothing?",
            "not base64!"
        ));
        assert!(!verify(b"Jefe", b"what do ya want for nothing?", ""));
    }

    #[test]
    fn order_mapping() {
        let body = format!(
            r#"{{"id": 5551234567890, "created_at": "2026-11-29T02:30:00-05:00", "currency": "USD",
                "current_total_price": "54.90", "total_price": "59.90",
                "discount_codes": [{{"code": "sarah20", "amount": "10.00", "type": "percentage"}}],
                "landing_site": "/products/serum?utm_source=sarah&lc_cid={CID}",
                "note_attributes": [{{"name": "lc_vid", "value": "AAAAAAAAAAAAAAAAAAAAAA"}}],
                "email": "Jane@Example.com", "customer": {{"id": 7001, "email": "jane@example.com"}}}}"#
        );
        let (c, landing) = order_to_conversion(body.as_bytes(), NOW).unwrap();
        assert_eq!(c.order_id, "5551234567890");
        assert_eq!(c.occurred_at, NOW - 30 * 60_000);
        assert_eq!(
            (c.revenue.minor, c.revenue.currency.as_str()),
            (5490, "USD")
        );
        assert_eq!(c.promo_codes, vec!["SARAH20".to_owned()]);
        assert_eq!(c.click_id.as_ref().map(ClickId::as_str), Some(CID));
        assert_eq!(
            c.visitor_id.as_ref().map(VisitorId::as_str),
            Some("AAAAAAAAAAAAAAAAAAAAAA")
        );
        assert_eq!(c.customer_id.as_deref(), Some("7001"));
        assert_eq!(
            c.email_sha256.as_deref(),
            Some(hex::encode(Sha256::digest(b"jane@example.com")).as_str())
        );
        assert_eq!(c.source, Source::Shopify);
        assert_eq!(landing.utm, vec![("utm_source".into(), "sarah".into())]);
        // total_price is the fallback.
        let (c, _) = order_to_conversion(
            br#"{"id":1,"created_at":"2026-11-29T07:00:00Z","currency":"EUR","total_price":"10.00"}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(c.revenue.minor, 1000);
        let e = order_to_conversion(
            br#"{"id":1,"created_at":"2026-11-29T07:00:00Z","currency":"EUR"}"#,
            NOW,
        )
        .unwrap_err();
        assert_eq!((e.code(), e.field()), ("required", Some("total_price")));
    }
}
