//! Stripe-style signatures: [`sign`] gives the [`SIGNATURE_HEADER`] value
//! for a body sent at a given time; [`verify`] is the receiver's check of
//! it (the steps are in the module docs of [`crate::outbound::webhook`]).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Linkcredit-Signature";

/// How far a signature's `t` may be from the receiver's clock: 5 minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

fn mac_hex(secret: &str, t_secs: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The [`SIGNATURE_HEADER`] value for `body` sent at `t_secs` (Unix
/// seconds): `t=<t_secs>,v1=<lowercase hex HMAC-SHA256(secret, "<t_secs>.<body>")>`.
pub fn sign(secret: &str, t_secs: i64, body: &str) -> String {
    format!("t={t_secs},v1={}", mac_hex(secret, t_secs, body))
}

/// Why [`verify`] refused a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No (or more than one, or a non-integer) `t`, or no `v1`.
    #[error("malformed signature header")]
    Malformed,
    /// The signature is right but `t` is too far from now (a replay, or a
    /// skewed clock).
    #[error("signature timestamp is outside the tolerance")]
    Stale,
    /// No `v1` is the HMAC of this body with this secret.
    #[error("signature does not match")]
    Mismatch,
}

/// The receiver's check of a [`SIGNATURE_HEADER`] value (see the module
/// docs). The header is comma-separated `k=v` pairs in any order, blanks
/// around them ignored; keys other than `t` and `v1` are ignored; every `v1`
/// is tried (in constant time each) and any match passes. The signature is
/// checked first, so [`VerifyError::Stale`] means an authentic but old (or
/// early) delivery. `t` may be `tolerance_secs` away from `now_secs` and no
/// more; a negative tolerance counts as 0.
pub fn verify(
    secret: &str,
    header: &str,
    body: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let mut t: Option<i64> = None;
    let mut sigs: Vec<&str> = Vec::new();
    for (k, v) in header.split(',').filter_map(|p| p.split_once('=')) {
        match k.trim() {
            "t" => {
                let parsed = v.trim().parse().map_err(|_| VerifyError::Malformed)?;
                if t.replace(parsed).is_some() {
                    return Err(VerifyError::Malformed);
                }
            }
            "v1" => sigs.push(v.trim()),
            _ => {}
        }
    }
    let (Some(t), false) = (t, sigs.is_empty()) else {
        return Err(VerifyError::Malformed);
    };
    let expected = mac_hex(secret, t, body);
    // Every candidate is compared (no early exit) so timing does not tell
    // which one matched; a length difference is not secret.
    let mut matched = subtle::Choice::from(0u8);
    for sig in sigs {
        matched |= expected
            .as_bytes()
            .ct_eq(sig.to_ascii_lowercase().as_bytes());
    }
    if !bool::from(matched) {
        return Err(VerifyError::Mismatch);
    }
    if now_secs.abs_diff(t) > tolerance_secs.max(0).unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhook::SECRET;

    const VEC_SECRET: &str = "whsec_test_secret_123";
    const VEC_BODY: &str = r#"{"a":1}"#;
    /// python3: hmac.new(b"whsec_test_secret_123", b'1700000000.{"a":1}',
    /// hashlib.sha256).hexdigest()
    const VEC_HEX: &str = "e89dcbfdce3392fb275033fb083d8c81e095a63bf687d9a2cd50e7d5f55e21f6";

    #[test]
    fn sign_matches_independent_vector() {
        assert_eq!(
            sign(VEC_SECRET, 1_700_000_000, VEC_BODY),
            format!("t=1700000000,v1={VEC_HEX}")
        );
    }

    #[test]
    fn verify_cases() {
        let now = 1_700_000_000;
        let good = format!("t={now},v1={VEC_HEX}");
        let v = |header: &str, body: &str, secret: &str, now_secs: i64| {
            verify(secret, header, body, now_secs, DEFAULT_TOLERANCE_SECS)
        };
        assert_eq!(v(&good, VEC_BODY, VEC_SECRET, now), Ok(()));
        // within tolerance, both directions, boundary included
        assert_eq!(v(&good, VEC_BODY, VEC_SECRET, now + 300), Ok(()));
        assert_eq!(v(&good, VEC_BODY, VEC_SECRET, now - 300), Ok(()));
        assert_eq!(
            v(&good, VEC_BODY, VEC_SECRET, now + 301),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            v(&good, VEC_BODY, VEC_SECRET, now - 301),
            Err(VerifyError::Stale)
        );
        // tampered body, wrong secret
        assert_eq!(
            v(&good, r#"{"a":2}"#, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            v(&good, r#"{"a": 1}"#, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            v(&good, VEC_BODY, "whsec_test_secret_124", now),
            Err(VerifyError::Mismatch)
        );
        // a changed timestamp breaks the MAC (no replay with a fresh t)
        let moved = format!("t={},v1={VEC_HEX}", now + 1);
        assert_eq!(
            v(&moved, VEC_BODY, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        // reordered pairs, blanks, unknown keys, upper-case hex
        let reordered = format!(" v0=abc , v1={VEC_HEX} ,t={now},scheme=x");
        assert_eq!(v(&reordered, VEC_BODY, VEC_SECRET, now), Ok(()));
        let upper = format!("t={now},v1={}", VEC_HEX.to_uppercase());
        assert_eq!(v(&upper, VEC_BODY, VEC_SECRET, now), Ok(()));
        // two v1 (secret rotation): either may be the matching one
        let old = sign("an_old_secret_value", now, VEC_BODY);
        let old_hex = old.split_once("v1=").unwrap().1;
        let rotating = format!("t={now},v1={old_hex},v1={VEC_HEX}");
        assert_eq!(v(&rotating, VEC_BODY, VEC_SECRET, now), Ok(()));
        assert_eq!(v(&rotating, VEC_BODY, "an_old_secret_value", now), Ok(()));
        assert_eq!(
            v(&rotating, VEC_BODY, "a_third_secret_xx", now),
            Err(VerifyError::Mismatch)
        );
        // stale is reported only for an authentic signature
        assert_eq!(
            v(&good, "tampered", VEC_SECRET, now + 10_000),
            Err(VerifyError::Mismatch)
        );
        // malformed headers
        for bad in [
            "",
            "garbage",
            &format!("v1={VEC_HEX}"),
            &format!("t={now}"),
            &format!("t=,v1={VEC_HEX}"),
            &format!("t=17e8,v1={VEC_HEX}"),
            &format!("t={now},t={now},v1={VEC_HEX}"),
        ] {
            assert_eq!(
                v(bad, VEC_BODY, VEC_SECRET, now),
                Err(VerifyError::Malformed),
                "{bad:?}"
            );
        }
        // a non-hex or truncated v1 is simply not a match
        let short = format!("t={now},v1={}", &VEC_HEX[..63]);
        assert_eq!(
            v(&short, VEC_BODY, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        // extreme timestamps do not overflow
        let far = sign(VEC_SECRET, i64::MIN, VEC_BODY);
        assert_eq!(
            verify(VEC_SECRET, &far, VEC_BODY, i64::MIN + 300, 300),
            Ok(())
        );
        assert_eq!(
            verify(VEC_SECRET, &far, VEC_BODY, i64::MAX, -1),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(VEC_SECRET, &far, VEC_BODY, i64::MAX, 300),
            Err(VerifyError::Stale)
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        for (t, body) in [(0, ""), (1_767_225_600, "{\"x\":\"é\"}"), (-5, "a.b,c=d")] {
            let h = sign(SECRET, t, body);
            assert_eq!(verify(SECRET, &h, body, t, 0), Ok(()), "{h}");
        }
    }
}
