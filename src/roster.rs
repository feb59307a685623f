//! Influencers and campaigns: validated create bodies and API views.

use crate::discount::{DiscountSetting, DiscountStyle, ParamName};
use crate::error::{ApiError, ParseError};
use crate::input::JsonObject;
use crate::names::{CampaignSlug, Handle, Platform};
use crate::time::{self, Millis};
use serde::Serialize;

/// Longest accepted display name.
pub const MAX_NAME_LEN: usize = 200;

/// A display name: trimmed, non-empty, at most [`MAX_NAME_LEN`] characters.
pub fn parse_name(s: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ParseError::new("empty", "name must not be empty"));
    }
    if s.chars().count() > MAX_NAME_LEN {
        return Err(ParseError::new(
            "too_long",
            format!("name must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ParseError::new(
            "invalid_format",
            "name must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

/// A validated `POST /api/v1/influencers` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInfluencer {
    pub handle: Handle,
    pub name: Option<String>,
    pub platform: Option<Platform>,
}

impl NewInfluencer {
    pub fn from_json(o: &JsonObject) -> Result<NewInfluencer, ApiError> {
        o.deny_unknown(&["handle", "name", "platform"])?;
        Ok(NewInfluencer {
            handle: o.req("handle", Handle::parse)?,
            name: o.opt("name", parse_name)?,
            platform: o.opt("platform", Platform::parse)?,
        })
    }
}

/// A validated `POST /api/v1/campaigns` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub slug: CampaignSlug,
    pub name: Option<String>,
    /// The discount style and coupon parameter of the campaign's links,
    /// unless a link sets its own.
    pub discount: DiscountSetting,
}

impl NewCampaign {
    pub fn from_json(o: &JsonObject) -> Result<NewCampaign, ApiError> {
        o.deny_unknown(&["slug", "name", "discount_style", "discount_param"])?;
        Ok(NewCampaign {
            slug: o.req("slug", CampaignSlug::parse)?,
            name: o.opt("name", parse_name)?,
            discount: DiscountSetting {
                style: o.opt("discount_style", DiscountStyle::parse)?,
                param: o.opt("discount_param", ParamName::parse)?,
            },
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfluencerView {
    pub handle: String,
    pub name: Option<String>,
    pub platform: Option<String>,
    pub created_at: String,
}

impl InfluencerView {
    pub fn new(
        handle: String,
        name: Option<String>,
        platform: Option<String>,
        created_at: Millis,
    ) -> Self {
        InfluencerView {
            handle,
            name,
            platform,
            created_at: time::format_rfc3339(created_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignView {
    pub slug: String,
    pub name: Option<String>,
    pub discount_style: Option<String>,
    pub discount_param: Option<String>,
    pub created_at: String,
}

impl CampaignView {
    pub fn new(
        slug: String,
        name: Option<String>,
        discount_style: Option<String>,
        discount_param: Option<String>,
        created_at: Millis,
    ) -> Self {
        CampaignView {
            slug,
            name,
            discount_style,
            discount_param,
            created_at: time::format_rfc3339(created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> JsonObject {
        JsonObject::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn influencer_bodies() {
        let i = NewInfluencer::from_json(&obj(
            r#"{"handle":"@Sarah","name":" Sarah J ","platform":"TikTok"}"#,
        ))
        .unwrap();
        assert_eq!(i.handle.as_str(), "sarah");
        assert_eq!(i.name.as_deref(), Some("Sarah J"));
        assert_eq!(i.platform, Some(Platform::Tiktok));
        let e = NewInfluencer::from_json(&obj(r#"{"name":"x"}"#)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("required", Some("handle")));
        let e = NewInfluencer::from_json(&obj(&format!(
            r#"{{"handle":"a","name":"{}"}}"#,
            "n".repeat(201)
        )))
        .unwrap_err();
        assert_eq!((e.code(), e.field()), ("too_long", Some("name")));
    }

    #[test]
    fn campaign_bodies() {
        let c = NewCampaign::from_json(&obj(r#"{"slug":"Summer-Glow"}"#)).unwrap();
        assert_eq!(c.slug.as_str(), "summer-glow");
        let e = NewCampaign::from_json(&obj(r#"{"slug":"summer glow"}"#)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_format", Some("slug")));
    }
}
