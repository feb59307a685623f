//! Links: validated input for create and patch, the stored record, the API
//! view, and the small record cached in KV for the redirect hot path.

use crate::base::body::{JsonObject, Patch};
use crate::base::error::{ApiError, ParseError};
use crate::base::time::{self, Millis};
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::{
    self, DiscountSetting, DiscountStyle, ParamName, StoreDefaults, Target,
};
use crate::links::slug::Slug;
use crate::links::targeting::{self, Chosen, Rule, Variant};
use crate::links::utm::{self, UtmTags};
use crate::links::utm_names::{CampaignSlug, Handle, Platform, Tag, UtmValue, MAX_TAGS};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    pub limits: Limits,
    pub routing: Routing,
    pub tags: Vec<Tag>,
    /// The short domain the link answers on (a `SHORT_DOMAINS` host,
    /// checked by the shell); `None`: every domain.
    pub domain: Option<String>,
    pub piece: ContentPiece,
}

/// The content piece a link was posted in (the master spreadsheet's row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentPiece {
    pub format: Option<Format>,
    pub posted_at: Option<Millis>,
    /// Set explicitly; otherwise derived from the destination by
    /// [`CategoryRules`] whenever the link is saved.
    pub product_category: Option<UtmValue>,
}

/// What kind of content piece a link was posted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Story,
    Reel,
    Post,
    Carousel,
    Video,
    Short,
    Live,
    Bio,
    Other,
}

impl Format {
    const ALL: [Format; 9] = [
        Format::Story,
        Format::Reel,
        Format::Post,
        Format::Carousel,
        Format::Video,
        Format::Short,
        Format::Live,
        Format::Bio,
        Format::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Story => "story",
            Format::Reel => "reel",
            Format::Post => "post",
            Format::Carousel => "carousel",
            Format::Video => "video",
            Format::Short => "short",
            Format::Live => "live",
            Format::Bio => "bio",
            Format::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Format, ParseError> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == lower)
            .ok_or_else(|| {
                ParseError::new(
                    "invalid_value",
                    "format must be story, reel, post, carousel, video, short, live, bio or other",
                )
            })
    }
}

/// Product categories from destination paths (`PRODUCT_CATEGORIES`:
/// `/products/serum=skincare,/collections/hair=haircare`): the longest
/// matching path prefix wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryRules(pub Vec<(String, UtmValue)>);

impl CategoryRules {
    pub fn parse(s: &str) -> Result<CategoryRules, ParseError> {
        let mut rules = Vec::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (prefix, category) = pair
                .split_once('=')
                .filter(|(p, _)| p.starts_with('/'))
                .ok_or_else(|| {
                    ParseError::new(
                        "invalid_config",
                        "must look like /products/serum=skincare,/collections/hair=haircare",
                    )
                })?;
            let category = UtmValue::parse(category)
                .map_err(|e| ParseError::new("invalid_config", e.message))?;
            rules.push((prefix.trim().to_owned(), category));
        }
        Ok(CategoryRules(rules))
    }

    /// The category of a destination, by the longest matching path prefix.
    pub fn category_of(&self, destination: &Destination) -> Option<UtmValue> {
        let path = destination.url().path();
        self.0
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, c)| c.clone())
    }
}

/// Where a link may send a visitor other than its destination: ordered
/// targeting rules (first match wins), then sticky A/B variants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    pub rules: Vec<Rule>,
    pub variants: Vec<Variant>,
}

/// A `tags` field: a list of [`Tag`]s, de-duplicated and sorted; `null`
/// is none.
pub fn parse_tags(v: &Value) -> Result<Vec<Tag>, ApiError> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => {
            return Err(
                ParseError::new("invalid_type", "tags must be a list of strings").at("tags"),
            )
        }
    };
    if items.len() > MAX_TAGS {
        return Err(ParseError::new("too_many", format!("at most {MAX_TAGS} tags")).at("tags"));
    }
    let mut tags = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = || format!("tags[{i}]");
        let Value::String(raw) = item else {
            return Err(ParseError::new("invalid_type", "a tag must be a string").at(&field()));
        };
        let tag = Tag::parse(raw).map_err(|e| e.at(&field()))?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    crate::base::sorting::sort(&mut tags);
    Ok(tags)
}

