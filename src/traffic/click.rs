//! Clicks: what is recorded for one redirect, built from request facts.
//!
//! Privacy by construction: no raw IP and no raw user agent are part of a
//! [`Click`]; only the user-agent classification, the two-letter country the
//! edge reports and the referrer's host (never its path or query).
//!
//! Bots (preview fetchers, crawlers, `HEAD` requests, empty user agents) are
//! recorded with `is_bot` and never counted as human clicks. A repeat click
//! of the same visitor on the same link within [`UNIQUE_WINDOW`] is stored
//! but counted once as a unique click ([`count_unique`]).

use crate::base::time::{self, Millis, MINUTE};
use crate::traffic::ids::{ClickId, VisitorId};
use crate::traffic::ua::UaInfo;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use url::Url;

/// Repeat clicks closer together than this count as one unique click.
pub const UNIQUE_WINDOW: Millis = 30 * MINUTE;

/// How the visitor reached the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// `/{slug}`.
    Link,
    /// `/c/{CODE}`.
    Code,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Link => "link",
            Via::Code => "code",
        }
    }
}

/// What brought the visit: the link itself, or a scan of its QR code
/// (which encodes the short URL with `qr=1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    Link,
    Qr,
}

impl Trigger {
    /// `qr` when the request's query carries `qr=1`.
    pub fn from_query(query: Option<&str>) -> Trigger {
        let qr = query.is_some_and(|q| q.split('&').any(|p| p == "qr=1"));
        if qr {
            Trigger::Qr
        } else {
            Trigger::Link
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Link => "link",
            Trigger::Qr => "qr",
        }
    }
}

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
    pub app: Option<&'static str>,
    pub os: &'static str,
    pub device_class: &'static str,
    pub is_bot: bool,
    pub bot_name: Option<&'static str>,
    pub country: Option<String>,
    pub referer_host: Option<String>,
    pub via: Via,
    /// The discount code the visitor was sent with, if any.
    pub code: Option<String>,
    pub trigger: Trigger,
    /// The targeting rule that chose the destination, if one matched.
    pub rule: Option<String>,
    /// The A/B variant the visitor was given, if the link has variants.
    pub variant: Option<String>,
    /// Ad-platform click ids from the link's URL ([`crate::traffic::ad_click_ids`]).
    pub ad_click_ids: Option<String>,
}

/// Everything about a visit except the request headers.
#[derive(Debug, Clone)]
pub struct Visit {
    pub id: ClickId,
    pub link_id: i64,
    pub now: Millis,
    pub visitor_id: VisitorId,
    pub via: Via,
    pub code: Option<String>,
    /// A `HEAD` request: recorded as a bot click.
    pub head: bool,
    pub trigger: Trigger,
    pub rule: Option<String>,
    pub variant: Option<String>,
    /// Ad-platform click ids as JSON text; the shell passes them only when
    /// the visit may use the cookie.
    pub ad_click_ids: Option<String>,
}

impl Click {
    /// Builds the click of a visit, from the user agent's classification
    /// and the request facts.
    pub fn new(visit: Visit, ua: &UaInfo, facts: &RequestFacts<'_>) -> Click {
        let head_bot = visit.head && ua.bot.is_none();
        Click {
            id: visit.id,
            link_id: visit.link_id,
            ts: visit.now,
            visitor_id: visit.visitor_id,
            ua_family: ua.family(facts.user_agent.unwrap_or("")),
            app: ua.app,
            os: ua.os.as_str(),
            device_class: ua.device_class.as_str(),
            is_bot: ua.is_bot() || visit.head,
            bot_name: if head_bot {
                Some("head")
            } else {
                ua.bot.map(|b| b.name)
            },
            country: facts.country.and_then(country),
            referer_host: facts.referer.and_then(referer_host),
            via: visit.via,
            code: visit.code,
            trigger: visit.trigger,
            rule: visit.rule,
            variant: visit.variant,
            ad_click_ids: visit.ad_click_ids,
        }
    }
}

/// Human clicks counted as unique: a visitor's click on a link is unique
/// unless the same visitor's previous click on it is less than
/// [`UNIQUE_WINDOW`] earlier. `clicks` are `(visitor, ts)` of one link's
/// human clicks, in any order. The SQL in the shell's stats query computes
/// the same thing with `LAG()`.
pub fn count_unique<V: Ord + Clone>(clicks: &[(V, Millis)]) -> u64 {
    let mut sorted: Vec<(V, Millis)> = clicks.to_vec();
    sorted.sort();
    let mut count = 0;
    let mut prev: Option<&(V, Millis)> = None;
    for c in &sorted {
        match prev {
            Some((v, ts)) if *v == c.0 && c.1 - ts < UNIQUE_WINDOW => {}
            _ => count += 1,
        }
        prev = Some(c);
    }
    count
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
/// `clicks`, `unique_*`, `by_app` and the times count human clicks only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    pub clicks: u64,
    pub unique_clicks: u64,
    pub unique_visitors: u64,
    pub bot_clicks: u64,
    /// Human clicks per in-app browser; `browser` for none.
    pub by_app: BTreeMap<String, u64>,
    pub first_click_at: Option<String>,
    pub last_click_at: Option<String>,
}

