//! Discount URLs: putting an influencer's code into the redirect so the shop
//! applies it, even inside an in-app browser that shares no cookies with the
//! system browser.
//!
//! Styles:
//! * `shopify`: `https://{shop}/discount/{CODE}?redirect={path}`, where
//!   `{path}` is the tracked destination's path and query (UTM tags and
//!   `lc_cid` included), percent-encoded as one parameter. Shopify applies
//!   the code, then redirects there. The fragment goes last on the outer
//!   URL; browsers carry it over Shopify's redirect.
//! * `woocommerce`: the destination plus `coupon={CODE}` (the parameter name
//!   is configurable, e.g. `apply_coupon`).
//! * `query`: the destination plus `{param}={CODE}` with a custom name.
//! * `none`: the code is not put in the URL.
//!
//! A link's style is its own, else its campaign's, else the store default.

use crate::base::error::ParseError;
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::utm::{self, UtmTags, CLICK_ID_PARAM};
use serde::{Deserialize, Serialize};
use url::{form_urlencoded, Url};

/// The WooCommerce coupon parameter when nothing else is configured.
pub const DEFAULT_COUPON_PARAM: &str = "coupon";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscountStyle {
    Shopify,
    Woocommerce,
    Query,
    None,
}

impl DiscountStyle {
    pub fn parse(s: &str) -> Result<DiscountStyle, ParseError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "shopify" => Ok(DiscountStyle::Shopify),
            "woocommerce" | "woo" => Ok(DiscountStyle::Woocommerce),
            "query" => Ok(DiscountStyle::Query),
            "none" => Ok(DiscountStyle::None),
            _ => Err(ParseError::new(
                "invalid_value",
                "discount_style must be one of shopify, woocommerce, query, none",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DiscountStyle::Shopify => "shopify",
            DiscountStyle::Woocommerce => "woocommerce",
            DiscountStyle::Query => "query",
            DiscountStyle::None => "none",
        }
    }
}

/// A query parameter name for the code: `[A-Za-z0-9_.-]{1,64}`, and never
/// one of the keys the link manages (`utm_*`, `lc_cid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParamName(String);

