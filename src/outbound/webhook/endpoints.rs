//! Endpoint registration: the [`EventKind`]s an endpoint can subscribe to,
//! the validation of a registration body ([`NewEndpoint::parse`]) and the
//! stored form of a list of kinds ([`events_text`], [`parse_events_text`]).

use crate::base::error::{ApiError, ParseError};
use serde::Deserialize;
use url::{Host, Url};

/// What an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A conversion was attributed (the ad-platform "Purchase").
    ConversionAttributed,
    /// A stored conversion was partly or fully refunded.
    ConversionRefunded,
    /// A link check found a broken link.
    LinkBroken,
}

impl EventKind {
    /// Every kind, in the order lists of kinds are kept.
    pub const ALL: [EventKind; 3] = [
        EventKind::ConversionAttributed,
        EventKind::ConversionRefunded,
        EventKind::LinkBroken,
    ];

    /// The envelope's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ConversionAttributed => "conversion.attributed",
            EventKind::ConversionRefunded => "conversion.refunded",
            EventKind::LinkBroken => "link.broken",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Longest accepted endpoint URL, in characters, as given and as normalised.
pub const MAX_URL_LEN: usize = 2048;
/// Shortest accepted secret, in characters.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest accepted secret, in characters.
pub const MAX_SECRET_LEN: usize = 256;
/// Longest accepted description, in characters (after trimming).
pub const MAX_DESCRIPTION_LEN: usize = 200;

/// The body of an endpoint registration, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub description: Option<String>,
}

/// A validated endpoint registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    /// The normalised URL (`https://Hooks.Example` becomes
    /// `https://hooks.example/`).
    pub url: String,
    /// Non-empty, without duplicates, in [`EventKind::ALL`] order.
    pub events: Vec<EventKind>,
    pub secret: String,
    pub description: Option<String>,
}

impl NewEndpoint {
    /// Validates the fields in order (url, events, secret, description) and
    /// reports the first problem as a 400 naming its field:
    /// * `url`: required (`missing`, also when blank); an absolute `http` or
    ///   `https` URL with a host, no user name or password, no fragment, at
    ///   most [`MAX_URL_LEN`] characters, else `invalid_url`; `https`, or
    ///   `http` to a loopback host only, else `insecure_url`;
    /// * `events`: required (`missing`), at least one (`empty`), each a known
    ///   kind (`unknown_event`); duplicates are dropped;
    /// * `secret`: required (`missing`, also when empty); [`MIN_SECRET_LEN`]
    ///   to [`MAX_SECRET_LEN`] printable ASCII characters without spaces
    ///   (`!` to `~`), else `invalid_secret`. It is never trimmed;
    /// * `description`: optional, trimmed, blank is none, at most
    ///   [`MAX_DESCRIPTION_LEN`] characters (`too_long`).
    pub fn parse(input: EndpointInput) -> Result<NewEndpoint, ApiError> {
        let url = parse_url(input.url.as_deref()).map_err(|e| e.at("url"))?;
        let events = parse_events(input.events.as_deref()).map_err(|e| e.at("events"))?;
        let secret = parse_secret(input.secret).map_err(|e| e.at("secret"))?;
        let description = match input.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => {
                return Err(ParseError::new(
                    "too_long",
                    format!("description must be at most {MAX_DESCRIPTION_LEN} characters"),
                )
                .at("description"))
            }
            Some(d) => Some(d.to_owned()),
        };
        Ok(NewEndpoint {
            url,
            events,
            secret,
            description,
        })
    }
}

fn parse_url(s: Option<&str>) -> Result<String, ParseError> {
    let s = s.map(str::trim).unwrap_or_default();
    if s.is_empty() {
        return Err(ParseError::new("missing", "url is required"));
    }
    let invalid = |why: &str| ParseError::new("invalid_url", format!("url {why}"));
    if s.chars().count() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "must be at most {MAX_URL_LEN} characters"
        )));
    }
    let url = Url::parse(s).map_err(|e| invalid(&format!("is not a valid absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("must have a host"));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        // Deliveries carry hashed emails and click ids: never in clear text
        // across a network. Plain http is for a receiver on this machine.
        return Err(ParseError::new(
            "insecure_url",
            "url must be https (http only for a loopback address: 127.0.0.0/8, [::1] or localhost)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not contain a fragment (#...)"));
    }
    if url.as_str().len() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "must be at most {MAX_URL_LEN} characters once encoded"
        )));
    }
    Ok(url.into())
}

/// Whether a URL's host is this machine (`127.0.0.0/8`, `::1`,
/// `localhost`): the only hosts a webhook may reach over plain http.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => a.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn parse_events(names: Option<&[String]>) -> Result<Vec<EventKind>, ParseError> {
    let Some(names) = names else {
        return Err(ParseError::new("missing", "events is required"));
    };
    if names.is_empty() {
        return Err(ParseError::new(
            "empty",
            "events must list at least one event",
        ));
    }
    let mut wanted = [false; EventKind::ALL.len()];
    for name in names {
        let name = name.trim();
        let Some(i) = EventKind::ALL.iter().position(|k| k.as_str() == name) else {
            return Err(ParseError::new(
                "unknown_event",
                format!(
                    "unknown event '{name}'; valid events are {}",
                    events_text(&EventKind::ALL).replace(',', ", ")
                ),
            ));
        };
        wanted[i] = true;
    }
    Ok(kinds_in_order(&wanted))
}

