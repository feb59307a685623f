//! The validated `PATCH /api/v1/links/{slug}` body, and how it applies to
//! a stored record.

use super::limits::{LinkStatus, MAX_CLICKS_LIMIT};
use super::new_link::{parse_domain, parse_tags};
use super::piece::Format;
use super::record::LinkRecord;
use crate::base::body::{JsonObject, Patch};
use crate::base::error::ApiError;
use crate::base::time::{self, Millis};
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::{DiscountStyle, ParamName};
use crate::links::targeting::{self, Rule, Variant};
use crate::links::utm_names::{Tag, UtmValue};

/// A validated `PATCH /api/v1/links/{slug}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPatch {
    pub destination: Option<Destination>,
    pub status: Option<LinkStatus>,
    pub expires_at: Patch<Millis>,
    pub starts_at: Patch<Millis>,
    pub max_clicks: Patch<u32>,
    pub expired_url: Patch<Destination>,
    pub discount_code: Patch<PromoCode>,
    pub discount_style: Patch<DiscountStyle>,
    pub discount_param: Patch<ParamName>,
    pub escape_in_app: Option<bool>,
    /// `None`: keep; `Some(vec![])` (from `null` or `[]`): clear.
    pub rules: Option<Vec<Rule>>,
    pub variants: Option<Vec<Variant>>,
    /// Replaces the link's tags.
    pub tags: Option<Vec<Tag>>,
    pub domain: Patch<String>,
    pub format: Patch<Format>,
    pub posted_at: Patch<Millis>,
    pub product_category: Patch<UtmValue>,
}

impl LinkPatch {
    pub const FIELDS: &'static [&'static str] = &[
        "destination",
        "status",
        "expires_at",
        "starts_at",
        "max_clicks",
        "expired_url",
        "discount_code",
        "discount_style",
        "discount_param",
        "escape_in_app",
        "rules",
        "variants",
        "tags",
        "domain",
        "format",
        "posted_at",
        "product_category",
    ];

    pub fn from_json(o: &JsonObject) -> Result<LinkPatch, ApiError> {
        o.deny_unknown(Self::FIELDS)?;
        if o.is_empty() {
            return Err(ApiError::invalid(
                "empty_patch",
                format!("give at least one of: {}", Self::FIELDS.join(", ")),
            ));
        }
        Ok(LinkPatch {
            destination: o.opt("destination", Destination::parse)?,
            status: o.opt("status", LinkStatus::parse)?,
            expires_at: o.patch("expires_at", time::parse_rfc3339)?,
            starts_at: o.patch("starts_at", time::parse_rfc3339)?,
            max_clicks: o.patch_count("max_clicks", MAX_CLICKS_LIMIT)?,
            expired_url: o.patch("expired_url", Destination::parse)?,
            discount_code: o.patch("discount_code", PromoCode::parse)?,
            discount_style: o.patch("discount_style", DiscountStyle::parse)?,
            discount_param: o.patch("discount_param", ParamName::parse)?,
            escape_in_app: o.opt_bool("escape_in_app")?,
            rules: o.raw("rules").map(targeting::parse_rules).transpose()?,
            variants: o
                .raw("variants")
                .map(targeting::parse_variants)
                .transpose()?,
            tags: o.raw("tags").map(parse_tags).transpose()?,
            domain: o.patch("domain", parse_domain)?,
            format: o.patch("format", Format::parse)?,
            posted_at: o.patch("posted_at", time::parse_rfc3339)?,
            product_category: o.patch("product_category", UtmValue::parse)?,
        })
    }

    /// Applies the patch to a record, returning the updated record, or an
    /// error when the result would start after it expires.
    pub fn apply(&self, mut link: LinkRecord, now: Millis) -> Result<LinkRecord, ApiError> {
        if let Some(d) = &self.destination {
            link.destination = d.clone();
        }
        if let Some(s) = self.status {
            link.status = s;
        }
        self.expires_at.clone().apply(&mut link.limits.expires_at);
        self.starts_at.clone().apply(&mut link.limits.starts_at);
        self.max_clicks.clone().apply(&mut link.limits.max_clicks);
        self.expired_url.clone().apply(&mut link.limits.expired_url);
        link.limits.check()?;
        self.discount_code.clone().apply(&mut link.discount_code);
        self.discount_style.clone().apply(&mut link.discount.style);
        self.discount_param.clone().apply(&mut link.discount.param);
        if let Some(e) = self.escape_in_app {
            link.escape_in_app = e;
        }
        if let Some(r) = &self.rules {
            link.routing.rules = r.clone();
        }
        if let Some(v) = &self.variants {
            link.routing.variants = v.clone();
        }
        if let Some(t) = &self.tags {
            link.tags = t.clone();
        }
        self.domain.clone().apply(&mut link.domain);
        self.format.clone().apply(&mut link.piece.format);
        self.posted_at.clone().apply(&mut link.piece.posted_at);
        self.product_category
            .clone()
            .apply(&mut link.piece.product_category);
        link.updated_at = now;
        Ok(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_needs_a_field_and_validates() {
        let p = |s: &str| LinkPatch::from_json(&JsonObject::parse(s.as_bytes()).unwrap());
        assert_eq!(p("{}").unwrap_err().code(), "empty_patch");
        assert_eq!(
            p(r#"{"status":"paused"}"#).unwrap_err().field(),
            Some("status")
        );
        assert_eq!(
            p(r#"{"expires_at":"soon"}"#).unwrap_err().field(),
            Some("expires_at")
        );
        let patch = p(r#"{"expires_at":null,"status":"disabled"}"#).unwrap();
        assert_eq!(patch.expires_at, Patch::Clear);
        assert_eq!(patch.status, Some(LinkStatus::Disabled));
    }
}
