//! Fuzz target: `Destination::parse` and the redirect `Location` built from
//! a destination, UTM tags and a discount code (`LinkRecord::cached` then
//! `Target::location`, exactly as the redirect does).
//!
//! The input is text, one value a line (so seeds are readable):
//!
//! ```text
//! 0 destination            4 utm_content (optional)   7 link's "style [param]"
//! 1 utm_source (handle)    5 utm_term (optional)      8 campaign's "style [param]"
//! 2 utm_campaign           6 discount code (optional) 9 store's "style [param]"
//! 3 utm_medium
//! ```
//!
//! A missing or invalid value falls back to a default (or to absent), so
//! every input exercises the destination; only values that pass their
//! newtype's `parse()` reach the builder.
//!
//! Invariants checked:
//! * an accepted destination is http(s) with a host and no credentials, at
//!   most 2048 bytes, and re-parses to itself (D1 stores it as text);
//! * the cached link round-trips through JSON (KV stores it);
//! * the `Location` is printable ASCII, parses as a URL with the
//!   destination's scheme, host, port and fragment, and is in canonical form;
//! * every managed key (`utm_*`, `lc_cid`, the coupon parameter) occurs
//!   exactly once with the link's value, and the path is the destination's;
//!   for the Shopify style, `/discount/{CODE}?redirect=` carries exactly the
//!   tracked path and query;
//! * `display()` is the `Location` without the click id.
#![no_main]

use libfuzzer_sys::fuzz_target;
use linkcredit::links::code::PromoCode;
use linkcredit::links::destination::{self, Destination};
use linkcredit::links::discount::{DiscountSetting, DiscountStyle, ParamName, StoreDefaults};
use linkcredit::traffic::ids::{ClickId, ID_BYTES};
use linkcredit::links::link::{CachedLink, LinkRecord, LinkStatus};
use linkcredit::links::utm_names::{CampaignSlug, Handle, UtmValue};
use linkcredit::links::slug::Slug;
use linkcredit::links::utm::{self, CLICK_ID_PARAM, DEFAULT_MEDIUM};
use url::Url;

fn setting(line: Option<&str>) -> DiscountSetting {
    let mut words = line.unwrap_or("").split_whitespace();
    DiscountSetting {
        style: words.next().and_then(|s| DiscountStyle::parse(s).ok()),
        param: words.next().and_then(|p| ParamName::parse(p).ok()),
    }
}

/// The values of `key` (compared as `merge_query` does) in `url`'s query.
fn values(url: &Url, key: &str) -> Vec<String> {
    url.query_pairs()
        .filter(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// Checks a tracked URL (destination + tags + code + click id).
fn check_tracked(tracked: &Url, d: &Destination, managed: &[(&str, &str)]) {
    assert_eq!(tracked.scheme(), d.url().scheme());
    assert_eq!(tracked.host_str(), d.url().host_str());
    assert_eq!(
        tracked.port_or_known_default(),
        d.url().port_or_known_default()
    );
    assert_eq!(tracked.path(), d.url().path());
    for (k, v) in managed {
        assert_eq!(
            values(tracked, k),
            vec![v.to_string()],
            "key {k} in {tracked}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Ok(d) = Destination::parse(lines.next().unwrap_or("")) else {
        return;
    };
    let u = d.url();
    assert!(matches!(u.scheme(), "http" | "https"));
    assert!(u.host_str().is_some_and(|h| !h.is_empty()));
    assert!(u.username().is_empty() && u.password().is_none());
    assert!(d.as_str().len() <= destination::MAX_LEN);
    assert_eq!(Destination::parse(d.as_str()).as_ref(), Ok(&d), "re-parse");

    let mut next = || lines.next().map(str::trim_end);
    let source = next()
        .and_then(|s| Handle::parse(s).ok())
        .unwrap_or_else(|| Handle::parse("sarah").unwrap());
    let campaign = next()
        .and_then(|s| CampaignSlug::parse(s).ok())
        .unwrap_or_else(|| CampaignSlug::parse("summer").unwrap());
    let medium = next()
        .and_then(|s| UtmValue::parse(s).ok())
        .unwrap_or_else(|| UtmValue::parse(DEFAULT_MEDIUM).unwrap());
    let content = next().and_then(|s| UtmValue::parse(s).ok());
    let term = next().and_then(|s| UtmValue::parse(s).ok());
    let code = next().and_then(|s| PromoCode::parse(s).ok());
    let link_discount = setting(next());
    let campaign_discount = setting(next());
    let store = {
        let s = setting(next());
        let default = StoreDefaults::default();
        StoreDefaults {
            style: s.style.unwrap_or(default.style),
            coupon_param: s.param.unwrap_or(default.coupon_param),
        }
    };
    let mut random = [0u8; ID_BYTES];
    for (i, b) in data.iter().enumerate() {
        random[i % ID_BYTES] = random[i % ID_BYTES].wrapping_mul(31).wrapping_add(*b);
    }
    let click_id = ClickId::from_random(random);

    let record = LinkRecord {
        id: 1,
        slug: Slug::parse("fuzz-link").unwrap(),
        destination: d.clone(),
        influencer: source,
        campaign,
        content,
        platform: None,
        utm_medium: medium,
        utm_term: term,
        status: LinkStatus::Active,
        expires_at: None,
        discount_code: code.clone(),
        discount: link_discount,
        campaign_discount,
        escape_in_app: false,
        created_at: 0,
        updated_at: 0,
    };
    let cached = record.cached(&store);
    let json = serde_json::to_string(&cached).expect("cached link serialises");
    let back: CachedLink = serde_json::from_str(&json).expect("cached link deserialises");
    assert_eq!(back, cached);

    let location = cached.target.location(click_id.as_str());
    assert!(
        location.bytes().all(|b| b.is_ascii_graphic()),
        "{location:?}"
    );
    let loc = Url::parse(&location).expect("Location is a URL");
    assert_eq!(loc.as_str(), location, "Location is not canonical");
    assert_eq!(loc.scheme(), u.scheme());
    assert_eq!(loc.host_str(), u.host_str());
    assert_eq!(loc.port_or_known_default(), u.port_or_known_default());
    assert_eq!(loc.fragment(), u.fragment());

    let tags = record.tags();
    let mut managed = tags.pairs();
    let (style, param) = record.effective_discount(&store);
    if let (Some(code), DiscountStyle::Woocommerce | DiscountStyle::Query) = (&code, style) {
        managed.push((param.as_str(), code.as_str()));
    }
    managed.push((CLICK_ID_PARAM, click_id.as_str()));
    let tracked = utm::with_click_id(&cached.target.inner, click_id.as_str());
    let tracked_url = Url::parse(&tracked).expect("tracked URL parses");
    check_tracked(&tracked_url, &d, &managed);

    match (&code, style) {
        (Some(code), DiscountStyle::Shopify) => {
            assert_eq!(loc.path(), format!("/discount/{code}"));
            let mut inner = tracked_url.path().to_owned();
            inner.push('?');
            inner.push_str(tracked_url.query().unwrap_or(""));
            assert_eq!(values(&loc, "redirect"), vec![inner]);
        }
        _ => {
            assert_eq!(location, tracked);
            assert_eq!(cached.target.display(), cached.target.inner);
        }
    }
    assert_eq!(record.tracking_url(&store), cached.target.display());
});
