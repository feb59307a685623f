//! Fuzz target: the Shopify order webhook mapping,
//! `shopify::order_to_conversion` on arbitrary bytes, `parse_landing` on the
//! same bytes read as a landing site, and the HMAC check.
//!
//! Invariants checked:
//! * an accepted order has non-negative revenue that `Money::major` parses
//!   back to, a valid order id, at most 20 distinct upper-case codes, and
//!   `source: shopify`; its fingerprint is 64 hex digits;
//! * landing UTM keys start with `utm_` and are distinct, and the click id
//!   re-parses to itself;
//! * the signature of a body verifies, and not for another body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkcredit::ingest::conversion::{self, Source};
use linkcredit::traffic::ids::ClickId;
use linkcredit::base::money::Money;
use linkcredit::ingest::shopify;
use linkcredit::links::landing::{self, Landing};
use linkcredit::base::time::Millis;

/// 2026-11-29T08:00:00Z, as in the unit tests.
const NOW: Millis = 1_795_939_200_000;

fn check_landing(l: &Landing) {
    for (i, (k, _)) in l.utm.iter().enumerate() {
        assert!(k.starts_with("utm_"), "{k:?}");
        assert!(!l.utm[..i].iter().any(|(key, _)| key == k), "duplicate {k}");
    }
    if let Some(id) = &l.click_id {
        assert_eq!(ClickId::parse(id.as_str()).as_ref(), Ok(id));
    }
}

fuzz_target!(|data: &[u8]| {
    match shopify::order_to_conversion(data, NOW) {
        Ok((c, landing)) => {
            assert_eq!(c.source, Source::Shopify);
            assert!(!c.order_id.is_empty() && c.order_id.chars().count() <= conversion::MAX_ID_LEN);
            assert!(c.occurred_at <= NOW + conversion::MAX_FUTURE);
            assert!(c.revenue.minor >= 0, "negative revenue {:?}", c.revenue);
            assert_eq!(
                Money::parse(&c.revenue.major(), c.revenue.currency),
                Ok(c.revenue)
            );
            assert!(c.promo_codes.len() <= conversion::MAX_CODES);
            for (i, code) in c.promo_codes.iter().enumerate() {
                assert!(!code.is_empty() && code.chars().count() <= 64, "{code:?}");
                assert_eq!(code, &code.to_uppercase());
                assert!(!c.promo_codes[..i].contains(code), "duplicate {code}");
            }
            assert_eq!(c.fingerprint().len(), 64);
            check_landing(&landing);
        }
        Err(e) => {
            serde_json::to_string(&e.body()).expect("errors render");
        }
    }

    if let Ok(s) = std::str::from_utf8(data) {
        check_landing(&landing::parse_landing(s));
    }

    let secret = b"fuzz-secret";
    let signature = shopify::sign(secret, data);
    assert!(shopify::verify(secret, data, &signature));
    assert!(!shopify::verify(b"other-secret", data, &signature));
});