/// A `domain` field: the host of a short domain, lower-cased.
pub fn parse_domain(s: &str) -> Result<String, ParseError> {
    let host = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok {
        Ok(host)
    } else {
        Err(ParseError::new(
            "invalid_format",
            "domain must be a host name such as go.brand.com",
        ))
    }
}

fn field_or_null<'a>(o: &'a JsonObject, field: &str) -> &'a Value {
    o.raw(field).unwrap_or(&Value::Null)
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
    fn check(&self) -> Result<(), ApiError> {
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
        "starts_at",
        "expires_at",
        "max_clicks",
        "expired_url",
        "rules",
        "variants",
        "tags",
        "domain",
        "format",
        "posted_at",
        "product_category",
    ];

    pub fn from_json(o: &JsonObject) -> Result<NewLink, ApiError> {
        o.deny_unknown(Self::FIELDS)?;
        let limits = Limits {
            starts_at: o.opt("starts_at", time::parse_rfc3339)?,
            expires_at: o.opt("expires_at", time::parse_rfc3339)?,
            max_clicks: o.opt_count("max_clicks", MAX_CLICKS_LIMIT)?,
            expired_url: o.opt("expired_url", Destination::parse)?,
        };
        limits.check()?;
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
            limits,
            routing: Routing {
                rules: targeting::parse_rules(field_or_null(o, "rules"))?,
                variants: targeting::parse_variants(field_or_null(o, "variants"))?,
            },
            tags: parse_tags(field_or_null(o, "tags"))?,
            domain: o.opt("domain", parse_domain)?,
            piece: ContentPiece {
                format: o.opt("format", Format::parse)?,
                posted_at: o.opt("posted_at", time::parse_rfc3339)?,
                product_category: o.opt("product_category", UtmValue::parse)?,
            },
        })
    }
}

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
    pub limits: Limits,
    pub discount_code: Option<PromoCode>,
    /// The link's own discount style and parameter.
    pub discount: DiscountSetting,
    /// The campaign's defaults, which the link's own settings override.
    pub campaign_discount: DiscountSetting,
    pub escape_in_app: bool,
    pub routing: Routing,
    pub tags: Vec<Tag>,
    pub domain: Option<String>,
    /// `product_category` here is the explicit one only.
    pub piece: ContentPiece,
    /// The category in force when the link was last saved: explicit, or
    /// derived from the destination.
    pub category: Option<UtmValue>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl LinkRecord {
    /// The product category: the explicit one, else by `rules` from the
    /// destination.
    pub fn effective_category(&self, rules: &CategoryRules) -> Option<UtmValue> {
        self.piece
            .product_category
            .clone()
            .or_else(|| rules.category_of(&self.destination))
    }

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
        self.target_to(&self.destination, store, code)
    }

    /// `destination` (the link's own, a rule's or a variant's) with the
    /// link's tags and discount merged in, exactly as for the default.
    fn target_to(
        &self,
        destination: &Destination,
        store: &StoreDefaults,
        code: Option<&PromoCode>,
    ) -> Target {
        let (style, param) = self.effective_discount(store);
        Target::build(destination, &self.tags(), code.map(|c| (c, style, &param)))
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
            starts_at: self.limits.starts_at.map(time::format_rfc3339),
            expires_at: self.limits.expires_at.map(time::format_rfc3339),
            max_clicks: self.limits.max_clicks,
            expired_url: self
                .limits
                .expired_url
                .as_ref()
                .map(|d| d.as_str().to_owned()),
            discount_code: self.discount_code.as_ref().map(|c| c.as_str().to_owned()),
            discount_style: style,
            discount_param: uses_param.then(|| param.as_str().to_owned()),
            escape_in_app: self.escape_in_app,
            rules: self.routing.rules.clone(),
            variants: self.routing.variants.clone(),
            tags: self.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            domain: self.domain.clone(),
            format: self.piece.format.map(Format::as_str),
            posted_at: self.piece.posted_at.map(time::format_rfc3339),
            product_category: self.category.as_ref().map(|c| c.as_str().to_owned()),
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
            limits: self.limits.clone(),
            target: self.target_with(store, code),
            code: code.map(|c| c.as_str().to_owned()),
            escape_in_app: self.escape_in_app,
            destination: self.destination.as_str().to_owned(),
            store: store.signature(),
            targets: self
                .routing
                .rules
                .iter()
                .map(|r| &r.destination)
                .chain(self.routing.variants.iter().map(|v| &v.destination))
                .map(|d| self.target_to(d, store, code))
                .collect(),
            rules: self.routing.rules.clone(),
            variants: self.routing.variants.clone(),
            domain: self.domain.clone(),
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
    pub starts_at: Option<String>,
    pub expires_at: Option<String>,
    pub max_clicks: Option<u32>,
    pub expired_url: Option<String>,
    pub discount_code: Option<String>,
    /// The style in force (the link's, its campaign's or the store's).
    pub discount_style: DiscountStyle,
    /// The coupon parameter, for the `woocommerce` and `query` styles.
    pub discount_param: Option<String>,
    pub escape_in_app: bool,
    pub rules: Vec<Rule>,
    pub variants: Vec<Variant>,
    pub tags: Vec<String>,
    /// The short domain the link is bound to; `null`: every domain.
    pub domain: Option<String>,
    pub format: Option<&'static str>,
    pub posted_at: Option<String>,
    pub product_category: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What KV holds under `link:{slug}`: just enough to redirect without D1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLink {
    pub id: i64,
    pub status: LinkStatus,
    pub limits: Limits,
    pub target: Target,
    /// The code the target applies (for the interstitial's "Copy code").
    pub code: Option<String>,
    pub escape_in_app: bool,
    /// The bare destination (what link previews point at).
    pub destination: String,
    /// [`StoreDefaults::signature`] of the configuration the target was
    /// built with; a different one makes the entry stale.
    pub store: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
    /// The targets of `rules`, then of `variants`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl CachedLink {
    /// The target a visitor is sent to once the rules and variants chose.
    pub fn target_of(&self, chosen: Chosen) -> &Target {
        let i = match chosen {
            Chosen::Default => None,
            Chosen::Rule(i) => Some(i),
            Chosen::Variant(i) => Some(self.rules.len() + i),
        };
        i.and_then(|i| self.targets.get(i)).unwrap_or(&self.target)
    }

    /// Whether the link answers on `host`: bound to it, or to no domain.
    pub fn answers_on(&self, host: &str) -> bool {
        self.domain.as_deref().is_none_or(|d| d == host)
    }

    /// Whether this entry was built under the current store configuration.
    pub fn is_current(&self, store: &StoreDefaults) -> bool {
        self.store == store.signature()
    }

    /// Whether the link redirects at `now`, given the human clicks it has
    /// recorded (`clicks`, needed only when it sets `max_clicks`).
    pub fn availability(&self, now: Millis, clicks: Option<u64>) -> Availability {
        let l = &self.limits;
        if self.status == LinkStatus::Disabled {
            Availability::Disabled
        } else if l.starts_at.is_some_and(|t| now < t) {
            Availability::NotStarted
        } else if l.expires_at.is_some_and(|t| now >= t) {
            Availability::Expired(ExpiredBy::Time)
        } else if l
            .max_clicks
            .is_some_and(|max| clicks.is_some_and(|n| n >= u64::from(max)))
        {
            Availability::Expired(ExpiredBy::Clicks)
        } else {
            Availability::Live
        }
    }
}

/// What a visit of a link gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Live,
    /// 404, like an unknown slug.
    Disabled,
    /// 404 until `starts_at`.
    NotStarted,
    /// `expired_url`, or 410 Gone.
    Expired(ExpiredBy),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiredBy {
    Time,
    Clicks,
}

impl Availability {
    /// The `link_misses.reason` of a visit that was not redirected.
    pub fn miss_reason(self) -> Option<&'static str> {
        match self {
            Availability::Live => None,
            Availability::Disabled => Some("disabled"),
            Availability::NotStarted => Some("not_started"),
            Availability::Expired(ExpiredBy::Time) => Some("expired"),
            Availability::Expired(ExpiredBy::Clicks) => Some("click_limit"),
        }
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
    fn availability_follows_status_window_and_click_limit() {
        let cached = |status, limits| CachedLink {
            id: 1,
            status,
            limits,
            target: Target {
                inner: "https://s.example/?utm_source=a".into(),
                shopify_code: None,
            },
            code: None,
            escape_in_app: false,
            destination: "https://s.example/".into(),
            store: StoreDefaults::default().signature(),
            rules: Vec::new(),
            variants: Vec::new(),
            targets: Vec::new(),
            domain: None,
        };
        let window = Limits {
            starts_at: Some(100),
            expires_at: Some(1_000),
            max_clicks: Some(3),
            expired_url: None,
        };
        let check = |status, limits: &Limits, now, clicks, expected| {
            assert_eq!(
                cached(status, limits.clone()).availability(now, clicks),
                expected,
                "{status:?} {limits:?} at {now} with {clicks:?} clicks"
            )
        };
        use Availability::*;
        check(LinkStatus::Active, &Limits::default(), i64::MAX, None, Live);
        check(LinkStatus::Disabled, &Limits::default(), 0, None, Disabled);
        check(LinkStatus::Disabled, &window, 500, Some(0), Disabled);
        check(LinkStatus::Active, &window, 99, Some(0), NotStarted);
        check(LinkStatus::Active, &window, 100, Some(2), Live);
        check(
            LinkStatus::Active,
            &window,
            999,
            Some(3),
            Expired(ExpiredBy::Clicks),
        );
        check(
            LinkStatus::Active,
            &window,
            1_000,
            Some(0),
            Expired(ExpiredBy::Time),
        );
        assert!(cached(LinkStatus::Active, window.clone()).is_current(&StoreDefaults::default()));
        assert_eq!(
            Expired(ExpiredBy::Clicks).miss_reason(),
            Some("click_limit")
        );
        assert_eq!(Live.miss_reason(), None);
    }

    #[test]
    fn limits_are_validated() {
        let base = r#""destination":"https://s.example/","influencer":"sarah","campaign":"summer""#;
        let field = |extra: &str| {
            parse_new(&format!("{{{base},{extra}}}"))
                .map(|l| l.limits)
                .map_err(|e| e.field().map(str::to_owned))
        };
        let l = field(
            r#""starts_at":"2026-12-01T00:00:00Z","expires_at":"2027-01-01T00:00:00Z","max_clicks":500,"expired_url":"https://s.example/sold-out""#,
        )
        .unwrap();
        assert_eq!(l.max_clicks, Some(500));
        assert_eq!(
            l.expired_url.as_ref().map(Destination::as_str),
            Some("https://s.example/sold-out")
        );
        assert!(l.starts_at < l.expires_at);
        let check = |extra: &str, bad: &str| {
            assert_eq!(field(extra).unwrap_err(), Some(bad.to_owned()), "{extra}")
        };
        check(r#""max_clicks":0"#, "max_clicks");
        check(r#""max_clicks":-1"#, "max_clicks");
        check(r#""max_clicks":1.5"#, "max_clicks");
        check(r#""max_clicks":"10""#, "max_clicks");
        check(r#""max_clicks":1000000001"#, "max_clicks");
        check(r#""expired_url":"javascript:alert(1)""#, "expired_url");
        check(r#""starts_at":"soon""#, "starts_at");
        check(
            r#""starts_at":"2027-01-01T00:00:00Z","expires_at":"2026-01-01T00:00:00Z""#,
            "starts_at",
        );
        // A destination round-trips through the KV record's JSON, re-validated.
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Limits>(&json).unwrap(), l);
        assert!(serde_json::from_str::<Limits>(
            r#"{"starts_at":null,"expires_at":null,"max_clicks":null,"expired_url":"ftp://x"}"#
        )
        .is_err());
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
    fn rules_variants_tags_and_domain() {
        let base = r#""destination":"https://shop.example/p?x=1","influencer":"sarah","campaign":"summer""#;
        let l = parse_new(&format!(
            r#"{{{base},"rules":[{{"name":"ios","when":{{"os":["ios"]}},"destination":"https://apps.apple.com/app/id1"}}],
                "variants":[{{"destination":"https://shop.example/a","weight":30}},{{"destination":"https://shop.example/b","weight":70}}],
                "tags":["Summer Sale","q4","summer sale"],"domain":"Go.Brand.com."}}"#
        ))
        .unwrap();
        assert_eq!(l.routing.rules.len(), 1);
        assert_eq!(l.routing.variants.len(), 2);
        let tags: Vec<&str> = l.tags.iter().map(Tag::as_str).collect();
        assert_eq!(tags, ["q4", "summer-sale"]);
        assert_eq!(l.domain.as_deref(), Some("go.brand.com"));
        check_error(&format!(r#"{{{base},"tags":"x"}}"#), "invalid_type", "tags");
        check_error(
            &format!(r#"{{{base},"tags":["ok",7]}}"#),
            "invalid_type",
            "tags[1]",
        );
        check_error(
            &format!(r#"{{{base},"tags":["a,b"]}}"#),
            "invalid_format",
            "tags[0]",
        );
        check_error(
            &format!(r#"{{{base},"domain":"a/b"}}"#),
            "invalid_format",
            "domain",
        );
        check_error(
            &format!(
                r#"{{{base},"variants":[{{"destination":"https://s.example/a","weight":50}}]}}"#
            ),
            "too_few",
            "variants",
        );

        // Every rule and variant target carries the link's tags and code.
        let mut record = LinkRecord {
            id: 9,
            slug: Slug::parse("s").unwrap(),
            destination: l.destination.clone(),
            influencer: l.influencer.clone(),
            campaign: l.campaign.clone(),
            content: None,
            platform: None,
            utm_medium: l.utm_medium.clone(),
            utm_term: None,
            status: LinkStatus::Active,
            limits: Limits::default(),
            discount_code: Some(PromoCode::parse("SARAH20").unwrap()),
            discount: DiscountSetting {
                style: Some(DiscountStyle::Query),
                param: None,
            },
            campaign_discount: DiscountSetting::default(),
            escape_in_app: false,
            routing: l.routing.clone(),
            tags: l.tags.clone(),
            domain: l.domain.clone(),
            piece: ContentPiece::default(),
            category: None,
            created_at: 0,
            updated_at: 0,
        };
        let c = record.cached(&StoreDefaults::default());
        let tail =
            "utm_source=sarah&utm_medium=influencer&utm_campaign=summer&coupon=SARAH20&lc_cid=C";
        assert_eq!(
            c.target_of(Chosen::Default).location("C"),
            format!("https://shop.example/p?x=1&{tail}")
        );
        assert_eq!(
            c.target_of(Chosen::Rule(0)).location("C"),
            format!("https://apps.apple.com/app/id1?{tail}")
        );
        assert_eq!(
            c.target_of(Chosen::Variant(1)).location("C"),
            format!("https://shop.example/b?{tail}")
        );
        assert_eq!(c.target_of(Chosen::Variant(7)), &c.target);
        assert!(c.answers_on("go.brand.com") && !c.answers_on("brand.link"));
        // The KV record round-trips, rules and variants re-validated.
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<CachedLink>(&json).unwrap(), c);

        // PATCH: rules cleared by null, tags replaced, domain cleared.
        let p = LinkPatch::from_json(
            &JsonObject::parse(br#"{"rules":null,"tags":["vip"],"domain":null}"#).unwrap(),
        )
        .unwrap();
        record = p.apply(record, 5).unwrap();
        assert!(record.routing.rules.is_empty());
        assert_eq!(record.routing.variants.len(), 2);
        assert_eq!(record.tags, [Tag::parse("vip").unwrap()]);
        assert_eq!(record.domain, None);
        assert!(record
            .cached(&StoreDefaults::default())
            .answers_on("any.host"));
    }

    #[test]
    fn content_pieces_and_categories() {
        let base = r#""destination":"https://shop.example/products/serum-x?v=1","influencer":"sarah","campaign":"summer""#;
        let l = parse_new(&format!(
            r#"{{{base},"format":"Reel","posted_at":"2026-11-20T18:00:00Z"}}"#
        ))
        .unwrap();
        assert_eq!(l.piece.format, Some(Format::Reel));
        assert!(l.piece.posted_at.is_some());
        check_error(
            &format!(r#"{{{base},"format":"tweet"}}"#),
            "invalid_value",
            "format",
        );
        check_error(
            &format!(r#"{{{base},"posted_at":"last week"}}"#),
            "invalid_timestamp",
            "posted_at",
        );
        let rules = CategoryRules::parse(
            "/products=general, /products/serum=skincare,/collections/hair=haircare",
        )
        .unwrap();
        let cat = |url: &str| {
            rules
                .category_of(&Destination::parse(url).unwrap())
                .map(|c| c.as_str().to_owned())
        };
        assert_eq!(
            cat("https://s.example/products/serum-x").as_deref(),
            Some("skincare")
        );
        assert_eq!(
            cat("https://s.example/products/lipstick").as_deref(),
            Some("general")
        );
        assert_eq!(
            cat("https://s.example/collections/hair/oil").as_deref(),
            Some("haircare")
        );
        assert_eq!(cat("https://s.example/about"), None);
        assert!(CategoryRules::parse("products=x").is_err());
        assert!(CategoryRules::parse("/p=").is_err());
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
