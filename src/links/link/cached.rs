//! What KV holds for the redirect hot path: the record built from a stored
//! link (every target precomputed), whether it is current, the target a
//! choice sends to, and the domain it answers on.

use super::limits::{Limits, LinkStatus};
use super::record::LinkRecord;
use crate::links::code::PromoCode;
use crate::links::discount::{StoreDefaults, Target};
use crate::links::targeting::{Chosen, Rule, Variant};
use serde::{Deserialize, Serialize};

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
}

impl LinkRecord {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::body::JsonObject;
    use crate::links::discount::{DiscountSetting, DiscountStyle};
    use crate::links::link::new_link::tests::{check_error, parse_new};
    use crate::links::link::patch::LinkPatch;
    use crate::links::link::piece::ContentPiece;
    use crate::links::slug::Slug;
    use crate::links::utm_names::Tag;

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
}
