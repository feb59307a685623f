//! The redirect: exact Locations, query merging, headers, and 404s.

use crate::harness::*;
use serde_json::json;

const HUMAN_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

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
fn expired_link_is_410_gone_until_extended() {
    let link = link_to("https://shop.example/expiring", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["expires_at"], "2020-01-01T00:00:00.000Z");
    let gone = get(&format!("/{slug}"), &[]);
    assert_eq!(gone.status, 410);
    assert!(gone.body.contains("This link has expired"), "{}", gone.body);
    assert_eq!(gone.header("location"), None);
    assert_eq!(gone.header("set-cookie"), None);
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
fn expired_link_with_expired_url_sends_visitors_there_untracked() {
    let link = link_to(
        "https://shop.example/drop?x=1",
        json!({"expires_at": "2020-01-01T00:00:00Z", "expired_url": "https://shop.example/sold-out"}),
    );
    let slug = link["slug"].as_str().unwrap();
    assert_eq!(link["expired_url"], "https://shop.example/sold-out");
    let r = get(&format!("/{slug}"), &[("User-Agent", HUMAN_UA)]);
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("https://shop.example/sold-out"));
    assert_eq!(
        r.header("set-cookie"),
        None,
        "no visitor cookie for an expired link"
    );
    // Recorded as a miss, not a click.
    let link_id = format!("(SELECT id FROM links WHERE slug = '{slug}')");
    let rows = d1(&format!(
        "SELECT (SELECT COUNT(*) FROM clicks WHERE link_id = {link_id}) AS clicks, \
                (SELECT COUNT(*) FROM link_misses WHERE link_id = {link_id} AND reason = 'expired') AS misses"
    ));
    assert_eq!(rows[0]["clicks"], 0);
    assert!(rows[0]["misses"].as_i64().unwrap() >= 1, "{rows:?}");
}

#[test]
fn a_link_is_404_before_starts_at_and_live_once_it_is_cleared() {
    let link = link_to(
        "https://shop.example/launch",
        json!({"starts_at": "2999-01-01T00:00:00Z"}),
    );
    let slug = link["slug"].as_str().unwrap();
    assert_eq!(link["starts_at"], "2999-01-01T00:00:00.000Z");
    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", HUMAN_UA)]).status,
        404
    );
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"starts_at": "2020-01-01T00:00:00Z"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", HUMAN_UA)]).status,
        302
    );
    // A start after the expiry is refused, naming the field.
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"starts_at": "2030-01-01T00:00:00Z", "expires_at": "2029-01-01T00:00:00Z"})),
    );
    r.assert_error(400, "invalid_range", Some("starts_at"));
}

#[test]
fn max_clicks_expires_the_link_after_that_many_human_clicks() {
    let link = link_to("https://shop.example/limited", json!({"max_clicks": 3}));
    let slug = link["slug"].as_str().unwrap();
    assert_eq!(link["max_clicks"], 3);
    // A bot does not use up the limit.
    let bot = get(
        &format!("/{slug}"),
        &[(
            "User-Agent",
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
        )],
    );
    assert_eq!(bot.status, 302);
    for i in 0..3u64 {
        let r = get(&format!("/{slug}"), &[("User-Agent", HUMAN_UA)]);
        assert_eq!(r.status, 302, "click {i}");
        // Let the group commit write it before the next visit counts.
        stats_eventually(slug, i + 1);
    }
    let r = get(&format!("/{slug}"), &[("User-Agent", HUMAN_UA)]);
    assert_eq!(
        r.status, 410,
        "the fourth human visit finds the limit reached"
    );
    let rows = d1(&format!(
        "SELECT COUNT(*) AS n FROM link_misses WHERE reason = 'click_limit' \
         AND link_id = (SELECT id FROM links WHERE slug = '{slug}')"
    ));
    assert_eq!(rows[0]["n"], 1);
    // Raising the limit makes it live again.
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"max_clicks": 10})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", HUMAN_UA)]).status,
        302
    );
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
