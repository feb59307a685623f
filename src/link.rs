//! Links: validated input for create and patch, the stored record, the API
//! view, and the small record cached in KV for the redirect hot path.

use crate::code::PromoCode;
use crate::destination::Destination;
use crate::discount::{self, DiscountSetting, DiscountStyle, ParamName, StoreDefaults, Target};
use crate::error::{ApiError, ParseError};
use crate::input::{JsonObject, Patch};
use crate::names::{CampaignSlug, Handle, Platform, UtmValue};
use crate::slug::Slug;
use crate::time::{self, Millis};
use crate::utm::{self, UtmTags};
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

/// A validated `POST /api/v1/links` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    /// `None`: the shell generates one.
    pub slug: Option<Slug>,
    pub destination: Destination,
    pub influencer: Handle,
    pub campaign: CampaignSlug,
    pub content: Option<UtmValue>,
    pub platform: Option<Platform>,
    pub utm_medium: UtmValue,
    pub utm_term: Option<UtmValue>,
    /// Must be a registered code of the same influencer (checked by the
    /// shell against D1).
    pub discount_code: Option<PromoCode>,
    pub discount: DiscountSetting,
    pub escape_in_app: bool,
}

impl NewLink {
    pub const FIELDS: &'static [&'static str] = &[
        "slug",
        "destination",
        "influencer",
        "campaign",
        "content",
        "platform",
        "utm_medium",
        "utm_term",
        "discount_code",
        "discount_style",
        "discount_param",
        "escape_in_app",
    ];

    pub fn from_json(o: &JsonObject) -> Result<NewLink, ApiError> {
        o.deny_unknown(Self::FIELDS)?;
        Ok(NewLink {
            slug: o.opt("slug", Slug::parse)?,
            destination: o.req("destination", Destination::parse)?,
            influencer: o.req("influencer", Handle::parse)?,
            campaign: o.req("campaign", CampaignSlug::parse)?,
            content: o.opt("content", UtmValue::parse)?,
            platform: o.opt("platform", Platform::parse)?,
            utm_medium: o
                .opt("utm_medium", UtmValue::parse)?
                .unwrap_or_else(|| UtmValue::parse(utm::DEFAULT_MEDIUM).expect("valid default")),
            utm_term: o.opt("utm_term", UtmValue::parse)?,
            discount_code: o.opt("discount_code", PromoCode::parse)?,
            discount: DiscountSetting {
                style: o.opt("discount_style", DiscountStyle::parse)?,
                param: o.opt("discount_param", ParamName::parse)?,
            },
            escape_in_app: o.opt_bool("escape_in_app")?.unwrap_or(false),
        })
    }
}

/// A validated `PATCH /api/v1/links/{slug}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPatch {
    pub destination: Option<Destination>,
    pub status: Option<LinkStatus>,
    pub expires_at: Patch<Millis>,
    pub discount_code: Patch<PromoCode>,
    pub discount_style: Patch<DiscountStyle>,
    pub discount_param: Patch<ParamName>,
    pub escape_in_app: Option<bool>,
}

impl LinkPatch {
    pub const FIELDS: &'static [&'static str] = &[
        "destination",
        "status",
        "expires_at",
        "discount_code",
        "discount_style",
        "discount_param",
        "escape_in_app",
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
            discount_code: o.patch("discount_code", PromoCode::parse)?,
            discount_style: o.patch("discount_style", DiscountStyle::parse)?,
            discount_param: o.patch("discount_param", ParamName::parse)?,
            escape_in_app: o.opt_bool("escape_in_app")?,
        })
    }

    /// Applies the patch to a record, returning the updated record.
    pub fn apply(&self, mut link: LinkRecord, now: Millis) -> LinkRecord {
        if let Some(d) = &self.destination {
            link.destination = d.clone();
        }
        if let Some(s) = self.status {
            link.status = s;
        }
        self.expires_at.clone().apply(&mut link.expires_at);
        self.discount_code.clone().apply(&mut link.discount_code);
        self.discount_style.clone().apply(&mut link.discount.style);
        self.discount_param.clone().apply(&mut link.discount.param);
        if let Some(e) = self.escape_in_app {
            link.escape_in_app = e;
        }
        link.updated_at = now;
        link
    }
}

