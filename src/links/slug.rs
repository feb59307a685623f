//! `Slug`: the path segment of a short link (`https://go.brand.com/{slug}`).
//!
//! A slug is `[A-Za-z0-9_-]{1,64}` and must not shadow a route of the worker
//! (`api`, `c`, `healthz`, ...). Slugs are case-sensitive. Generated slugs are
//! 8 alphanumeric characters drawn from caller-supplied random bytes, so the
//! core stays deterministic.

use crate::base::error::ParseError;
use std::fmt;

/// Longest accepted slug.
pub const MAX_LEN: usize = 64;
/// Length of generated slugs (62^8 ≈ 2.2·10^14 possibilities).
pub const GENERATED_LEN: usize = 8;

/// Path segments the worker routes itself; compared case-insensitively.
const RESERVED: &[&str] = &[
    "api",
    "c",
    "healthz",
    "health",
    "admin",
    "dashboard",
    "static",
    "assets",
    "t",
    "qr",
    "login",
    "logout",
    "__scheduled",
    "well-known",
];

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    /// Validates a user-given slug.
    pub fn parse(s: &str) -> Result<Slug, ParseError> {
        if s.is_empty() {
            return Err(ParseError::new("empty", "slug must not be empty"));
        }
        if s.len() > MAX_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("slug must be at most {MAX_LEN} characters"),
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ParseError::new(
                "invalid_format",
                "slug may contain only letters, digits, '-' and '_'",
            ));
        }
        if is_reserved(s) {
            return Err(ParseError::new(
                "reserved",
                format!("'{s}' is reserved by the worker's own routes"),
            ));
        }
        Ok(Slug(s.to_owned()))
    }

    /// Builds a fresh slug from 8 random bytes (one character per byte).
    ///
    /// The modulo bias of `byte % 62` is below 1.6% per character, which is
    /// irrelevant for an identifier whose uniqueness is checked on insert.
    pub fn generate(random: [u8; GENERATED_LEN]) -> Slug {
        let s: String = random
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        // Generated slugs are 8 alphanumerics: never reserved (none of the
        // reserved words has that shape), always valid.
        debug_assert!(Slug::parse(&s).is_ok());
        Slug(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_reserved(s: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = Slug::parse(input);
        match expected {
            Ok(slug) => assert_eq!(got.map(|s| s.0), Ok(slug.to_owned()), "input {input:?}"),
            Err(code) => assert_eq!(got.map_err(|e| e.code), Err(code), "input {input:?}"),
        }
    }

    #[test]
    fn parse_table() {
        check("sarah-serum", Ok("sarah-serum"));
        check("Sarah_Serum2", Ok("Sarah_Serum2"));
        check("a", Ok("a"));
        check(&"x".repeat(64), Ok(&"x".repeat(64)));
        check(&"x".repeat(65), Err("too_long"));
        check("", Err("empty"));
        check("has space", Err("invalid_format"));
        check("slash/inside", Err("invalid_format"));
        check("dot.com", Err("invalid_format"));
        check("ünï", Err("invalid_format"));
        check("%41", Err("invalid_format"));
        check("api", Err("reserved"));
        check("API", Err("reserved"));
        check("c", Err("reserved"));
        check("healthz", Err("reserved"));
        check("dashboard", Err("reserved"));
    }

    #[test]
    fn generated_slugs_are_valid_and_use_the_alphabet() {
        assert_eq!(Slug::generate([0; 8]).as_str(), "00000000");
        assert_eq!(
            Slug::generate([61, 62, 10, 36, 255, 1, 2, 3]).as_str(),
            "z0Aa7123"
        );
    }

    proptest! {
        #[test]
        fn any_generated_slug_parses(bytes in any::<[u8; 8]>()) {
            let slug = Slug::generate(bytes);
            prop_assert_eq!(slug.as_str().len(), GENERATED_LEN);
            prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug));
        }

        #[test]
        fn parse_accepts_exactly_the_charset(s in "[A-Za-z0-9_-]{1,64}") {
            prop_assert_eq!(Slug::parse(&s).is_ok(), !is_reserved(&s));
        }
    }
}
