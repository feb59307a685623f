//! UTM tagging: merging a link's tags into its destination's query.
//!
//! The merge works on the destination's raw query so that every parameter
//! the shop put there survives byte for byte (including its own percent
//! encoding and repeated keys). Only the keys the link manages are replaced:
//! each `utm_*` the link sets, and `lc_cid`, the click id. Those keys are
//! matched case-insensitively after percent-decoding, so `UTM_Source` or
//! `utm%5Fsource` can never sneak in a second value. The fragment is kept.
//!
//! Invariants (property-tested): merging never duplicates a managed key and
//! never drops or reorders a destination parameter.

use crate::links::destination::Destination;
use crate::links::utm_names::{CampaignSlug, Handle, UtmValue};
use url::form_urlencoded;

/// The query parameter that carries the click id to the shop.
pub const CLICK_ID_PARAM: &str = "lc_cid";

/// The default `utm_medium` of influencer links.
pub const DEFAULT_MEDIUM: &str = "influencer";

/// A link's UTM tags, already normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UtmTags {
    pub source: Handle,
    pub medium: UtmValue,
    pub campaign: CampaignSlug,
    pub content: Option<UtmValue>,
    pub term: Option<UtmValue>,
}

impl UtmTags {
    /// The tags in canonical order, as query pairs.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut pairs = vec![
            ("utm_source", self.source.as_str()),
            ("utm_medium", self.medium.as_str()),
            ("utm_campaign", self.campaign.as_str()),
        ];
        if let Some(c) = &self.content {
            pairs.push(("utm_content", c.as_str()));
        }
        if let Some(t) = &self.term {
            pairs.push(("utm_term", t.as_str()));
        }
        pairs
    }
}

/// The destination with the link's tags merged in: exactly where a visitor
/// is sent, except for the per-click `lc_cid` that [`with_click_id`] adds.
pub fn tracking_url(destination: &Destination, tags: &UtmTags) -> String {
    merge_query(destination.as_str(), &tags.pairs(), &[CLICK_ID_PARAM])
}

