//! `PromoCode`: an influencer's discount code, e.g. `SARAH20`.
//!
//! Codes are `[A-Z0-9_-]{3,32}`, stored upper-case and matched
//! case-insensitively: `sarah20` typed into a story link is `SARAH20`.

use crate::base::body::parse_name;
use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::time::{self, Millis};
use crate::links::slug::Slug;
use crate::links::utm_names::{CampaignSlug, Handle};
use serde::Serialize;
use std::fmt;

pub const MIN_LEN: usize = 3;
pub const MAX_LEN: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromoCode(String);

impl PromoCode {
    pub fn parse(s: &str) -> Result<PromoCode, ParseError> {
        let s = s.trim().to_ascii_uppercase();
        if s.len() < MIN_LEN || s.len() > MAX_LEN {
            return Err(ParseError::new(
                if s.len() < MIN_LEN {
                    "too_short"
                } else {
                    "too_long"
                },
                format!("code must be {MIN_LEN} to {MAX_LEN} characters"),
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(ParseError::new(
                "invalid_format",
                "code may contain only letters, digits, '-' and '_'",
            ));
        }
        Ok(PromoCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PromoCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated `POST /api/v1/codes` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    pub code: PromoCode,
    pub influencer: Handle,
    pub campaign: Option<CampaignSlug>,
    /// The link `GET /c/{code}` resolves to; otherwise the influencer's
    /// newest active link carrying the code, or their newest active link.
    pub link: Option<Slug>,
    pub description: Option<String>,
}

impl NewCode {
    pub fn from_json(o: &JsonObject) -> Result<NewCode, ApiError> {
        o.deny_unknown(&["code", "influencer", "campaign", "link", "description"])?;
        Ok(NewCode {
            code: o.req("code", PromoCode::parse)?,
            influencer: o.req("influencer", Handle::parse)?,
            campaign: o.opt("campaign", CampaignSlug::parse)?,
            link: o.opt("link", Slug::parse)?,
            description: o.opt("description", parse_name)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeView {
    pub code: String,
    pub influencer: String,
    pub campaign: Option<String>,
    pub link: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
}

impl CodeView {
    pub fn new(
        code: String,
        influencer: String,
        campaign: Option<String>,
        link: Option<String>,
        description: Option<String>,
        created_at: Millis,
    ) -> Self {
        CodeView {
            code,
            influencer,
            campaign,
            link,
            description,
            created_at: time::format_rfc3339(created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = PromoCode::parse(input);
        match expected {
            Ok(c) => assert_eq!(got.map(|c| c.0), Ok(c.to_owned()), "{input:?}"),
            Err(code) => assert_eq!(got.map_err(|e| e.code), Err(code), "{input:?}"),
        }
    }

    #[test]
    fn parse_table() {
        check("SARAH20", Ok("SARAH20"));
        check("sarah20", Ok("SARAH20"));
        check(" Glow_Up-10 ", Ok("GLOW_UP-10"));
        check("ABC", Ok("ABC"));
        check(&"A".repeat(32), Ok(&"A".repeat(32)));
        check("AB", Err("too_short"));
        check(&"A".repeat(33), Err("too_long"));
        check("SAVE 20", Err("invalid_format"));
        check("ÉTÉ20", Err("invalid_format"));
        check("20%OFF", Err("invalid_format"));
    }

    #[test]
    fn new_code_bodies() {
        let o =
            JsonObject::parse(br#"{"code":"sarah20","influencer":"@Sarah","link":"sarah-serum"}"#)
                .unwrap();
        let c = NewCode::from_json(&o).unwrap();
        assert_eq!(c.code.as_str(), "SARAH20");
        assert_eq!(c.influencer.as_str(), "sarah");
        assert_eq!(c.link.unwrap().as_str(), "sarah-serum");
        let o = JsonObject::parse(br#"{"code":"x","influencer":"sarah"}"#).unwrap();
        let e = NewCode::from_json(&o).unwrap_err();
        assert_eq!((e.code(), e.field()), ("too_short", Some("code")));
    }
}
