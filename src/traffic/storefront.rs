//! On-site engagement: the events the storefront snippet ([`SNIPPET`],
//! served at `GET /t.js`) posts to `POST /api/v1/events`, the shop origins
//! allowed to post them, and the leading-indicator report columns built
//! from them.
//!
//! The snippet sends `page_view` on every page, `product_view` on product
//! pages, and `add_to_cart` / `checkout_start` when the theme calls
//! `linkcredit.track(...)`. Each event names its visitor (the snippet's
//! first-party `lc_vid`, kept in `localStorage`, never a cookie) and, when
//! the visitor arrived through a link in the last 30 days, its click id
//! (`lc_cid`). Of the page URL only the host and the path are kept: query
//! strings and fragments can carry personal data (emails, names, tokens).
//!
//! The shell groups a visitor key's events into visits ([`VISIT_GAP`]) at
//! ingest; the report query sums them per group into an [`EngagementAgg`],
//! whose [`EngagementAgg::columns`] are the report's engagement columns.
//! These move days before conversions do, so a new influencer's traffic
//! can be judged before the first order arrives.

use crate::base::decimal::ratio;
use crate::base::error::{ApiError, ParseError};
use crate::base::time::{self, Millis};
use crate::traffic::ids::ClickId;
use serde::Deserialize;
use serde_json::{json, Value};
use url::Url;

/// The storefront snippet, served at `GET /t.js` (hand-minified, under
/// 2 KB, no build step).
pub const SNIPPET: &str = include_str!("t.js");

/// A new visit starts after this long without an event from the same
/// visitor key ([`Event::visitor_key`]): 30 minutes, the usual web-analytics
/// session timeout. The shell compares an event's `occurred_at` with the
/// key's last event when it ingests it.
pub const VISIT_GAP: Millis = 30 * time::MINUTE;

/// How late an event may arrive: beacons flushed from a page the visitor
/// left open come late; anything older is refused.
pub const MAX_AGE: Millis = 24 * time::HOUR;
/// How far ahead of the server's clock an event may be (clock skew).
pub const MAX_SKEW: Millis = 5 * time::MINUTE;
/// Longest accepted page URL, in characters.
pub const MAX_URL_LEN: usize = 2048;
/// Longest stored path; longer paths are cut.
pub const MAX_PATH_LEN: usize = 512;
/// Shortest and longest accepted `visitor_id`.
pub const VISITOR_ID_LEN: std::ops::RangeInclusive<usize> = 8..=64;

/// What happened on the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    PageView,
    ProductView,
    AddToCart,
    CheckoutStart,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::PageView,
        EventType::ProductView,
        EventType::AddToCart,
        EventType::CheckoutStart,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PageView => "page_view",
            EventType::ProductView => "product_view",
            EventType::AddToCart => "add_to_cart",
            EventType::CheckoutStart => "checkout_start",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The body of `POST /api/v1/events`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub visitor_id: Option<String>,
    pub click_id: Option<String>,
    pub url: Option<String>,
    /// An RFC 3339 string or integer epoch milliseconds.
    pub occurred_at: Option<Value>,
}

/// A validated event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventType,
    pub visitor_id: Option<String>,
    pub click_id: Option<ClickId>,
    /// The page's host, lowercase, without the port.
    pub url_host: String,
    /// The page's path (percent-encoded), at most [`MAX_PATH_LEN`]
    /// characters; no query, no fragment.
    pub url_path: String,
    pub occurred_at: Millis,
}

