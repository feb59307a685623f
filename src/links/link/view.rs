//! The JSON the admin API returns for a link, with its short URL.

use super::limits::LinkStatus;
use super::piece::Format;
use super::record::LinkRecord;
use crate::base::time;
use crate::links::discount::{DiscountStyle, StoreDefaults};
use crate::links::slug::Slug;
use crate::links::targeting::{Rule, Variant};
use crate::links::utm_names::Platform;
use serde::Serialize;

impl LinkRecord {
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

#[cfg(test)]
mod tests {
    use super::*;

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
