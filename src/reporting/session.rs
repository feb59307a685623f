//! Dashboard sessions: an HttpOnly cookie `lc_session` =
//! `{expires_ms}.{base64url(HMAC-SHA256(token, "lc_session:" + expires_ms))}`,
//! signed with the token that logged in (reports or admin). Rotating that
//! token logs every session out. Verification is constant time.

use crate::base::time::{Millis, HOUR};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const COOKIE: &str = "lc_session";
/// How long a session lasts.
pub const TTL: Millis = 12 * HOUR;

fn mac(secret: &str, expires: Millis) -> Hmac<Sha256> {
    let mut m =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    m.update(format!("lc_session:{expires}").as_bytes());
    m
}

/// A session value valid until `now + TTL`.
pub fn issue(secret: &str, now: Millis) -> String {
    let expires = now + TTL;
    format!(
        "{expires}.{}",
        URL_SAFE_NO_PAD.encode(mac(secret, expires).finalize().into_bytes())
    )
}

/// Whether `value` is a live session signed with `secret`.
pub fn verify(secret: &str, value: &str, now: Millis) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Some((exp, sig)) = value.split_once('.') else {
        return false;
    };
    let Ok(expires) = exp.parse::<Millis>() else {
        return false;
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    expires > now && mac(secret, expires).verify_slice(&sig).is_ok()
}

/// The session cookie's value in a `Cookie` header.
pub fn from_cookie(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value of a session.
pub fn set_cookie(value: &str) -> String {
    format!(
        "{COOKIE}={value}; Max-Age={}; Path=/dashboard; HttpOnly; Secure; SameSite=Strict",
        TTL / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions() {
        let s = issue("tok", 1_000);
        assert!(verify("tok", &s, 1_000));
        assert!(verify("tok", &s, 1_000 + TTL - 1));
        assert!(!verify("tok", &s, 1_000 + TTL), "expired");
        assert!(!verify("other", &s, 1_000), "signed with another token");
        assert!(!verify("", &s, 1_000));
        let forged = s.replacen(&(1_000 + TTL).to_string(), &(10_000 + TTL).to_string(), 1);
        assert!(!verify("tok", &forged, 1_000), "expiry is signed");
        assert!(!verify("tok", "garbage", 1_000));
        assert_eq!(
            from_cookie(&format!("a=1; lc_session={s}")),
            Some(s.as_str())
        );
        assert!(set_cookie("v").contains("HttpOnly; Secure; SameSite=Strict"));
    }
}
