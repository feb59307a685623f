//! The validated `POST /api/v1/links` body: every field parsed and
//! normalised, with defaults, including the routing (rules and variants),
//! `tags` and `domain` fields that a patch reads the same way.

use super::limits::{Limits, MAX_CLICKS_LIMIT};
use super::piece::{ContentPiece, Format};
use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::time;
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::{DiscountSetting, DiscountStyle, ParamName};
use crate::links::slug::Slug;
use crate::links::targeting::{self, Rule, Variant};
use crate::links::utm;
use crate::links::utm_names::{CampaignSlug, Handle, Platform, Tag, UtmValue, MAX_TAGS};
use serde_json::Value;

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
    tags.sort();
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::links::link::piece::CategoryRules;

    /// Parses a `POST` body (also used by `cached`'s tests).
    pub(in crate::links::link) fn parse_new(json: &str) -> Result<NewLink, ApiError> {
        NewLink::from_json(&JsonObject::parse(json.as_bytes()).unwrap())
    }

    /// Asserts that a `POST` body is refused with `code` at `field`.
    pub(in crate::links::link) fn check_error(json: &str, code: &str, field: &str) {
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
}
