//! Keyset pagination for list endpoints: `?limit=&cursor=`.
//!
//! The cursor is opaque to clients: it is the id of the last row returned,
//! base64url-encoded, and the next page starts after it. Keyset (not offset)
//! pagination stays correct and cheap while rows are being added.

use crate::base::error::{ApiError, ParseError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use url::form_urlencoded;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    /// Return rows with an id greater than this.
    pub after: i64,
}

impl Page {
    /// Parses `limit` and `cursor` from a raw query string; other parameters
    /// are left to the caller.
    pub fn from_query(query: &str) -> Result<Page, ApiError> {
        let mut page = Page {
            limit: DEFAULT_LIMIT,
            after: 0,
        };
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "limit" => {
                    page.limit = v
                        .parse::<u32>()
                        .ok()
                        .filter(|l| (1..=MAX_LIMIT).contains(l))
                        .ok_or_else(|| {
                            ParseError::new(
                                "invalid_value",
                                format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
                            )
                            .at("limit")
                        })?;
                }
                "cursor" => page.after = decode_cursor(&v).map_err(|e| e.at("cursor"))?,
                _ => {}
            }
        }
        Ok(page)
    }
}

pub fn encode_cursor(last_id: i64) -> String {
    URL_SAFE_NO_PAD.encode(last_id.to_string())
}

fn decode_cursor(s: &str) -> Result<i64, ParseError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id >= 0)
        .ok_or_else(|| ParseError::new("invalid_value", "cursor is not one this API returned"))
}

/// The `next_cursor` of a page: present only when the page was full.
pub fn next_cursor(ids: &[i64], page: Page) -> Option<String> {
    (ids.len() == page.limit as usize)
        .then(|| ids.last().copied().map(encode_cursor))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_limit_and_cursor() {
        assert_eq!(
            Page::from_query(""),
            Ok(Page {
                limit: 50,
                after: 0
            })
        );
        let c = encode_cursor(42);
        assert_eq!(
            Page::from_query(&format!("limit=2&cursor={c}&x=1")),
            Ok(Page {
                limit: 2,
                after: 42
            })
        );
        for bad in ["limit=0", "limit=201", "limit=abc"] {
            assert_eq!(
                Page::from_query(bad).unwrap_err().field(),
                Some("limit"),
                "{bad}"
            );
        }
        assert_eq!(
            Page::from_query("cursor=%%%").unwrap_err().field(),
            Some("cursor")
        );
    }

    #[test]
    fn next_cursor_only_on_full_pages() {
        let page = Page { limit: 2, after: 0 };
        assert_eq!(next_cursor(&[1, 2], page), Some(encode_cursor(2)));
        assert_eq!(next_cursor(&[1], page), None);
    }
}
