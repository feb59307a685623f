//! Ad-platform click ids on a short link's URL.
//!
//! In-app browsers and ads append their platform's click id to the link
//! they open: Meta's apps `fbclid`, TikTok `ttclid`, Google `gclid` (and
//! `gbraid`/`wbraid`), Microsoft `msclkid`, Snapchat `ScCid`, X `twclid`,
//! LinkedIn `li_fat_id`. The conversion APIs of those platforms match a
//! server-side conversion to their user best with it (Meta's `fbc` is
//! `fb.1.<click time ms>.<fbclid>`), so the redirect keeps them with the
//! click (only when the visit may use the cookie: they identify a click to
//! the platform) and `conversion.attributed` webhooks carry them.
//!
//! Only the known names are read, each value at most 512 characters of
//! URL-safe text; anything else is ignored, never stored.

use serde_json::{Map, Value};

/// The query parameters read, as they are spelled on the wire.
pub const NAMES: [&str; 9] = [
    "fbclid",
    "ttclid",
    "gclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "ScCid",
    "twclid",
    "li_fat_id",
];

/// The longest value kept.
pub const MAX_LEN: usize = 512;

fn valid(v: &str) -> bool {
    (1..=MAX_LEN).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
}

/// The known click ids of a raw query string (first value of each name),
/// as compact JSON text (`{"fbclid":"..."}`), or `None` when there are none.
pub fn from_query(query: Option<&str>) -> Option<String> {
    let mut ids = Map::new();
    for pair in query.unwrap_or("").split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let Some(name) = NAMES.iter().find(|n| **n == k) else {
            continue;
        };
        if valid(v) && !ids.contains_key(*name) {
            ids.insert((*name).to_owned(), Value::String(v.to_owned()));
        }
    }
    (!ids.is_empty()).then(|| Value::Object(ids).to_string())
}

/// The stored JSON text back as an object (anything malformed: empty).
pub fn parse(stored: Option<&str>) -> Map<String, Value> {
    match stored.map(serde_json::from_str::<Value>) {
        Some(Ok(Value::Object(m))) => m
            .into_iter()
            .filter(|(k, v)| NAMES.contains(&k.as_str()) && v.as_str().is_some_and(valid))
            .collect(),
        _ => Map::new(),
    }
}

/// Meta's `fbc` parameter for a click: `fb.1.<click time ms>.<fbclid>`.
pub fn fbc(click_ms: i64, fbclid: &str) -> String {
    format!("fb.1.{click_ms}.{fbclid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: Option<&str>, expected: Option<&str>) {
        assert_eq!(from_query(query).as_deref(), expected, "{query:?}");
    }

    #[test]
    fn known_ids_only_and_only_url_safe_values() {
        check(None, None);
        check(Some(""), None);
        check(Some("qr=1"), None);
        check(
            Some("fbclid=IwAR0x_Y-z.1~"),
            Some(r#"{"fbclid":"IwAR0x_Y-z.1~"}"#),
        );
        check(
            Some("utm_source=ig&ttclid=E.C.P.abc&fbclid=Iw1&fbclid=Iw2"),
            Some(r#"{"fbclid":"Iw1","ttclid":"E.C.P.abc"}"#),
        );
        check(Some("gclid=a%20b"), None);
        check(Some("fbclid="), None);
        check(Some("FBCLID=x"), None);
        check(Some("ScCid=snap1"), Some(r#"{"ScCid":"snap1"}"#));
        check(Some(&format!("gclid={}", "a".repeat(MAX_LEN + 1))), None);
        check(
            Some(&format!("gclid={}", "a".repeat(MAX_LEN))),
            Some(&format!(r#"{{"gclid":"{}"}}"#, "a".repeat(MAX_LEN))),
        );
    }

    #[test]
    fn stored_text_round_trips_and_junk_is_dropped() {
        let stored = from_query(Some("fbclid=Iw1&msclkid=m2"));
        let m = parse(stored.as_deref());
        assert_eq!(m["fbclid"], "Iw1");
        assert_eq!(m["msclkid"], "m2");
        assert!(parse(Some("not json")).is_empty());
        assert!(parse(None).is_empty());
        let m = parse(Some(r#"{"fbclid":"ok","evil":"x","gclid":"a b"}"#));
        assert_eq!(m.len(), 1);
        assert_eq!(fbc(1_700_000_000_123, "Iw1"), "fb.1.1700000000123.Iw1");
    }
}