/// A link as stored in D1, with its influencer handle and campaign slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRecord {
    pub id: i64,
    pub slug: Slug,
    pub destination: Destination,
    pub influencer: Handle,
    pub campaign: CampaignSlug,
    pub content: Option<UtmValue>,
    pub platform: Option<Platform>,
    pub utm_medium: UtmValue,
    pub utm_term: Option<UtmValue>,
    pub status: LinkStatus,
    pub expires_at: Option<Millis>,
    pub discount_code: Option<PromoCode>,
    /// The link's own discount style and parameter.
    pub discount: DiscountSetting,
    /// The campaign's defaults, which the link's own settings override.
    pub campaign_discount: DiscountSetting,
    pub escape_in_app: bool,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl LinkRecord {
    pub fn tags(&self) -> UtmTags {
        UtmTags {
            source: self.influencer.clone(),
            medium: self.utm_medium.clone(),
            campaign: self.campaign.clone(),
            content: self.content.clone(),
            term: self.utm_term.clone(),
        }
    }

    /// The discount style and parameter in force for this link.
    pub fn effective_discount(&self, store: &StoreDefaults) -> (DiscountStyle, ParamName) {
        discount::effective(&self.discount, &self.campaign_discount, store)
    }

    /// Where a visitor is sent, applying `code` (the link's own code, or the
    /// one a `/c/{code}` visit came with).
    pub fn target_with(&self, store: &StoreDefaults, code: Option<&PromoCode>) -> Target {
        let (style, param) = self.effective_discount(store);
        Target::build(
            &self.destination,
            &self.tags(),
            code.map(|c| (c, style, &param)),
        )
    }

    pub fn target(&self, store: &StoreDefaults) -> Target {
        self.target_with(store, self.discount_code.as_ref())
    }

    /// Where a visitor is sent, less the per-click `lc_cid`.
    pub fn tracking_url(&self, store: &StoreDefaults) -> String {
        self.target(store).display()
    }

    /// The JSON the admin API returns for this link.
    pub fn view(&self, short_base: &str, store: &StoreDefaults) -> LinkView {
        let (style, param) = self.effective_discount(store);
        let uses_param = matches!(style, DiscountStyle::Woocommerce | DiscountStyle::Query);
        LinkView {
            slug: self.slug.as_str().to_owned(),
            short_url: short_url(short_base, &self.slug),
            destination: self.destination.as_str().to_owned(),
            tracking_url: self.tracking_url(store),
            influencer: self.influencer.as_str().to_owned(),
            campaign: self.campaign.as_str().to_owned(),
            content: self.content.as_ref().map(|c| c.as_str().to_owned()),
            platform: self.platform.map(Platform::as_str),
            utm_medium: self.utm_medium.as_str().to_owned(),
            utm_term: self.utm_term.as_ref().map(|c| c.as_str().to_owned()),
            status: self.status,
            expires_at: self.expires_at.map(time::format_rfc3339),
            discount_code: self.discount_code.as_ref().map(|c| c.as_str().to_owned()),
            discount_style: style,
            discount_param: uses_param.then(|| param.as_str().to_owned()),
            escape_in_app: self.escape_in_app,
            created_at: time::format_rfc3339(self.created_at),
            updated_at: time::format_rfc3339(self.updated_at),
        }
    }

    /// The record the redirect reads from KV.
    pub fn cached(&self, store: &StoreDefaults) -> CachedLink {
        self.cached_with(store, self.discount_code.as_ref())
    }

    /// The redirect record with `code` applied instead of the link's own.
    pub fn cached_with(&self, store: &StoreDefaults, code: Option<&PromoCode>) -> CachedLink {
        CachedLink {
            id: self.id,
            status: self.status,
            expires_at: self.expires_at,
            target: self.target_with(store, code),
            code: code.map(|c| c.as_str().to_owned()),
            escape_in_app: self.escape_in_app,
            destination: self.destination.as_str().to_owned(),
            store: store.signature(),
        }
    }
}