impl ParamName {
    pub fn parse(s: &str) -> Result<ParamName, ParseError> {
        let s = s.trim();
        if s.is_empty() || s.len() > 64 {
            return Err(ParseError::new(
                "invalid_format",
                "parameter name must be 1 to 64 characters",
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(ParseError::new(
                "invalid_format",
                "parameter name may contain only letters, digits, '_', '-' and '.'",
            ));
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("utm_") || lower == CLICK_ID_PARAM {
            return Err(ParseError::new(
                "reserved",
                format!("'{s}' is managed by linkcredit itself"),
            ));
        }
        Ok(ParamName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The store-wide discount defaults (worker configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreDefaults {
    pub style: DiscountStyle,
    pub coupon_param: ParamName,
}

impl StoreDefaults {
    /// A short fingerprint, stored with cached redirect targets so that a
    /// configuration change invalidates them.
    pub fn signature(&self) -> String {
        format!("{}:{}", self.style.as_str(), self.coupon_param.as_str())
    }
}

impl Default for StoreDefaults {
    fn default() -> Self {
        StoreDefaults {
            style: DiscountStyle::Shopify,
            coupon_param: ParamName(DEFAULT_COUPON_PARAM.to_owned()),
        }
    }
}

/// A style and parameter as set on a link or a campaign (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiscountSetting {
    pub style: Option<DiscountStyle>,
    pub param: Option<ParamName>,
}

/// The style and parameter in force: link, else campaign, else store.
pub fn effective(
    link: &DiscountSetting,
    campaign: &DiscountSetting,
    store: &StoreDefaults,
) -> (DiscountStyle, ParamName) {
    let style = link.style.or(campaign.style).unwrap_or(store.style);
    let param = link
        .param
        .clone()
        .or_else(|| campaign.param.clone())
        .unwrap_or_else(|| store.coupon_param.clone());
    (style, param)
}

/// Where a link sends a visitor, before the per-click id is added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The destination with UTM tags (and, for the query styles, the code)
    /// merged in; never contains `lc_cid`.
    pub inner: String,
    /// Set for the Shopify style: `inner` is wrapped in `/discount/{code}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shopify_code: Option<String>,
}

impl Target {
    /// Builds the target of a destination with tags and an optional code.
    pub fn build(
        destination: &Destination,
        tags: &UtmTags,
        code: Option<(&PromoCode, DiscountStyle, &ParamName)>,
    ) -> Target {
        let mut pairs = tags.pairs();
        let mut shopify_code = None;
        match code {
            Some((code, DiscountStyle::Woocommerce | DiscountStyle::Query, param)) => {
                pairs.push((param.as_str(), code.as_str()));
            }
            Some((code, DiscountStyle::Shopify, _)) => {
                shopify_code = Some(code.as_str().to_owned())
            }
            Some((_, DiscountStyle::None, _)) | None => {}
        }
        Target {
            inner: utm::merge_query(destination.as_str(), &pairs, &[CLICK_ID_PARAM]),
            shopify_code,
        }
    }

    /// The exact `Location` of one click.
    pub fn location(&self, click_id: &str) -> String {
        let tracked = utm::with_click_id(&self.inner, click_id);
        match &self.shopify_code {
            Some(code) => shopify_wrap(&tracked, code),
            None => tracked,
        }
    }

    /// The target as the API shows it: the `Location` less the click id.
    pub fn display(&self) -> String {
        match &self.shopify_code {
            Some(code) => shopify_wrap(&self.inner, code),
            None => self.inner.clone(),
        }
    }
}

/// `https://{shop}/discount/{code}?redirect={path?query}#fragment`.
fn shopify_wrap(tracked: &str, code: &str) -> String {
    let Ok(url) = Url::parse(tracked) else {
        // `tracked` comes from a validated Destination; this cannot happen,
        // and the plain tracked URL is the safe answer if it ever does.
        return tracked.to_owned();
    };
    let mut path = url.path().to_owned();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut out = url.origin().ascii_serialization();
    out.push_str("/discount/");
    out.push_str(code);
    out.push_str("?redirect=");
    out.extend(form_urlencoded::byte_serialize(path.as_bytes()));
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::utm_names::{CampaignSlug, Handle, UtmValue};
    use proptest::prelude::*;

    fn tags() -> UtmTags {
        UtmTags {
            source: Handle::parse("sarah").unwrap(),
            medium: UtmValue::parse("influencer").unwrap(),
            campaign: CampaignSlug::parse("glow").unwrap(),
            content: None,
            term: None,
        }
    }

    const T: &str = "utm_source=sarah&utm_medium=influencer&utm_campaign=glow";

    fn check(destination: &str, style: DiscountStyle, param: &str, expected: &str) {
        let code = PromoCode::parse("sarah20").unwrap();
        let param = ParamName::parse(param).unwrap();
        let t = Target::build(
            &Destination::parse(destination).unwrap(),
            &tags(),
            Some((&code, style, &param)),
        );
        assert_eq!(t.location("CID"), expected, "{destination} {style:?}");
    }

    #[test]
    fn styles() {
        check(
            "https://shop.example/products/serum?variant=1#reviews",
            DiscountStyle::Shopify,
            "coupon",
            &format!(
                "https://shop.example/discount/SARAH20?redirect=%2Fproducts%2Fserum%3Fvariant%3D1%26{}%26lc_cid%3DCID#reviews",
                T.replace('&', "%26").replace('=', "%3D")
            ),
        );
        check(
            "https://shop.example/p?coupon=OLD",
            DiscountStyle::Woocommerce,
            "coupon",
            &format!("https://shop.example/p?{T}&coupon=SARAH20&lc_cid=CID"),
        );
        check(
            "https://shop.example/p",
            DiscountStyle::Woocommerce,
            "apply_coupon",
            &format!("https://shop.example/p?{T}&apply_coupon=SARAH20&lc_cid=CID"),
        );
        check(
            "https://shop.example/p",
            DiscountStyle::Query,
            "promo",
            &format!("https://shop.example/p?{T}&promo=SARAH20&lc_cid=CID"),
        );
        check(
            "https://shop.example/p",
            DiscountStyle::None,
            "coupon",
            &format!("https://shop.example/p?{T}&lc_cid=CID"),
        );
    }

    #[test]
    fn display_is_location_without_click_id() {
        let code = PromoCode::parse("ABC").unwrap();
        let p = ParamName::parse("coupon").unwrap();
        let t = Target::build(
            &Destination::parse("https://s.example/").unwrap(),
            &tags(),
            Some((&code, DiscountStyle::Shopify, &p)),
        );
        assert_eq!(
            t.display(),
            format!(
                "https://s.example/discount/ABC?redirect=%2F%3F{}",
                T.replace('&', "%26").replace('=', "%3D")
            )
        );
    }

    #[test]
    fn effective_style_prefers_link_then_campaign_then_store() {
        let store = StoreDefaults::default();
        let none = DiscountSetting::default();
        let woo = DiscountSetting {
            style: Some(DiscountStyle::Woocommerce),
            param: Some(ParamName::parse("apply_coupon").unwrap()),
        };
        let query = DiscountSetting {
            style: Some(DiscountStyle::Query),
            param: None,
        };
        assert_eq!(
            effective(&none, &none, &store),
            (DiscountStyle::Shopify, ParamName::parse("coupon").unwrap())
        );
        assert_eq!(effective(&none, &woo, &store).0, DiscountStyle::Woocommerce);
        assert_eq!(
            effective(&query, &woo, &store),
            (
                DiscountStyle::Query,
                ParamName::parse("apply_coupon").unwrap()
            )
        );
    }

    #[test]
    fn param_names() {
        assert!(ParamName::parse("apply_coupon").is_ok());
        assert_eq!(ParamName::parse("utm_source").unwrap_err().code, "reserved");
        assert_eq!(ParamName::parse("LC_CID").unwrap_err().code, "reserved");
        assert_eq!(ParamName::parse("a b").unwrap_err().code, "invalid_format");
    }

    proptest! {
        /// Decoding Shopify's `redirect` gives back exactly the path and query
        /// of the tracked destination, UTM tags and click id included.
        #[test]
        fn shopify_redirect_round_trips(
            path in "(/[a-zA-Z0-9%._~-]{0,8}){1,3}",
            query in proptest::option::of("[a-z]{1,4}=[a-zA-Z0-9%+ ]{0,6}(&[a-z]{1,4}=[a-z0-9]{0,4}){0,2}"),
            cid in "[A-Za-z0-9_-]{22}",
        ) {
            let mut dest = format!("https://shop.example{path}");
            if let Some(q) = &query {
                dest.push('?');
                dest.push_str(q);
            }
            let Ok(d) = Destination::parse(&dest) else { return Ok(()); };
            let code = PromoCode::parse("SARAH20").unwrap();
            let p = ParamName::parse("coupon").unwrap();
            let t = Target::build(&d, &tags(), Some((&code, DiscountStyle::Shopify, &p)));
            let location = t.location(&cid);
            let url = Url::parse(&location).unwrap();
            prop_assert_eq!(url.path(), "/discount/SARAH20");
            let redirect: Vec<String> = url.query_pairs().filter(|(k, _)| k == "redirect").map(|(_, v)| v.into_owned()).collect();
            prop_assert_eq!(redirect.len(), 1);
            let tracked = Url::parse(&utm::with_click_id(&t.inner, &cid)).unwrap();
            let expected = format!("{}?{}", tracked.path(), tracked.query().unwrap());
            prop_assert_eq!(&redirect[0], &expected);
            prop_assert!(redirect[0].contains("utm_source=sarah"));
            let cid_param = format!("lc_cid={cid}");
            prop_assert!(redirect[0].ends_with(&cid_param));
        }
    }
}
