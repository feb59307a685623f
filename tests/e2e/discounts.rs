//! Promo codes and discount URLs: every style's exact Location, `/c/{code}`,
//! and the code rules.

use crate::harness::*;
use serde_json::{json, Value};

/// An influencer, a campaign (with `campaign_extra`) and a code for them.
/// Returns `(handle, campaign, code)`.
fn roster_with_code(campaign_extra: Value) -> (String, String, String) {
    let handle = unique("inf");
    let campaign = unique("camp");
    let code = unique_code("C");
    assert_eq!(
        admin(
            "POST",
            "/api/v1/influencers",
            Some(json!({"handle": handle}))
        )
        .status,
        201
    );
    let mut c = json!({"slug": campaign});
    c.as_object_mut()
        .unwrap()
        .extend(campaign_extra.as_object().unwrap().clone());
    let r = admin("POST", "/api/v1/campaigns", Some(c));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": code.to_lowercase(), "influencer": handle})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["code"], code.as_str(), "stored upper-case");
    (handle, campaign, code)
}

fn create_link(handle: &str, campaign: &str, destination: &str, extra: Value) -> Value {
    let mut body = json!({"destination": destination, "influencer": handle, "campaign": campaign});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = admin("POST", "/api/v1/links", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn location_of(slug: &str) -> String {
    let r = get(&format!("/{slug}"), &[("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36")]);
    assert_eq!(r.status, 302, "{}", r.body);
    r.header("location").unwrap().to_owned()
}

#[test]
fn shopify_style_wraps_the_tracked_path_in_discount_redirect() {
    let (h, c, code) = roster_with_code(json!({}));
    let link = create_link(
        &h,
        &c,
        "https://shop.example/products/serum?variant=7#reviews",
        json!({"discount_code": code, "discount_style": "shopify"}),
    );
    assert_eq!(link["discount_style"], "shopify");
    let loc = location_of(link["slug"].as_str().unwrap());
    let tracked_path =
        format!("/products/serum?variant=7&utm_source={h}&utm_medium=influencer&utm_campaign={c}");
    let prefix = format!("https://shop.example/discount/{code}?redirect=");
    assert!(loc.starts_with(&prefix), "{loc}");
    assert!(loc.ends_with("#reviews"), "{loc}");
    // Decoding `redirect` gives the path and query with UTM tags and lc_cid.
    let redirect = query_param(&loc, "redirect").expect("redirect parameter");
    let cid_at = redirect.find("&lc_cid=").expect("lc_cid in redirect");
    assert_eq!(&redirect[..cid_at], tracked_path);
    let cid = &redirect[cid_at + "&lc_cid=".len()..];
    assert_eq!(cid.len(), 22);
    // The whole Location is exactly the encoded form of that path.
    let encoded: String = redirect
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect();
    assert_eq!(loc, format!("{prefix}{encoded}#reviews"));
    // tracking_url is the same, less the click id.
    let tracked_no_cid: String = link["tracking_url"].as_str().unwrap().to_owned();
    assert_eq!(
        query_param(&tracked_no_cid, "redirect").unwrap(),
        tracked_path
    );
}

#[test]
fn woocommerce_style_adds_the_coupon_parameter() {
    let (h, c, code) = roster_with_code(json!({}));
    let link = create_link(
        &h,
        &c,
        "https://shop.example/p?coupon=OLD&a=1",
        json!({"discount_code": code, "discount_style": "woocommerce"}),
    );
    let tracking = format!("https://shop.example/p?a=1&utm_source={h}&utm_medium=influencer&utm_campaign={c}&coupon={code}");
    assert_eq!(link["tracking_url"], tracking.as_str());
    assert_eq!(link["discount_param"], "coupon");
    click_id_of(&location_of(link["slug"].as_str().unwrap()), &tracking);
}

#[test]
fn campaign_default_style_and_parameter_apply_to_its_links() {
    let (h, c, code) = roster_with_code(
        json!({"discount_style": "woocommerce", "discount_param": "apply_coupon"}),
    );
    let link = create_link(
        &h,
        &c,
        "https://shop.example/p",
        json!({"discount_code": code}),
    );
    let tracking = format!("https://shop.example/p?utm_source={h}&utm_medium=influencer&utm_campaign={c}&apply_coupon={code}");
    assert_eq!(link["discount_style"], "woocommerce");
    click_id_of(&location_of(link["slug"].as_str().unwrap()), &tracking);
    // A link's own style wins over its campaign's.
    let own = create_link(
        &h,
        &c,
        "https://shop.example/p",
        json!({"discount_code": code, "discount_style": "query", "discount_param": "promo"}),
    );
    let tracking = format!(
        "https://shop.example/p?utm_source={h}&utm_medium=influencer&utm_campaign={c}&promo={code}"
    );
    click_id_of(&location_of(own["slug"].as_str().unwrap()), &tracking);
}

#[test]
fn none_style_leaves_the_code_out() {
    let (h, c, code) = roster_with_code(json!({}));
    let link = create_link(
        &h,
        &c,
        "https://shop.example/p",
        json!({"discount_code": code, "discount_style": "none"}),
    );
    let tracking =
        format!("https://shop.example/p?utm_source={h}&utm_medium=influencer&utm_campaign={c}");
    click_id_of(&location_of(link["slug"].as_str().unwrap()), &tracking);
}

#[test]
fn code_urls_work_in_any_letter_case() {
    let (h, c, code) = roster_with_code(json!({}));
    let link = create_link(
        &h,
        &c,
        "https://shop.example/p",
        json!({"discount_code": code, "discount_style": "woocommerce"}),
    );
    let slug = link["slug"].as_str().unwrap();
    let tracking = link["tracking_url"].as_str().unwrap();
    for variant in [code.clone(), code.to_lowercase()] {
        let r = get(&format!("/c/{variant}"), &[]);
        assert_eq!(r.status, 302, "/c/{variant}: {}", r.body);
        click_id_of(r.header("location").unwrap(), tracking);
    }
    assert_eq!(stats_eventually(slug, 2)["clicks"], 2);
    let r = get("/c/NO_SUCH_CODE_123", &[]);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Link not found"));
}

#[test]
fn a_code_url_applies_its_code_even_to_a_link_without_one() {
    let (h, c, code) = roster_with_code(json!({"discount_style": "query", "discount_param": "dc"}));
    create_link(&h, &c, "https://shop.example/landing", json!({}));
    let r = get(&format!("/c/{code}"), &[]);
    assert_eq!(r.status, 302, "{}", r.body);
    let tracking = format!("https://shop.example/landing?utm_source={h}&utm_medium=influencer&utm_campaign={c}&dc={code}");
    click_id_of(r.header("location").unwrap(), &tracking);
}

#[test]
fn code_rules() {
    let (h, c, code) = roster_with_code(json!({}));
    // Unique, case-insensitively.
    admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": code.to_lowercase(), "influencer": h})),
    )
    .assert_error(409, "code_taken", Some("code"));
    admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": "AB", "influencer": h})),
    )
    .assert_error(400, "too_short", Some("code"));
    admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": "SAVE 10", "influencer": h})),
    )
    .assert_error(400, "invalid_format", Some("code"));
    admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": unique("Z").replace('-', ""), "influencer": "nobody-zz"})),
    )
    .assert_error(400, "unknown_influencer", Some("influencer"));
    // A link's code must be registered, and be its own influencer's.
    let body = |dc: &str| json!({"destination": "https://shop.example/", "influencer": h, "campaign": c, "discount_code": dc});
    admin("POST", "/api/v1/links", Some(body("NOTREGISTERED9"))).assert_error(
        400,
        "unknown_code",
        Some("discount_code"),
    );
    let (_, _, other_code) = roster_with_code(json!({}));
    admin("POST", "/api/v1/links", Some(body(&other_code))).assert_error(
        400,
        "code_of_other_influencer",
        Some("discount_code"),
    );
    // And the list shows the code.
    let mut cursor = String::new();
    let mut found = false;
    for _ in 0..1000 {
        let v = admin("GET", &format!("/api/v1/codes?limit=200{cursor}"), None).json();
        found |= v["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["code"] == code.as_str() && k["influencer"] == h.as_str());
        match v["next_cursor"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => break,
        }
    }
    assert!(found);
}