/// Adds the click id to a tracking URL produced by [`tracking_url`] (which
/// never contains one), keeping the fragment last.
pub fn with_click_id(tracking_url: &str, click_id: &str) -> String {
    let (head, fragment) = split_fragment(tracking_url);
    let mut out =
        String::with_capacity(tracking_url.len() + CLICK_ID_PARAM.len() + click_id.len() + 2);
    out.push_str(head);
    if !head.contains('?') {
        out.push('?');
    } else if !head.ends_with('?') && !head.ends_with('&') {
        out.push('&');
    }
    out.push_str(CLICK_ID_PARAM);
    out.push('=');
    out.extend(form_urlencoded::byte_serialize(click_id.as_bytes()));
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// Replaces the keys in `set` (and drops the keys in `remove`) in `url`'s
/// query, keeping every other raw query piece in order. The `set` pairs are
/// appended in the order given. `url` must be an absolute URL as serialised
/// by the `url` crate (as [`Destination`] guarantees).
pub fn merge_query(url: &str, set: &[(&str, &str)], remove: &[&str]) -> String {
    let (head, fragment) = split_fragment(url);
    let (base, query) = match head.split_once('?') {
        Some((base, query)) => (base, query),
        None => (head, ""),
    };
    let managed = |piece: &str| {
        let raw_key = piece.split('=').next().unwrap_or("");
        let key = decode_component(raw_key);
        set.iter().any(|(k, _)| k.eq_ignore_ascii_case(&key))
            || remove.iter().any(|k| k.eq_ignore_ascii_case(&key))
    };
    let mut out = String::with_capacity(url.len() + 64);
    out.push_str(base);
    let mut first = true;
    let mut push_sep = |out: &mut String| {
        out.push(if first { '?' } else { '&' });
        first = false;
    };
    for piece in query.split('&').filter(|p| !p.is_empty() && !managed(p)) {
        push_sep(&mut out);
        out.push_str(piece);
    }
    for (k, v) in set {
        push_sep(&mut out);
        out.extend(form_urlencoded::byte_serialize(k.as_bytes()));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(v.as_bytes()));
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn split_fragment(url: &str) -> (&str, Option<&str>) {
    match url.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (url, None),
    }
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn decode_component(raw: &str) -> String {
    form_urlencoded::parse(raw.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tags(content: Option<&str>) -> UtmTags {
        UtmTags {
            source: Handle::parse("sarah").unwrap(),
            medium: UtmValue::parse(DEFAULT_MEDIUM).unwrap(),
            campaign: CampaignSlug::parse("summer-glow").unwrap(),
            content: content.map(|c| UtmValue::parse(c).unwrap()),
            term: None,
        }
    }

    fn check(destination: &str, content: Option<&str>, expected: &str) {
        let d = Destination::parse(destination).unwrap();
        assert_eq!(
            tracking_url(&d, &tags(content)),
            expected,
            "destination {destination:?}"
        );
    }

    const TAGS: &str = "utm_source=sarah&utm_medium=influencer&utm_campaign=summer-glow";

    #[test]
    fn tracking_url_table() {
        check(
            "https://shop.example/serum",
            None,
            &format!("https://shop.example/serum?{TAGS}"),
        );
        check(
            "https://shop.example",
            None,
            &format!("https://shop.example/?{TAGS}"),
        );
        check(
            "https://shop.example/serum?a=1",
            None,
            &format!("https://shop.example/serum?a=1&{TAGS}"),
        );
        check(
            "https://shop.example/serum?utm_source=old&a=1&utm_medium=email",
            None,
            &format!("https://shop.example/serum?a=1&{TAGS}"),
        );
        check(
            "https://shop.example/serum?UTM_Source=old&utm%5Fcampaign=x&b=2",
            None,
            &format!("https://shop.example/serum?b=2&{TAGS}"),
        );
        check(
            "https://shop.example/serum#reviews",
            None,
            &format!("https://shop.example/serum?{TAGS}#reviews"),
        );
        check(
            "https://shop.example/serum?a=1#frag?x=1&y",
            None,
            &format!("https://shop.example/serum?a=1&{TAGS}#frag?x=1&y"),
        );
        check(
            "https://shop.example/s%C3%A9rum?q=caf%C3%A9%20au+lait&tag=a%26b",
            None,
            &format!("https://shop.example/s%C3%A9rum?q=caf%C3%A9%20au+lait&tag=a%26b&{TAGS}"),
        );
        check(
            "https://shop.example/?a=1&a=2&&b",
            Some("Reel #2"),
            &format!("https://shop.example/?a=1&a=2&b&{TAGS}&utm_content=reel-%232"),
        );
        check(
            "https://shop.example/?lc_cid=stale&a=1",
            None,
            &format!("https://shop.example/?a=1&{TAGS}"),
        );
        check(
            "https://shop.example/?",
            None,
            &format!("https://shop.example/?{TAGS}"),
        );
    }

    #[test]
    fn click_id_goes_before_the_fragment() {
        assert_eq!(
            with_click_id("https://s.example/?a=1#f", "ID"),
            "https://s.example/?a=1&lc_cid=ID#f"
        );
        assert_eq!(
            with_click_id("https://s.example/", "ID"),
            "https://s.example/?lc_cid=ID"
        );
        assert_eq!(
            with_click_id("https://s.example/?", "ID"),
            "https://s.example/?lc_cid=ID"
        );
        assert_eq!(
            with_click_id("https://s.example/#a?b", "ID"),
            "https://s.example/?lc_cid=ID#a?b"
        );
    }

    fn key_of(piece: &str) -> String {
        decode_component(piece.split('=').next().unwrap())
    }

    fn query_pieces(url: &str) -> Vec<String> {
        let head = url.split('#').next().unwrap();
        head.split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    proptest! {
        #[test]
        fn merge_never_duplicates_and_never_drops(
            params in proptest::collection::vec(
                (prop_oneof![
                    Just("a".to_owned()), Just("utm_source".to_owned()), Just("UTM_MEDIUM".to_owned()),
                    Just("lc_cid".to_owned()), Just("q".to_owned()), "[a-z_]{1,8}",
                ], "[a-zA-Z0-9 %&=é+]{0,8}"),
                0..8,
            ),
            fragment in proptest::option::of("[a-z?&=]{0,6}"),
            content in proptest::option::of("[a-zA-Z0-9 ]{1,10}"),
        ) {
            let mut dest = "https://shop.example/p".to_owned();
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &params {
                ser.append_pair(k, v);
            }
            let q = ser.finish();
            if !q.is_empty() {
                dest.push('?');
                dest.push_str(&q);
            }
            if let Some(f) = &fragment {
                dest.push('#');
                dest.push_str(f);
            }
            let d = Destination::parse(&dest).unwrap();
            let content = content.filter(|c| !c.trim().is_empty());
            let t = tags(content.as_deref());
            let out = with_click_id(&tracking_url(&d, &t), "CID");
            let pieces = query_pieces(&out);
            let managed: Vec<&str> = t.pairs().iter().map(|(k, _)| *k).chain([CLICK_ID_PARAM]).collect();
            // Every managed key exactly once, with the link's value.
            for (k, v) in t.pairs().into_iter().chain([(CLICK_ID_PARAM, "CID")]) {
                let values: Vec<String> = form_urlencoded::parse(query_pieces(&out).join("&").as_bytes())
                    .filter(|(key, _)| key.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.into_owned())
                    .collect();
                prop_assert_eq!(values, vec![v.to_owned()], "key {} in {}", k, out);
            }
            // Every unmanaged destination piece kept, in order.
            let kept: Vec<String> = query_pieces(d.as_str())
                .into_iter()
                .filter(|p| !managed.iter().any(|m| m.eq_ignore_ascii_case(&key_of(p))))
                .collect();
            let out_unmanaged: Vec<String> = pieces
                .into_iter()
                .filter(|p| !managed.iter().any(|m| m.eq_ignore_ascii_case(&key_of(p))))
                .collect();
            prop_assert_eq!(kept, out_unmanaged);
            // The fragment is kept.
            prop_assert_eq!(out.split_once('#').map(|(_, f)| f), d.url().fragment());
            // The result is still a valid destination on the same host.
            let reparsed = Destination::parse(&out).unwrap();
            prop_assert_eq!(reparsed.url().host_str(), Some("shop.example"));
        }
    }
}
