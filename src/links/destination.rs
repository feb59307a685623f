//! `Destination`: where a link sends its visitors.
//!
//! Only an admin registers destinations, and only absolute `http`/`https`
//! URLs with a host, no credentials and at most 2048 characters are accepted.
//! The redirect never sends a visitor anywhere else, so the worker cannot be
//! used as an open redirect.

use crate::base::error::ParseError;
use serde::{Deserialize, Serialize};
use url::Url;

/// Longest accepted destination, in characters, as given and as normalised.
pub const MAX_LEN: usize = 2048;

/// (De)serialised as its text, and re-validated on the way in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Destination(Url);

impl TryFrom<String> for Destination {
    type Error = String;
    fn try_from(s: String) -> Result<Destination, String> {
        Destination::parse(&s).map_err(|e| e.message)
    }
}

impl From<Destination> for String {
    fn from(d: Destination) -> String {
        d.as_str().to_owned()
    }
}

impl Destination {
    pub fn parse(s: &str) -> Result<Destination, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::new("empty", "destination must not be empty"));
        }
        if s.chars().count() > MAX_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("destination must be at most {MAX_LEN} characters"),
            ));
        }
        let url = match Url::parse(s) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                return Err(ParseError::new(
                    "relative_url",
                    "destination must be an absolute http or https URL",
                ))
            }
            Err(e) => {
                return Err(ParseError::new(
                    "invalid_url",
                    format!("destination is not a valid URL: {e}"),
                ))
            }
        };
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ParseError::new(
                "unsupported_scheme",
                format!(
                    "destination scheme must be http or https, not '{}'",
                    url.scheme()
                ),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ParseError::new(
                "invalid_url",
                "destination must have a host",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ParseError::new(
                "credentials_not_allowed",
                "destination must not contain a user name or password",
            ));
        }
        if url.as_str().len() > MAX_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("destination must be at most {MAX_LEN} characters once encoded"),
            ));
        }
        Ok(Destination(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Destination::parse(input);
        match expected {
            Ok(url) => assert_eq!(
                got.as_ref().map(Destination::as_str).map_err(|e| e.code),
                Ok(url),
                "input {input:?}"
            ),
            Err(code) => assert_eq!(got.map_err(|e| e.code), Err(code), "input {input:?}"),
        }
    }

    #[test]
    fn parse_table() {
        check(
            "https://shop.example/serum",
            Ok("https://shop.example/serum"),
        );
        check(
            "  https://shop.example/serum  ",
            Ok("https://shop.example/serum"),
        );
        check("HTTPS://Shop.Example", Ok("https://shop.example/"));
        check(
            "http://shop.example/a?b=1#c",
            Ok("http://shop.example/a?b=1#c"),
        );
        check(
            "https://shop.example/p%C3%A9",
            Ok("https://shop.example/p%C3%A9"),
        );
        check(
            "https://shop.example:8443/x",
            Ok("https://shop.example:8443/x"),
        );
        check("javascript:alert(1)", Err("unsupported_scheme"));
        check("JavaScript:alert(1)", Err("unsupported_scheme"));
        check("data:text/html,<script>", Err("unsupported_scheme"));
        check("ftp://shop.example/", Err("unsupported_scheme"));
        check("/relative/path", Err("relative_url"));
        check("shop.example/serum", Err("relative_url"));
        check("//shop.example/serum", Err("relative_url"));
        check(
            "https://user:pw@shop.example/",
            Err("credentials_not_allowed"),
        );
        check("https://user@shop.example/", Err("credentials_not_allowed"));
        check("https://", Err("invalid_url"));
        check("http://[::1", Err("invalid_url"));
        check("", Err("empty"));
        check("   ", Err("empty"));
        let long = format!("https://shop.example/{}", "a".repeat(2048));
        check(&long, Err("too_long"));
        let fits = format!("https://shop.example/{}", "a".repeat(2048 - 21));
        check(&fits, Ok(&fits));
    }
}
