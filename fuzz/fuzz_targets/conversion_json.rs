//! Fuzz target: the conversions API body parser,
//! `NewConversion::from_json` on arbitrary bytes read as a JSON object
//! (as `src/edge/ingest.rs` does for single conversions and for each item
//! of a `{"conversions": [...]}` batch).
//!
//! Invariants checked on every accepted conversion:
//! * revenue is non-negative and `Money::major` parses back to it;
//! * `order_id` (and `customer_id`) are 1 to 128 characters, trimmed, with
//!   no control characters;
//! * `occurred_at` is at most five minutes after `now`;
//! * at most 20 promo codes, distinct, trimmed, non-empty, at most 64
//!   characters, upper case;
//! * `email_sha256` is 64 lower-case hex digits, ids re-parse to themselves;
//! * the fingerprint is deterministic and 64 hex digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkcredit::ingest::conversion::{self, NewConversion, Source};
use linkcredit::traffic::ids::{ClickId, VisitorId};
use linkcredit::base::body::JsonObject;
use linkcredit::base::money::Money;
use linkcredit::base::time::Millis;
use serde_json::Value;

/// 2026-11-29T08:00:00Z, as in the unit tests.
const NOW: Millis = 1_795_939_200_000;

fn check_id(id: &str) {
    assert!(!id.is_empty());
    assert!(id.chars().count() <= conversion::MAX_ID_LEN);
    assert_eq!(id, id.trim());
    assert!(!id.chars().any(char::is_control));
}

fn check(c: &NewConversion) {
    check_id(&c.order_id);
    if let Some(id) = &c.customer_id {
        check_id(id);
    }
    assert!(c.occurred_at <= NOW + conversion::MAX_FUTURE);
    assert!(c.revenue.minor >= 0, "negative revenue {:?}", c.revenue);
    assert_eq!(
        Money::parse(&c.revenue.major(), c.revenue.currency),
        Ok(c.revenue)
    );
    assert!(c.promo_codes.len() <= conversion::MAX_CODES);
    for (i, code) in c.promo_codes.iter().enumerate() {
        assert!(!code.is_empty() && code.chars().count() <= 64, "{code:?}");
        assert_eq!(code, code.trim());
        assert_eq!(code, &code.to_uppercase());
        assert!(!c.promo_codes[..i].contains(code), "duplicate {code}");
    }
    if let Some(h) = &c.email_sha256 {
        assert!(h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    }
    if let Some(id) = &c.click_id {
        assert_eq!(ClickId::parse(id.as_str()).as_ref(), Ok(id));
    }
    if let Some(id) = &c.visitor_id {
        assert_eq!(VisitorId::parse(id.as_str()).as_ref(), Ok(id));
    }
    assert_eq!(c.source, Source::Api);
    let fp = c.fingerprint();
    assert_eq!(fp.len(), 64);
    assert_eq!(fp, c.clone().fingerprint());
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = JsonObject::parse(data) else {
        return;
    };
    match NewConversion::from_json(&body, NOW) {
        Ok(c) => check(&c),
        Err(e) => {
            serde_json::to_string(&e.body()).expect("errors render");
        }
    }
    // A batch: each object item is validated on its own.
    if let Some(Value::Array(items)) = body.value("conversions") {
        for item in items.iter().take(conversion::MAX_BATCH) {
            if let Value::Object(map) = item {
                let item = JsonObject::from_map(map.clone());
                if let Ok(c) = NewConversion::from_json(&item, NOW) {
                    check(&c);
                }
            }
        }
    }
});