/// The raw counts the stats query returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsCounts {
    pub clicks: u64,
    pub unique_clicks: u64,
    pub unique_visitors: u64,
    pub bot_clicks: u64,
    pub first: Option<Millis>,
    pub last: Option<Millis>,
}

impl LinkStats {
    pub fn new(c: StatsCounts, by_app: BTreeMap<String, u64>) -> Self {
        LinkStats {
            clicks: c.clicks,
            unique_clicks: c.unique_clicks,
            unique_visitors: c.unique_visitors,
            bot_clicks: c.bot_clicks,
            by_app,
            first_click_at: c.first.map(time::format_rfc3339),
            last_click_at: c.last.map(time::format_rfc3339),
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
    fn trigger_is_qr_only_for_qr_1() {
        let check = |q: Option<&str>, t: Trigger| assert_eq!(Trigger::from_query(q), t, "{q:?}");
        check(None, Trigger::Link);
        check(Some(""), Trigger::Link);
        check(Some("qr=1"), Trigger::Qr);
        check(Some("a=b&qr=1"), Trigger::Qr);
        check(Some("qr=10"), Trigger::Link);
        check(Some("xqr=1"), Trigger::Link);
        check(Some("qr=0"), Trigger::Link);
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

    fn visit(head: bool) -> Visit {
        Visit {
            id: ClickId::from_random([1; 16]),
            link_id: 7,
            now: 42,
            visitor_id: VisitorId::parse(VID).unwrap(),
            via: Via::Link,
            code: Some("SARAH20".into()),
            head,
            trigger: Trigger::Qr,
            rule: Some("ios".into()),
            variant: None,
            ad_click_ids: Some(r#"{"fbclid":"Iw1"}"#.into()),
        }
    }

    #[test]
    fn click_records_no_raw_identifiers() {
        let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98";
        let facts = RequestFacts {
            user_agent: Some(ua),
            referer: Some("https://l.instagram.com/path?x=1"),
            country: Some("gb"),
            cookie: None,
        };
        let c = Click::new(visit(false), &crate::traffic::ua::classify(ua), &facts);
        assert_eq!(
            (c.ua_family, c.app, c.os, c.device_class),
            ("instagram", Some("instagram"), "ios", "mobile")
        );
        assert_eq!((c.is_bot, c.bot_name), (false, None));
        assert_eq!(c.country.as_deref(), Some("GB"));
        assert_eq!(c.referer_host.as_deref(), Some("l.instagram.com"));
        assert_eq!(
            (c.link_id, c.ts, c.code.as_deref()),
            (7, 42, Some("SARAH20"))
        );
        assert_eq!(country("GBR"), None);
    }

    #[test]
    fn head_requests_and_bots_are_bot_clicks() {
        let ua = "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 Safari/537.36";
        let c = Click::new(
            visit(true),
            &crate::traffic::ua::classify(ua),
            &RequestFacts::default(),
        );
        assert_eq!((c.is_bot, c.bot_name), (true, Some("head")));
        let bot = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
        let facts = RequestFacts {
            user_agent: Some(bot),
            ..Default::default()
        };
        let c = Click::new(visit(false), &crate::traffic::ua::classify(bot), &facts);
        assert_eq!(
            (c.is_bot, c.bot_name, c.ua_family),
            (true, Some("facebookexternalhit"), "bot")
        );
    }

    #[test]
    fn unique_clicks_use_a_30_minute_window() {
        let m = MINUTE;
        assert_eq!(count_unique::<&str>(&[]), 0);
        assert_eq!(count_unique(&[("a", 0)]), 1);
        assert_eq!(count_unique(&[("a", 0), ("a", 29 * m)]), 1);
        assert_eq!(count_unique(&[("a", 0), ("a", 30 * m)]), 2);
        assert_eq!(count_unique(&[("a", 30 * m), ("b", 0), ("a", 0)]), 3);
        // A chain of repeats each within the window stays one.
        assert_eq!(count_unique(&[("a", 0), ("a", 20 * m), ("a", 40 * m)]), 1);
    }
}