impl Event {
    /// Validates a body received at `now`. `visitor_id` or `click_id` (or
    /// both) must be given; a missing `occurred_at` is `now`.
    pub fn parse(input: EventInput, now: Millis) -> Result<Event, ApiError> {
        let kind = match input.kind.as_deref() {
            None => return Err(ParseError::new("missing", "type is required").at("type")),
            Some(s) => EventType::parse(s).ok_or_else(|| {
                let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
                ParseError::new(
                    "unknown_type",
                    format!("type must be one of {}", names.join(", ")),
                )
                .at("type")
            })?,
        };
        let visitor_id = input
            .visitor_id
            .map(|v| parse_visitor_id(&v).map_err(|e| e.at("visitor_id")))
            .transpose()?;
        let click_id = input
            .click_id
            .map(|c| ClickId::parse(&c).map_err(|e| e.at("click_id")))
            .transpose()?;
        if visitor_id.is_none() && click_id.is_none() {
            return Err(
                ParseError::new("missing", "visitor_id or click_id is required").at("visitor_id"),
            );
        }
        let Some(url) = input.url else {
            return Err(ParseError::new("missing", "url is required").at("url"));
        };
        let (url_host, url_path) = parse_page_url(&url).map_err(|e| e.at("url"))?;
        let occurred_at = match input.occurred_at {
            None | Some(Value::Null) => now,
            Some(v) => parse_occurred_at(&v).map_err(|e| e.at("occurred_at"))?,
        };
        if occurred_at < now - MAX_AGE || occurred_at > now + MAX_SKEW {
            return Err(ParseError::new(
                "out_of_range",
                "occurred_at must be within the last 24 hours (and at most 5 minutes ahead)",
            )
            .at("occurred_at"));
        }
        Ok(Event {
            kind,
            visitor_id,
            click_id,
            url_host,
            url_path,
            occurred_at,
        })
    }

    /// The key events are rate-limited and grouped into visits by:
    /// `v:<visitor_id>`, else `c:<click_id>`. (Not an identity key of
    /// `crate::ingest::identity`, where `c:` is a customer id.)
    pub fn visitor_key(&self) -> String {
        match (&self.visitor_id, &self.click_id) {
            (Some(v), _) => format!("v:{v}"),
            (None, Some(c)) => format!("c:{c}"),
            // `parse` refuses an event with neither.
            (None, None) => String::new(),
        }
    }
}

fn parse_visitor_id(s: &str) -> Result<String, ParseError> {
    let ok = VISITOR_ID_LEN.contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ParseError::new(
            "invalid_format",
            format!(
                "visitor_id must be {} to {} characters of A-Z, a-z, 0-9, - and _",
                VISITOR_ID_LEN.start(),
                VISITOR_ID_LEN.end()
            ),
        ))
    }
}

/// The host (lowercase) and path (cut to [`MAX_PATH_LEN`]) of a page URL.
fn parse_page_url(s: &str) -> Result<(String, String), ParseError> {
    let invalid = || {
        ParseError::new(
            "invalid_url",
            format!(
                "url must be an absolute http or https URL of at most {MAX_URL_LEN} characters"
            ),
        )
    };
    if s.chars().count() > MAX_URL_LEN {
        return Err(invalid());
    }
    let url = Url::parse(s).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
        _ => return Err(invalid()),
    };
    Ok((host, cut_path(url.path())))
}

/// Cuts a percent-encoded path to [`MAX_PATH_LEN`] characters, never in
/// the middle of a `%XX` escape.
fn cut_path(path: &str) -> String {
    if path.len() <= MAX_PATH_LEN {
        return path.to_owned();
    }
    let mut end = MAX_PATH_LEN;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    let b = path.as_bytes();
    if end >= 1 && b[end - 1] == b'%' {
        end -= 1;
    } else if end >= 2 && b[end - 2] == b'%' {
        end -= 2;
    }
    path[..end].to_owned()
}

fn parse_occurred_at(v: &Value) -> Result<Millis, ParseError> {
    match v {
        Value::String(s) => time::parse_rfc3339(s),
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            ParseError::new(
                "invalid_timestamp",
                "occurred_at must be whole epoch milliseconds",
            )
        }),
        _ => Err(ParseError::new(
            "invalid_timestamp",
            "occurred_at must be an RFC 3339 timestamp or epoch milliseconds",
        )),
    }
}

/// The shop origins allowed to post events (`Origin` of the request),
/// normalised: lowercase, default ports dropped (`https://shop.brand.com`,
/// `http://127.0.0.1:8788`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(Vec<String>);

