//! The storefront snippet itself ([`SNIPPET`], `src/traffic/t.js`), served
//! at `GET /t.js`.

/// The storefront snippet, served at `GET /t.js` (hand-minified, under
/// 2 KB, no build step).
pub const SNIPPET: &str = include_str!("../t.js");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::storefront::EventType;

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
}
