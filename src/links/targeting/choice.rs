//! Choosing a destination: the first matching rule, else the visitor's
//! sticky A/B variant, else the default; and what the choice means for the
//! click (its destination, its rule and variant labels).

use super::matching::{match_rule, VisitorFacts};
use super::rule::{Rule, Variant};
use crate::links::destination::Destination;
use sha2::{Digest, Sha256};

/// Which destination a visit got, as recorded on the click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    Default,
    Rule(usize),
    Variant(usize),
}

impl Chosen {
    /// Where the visitor goes (`default` when the index is out of range).
    pub fn destination<'a>(
        self,
        default: &'a Destination,
        rules: &'a [Rule],
        variants: &'a [Variant],
    ) -> &'a Destination {
        match self {
            Chosen::Default => None,
            Chosen::Rule(i) => rules.get(i).map(|r| &r.destination),
            Chosen::Variant(i) => variants.get(i).map(|v| &v.destination),
        }
        .unwrap_or(default)
    }

    /// The labels recorded on the click: (rule name, variant name).
    pub fn labels<'a>(
        self,
        rules: &'a [Rule],
        variants: &'a [Variant],
    ) -> (Option<&'a str>, Option<&'a str>) {
        match self {
            Chosen::Default => (None, None),
            Chosen::Rule(i) => (rules.get(i).map(|r| r.name.as_str()), None),
            Chosen::Variant(i) => (None, variants.get(i).map(|v| v.name.as_str())),
        }
    }
}

/// The visitor's variant: the same (link, visitor) always gets the same one.
pub fn pick_variant(variants: &[Variant], link_id: i64, visitor: &str) -> Option<usize> {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut bucket = hash(link_id, visitor) % total;
    variants.iter().position(|v| {
        let w = u64::from(v.weight);
        let here = bucket < w;
        bucket = bucket.wrapping_sub(w);
        here
    })
}

/// A matching rule, else the visitor's variant, else the default.
pub fn choose(
    rules: &[Rule],
    variants: &[Variant],
    facts: &VisitorFacts,
    link_id: i64,
    visitor: &str,
) -> Chosen {
    if let Some(i) = match_rule(rules, facts) {
        Chosen::Rule(i)
    } else if let Some(i) = pick_variant(variants, link_id, visitor) {
        Chosen::Variant(i)
    } else {
        Chosen::Default
    }
}

fn hash(link_id: i64, visitor: &str) -> u64 {
    let mut input = Vec::with_capacity(8 + visitor.len());
    input.extend_from_slice(&link_id.to_be_bytes());
    input.extend_from_slice(visitor.as_bytes());
    let digest = Sha256::digest(input.as_slice());
    digest[..8].iter().fold(0, |h, &b| (h << 8) | u64::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::targeting::matching::tests::human;
    use crate::links::targeting::parse::parse_rules;
    use crate::links::utm_names::UtmValue;
    use crate::traffic::ua::{DeviceClass, Os};
    use proptest::prelude::*;
    use serde_json::json;

    fn variants(weights: &[u8]) -> Vec<Variant> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| Variant {
                name: UtmValue::parse(&format!("v{i}")).unwrap(),
                destination: Destination::parse(&format!("https://shop.example/{i}")).unwrap(),
                weight,
            })
            .collect()
    }

    /// Deterministic 22-character base64url ids (splitmix64).
    fn visitor_ids(n: usize) -> Vec<String> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        (0..n)
            .map(|_| {
                (0..22)
                    .map(|_| char::from(ALPHABET[(next() % 64) as usize]))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn variants_are_sticky_and_split_by_weight() {
        let ids = visitor_ids(5000);
        for weights in [&[50, 50][..], &[20, 30, 50], &[1, 9, 90]] {
            let vs = variants(weights);
            for link_id in [1, 42, -7] {
                let mut counts = vec![0u32; vs.len()];
                for id in &ids {
                    let i = pick_variant(&vs, link_id, id).unwrap();
                    assert_eq!(pick_variant(&vs, link_id, id), Some(i));
                    counts[i] += 1;
                }
                for (count, &w) in counts.iter().zip(weights) {
                    let pct = f64::from(*count) * 100.0 / 5000.0;
                    assert!(
                        (pct - f64::from(w)).abs() <= 3.0,
                        "weights {weights:?}, link {link_id}: {counts:?}"
                    );
                }
            }
        }
        // Same visitor, same link: always the same; the link id matters.
        let vs = variants(&[50, 50]);
        let first = pick_variant(&vs, 9, &ids[0]);
        assert!((0..100).all(|_| pick_variant(&vs, 9, &ids[0]) == first));
        let moved = ids
            .iter()
            .filter(|id| pick_variant(&vs, 9, id) != pick_variant(&vs, 10, id));
        assert!(moved.count() > 2000);
        assert_eq!(pick_variant(&[], 9, &ids[0]), None);
    }

    #[test]
    fn rules_before_variants_before_default() {
        let rules = parse_rules(&json!([{"name": "ios", "when": {"os": ["ios"]}, "destination": "https://apps.example/"}])).unwrap();
        let vs = variants(&[50, 50]);
        let default = Destination::parse("https://shop.example/").unwrap();
        let ios = human(Os::Ios, DeviceClass::Mobile, None);
        let web = human(Os::Windows, DeviceClass::Desktop, None);
        let facts = |ua| VisitorFacts {
            ua,
            country: None,
            accept_language: None,
        };
        let c = choose(&rules, &vs, &facts(&ios), 1, "v");
        assert_eq!(c, Chosen::Rule(0));
        assert_eq!(c.labels(&rules, &vs), (Some("ios"), None));
        assert_eq!(
            c.destination(&default, &rules, &vs).as_str(),
            "https://apps.example/"
        );
        let c = choose(&rules, &vs, &facts(&web), 1, "v");
        let Chosen::Variant(i) = c else {
            panic!("{c:?}")
        };
        assert_eq!(c.labels(&rules, &vs), (None, Some(vs[i].name.as_str())));
        assert_eq!(c.destination(&default, &rules, &vs), &vs[i].destination);
        let c = choose(&rules, &[], &facts(&web), 1, "v");
        assert_eq!(c, Chosen::Default);
        assert_eq!(c.labels(&rules, &vs), (None, None));
        assert_eq!(c.destination(&default, &rules, &vs), &default);
        assert_eq!(Chosen::Rule(5).destination(&default, &rules, &vs), &default);
    }

    proptest! {
        #[test]
        fn pick_is_in_range_and_deterministic(
            weights in proptest::collection::vec(1u8..=99, 1..=10),
            link_id in any::<i64>(),
            visitor in ".{0,40}",
        ) {
            let vs = variants(&weights);
            let got = pick_variant(&vs, link_id, &visitor);
            prop_assert!(got.is_some_and(|i| i < vs.len()));
            prop_assert_eq!(pick_variant(&vs, link_id, &visitor), got);
        }
    }
}
