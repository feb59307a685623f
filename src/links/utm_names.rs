//! Names an admin chooses: influencer [`Handle`]s, [`CampaignSlug`]s,
//! [`Platform`]s, and free-text UTM values ([`UtmValue`]).
//!
//! Handles and campaign slugs become `utm_source` and `utm_campaign`, so they
//! follow the UTM convention: lowercase `[a-z0-9_-]{1,64}`. Input is
//! normalised before validation (surrounding space trimmed, ASCII upper case
//! lowered, and for handles a leading `@` dropped), because that is how
//! people type them.

use crate::base::error::ParseError;
use serde::Serialize;
use std::fmt;

const MAX_KEY_LEN: usize = 64;
/// Longest accepted free-text UTM value (`utm_content`, `utm_term`, ...).
pub const MAX_UTM_LEN: usize = 100;

fn parse_key(raw: &str, what: &str) -> Result<String, ParseError> {
    let s = raw.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Err(ParseError::new(
            "empty",
            format!("{what} must not be empty"),
        ));
    }
    if s.len() > MAX_KEY_LEN {
        return Err(ParseError::new(
            "too_long",
            format!("{what} must be at most {MAX_KEY_LEN} characters"),
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(ParseError::new(
            "invalid_format",
            format!("{what} may contain only a-z, 0-9, '-' and '_'"),
        ));
    }
    Ok(s)
}

/// An influencer's handle; it is the link's `utm_source`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Handle(String);

impl Handle {
    pub fn parse(s: &str) -> Result<Handle, ParseError> {
        let s = s.trim();
        let s = s.strip_prefix('@').unwrap_or(s);
        parse_key(s, "handle").map(Handle)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A campaign's slug; it is the link's `utm_campaign`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct CampaignSlug(String);

impl CampaignSlug {
    pub fn parse(s: &str) -> Result<CampaignSlug, ParseError> {
        parse_key(s, "campaign slug").map(CampaignSlug)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for CampaignSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The social platform an influencer or a piece of content lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Instagram,
    Tiktok,
    Youtube,
    X,
    Snapchat,
    Pinterest,
    Twitch,
    Facebook,
    Blog,
    Other,
}

impl Platform {
    const ALL: [Platform; 10] = [
        Platform::Instagram,
        Platform::Tiktok,
        Platform::Youtube,
        Platform::X,
        Platform::Snapchat,
        Platform::Pinterest,
        Platform::Twitch,
        Platform::Facebook,
        Platform::Blog,
        Platform::Other,
    ];

    pub fn parse(s: &str) -> Result<Platform, ParseError> {
        let lower = s.trim().to_ascii_lowercase();
        let wanted = match lower.as_str() {
            "twitter" => "x",
            "ig" => "instagram",
            "tik_tok" | "tik-tok" => "tiktok",
            other => other,
        };
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| {
                ParseError::new(
                    "invalid_value",
                    "platform must be one of instagram, tiktok, youtube, x, snapchat, \
                     pinterest, twitch, facebook, blog, other",
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Instagram => "instagram",
            Platform::Tiktok => "tiktok",
            Platform::Youtube => "youtube",
            Platform::X => "x",
            Platform::Snapchat => "snapchat",
            Platform::Pinterest => "pinterest",
            Platform::Twitch => "twitch",
            Platform::Facebook => "facebook",
            Platform::Blog => "blog",
            Platform::Other => "other",
        }
    }
}

/// A free-text UTM value (`utm_content`, `utm_term`, `utm_medium`),
/// normalised to the convention: trimmed, lowercase, and every run of
/// white space turned into a single `-`. `"Spring Reel #2"` becomes
/// `"spring-reel-#2"`; the URL encoder takes care of the rest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct UtmValue(String);

impl UtmValue {
    pub fn parse(s: &str) -> Result<UtmValue, ParseError> {
        let words: Vec<&str> = s.split_whitespace().collect();
        if words.is_empty() {
            return Err(ParseError::new("empty", "value must not be empty"));
        }
        let v = words.join("-").to_lowercase();
        if v.chars().any(char::is_control) {
            return Err(ParseError::new(
                "invalid_format",
                "value must not contain control characters",
            ));
        }
        if v.chars().count() > MAX_UTM_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("value must be at most {MAX_UTM_LEN} characters"),
            ));
        }
        Ok(UtmValue(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-form tag on a link (`summer-sale`): a [`UtmValue`] (trimmed,
/// lower-cased, whitespace runs as `-`) of at most [`MAX_TAG_LEN`]
/// characters, without commas (tags are listed comma-separated in filters
/// and CSV).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Tag(String);

pub const MAX_TAG_LEN: usize = 48;
/// The most tags one link carries.
pub const MAX_TAGS: usize = 20;

impl Tag {
    pub fn parse(s: &str) -> Result<Tag, ParseError> {
        let v = UtmValue::parse(s)?.0;
        if v.chars().count() > MAX_TAG_LEN {
            return Err(ParseError::new(
                "too_long",
                format!("a tag must be at most {MAX_TAG_LEN} characters"),
            ));
        }
        if v.contains(',') {
            return Err(ParseError::new(
                "invalid_format",
                "a tag must not contain ','",
            ));
        }
        Ok(Tag(v))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<T: fmt::Debug>(
        got: Result<T, ParseError>,
        show: impl Fn(&T) -> &str,
        expected: Result<&str, &str>,
    ) {
        match (&got, expected) {
            (Ok(v), Ok(want)) => assert_eq!(show(v), want),
            (Err(e), Err(code)) => assert_eq!(e.code, code),
            _ => panic!("got {got:?}, expected {expected:?}"),
        }
    }

    #[test]
    fn handles() {
        let h = |s| check(Handle::parse(s), Handle::as_str, Ok(s));
        h("sarah");
        h("sarah_j-2");
        check(Handle::parse("@Sarah_J"), Handle::as_str, Ok("sarah_j"));
        check(Handle::parse("  SARAH "), Handle::as_str, Ok("sarah"));
        check(Handle::parse(""), Handle::as_str, Err("empty"));
        check(Handle::parse("@"), Handle::as_str, Err("empty"));
        check(
            Handle::parse("sarah.j"),
            Handle::as_str,
            Err("invalid_format"),
        );
        check(
            Handle::parse("sa rah"),
            Handle::as_str,
            Err("invalid_format"),
        );
        check(
            Handle::parse("sárah"),
            Handle::as_str,
            Err("invalid_format"),
        );
        check(
            Handle::parse(&"a".repeat(65)),
            Handle::as_str,
            Err("too_long"),
        );
        check(
            Handle::parse(&"a".repeat(64)),
            Handle::as_str,
            Ok(&"a".repeat(64)),
        );
    }

    #[test]
    fn campaign_slugs() {
        check(
            CampaignSlug::parse("Summer-Glow_26"),
            CampaignSlug::as_str,
            Ok("summer-glow_26"),
        );
        check(
            CampaignSlug::parse("@summer"),
            CampaignSlug::as_str,
            Err("invalid_format"),
        );
        check(CampaignSlug::parse(" "), CampaignSlug::as_str, Err("empty"));
    }

    #[test]
    fn platforms() {
        assert_eq!(Platform::parse("Instagram"), Ok(Platform::Instagram));
        assert_eq!(Platform::parse("twitter"), Ok(Platform::X));
        assert_eq!(Platform::parse("x"), Ok(Platform::X));
        assert_eq!(
            Platform::parse("myspace").unwrap_err().code,
            "invalid_value"
        );
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()), Ok(p));
        }
    }

    #[test]
    fn utm_values() {
        check(
            UtmValue::parse("Spring Reel  #2"),
            UtmValue::as_str,
            Ok("spring-reel-#2"),
        );
        check(
            UtmValue::parse(" story\t1 "),
            UtmValue::as_str,
            Ok("story-1"),
        );
        check(UtmValue::parse("ÉTÉ"), UtmValue::as_str, Ok("été"));
        check(UtmValue::parse("  "), UtmValue::as_str, Err("empty"));
        check(
            UtmValue::parse("a\u{7}b"),
            UtmValue::as_str,
            Err("invalid_format"),
        );
        check(
            UtmValue::parse(&"a".repeat(101)),
            UtmValue::as_str,
            Err("too_long"),
        );
    }
}