impl Origins {
    /// A comma-separated list of `scheme://host[:port]` (http or https,
    /// nothing after). Empty entries are skipped; an empty list is allowed.
    pub fn parse(var: &str) -> Result<Origins, ParseError> {
        let mut out: Vec<String> = Vec::new();
        for entry in var.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let origin = normalise_origin(entry).ok_or_else(|| {
                ParseError::new(
                    "invalid_config",
                    format!(
                        "{entry:?} is not an origin: list http(s)://host[:port] origins, \
                         comma-separated, with no path"
                    ),
                )
            })?;
            if !out.contains(&origin) {
                out.push(origin);
            }
        }
        Ok(Origins(out))
    }

    /// Whether a request's `Origin` header is one of these (the opaque
    /// origin `null` never is).
    pub fn allows(&self, origin: &str) -> bool {
        normalise_origin(origin.trim()).is_some_and(|o| self.0.contains(&o))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// `scheme://host[:port]` in its serialised form, or `None` when `s` is
/// not exactly an http(s) origin.
fn normalise_origin(s: &str) -> Option<String> {
    let (scheme, rest) = s.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\']) {
        return None;
    }
    let url = Url::parse(s).ok()?;
    url.host_str().filter(|h| !h.is_empty())?;
    Some(url.origin().ascii_serialization())
}

/// The names of [`EngagementAgg::columns`], in order.
pub const COLUMNS: [&str; 5] = [
    "visits",
    "pages_per_visit",
    "product_view_rate",
    "add_to_cart_rate",
    "median_seconds_to_cart",
];

/// Engagement sums of one report group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngagementAgg {
    pub visits: i64,
    pub page_views: i64,
    /// Visits with at least one `product_view`.
    pub product_view_visits: i64,
    /// Visits with at least one `add_to_cart`.
    pub cart_visits: i64,
    /// Per click: from the click to its visitor's first `add_to_cart`.
    pub click_to_cart_ms: Vec<Millis>,
}

impl EngagementAgg {
    pub fn add(&mut self, other: &EngagementAgg) {
        self.visits += other.visits;
        self.page_views += other.page_views;
        self.product_view_visits += other.product_view_visits;
        self.cart_visits += other.cart_visits;
        self.click_to_cart_ms
            .extend_from_slice(&other.click_to_cart_ms);
    }

    /// The report columns, named as in [`COLUMNS`]: ratios are `null`
    /// without visits, the median is `null` without carts.
    pub fn columns(&self) -> [(&'static str, Value); 5] {
        let visits = i128::from(self.visits);
        [
            (COLUMNS[0], json!(self.visits)),
            (COLUMNS[1], ratio(i128::from(self.page_views), visits, 2)),
            (
                COLUMNS[2],
                ratio(i128::from(self.product_view_visits), visits, 4),
            ),
            (COLUMNS[3], ratio(i128::from(self.cart_visits), visits, 4)),
            (COLUMNS[4], median_seconds(&self.click_to_cart_ms)),
        ]
    }
}

/// The median in seconds to one decimal (an even count takes the mean of
/// the two middle values); `null` when empty.
fn median_seconds(ms: &[Millis]) -> Value {
    if ms.is_empty() {
        return Value::Null;
    }
    let mut v = ms.to_vec();
    v.sort_unstable();
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        ratio(i128::from(v[mid]), i128::from(time::SECOND), 1)
    } else {
        ratio(
            i128::from(v[mid - 1]) + i128::from(v[mid]),
            2 * i128::from(time::SECOND),
            1,
        )
    }
}

/// How many visitors' worth of events one network may send per minute:
/// the per-network limit is this times `EVENTS_PER_MINUTE`.
pub const NETWORK_FACTOR: u32 = 20;

/// A flood guard for the public event endpoint, kept in isolate memory:
/// at most `per_minute` events per network (the IP prefix, /24 or /48) in
/// each fixed minute. The per-visitor limit (in D1, across isolates) can be
/// dodged by inventing visitor ids; this cannot, within an isolate. Nothing
/// of it is stored, and a full table starts over (a guard, not a ledger).
#[derive(Debug)]
pub struct NetworkLimiter {
    windows: std::collections::HashMap<String, (i64, u32)>,
    per_minute: u32,
    capacity: usize,
}

impl NetworkLimiter {
    pub fn new(per_minute: u32, capacity: usize) -> NetworkLimiter {
        NetworkLimiter {
            windows: std::collections::HashMap::new(),
            per_minute,
            capacity,
        }
    }

