//! Random identifiers: click ids (`lc_cid`) and visitor ids (`lc_vid`).
//!
//! Both are 128 random bits, encoded as 22 characters of unpadded base64url.
//! The shell supplies the random bytes (the core never draws them), and
//! `parse()` accepts only the exact shape, so a cookie or query value from
//! the outside can never smuggle anything into storage.

use crate::base::error::ParseError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::fmt;

/// Number of random bytes in an id.
pub const ID_BYTES: usize = 16;
/// Length of an encoded id.
pub const ID_LEN: usize = 22;

fn encode(random: [u8; ID_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

fn parse_id(s: &str, what: &str) -> Result<String, ParseError> {
    let ok = s.len() == ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == ID_BYTES);
    if ok {
        Ok(s.to_owned())
    } else {
        Err(ParseError::new(
            "invalid_format",
            format!("{what} must be {ID_LEN} characters of base64url"),
        ))
    }
}

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn from_random(random: [u8; ID_BYTES]) -> Self {
                $name(encode(random))
            }

            pub fn parse(s: &str) -> Result<Self, ParseError> {
                parse_id(s, $what).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

random_id!(
    /// One click: added to the redirect as `lc_cid`, and the key that joins
    /// a server-side conversion to its click.
    ClickId,
    "click id"
);
random_id!(
    /// One browser: kept in the first-party `lc_vid` cookie for a year.
    VisitorId,
    "visitor id"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encodes_to_22_url_safe_chars() {
        assert_eq!(
            ClickId::from_random([0; 16]).as_str(),
            "AAAAAAAAAAAAAAAAAAAAAA"
        );
        assert_eq!(
            ClickId::from_random([255; 16]).as_str(),
            "_____________________w"
        );
    }

    #[test]
    fn parse_rejects_other_shapes() {
        for bad in [
            "",
            "short",
            "AAAAAAAAAAAAAAAAAAAAA+",
            "AAAAAAAAAAAAAAAAAAAAAAA",
            "AAAAAAAAAAAAAAAAAAAAA=",
            "_____________________/",
        ] {
            assert_eq!(
                VisitorId::parse(bad).unwrap_err().code,
                "invalid_format",
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn round_trips(bytes in any::<[u8; 16]>()) {
            let id = VisitorId::from_random(bytes);
            prop_assert_eq!(VisitorId::parse(id.as_str()), Ok(id));
        }
    }
}