/// `{base}/{slug}`, with exactly one slash between them.
pub fn short_url(base: &str, slug: &Slug) -> String {
    format!("{}/{}", base.trim_end_matches('/'), slug)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    pub slug: String,
    pub short_url: String,
    pub destination: String,
    pub tracking_url: String,
    pub influencer: String,
    pub campaign: String,
    pub content: Option<String>,
    pub platform: Option<&'static str>,
    pub utm_medium: String,
    pub utm_term: Option<String>,
    pub status: LinkStatus,
    pub expires_at: Option<String>,
    pub discount_code: Option<String>,
    /// The style in force (the link's, its campaign's or the store's).
    pub discount_style: DiscountStyle,
    /// The coupon parameter, for the `woocommerce` and `query` styles.
    pub discount_param: Option<String>,
    pub escape_in_app: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What KV holds under `link:{slug}`: just enough to redirect without D1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLink {
    pub id: i64,
    pub status: LinkStatus,
    pub expires_at: Option<Millis>,
    pub target: Target,
    /// The code the target applies (for the interstitial's "Copy code").
    pub code: Option<String>,
    pub escape_in_app: bool,
    /// The bare destination (what link previews point at).
    pub destination: String,
    /// [`StoreDefaults::signature`] of the configuration the target was
    /// built with; a different one makes the entry stale.
    pub store: String,
}

impl CachedLink {
    /// Whether this entry was built under the current store configuration.
    pub fn is_current(&self, store: &StoreDefaults) -> bool {
        self.store == store.signature()
    }

    /// Whether the link redirects at `now`.
    pub fn live(&self, now: Millis) -> bool {
        self.status == LinkStatus::Active && self.expires_at.is_none_or(|t| now < t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_new(json: &str) -> Result<NewLink, ApiError> {
        NewLink::from_json(&JsonObject::parse(json.as_bytes()).unwrap())
    }

    fn check_error(json: &str, code: &str, field: &str) {
        let e = parse_new(json).unwrap_err();
        assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}");
    }

    #[test]
    fn new_link_defaults_and_normalises() {
        let l = parse_new(
            r#"{"destination":"https://shop.example/serum","influencer":"@Sarah","campaign":"Summer","content":"Reel 1"}"#,
        )
        .unwrap();
        assert_eq!(l.slug, None);
        assert_eq!(l.influencer.as_str(), "sarah");
        assert_eq!(l.campaign.as_str(), "summer");
        assert_eq!(l.content.unwrap().as_str(), "reel-1");
        assert_eq!(l.utm_medium.as_str(), "influencer");
    }

    #[test]
    fn new_link_field_errors() {
        let ok = r#""destination":"https://s.example/","influencer":"sarah","campaign":"summer""#;
        check_error(&format!("{{{ok},\"slug\":\"api\"}}"), "reserved", "slug");
        check_error(
            &format!("{{{ok},\"slug\":\"a b\"}}"),
            "invalid_format",
            "slug",
        );
        check_error(
            &format!("{{{ok},\"platform\":\"myspace\"}}"),
            "invalid_value",
            "platform",
        );
        check_error(&format!("{{{ok},\"extra\":1}}"), "unknown_field", "extra");
        check_error(
            r#"{"influencer":"sarah","campaign":"summer"}"#,
            "required",
            "destination",
        );
        check_error(
            r#"{"destination":"javascript:alert(1)","influencer":"sarah","campaign":"summer"}"#,
            "unsupported_scheme",
            "destination",
        );
        check_error(
            r#"{"destination":"https://s.example/","influencer":"Sarah!","campaign":"summer"}"#,
            "invalid_format",
            "influencer",
        );
        check_error(
            r#"{"destination":"https://s.example/","influencer":"sarah","campaign":7}"#,
            "invalid_type",
            "campaign",
        );
    }

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

    #[test]
    fn cached_link_liveness_respects_status_and_expiry() {
        let mut c = CachedLink {
            id: 1,
            status: LinkStatus::Active,
            expires_at: Some(1_000),
            target: Target {
                inner: "https://s.example/?utm_source=a".into(),
                shopify_code: None,
            },
            code: None,
            escape_in_app: false,
            destination: "https://s.example/".into(),
            store: StoreDefaults::default().signature(),
        };
        assert!(c.is_current(&StoreDefaults::default()));
        assert!(c.live(999));
        assert!(!c.live(1_000));
        c.expires_at = None;
        assert!(c.live(i64::MAX));
        c.status = LinkStatus::Disabled;
        assert!(!c.live(0));
    }

    #[test]
    fn new_link_discount_fields() {
        let l = parse_new(
            r#"{"destination":"https://s.example/","influencer":"sarah","campaign":"summer","discount_code":"sarah20",
                "discount_style":"WooCommerce","discount_param":"apply_coupon","escape_in_app":true}"#,
        )
        .unwrap();
        assert_eq!(l.discount_code.unwrap().as_str(), "SARAH20");
        assert_eq!(l.discount.style, Some(DiscountStyle::Woocommerce));
        assert_eq!(l.discount.param.unwrap().as_str(), "apply_coupon");
        assert!(l.escape_in_app);
        let ok = r#""destination":"https://s.example/","influencer":"sarah","campaign":"summer""#;
        check_error(
            &format!("{{{ok},\"discount_style\":\"magento\"}}"),
            "invalid_value",
            "discount_style",
        );
        check_error(
            &format!("{{{ok},\"discount_code\":\"x\"}}"),
            "too_short",
            "discount_code",
        );
        check_error(
            &format!("{{{ok},\"escape_in_app\":\"yes\"}}"),
            "invalid_type",
            "escape_in_app",
        );
        check_error(
            &format!("{{{ok},\"discount_param\":\"utm_term\"}}"),
            "reserved",
            "discount_param",
        );
    }

    #[test]
    fn short_urls_join_with_one_slash() {
        let s = Slug::parse("abc").unwrap();
        assert_eq!(
            short_url("https://go.brand.com/", &s),
            "https://go.brand.com/abc"
        );
        assert_eq!(
            short_url("http://127.0.0.1:8787", &s),
            "http://127.0.0.1:8787/abc"
        );
    }
}
