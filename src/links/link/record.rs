//! A link as stored in D1, and where it sends a visitor: its UTM tags, the
//! discount in force, the target URL and its product category.

use super::limits::{Limits, LinkStatus};
use super::new_link::Routing;
use super::piece::{CategoryRules, ContentPiece};
use crate::base::time::Millis;
use crate::links::code::PromoCode;
use crate::links::destination::Destination;
use crate::links::discount::{
    self, DiscountSetting, DiscountStyle, ParamName, StoreDefaults, Target,
};
use crate::links::slug::Slug;
use crate::links::utm::UtmTags;
use crate::links::utm_names::{CampaignSlug, Handle, Platform, Tag, UtmValue};

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
    pub(super) fn target_to(
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
}