    /// Counts one event of `network` at `now`; `false` when the network is
    /// over its limit for this minute (the event is not counted).
    pub fn allow(&mut self, network: &str, now: Millis) -> bool {
        let minute = now.div_euclid(time::MINUTE);
        if self.windows.len() >= self.capacity && !self.windows.contains_key(network) {
            self.windows.retain(|_, (m, _)| *m == minute);
            if self.windows.len() >= self.capacity {
                self.windows.clear();
            }
        }
        let entry = self
            .windows
            .entry(network.to_owned())
            .or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= self.per_minute {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_795_939_200_000; // 2026-11-29T08:00:00Z
    const CID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    /// The outcome of parsing `json` at `NOW`: the event's
    /// (type, visitor key, host, path, occurred_at), or the (code, field).
    type Outcome<'a> = Result<(&'a str, &'a str, &'a str, &'a str, Millis), (&'a str, &'a str)>;

    fn check(json: &str, expected: Outcome<'_>) {
        let input: EventInput = serde_json::from_str(json).expect(json);
        match (Event::parse(input, NOW), expected) {
            (Ok(e), Ok(want)) => assert_eq!(
                (
                    e.kind.as_str(),
                    e.visitor_key().as_str(),
                    e.url_host.as_str(),
                    e.url_path.as_str(),
                    e.occurred_at
                ),
                want,
                "{json}"
            ),
            (Err(e), Err((code, field))) => {
                assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}")
            }
            (got, want) => panic!("{json}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn event_bodies() {
        let page = "https://Shop.Brand.com/products/serum";
        check(
            &format!(r#"{{"type":"page_view","visitor_id":"vis-1234","url":"{page}"}}"#),
            Ok((
                "page_view",
                "v:vis-1234",
                "shop.brand.com",
                "/products/serum",
                NOW,
            )),
        );
        // Query and fragment are dropped; the visitor id wins the key.
        check(
            &format!(
                r#"{{"type":"add_to_cart","visitor_id":"abcdefgh","click_id":"{CID}",
                "url":"http://127.0.0.1:8788/cart?email=a%40b.com#x","occurred_at":{}}}"#,
                NOW - 1000
            ),
            Ok((
                "add_to_cart",
                "v:abcdefgh",
                "127.0.0.1",
                "/cart",
                NOW - 1000,
            )),
        );
        check(
            &format!(
                r#"{{"type":"checkout_start","click_id":"{CID}","url":"https://shop.brand.com",
                "occurred_at":"2026-11-29T07:00:00Z"}}"#
            ),
            Ok((
                "checkout_start",
                "c:AAAAAAAAAAAAAAAAAAAAAA",
                "shop.brand.com",
                "/",
                NOW - time::HOUR,
            )),
        );
        check(
            &format!(
                r#"{{"type":"product_view","click_id":"{CID}","url":"{page}","occurred_at":null}}"#
            ),
            Ok((
                "product_view",
                "c:AAAAAAAAAAAAAAAAAAAAAA",
                "shop.brand.com",
                "/products/serum",
                NOW,
            )),
        );
        // The window's edges are inside it.
        for at in [NOW - MAX_AGE, NOW + MAX_SKEW] {
            check(
                &format!(
                    r#"{{"type":"page_view","visitor_id":"abcdefgh","url":"{page}","occurred_at":{at}}}"#
                ),
                Ok((
                    "page_view",
                    "v:abcdefgh",
                    "shop.brand.com",
                    "/products/serum",
                    at,
                )),
            );
        }

        let bad = |body: &str, code, field| {
            check(
                &format!(r#"{{"visitor_id":"abcdefgh","url":"{page}",{body}}}"#),
                Err((code, field)),
            )
        };
        check(
            &format!(r#"{{"visitor_id":"abcdefgh","url":"{page}"}}"#),
            Err(("missing", "type")),
        );
        bad(r#""type":"purchase""#, "unknown_type", "type");
        bad(r#""type":"PAGE_VIEW""#, "unknown_type", "type");
        check(
            &format!(r#"{{"type":"page_view","url":"{page}"}}"#),
            Err(("missing", "visitor_id")),
        );
        check(
            r#"{"type":"page_view","visitor_id":"abcdefgh"}"#,
            Err(("missing", "url")),
        );
        for vid in ["short", "", "has space1", "ümlautsü", &"a".repeat(65)] {
            check(
                &format!(r#"{{"type":"page_view","visitor_id":"{vid}","url":"{page}"}}"#),
                Err(("invalid_format", "visitor_id")),
            );
        }
        check(
            &format!(
                r#"{{"type":"page_view","visitor_id":"{}","url":"{page}"}}"#,
                "a".repeat(64)
            ),
            Ok((
                "page_view",
                &format!("v:{}", "a".repeat(64)),
                "shop.brand.com",
                "/products/serum",
                NOW,
            )),
        );
        bad(
            r#""type":"page_view","click_id":"nope""#,
            "invalid_format",
            "click_id",
        );
        for url in [
            "/products/serum",
            "ftp://shop.brand.com/",
            "javascript:alert(1)",
            "https://",
            "not a url",
        ] {
            check(
                &format!(r#"{{"type":"page_view","visitor_id":"abcdefgh","url":"{url}"}}"#),
                Err(("invalid_url", "url")),
            );
        }
        check(
            &format!(
                r#"{{"type":"page_view","visitor_id":"abcdefgh","url":"https://a.com/{}"}}"#,
                "x".repeat(MAX_URL_LEN)
            ),
            Err(("invalid_url", "url")),
        );
        for at in [
            (NOW - MAX_AGE - 1).to_string(),
            (NOW + MAX_SKEW + 1).to_string(),
            r#""2026-11-27T08:00:00Z""#.into(),
        ] {
            bad(
                &format!(r#""type":"page_view","occurred_at":{at}"#),
                "out_of_range",
                "occurred_at",
            );
        }
        for at in [r#""yesterday""#, "1.5", "true", "[]", "1e30"] {
            bad(
                &format!(r#""type":"page_view","occurred_at":{at}"#),
                "invalid_timestamp",
                "occurred_at",
            );
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<EventInput>(
            r#"{"type":"page_view","visitor_id":"abcdefgh","url":"https://a.com/","email":"x"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn unknown_type_message_lists_the_types() {
        let input = EventInput {
            kind: Some("purchase".into()),
            ..EventInput::default()
        };
        let err = Event::parse(input, NOW).unwrap_err();
        assert_eq!(
            err.to_string(),
            "type must be one of page_view, product_view, add_to_cart, checkout_start"
        );
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn long_paths_are_cut_outside_escapes() {
        let at = |prefix: usize, tail: &str| {
            let url = format!("https://a.com/{}{tail}", "p".repeat(prefix));
            parse_page_url(&url).unwrap().1
        };
        assert_eq!(at(400, "").len(), 401);
        assert_eq!(at(600, "").len(), MAX_PATH_LEN);
        // "/" + 509 p's + "%E2%9C%93": the cut at 512 would split "%E2".
        let cut = at(509, "\u{2713}");
        assert_eq!(cut.len(), 510);
        assert!(cut.ends_with('p'));
        let cut = at(508, "\u{2713}");
        assert!(cut.ends_with("%E2"), "{cut}");
    }

    #[test]
    fn origins() {
        let o = Origins::parse(
            " https://Shop.Brand.com:443, http://127.0.0.1:8788,,https://shop.brand.com ",
        )
        .unwrap();
        assert_eq!(
            o.as_slice(),
            ["https://shop.brand.com", "http://127.0.0.1:8788"]
        );
        for (origin, allowed) in [
            ("https://shop.brand.com", true),
            ("https://SHOP.brand.com:443", true),
            ("http://127.0.0.1:8788", true),
            ("http://shop.brand.com", false),
            ("https://shop.brand.com:8443", false),
            ("http://127.0.0.1", false),
            ("https://evil.com", false),
            ("https://shop.brand.com.evil.com", false),
            ("https://shop.brand.com/", false),
            ("null", false),
            ("", false),
        ] {
            assert_eq!(o.allows(origin), allowed, "{origin}");
        }
        assert!(Origins::parse("").unwrap().is_empty());
        assert!(Origins::parse(" , ").unwrap().is_empty());
        assert!(!Origins::parse("").unwrap().allows("null"));
        assert_eq!(
            Origins::parse("http://[::1]:80").unwrap().as_slice(),
            ["http://[::1]"]
        );
        for bad in [
            "shop.brand.com",
            "https://shop.brand.com/",
            "https://shop.brand.com/path",
            "https://shop.brand.com?x=1",
            "https://shop.brand.com#x",
            "https://user@shop.brand.com",
            "ftp://shop.brand.com",
            "https://",
            "null",
            "https://ok.com, nope",
        ] {
            assert_eq!(
                Origins::parse(bad).unwrap_err().code,
                "invalid_config",
                "{bad}"
            );
        }
    }

    fn check_columns(agg: &EngagementAgg, expected: Value) {
        let got: serde_json::Map<String, Value> = agg
            .columns()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Value::Object(got), expected, "{agg:?}");
        let names: Vec<&str> = agg.columns().iter().map(|(k, _)| *k).collect();
        assert_eq!(names, COLUMNS);
    }

    #[test]
    fn columns() {
        check_columns(
            &EngagementAgg::default(),
            json!({"visits": 0, "pages_per_visit": null, "product_view_rate": null,
                   "add_to_cart_rate": null, "median_seconds_to_cart": null}),
        );
        let a = EngagementAgg {
            visits: 3,
            page_views: 10,
            product_view_visits: 2,
            cart_visits: 1,
            click_to_cart_ms: vec![90_050, 10_000, 30_000],
        };
        check_columns(
            &a,
            json!({"visits": 3, "pages_per_visit": 3.33, "product_view_rate": 0.6667,
                   "add_to_cart_rate": 0.3333, "median_seconds_to_cart": 30.0}),
        );
        let mut sum = a.clone();
        sum.add(&EngagementAgg {
            visits: 5,
            page_views: 7,
            product_view_visits: 3,
            cart_visits: 2,
            click_to_cart_ms: vec![45_050],
        });
        // Median of 10 000, 30 000, 45 050, 90 050: (30 000 + 45 050) / 2 =
        // 37 525 ms, 37.5 s (half away from zero: 37.525 → 37.5).
        check_columns(
            &sum,
            json!({"visits": 8, "pages_per_visit": 2.13, "product_view_rate": 0.625,
                   "add_to_cart_rate": 0.375, "median_seconds_to_cart": 37.5}),
        );
        let even = EngagementAgg {
            visits: 1,
            click_to_cart_ms: vec![1_000, 2_100],
            ..EngagementAgg::default()
        };
        // (1 000 + 2 100) / 2 = 1 550 ms, 1.6 s.
        assert_eq!(even.columns()[4].1, json!(1.6));
    }

    #[test]
    fn visit_gap_is_thirty_minutes() {
        assert_eq!(VISIT_GAP, 1_800_000);
    }

    #[test]
    fn snippet() {
        assert!(SNIPPET.len() < 2048, "t.js is {} bytes", SNIPPET.len());
        for needle in [
            "sendBeacon",
            "lc_cid",
            "lc_vid",
            "linkcredit",
            "/api/v1/events",
        ] {
            assert!(SNIPPET.contains(needle), "t.js lacks {needle}");
        }
        assert!(!SNIPPET.contains("document.cookie"));
        assert!(!SNIPPET.contains("</script"), "t.js must stay inlinable");
        for t in EventType::ALL {
            assert!(SNIPPET.contains(t.as_str()), "t.js lacks {}", t.as_str());
        }
    }

    #[test]
    fn the_network_limiter_counts_per_network_and_minute() {
        let mut l = NetworkLimiter::new(3, 2);
        let t = 10 * time::MINUTE;
        assert!((0..3).all(|_| l.allow("203.0.113", t)));
        assert!(
            !l.allow("203.0.113", t + 59_999),
            "the fourth in the minute"
        );
        assert!(l.allow("198.51.100", t), "another network");
        assert!(l.allow("203.0.113", t + time::MINUTE), "the next minute");
        // A full table drops other minutes' windows first, then everything.
        assert!(l.allow("192.0.2", t + time::MINUTE));
        assert!(l.allow("2001:db8:1", t + 2 * time::MINUTE));
        assert!(l.windows.len() <= 2);
    }
}
