//! Clicks: what is recorded for one redirect, built from request facts.
//!
//! Privacy by construction: no raw IP and no raw user agent are part of a
//! [`Click`]; only the user-agent family, the two-letter country the edge
//! reports and the referrer's host (never its path or query).

use crate::ids::{ClickId, VisitorId};
use crate::time::{self, Millis};
use crate::ua;
use serde::{Deserialize, Serialize};
use url::Url;

/// The first-party cookie that carries the visitor id.
pub const VISITOR_COOKIE: &str = "lc_vid";
/// One year, in seconds.
pub const VISITOR_COOKIE_MAX_AGE: u32 = 365 * 24 * 60 * 60;

/// What the shell read off the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    pub user_agent: Option<&'a str>,
    pub referer: Option<&'a str>,
    pub country: Option<&'a str>,
    pub cookie: Option<&'a str>,
}

/// One recorded click.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Click {
    pub id: ClickId,
    pub link_id: i64,
    pub ts: Millis,
    pub visitor_id: VisitorId,
    pub ua_family: &'static str,
    pub country: Option<String>,
    pub referer_host: Option<String>,
}

impl Click {
    /// Builds the click of a redirect of `link_id` at `now`. `visitor` is the
    /// cookie's visitor id, or a fresh one when the request carried none.
    pub fn new(
        id: ClickId,
        link_id: i64,
        now: Millis,
        visitor_id: VisitorId,
        facts: &RequestFacts<'_>,
    ) -> Click {
        Click {
            id,
            link_id,
            ts: now,
            visitor_id,
            ua_family: ua::family(facts.user_agent.unwrap_or("")),
            country: facts.country.and_then(country),
            referer_host: facts.referer.and_then(referer_host),
        }
    }
}

/// The visitor id in a `Cookie` header, when it is present and well formed.
pub fn visitor_from_cookie(cookie_header: &str) -> Option<VisitorId> {
    cookie_header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == VISITOR_COOKIE)
        .and_then(|(_, value)| VisitorId::parse(value.trim_matches('"')).ok())
}

/// The `Set-Cookie` value that stores a visitor id for a year.
pub fn visitor_set_cookie(v: &VisitorId) -> String {
    format!(
        "{VISITOR_COOKIE}={v}; Max-Age={VISITOR_COOKIE_MAX_AGE}; Path=/; HttpOnly; Secure; SameSite=Lax"
    )
}

/// The lowercase host of a `Referer` header, without path or query.
pub fn referer_host(referer: &str) -> Option<String> {
    let url = Url::parse(referer).ok()?;
    if !matches!(url.scheme(), "http" | "https" | "android-app") {
        return None;
    }
    url.host_str()
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
}

/// A two-letter country code (ISO 3166-1 alpha-2, or the edge's `XX`/`T1`).
pub fn country(code: &str) -> Option<String> {
    let ok = code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then(|| code.to_ascii_uppercase())
}

/// Click statistics of one link, as `GET /api/v1/links/{slug}/stats` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    pub clicks: u64,
    pub unique_visitors: u64,
    pub first_click_at: Option<String>,
    pub last_click_at: Option<String>,
}

impl LinkStats {
    pub fn new(
        clicks: u64,
        unique_visitors: u64,
        first: Option<Millis>,
        last: Option<Millis>,
    ) -> Self {
        LinkStats {
            clicks,
            unique_visitors,
            first_click_at: first.map(time::format_rfc3339),
            last_click_at: last.map(time::format_rfc3339),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn visitor_cookie_parsing() {
        let check = |header: &str, expected: Option<&str>| {
            assert_eq!(
                visitor_from_cookie(header).as_ref().map(VisitorId::as_str),
                expected,
                "{header}"
            );
        };
        check(&format!("lc_vid={VID}"), Some(VID));
        check(&format!("a=1; lc_vid={VID}; b=2"), Some(VID));
        check(&format!("lc_vid=\"{VID}\""), Some(VID));
        check("lc_vid=short", None);
        check(&format!("xlc_vid={VID}"), None);
        check("", None);
    }

    #[test]
    fn set_cookie_is_first_party_and_long_lived() {
        let v = VisitorId::parse(VID).unwrap();
        assert_eq!(
            visitor_set_cookie(&v),
            format!("lc_vid={VID}; Max-Age=31536000; Path=/; HttpOnly; Secure; SameSite=Lax")
        );
    }

    #[test]
    fn referer_keeps_only_the_host() {
        assert_eq!(
            referer_host("https://L.Instagram.com/?u=secret"),
            Some("l.instagram.com".into())
        );
        assert_eq!(
            referer_host("android-app://com.zhiliaoapp.musically/"),
            Some("com.zhiliaoapp.musically".into())
        );
        assert_eq!(referer_host("not a url"), None);
        assert_eq!(referer_host("javascript:x"), None);
    }

    #[test]
    fn click_records_no_raw_identifiers() {
        let facts = RequestFacts {
            user_agent: Some("Mozilla/5.0 (iPhone) Instagram 334.0"),
            referer: Some("https://l.instagram.com/path?x=1"),
            country: Some("gb"),
            cookie: None,
        };
        let c = Click::new(
            ClickId::from_random([1; 16]),
            7,
            42,
            VisitorId::parse(VID).unwrap(),
            &facts,
        );
        assert_eq!(c.ua_family, "instagram");
        assert_eq!(c.country.as_deref(), Some("GB"));
        assert_eq!(c.referer_host.as_deref(), Some("l.instagram.com"));
        assert_eq!((c.link_id, c.ts), (7, 42));
        assert_eq!(country("GBR"), None);
    }
}
