//! The shop origins allowed to post events ([`Origins`], from
//! `SHOP_ORIGINS`), normalised so that a request's `Origin` header is
//! compared exactly.

use crate::base::error::ParseError;
use url::Url;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