fn kinds_in_order(wanted: &[bool; EventKind::ALL.len()]) -> Vec<EventKind> {
    EventKind::ALL
        .into_iter()
        .zip(wanted)
        .filter_map(|(k, w)| w.then_some(k))
        .collect()
}

fn parse_secret(s: Option<String>) -> Result<String, ParseError> {
    let s = match s {
        None => return Err(ParseError::new("missing", "secret is required")),
        Some(s) if s.is_empty() => return Err(ParseError::new("missing", "secret is required")),
        Some(s) => s,
    };
    // All bytes in 0x21..=0x7e means ASCII, so bytes are characters.
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&s.len())
        || !s.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(ParseError::new(
            "invalid_secret",
            format!(
                "secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} printable ASCII characters without spaces"
            ),
        ));
    }
    Ok(s)
}

/// The stored form of a list of kinds: `conversion.attributed,link.broken`.
pub fn events_text(events: &[EventKind]) -> String {
    events
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads [`events_text`] back. Unknown names (say, from a newer version) are
/// skipped; the result has no duplicates and is in [`EventKind::ALL`] order.
pub fn parse_events_text(s: &str) -> Vec<EventKind> {
    let mut wanted = [false; EventKind::ALL.len()];
    for name in s.split(',') {
        if let Some(i) = EventKind::ALL
            .iter()
            .position(|k| k.as_str() == name.trim())
        {
            wanted[i] = true;
        }
    }
    kinds_in_order(&wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhook::SECRET;

    // -- event kinds --------------------------------------------------------

    #[test]
    fn event_kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("conversion"), None);
        assert_eq!(EventKind::parse("Link.Broken"), None);
        assert_eq!(
            events_text(&EventKind::ALL),
            "conversion.attributed,conversion.refunded,link.broken"
        );
        assert_eq!(events_text(&[]), "");
        assert_eq!(parse_events_text(""), vec![]);
        assert_eq!(
            parse_events_text("link.broken,future.thing,conversion.attributed,link.broken"),
            vec![EventKind::ConversionAttributed, EventKind::LinkBroken]
        );
        let some = [EventKind::ConversionRefunded, EventKind::LinkBroken];
        assert_eq!(parse_events_text(&events_text(&some)), some);
    }

    // -- endpoint registration ----------------------------------------------

    /// `expected`: Ok((url, events text, description)) or Err((code, field)).
    fn check(json: &str, expected: Result<(&str, &str, Option<&str>), (&str, &str)>) {
        let input: EndpointInput = serde_json::from_str(json).unwrap();
        let got = NewEndpoint::parse(input);
        match (got, expected) {
            (Ok(e), Ok((url, events, description))) => assert_eq!(
                (
                    e.url.as_str(),
                    events_text(&e.events).as_str(),
                    e.description.as_deref()
                ),
                (url, events, description),
                "{json}"
            ),
            (Err(e), Err((code, field))) => {
                assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}")
            }
            (got, want) => panic!("{json}: got {got:?}, want {want:?}"),
        }
    }

    fn body(url: &str, events: &str, secret: &str, extra: &str) -> String {
        format!(r#"{{"url":{url},"events":{events},"secret":{secret}{extra}}}"#)
    }

    #[test]
    fn endpoint_bodies() {
        let s = format!("\"{SECRET}\"");
        let ok = |url: &str| body(url, r#"["link.broken"]"#, &s, "");
        check(
            &ok(r#""https://hooks.example/lc""#),
            Ok(("https://hooks.example/lc", "link.broken", None)),
        );
        check(
            &ok(r#"" HTTPS://Hooks.Example ""#),
            Ok(("https://hooks.example/", "link.broken", None)),
        );
        check(
            &ok(r#""http://127.0.0.1:8787/hook?x=1""#),
            Ok(("http://127.0.0.1:8787/hook?x=1", "link.broken", None)),
        );
        check(&ok("null"), Err(("missing", "url")));
        check(&ok(r#""  ""#), Err(("missing", "url")));
        check(
            &format!(r#"{{"events":["link.broken"],"secret":{s}}}"#),
            Err(("missing", "url")),
        );
        for bad in [
            "/relative",
            "hooks.example/x",
            "ftp://hooks.example/",
            "mailto:a@hooks.example",
            "https://user:pw@hooks.example/",
            "https://user@hooks.example/",
            "https://hooks.example/x#frag",
            "https://hooks.example/#",
            "http://[::1",
            "https://",
        ] {
            check(&ok(&format!("\"{bad}\"")), Err(("invalid_url", "url")));
        }
        // Plain http only to this machine.
        for insecure in [
            "http://hooks.example/lc",
            "HTTP://Hooks.Example/",
            "http://127.0.0.1.hooks.example/",
            "http://10.0.0.1/hook",
            "http://[2001:db8::1]/hook",
        ] {
            check(
                &ok(&format!("\"{insecure}\"")),
                Err(("insecure_url", "url")),
            );
        }
        for local in [
            "http://127.0.0.5:9/h",
            "http://[::1]:8787/h",
            "http://LOCALHOST:8787/h",
        ] {
            let want = local.replace("LOCALHOST", "localhost");
            check(
                &ok(&format!("\"{local}\"")),
                Ok((&want, "link.broken", None)),
            );
        }
        let long = format!("https://hooks.example/{}", "a".repeat(MAX_URL_LEN));
        check(&ok(&format!("\"{long}\"")), Err(("invalid_url", "url")));
        let fits = format!("https://hooks.example/{}", "a".repeat(MAX_URL_LEN - 22));
        check(
            &ok(&format!("\"{fits}\"")),
            Ok((&fits, "link.broken", None)),
        );

        // events
        let url = r#""https://hooks.example/""#;
        check(
            &body(
                url,
                r#"["link.broken","conversion.attributed","link.broken"]"#,
                &s,
                "",
            ),
            Ok((
                "https://hooks.example/",
                "conversion.attributed,link.broken",
                None,
            )),
        );
        check(&body(url, "null", &s, ""), Err(("missing", "events")));
        check(&body(url, "[]", &s, ""), Err(("empty", "events")));
        check(
            &body(url, r#"["conversion.attributed","order.paid"]"#, &s, ""),
            Err(("unknown_event", "events")),
        );

        // secret
        let ev = r#"["conversion.refunded"]"#;
        let with_secret = |secret: &str| body(url, ev, secret, "");
        check(&with_secret("null"), Err(("missing", "secret")));
        check(&with_secret(r#""""#), Err(("missing", "secret")));
        check(
            &with_secret(r#""0123456789abcde""#),
            Err(("invalid_secret", "secret")),
        );
        check(
            &with_secret(r#""0123456789abcdef""#),
            Ok(("https://hooks.example/", "conversion.refunded", None)),
        );
        check(
            &with_secret(r#""0123456789 abcdef""#),
            Err(("invalid_secret", "secret")),
        );
        check(
            &with_secret(r#""0123456789abcdef\n""#),
            Err(("invalid_secret", "secret")),
        );
        check(
            &with_secret(r#""0123456789abcdéf""#),
            Err(("invalid_secret", "secret")),
        );
        let max = format!("\"{}\"", "~".repeat(MAX_SECRET_LEN));
        check(
            &with_secret(&max),
            Ok(("https://hooks.example/", "conversion.refunded", None)),
        );
        let over = format!("\"{}\"", "!".repeat(MAX_SECRET_LEN + 1));
        check(&with_secret(&over), Err(("invalid_secret", "secret")));

        // description
        let with_desc = |d: &str| body(url, ev, &s, &format!(r#","description":{d}"#));
        let expect = |d| Ok(("https://hooks.example/", "conversion.refunded", d));
        check(&with_desc(r#""  Meta CAPI  ""#), expect(Some("Meta CAPI")));
        check(&with_desc(r#""   ""#), expect(None));
        check(&with_desc("null"), expect(None));
        let max = format!("\"{}\"", "é".repeat(MAX_DESCRIPTION_LEN));
        check(
            &with_desc(&max),
            expect(Some(&"é".repeat(MAX_DESCRIPTION_LEN))),
        );
        let over = format!("\"{}\"", "x".repeat(MAX_DESCRIPTION_LEN + 1));
        check(&with_desc(&over), Err(("too_long", "description")));

        // the first invalid field, in order, is the one reported
        check(
            &body(r#""ftp://x/""#, "[]", r#""short""#, ""),
            Err(("invalid_url", "url")),
        );
    }

    #[test]
    fn endpoint_unknown_event_lists_valid_names_and_fields_are_exact() {
        let input: EndpointInput = serde_json::from_str(
            r#"{"url":"https://h.example/","events":["order.paid"],"secret":"0123456789abcdef"}"#,
        )
        .unwrap();
        let e = NewEndpoint::parse(input).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown event 'order.paid'; valid events are conversion.attributed, conversion.refunded, link.broken"
        );
        assert!(serde_json::from_str::<EndpointInput>(r#"{"url":"x","enabled":true}"#).is_err());
        let ok = NewEndpoint::parse(EndpointInput {
            url: Some("https://h.example/in".into()),
            events: Some(vec!["conversion.refunded".into()]),
            secret: Some(SECRET.into()),
            description: None,
        })
        .unwrap();
        assert_eq!(
            ok,
            NewEndpoint {
                url: "https://h.example/in".into(),
                events: vec![EventKind::ConversionRefunded],
                secret: SECRET.into(),
                description: None,
            }
        );
    }
}
