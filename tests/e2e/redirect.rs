//! The redirect: exact Locations, query merging, headers, and 404s.

use crate::support::*;
use serde_json::json;

/// Creates a link to `destination` and checks that a GET of its slug is a
/// 302 to exactly `expected_tracking` plus a fresh `lc_cid`.
fn check(
    destination: &str,
    extra: serde_json::Value,
    expected_tracking: impl Fn(&str, &str) -> String,
) {
    let link = link_to(destination, extra);
    let (handle, campaign) = (
        link["influencer"].as_str().unwrap(),
        link["campaign"].as_str().unwrap(),
    );
    let expected = expected_tracking(handle, campaign);
    assert_eq!(
        link["tracking_url"],
        expected.as_str(),
        "tracking_url for {destination}"
    );
    let slug = link["slug"].as_str().unwrap();
    let r = get(
        &format!("/{slug}"),
        &[(
            "User-Agent",
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36",
        )],
    );
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").expect("Location header");
    click_id_of(location, &expected);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    assert_eq!(
        r.header("referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
}

#[test]
fn redirects_to_the_exact_tracking_url() {
    check(
        "https://shop.example/serum",
        json!({"content": "Reel 1"}),
        |h, c| {
            format!("https://shop.example/serum?utm_source={h}&utm_medium=influencer&utm_campaign={c}&utm_content=reel-1")
        },
    );
}

#[test]
fn keeps_existing_query_parameters() {
    check("https://shop.example/serum?a=1", json!({}), |h, c| {
        format!(
            "https://shop.example/serum?a=1&utm_source={h}&utm_medium=influencer&utm_campaign={c}"
        )
    });
}

#[test]
fn replaces_the_destinations_own_utm_source() {
    check(
        "https://shop.example/serum?utm_source=newsletter&b=2&utm_medium=email",
        json!({}),
        |h, c| {
            format!("https://shop.example/serum?b=2&utm_source={h}&utm_medium=influencer&utm_campaign={c}")
        },
    );
}

#[test]
fn keeps_the_fragment_last() {
    check(
        "https://shop.example/serum?a=1#reviews",
        json!({}),
        |h, c| {
            format!("https://shop.example/serum?a=1&utm_source={h}&utm_medium=influencer&utm_campaign={c}#reviews")
        },
    );
}

#[test]
fn keeps_percent_encoding_byte_for_byte() {
    check(
        "https://shop.example/s%C3%A9rum?q=caf%C3%A9%20au+lait&tag=a%26b",
        json!({"utm_term": "Glow Serum", "utm_medium": "Creator"}),
        |h, c| {
            format!(
                "https://shop.example/s%C3%A9rum?q=caf%C3%A9%20au+lait&tag=a%26b&utm_source={h}&utm_medium=creator&utm_campaign={c}&utm_term=glow-serum"
            )
        },
    );
}

#[test]
fn head_redirects_too() {
    let link = link_to("https://shop.example/head", json!({}));
    let r = request(
        "HEAD",
        &format!("/{}", link["slug"].as_str().unwrap()),
        &[],
        None,
    );
    assert_eq!(r.status, 302);
    click_id_of(
        r.header("location").unwrap(),
        link["tracking_url"].as_str().unwrap(),
    );
}

#[test]
fn unknown_slug_is_a_404_page() {
    for path in ["/no-such-link-xyz", "/bad%20slug", "/"] {
        let r = get(path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert!(r.header("location").is_none());
        assert!(
            r.header("content-type")
                .unwrap_or("")
                .starts_with("text/html"),
            "{path}"
        );
        assert!(r.body.contains("Link not found"), "{path}");
    }
}

#[test]
fn disabled_link_is_a_404_and_keeps_its_history() {
    let link = link_to("https://shop.example/disabled", json!({}));
    let slug = link["slug"].as_str().unwrap();
    assert_eq!(get(&format!("/{slug}"), &[]).status, 302);
    stats_eventually(slug, 1);
    let r = admin("DELETE", &format!("/api/v1/links/{slug}"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "disabled");
    let r = get(&format!("/{slug}"), &[]);
    assert_eq!(r.status, 404);
    assert!(r.body.contains("Link not found"));
    // The click history survives.
    assert_eq!(stats_eventually(slug, 1)["clicks"], 1);
    // And it can be re-enabled.
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"status": "active"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(&format!("/{slug}"), &[]).status, 302);
}

#[test]
fn expired_link_is_a_404() {
    let link = link_to("https://shop.example/expiring", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["expires_at"], "2020-01-01T00:00:00.000Z");
    assert_eq!(get(&format!("/{slug}"), &[]).status, 404);
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"expires_at": "2999-01-01T00:00:00Z"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(get(&format!("/{slug}"), &[]).status, 302);
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"expires_at": null})),
    );
    assert_eq!(r.json()["expires_at"], serde_json::Value::Null);
}

#[test]
fn patched_destination_takes_effect_immediately() {
    let link = link_to("https://shop.example/old", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"destination": "https://shop.example/new?x=1"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let tracking = r.json()["tracking_url"].as_str().unwrap().to_owned();
    assert!(
        tracking.starts_with("https://shop.example/new?x=1&utm_source="),
        "{tracking}"
    );
    let r = get(&format!("/{slug}"), &[]);
    click_id_of(r.header("location").unwrap(), &tracking);
}

#[test]
fn health() {
    let r = get("/healthz", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
}
