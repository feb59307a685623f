//! The events the snippet posts: the body of `POST /api/v1/events`
//! ([`EventInput`]) validated into an [`Event`] (its type, visitor, page and
//! time), and the key its visitor's events are grouped by.

use super::page_url::parse_page_url;
use crate::base::error::{ApiError, ParseError};
use crate::base::time::{self, Millis};
use crate::traffic::ids::ClickId;
use serde::Deserialize;
use serde_json::Value;

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
    /// The page's path (percent-encoded), at most
    /// [`MAX_PATH_LEN`](super::MAX_PATH_LEN) characters; no query, no
    /// fragment.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::storefront::MAX_URL_LEN;

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
    fn visit_gap_is_thirty_minutes() {
        assert_eq!(VISIT_GAP, 1_800_000);
    }
}
