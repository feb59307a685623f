//! When a link redirects: its status (active or disabled) and its limits
//! (the start and expiry times, the click cap, and where an expired link
//! sends visitors).

use crate::base::error::{ApiError, ParseError};
use crate::base::time::Millis;
use crate::links::destination::Destination;
use serde::{Deserialize, Serialize};

/// Whether a link redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStatus {
    Active,
    Disabled,
}

impl LinkStatus {
    pub fn parse(s: &str) -> Result<LinkStatus, ParseError> {
        match s {
            "active" => Ok(LinkStatus::Active),
            "disabled" => Ok(LinkStatus::Disabled),
            _ => Err(ParseError::new(
                "invalid_value",
                "status must be 'active' or 'disabled'",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Active => "active",
            LinkStatus::Disabled => "disabled",
        }
    }
}

/// When a link redirects, and where it sends visitors after that.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Before this, the link is not live yet (404).
    pub starts_at: Option<Millis>,
    /// From this on, the link has expired.
    pub expires_at: Option<Millis>,
    /// Once this many human clicks are recorded, the link has expired.
    pub max_clicks: Option<u32>,
    /// Where an expired link sends visitors (a plain 302, untracked);
    /// without it, an expired link answers 410 Gone.
    pub expired_url: Option<Destination>,
}

/// The most `max_clicks` a link may set.
pub const MAX_CLICKS_LIMIT: u32 = 1_000_000_000;

impl Limits {
    pub(super) fn check(&self) -> Result<(), ApiError> {
        match (self.starts_at, self.expires_at) {
            (Some(s), Some(e)) if s >= e => Err(ParseError::new(
                "invalid_range",
                "starts_at must be before expires_at",
            )
            .at("starts_at")),
            _ => Ok(()),
        }
    }
}
