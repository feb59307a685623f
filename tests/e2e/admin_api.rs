//! The admin API: authentication, validation errors and the link resources.

use crate::harness::*;
use serde_json::{json, Value};

#[test]
fn every_admin_route_needs_the_token() {
    let routes = [
        ("GET", "/api/v1/links"),
        ("POST", "/api/v1/links"),
        ("GET", "/api/v1/links/anything"),
        ("PATCH", "/api/v1/links/anything"),
        ("DELETE", "/api/v1/links/anything"),
        ("GET", "/api/v1/links/anything/stats"),
        ("POST", "/api/v1/influencers"),
        ("GET", "/api/v1/influencers"),
        ("POST", "/api/v1/campaigns"),
        ("GET", "/api/v1/campaigns"),
        ("POST", "/api/v1/codes"),
        ("GET", "/api/v1/codes"),
    ];
    let wrong = format!("Bearer {}x", admin_token());
    let upper = format!("Bearer {}", admin_token().to_uppercase());
    let cases: [&[(&str, &str)]; 5] = [
        &[],
        &[("Authorization", wrong.as_str())],
        &[("Authorization", upper.as_str())],
        &[("Authorization", "Bearer ")],
        &[("Authorization", "Basic ZGV2OmRldg==")],
    ];
    for (method, path) in routes {
        for headers in cases {
            let r = request(method, path, headers, None);
            r.assert_error(401, "unauthorized", None);
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
    }
}

#[test]
fn create_link_returns_201_with_the_short_and_tracking_urls() {
    let (handle, campaign) = roster();
    let slug = unique("Sarah_Serum");
    let r = admin(
        "POST",
        "/api/v1/links",
        Some(
            json!({"slug": slug, "destination": "https://shop.example/serum", "influencer": handle.to_uppercase(),
                    "campaign": campaign, "content": "Story 1", "platform": "tiktok"}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["slug"], slug.as_str());
    assert_eq!(v["short_url"], format!("{}/{slug}", base()));
    assert_eq!(v["destination"], "https://shop.example/serum");
    assert_eq!(
        v["tracking_url"],
        format!("https://shop.example/serum?utm_source={handle}&utm_medium=influencer&utm_campaign={campaign}&utm_content=story-1")
    );
    assert_eq!(v["influencer"], handle.as_str());
    assert_eq!(v["platform"], "tiktok");
    assert_eq!(v["status"], "active");

    // GET returns the same view.
    let got = admin("GET", &format!("/api/v1/links/{slug}"), None);
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), v);

    // The slug is taken now.
    let again = admin(
        "POST",
        "/api/v1/links",
        Some(
            json!({"slug": slug, "destination": "https://shop.example/", "influencer": handle, "campaign": campaign}),
        ),
    );
    again.assert_error(409, "slug_taken", Some("slug"));
}

#[test]
fn generated_slugs_are_url_safe_and_distinct() {
    let (handle, campaign) = roster();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let r = admin(
            "POST",
            "/api/v1/links",
            Some(
                json!({"destination": "https://shop.example/", "influencer": handle, "campaign": campaign}),
            ),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        let slug = r.json()["slug"].as_str().unwrap().to_owned();
        assert!(
            slug.len() >= 7 && slug.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{slug}"
        );
        assert!(seen.insert(slug));
    }
}

#[test]
fn each_invalid_field_is_a_400_naming_it() {
    let (handle, campaign) = roster();
    let valid =
        json!({"destination": "https://shop.example/", "influencer": handle, "campaign": campaign});
    let with = |k: &str, v: Value| {
        let mut b = valid.clone();
        b[k] = v;
        b
    };
    let without = |k: &str| {
        let mut b = valid.clone();
        b.as_object_mut().unwrap().remove(k);
        b
    };
    let cases: Vec<(Value, &str, &str)> = vec![
        (without("destination"), "destination", "required"),
        (
            with("destination", json!("javascript:alert(1)")),
            "destination",
            "unsupported_scheme",
        ),
        (
            with("destination", json!("data:text/html,hi")),
            "destination",
            "unsupported_scheme",
        ),
        (
            with("destination", json!("/relative")),
            "destination",
            "relative_url",
        ),
        (
            with("destination", json!("https://user:pw@shop.example/")),
            "destination",
            "credentials_not_allowed",
        ),
        (
            with(
                "destination",
                json!(format!("https://shop.example/{}", "a".repeat(2100))),
            ),
            "destination",
            "too_long",
        ),
        (
            with("destination", json!(42)),
            "destination",
            "invalid_type",
        ),
        (without("influencer"), "influencer", "required"),
        (
            with("influencer", json!("Sarah Smith")),
            "influencer",
            "invalid_format",
        ),
        (
            with("influencer", json!("nobody-by-this-handle")),
            "influencer",
            "unknown_influencer",
        ),
        (
            with("campaign", json!("no-such-campaign-zz")),
            "campaign",
            "unknown_campaign",
        ),
        (with("slug", json!("api")), "slug", "reserved"),
        (with("slug", json!("has/slash")), "slug", "invalid_format"),
        (with("slug", json!("x".repeat(65))), "slug", "too_long"),
        (
            with("platform", json!("myspace")),
            "platform",
            "invalid_value",
        ),
        (with("content", json!("   ")), "content", "empty"),
        (with("surprise", json!(true)), "surprise", "unknown_field"),
    ];
    for (body, field, code) in cases {
        let r = admin("POST", "/api/v1/links", Some(body.clone()));
        r.assert_error(400, code, Some(field));
    }
}

#[test]
fn malformed_bodies_are_4xx_not_500() {
    let auth = format!("Bearer {}", admin_token());
    let a = auth.as_str();
    let json_ct = ("Content-Type", "application/json");
    request(
        "POST",
        "/api/v1/links",
        &[("Authorization", a), json_ct],
        Some("{not json"),
    )
    .assert_error(400, "malformed_json", None);
    request(
        "POST",
        "/api/v1/links",
        &[("Authorization", a), json_ct],
        Some("[1,2]"),
    )
    .assert_error(400, "expected_object", None);
    request(
        "POST",
        "/api/v1/links",
        &[("Authorization", a), ("Content-Type", "text/plain")],
        Some("{}"),
    )
    .assert_error(415, "unsupported_media_type", None);
    request("POST", "/api/v1/links", &[("Authorization", a)], Some("{}")).assert_error(
        415,
        "unsupported_media_type",
        None,
    );
    let big = format!("{{\"destination\":\"{}\"}}", "a".repeat(70 * 1024));
    request(
        "POST",
        "/api/v1/links",
        &[("Authorization", a), json_ct],
        Some(&big),
    )
    .assert_error(413, "payload_too_large", None);
    admin("PATCH", "/api/v1/links/whatever", Some(json!({}))).assert_error(
        400,
        "empty_patch",
        None,
    );
    admin("GET", "/api/v1/links?limit=0", None).assert_error(400, "invalid_value", Some("limit"));
    admin("GET", "/api/v1/nope", None).assert_error(404, "not_found", None);
    admin("PUT", "/api/v1/links", None).assert_error(405, "method_not_allowed", None);
    admin("GET", "/api/v1/links/no-such-link-q", None).assert_error(404, "not_found", None);
    admin("GET", "/api/v1/links/no-such-link-q/stats", None).assert_error(404, "not_found", None);
}

#[test]
fn influencer_and_campaign_rules() {
    let handle = unique("dup");
    let r = admin(
        "POST",
        "/api/v1/influencers",
        Some(json!({"handle": format!("@{}", handle.to_uppercase())})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["handle"], handle.as_str());
    admin(
        "POST",
        "/api/v1/influencers",
        Some(json!({"handle": handle})),
    )
    .assert_error(409, "handle_taken", Some("handle"));
    admin(
        "POST",
        "/api/v1/influencers",
        Some(json!({"handle": "no spaces"})),
    )
    .assert_error(400, "invalid_format", Some("handle"));
    admin(
        "POST",
        "/api/v1/influencers",
        Some(json!({"handle": "ok", "platform": 3})),
    )
    .assert_error(400, "invalid_type", Some("platform"));
    let camp = unique("c");
    assert_eq!(
        admin("POST", "/api/v1/campaigns", Some(json!({"slug": camp}))).status,
        201
    );
    admin("POST", "/api/v1/campaigns", Some(json!({"slug": camp}))).assert_error(
        409,
        "slug_taken",
        Some("slug"),
    );
    admin("POST", "/api/v1/campaigns", Some(json!({}))).assert_error(400, "required", Some("slug"));
}

#[test]
fn links_are_listed_in_pages() {
    let (handle, campaign) = roster();
    for _ in 0..3 {
        let r = admin(
            "POST",
            "/api/v1/links",
            Some(
                json!({"destination": "https://shop.example/p", "influencer": handle, "campaign": campaign}),
            ),
        );
        assert_eq!(r.status, 201);
    }
    // Walk every page with limit 2 and find all three links of this campaign.
    let mut cursor: Option<String> = None;
    let mut mine = 0;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/links?limit=2&cursor={c}"),
            None => "/api/v1/links?limit=2".to_owned(),
        };
        let v = admin("GET", &path, None).json();
        let links = v["links"].as_array().unwrap();
        assert!(links.len() <= 2);
        mine += links
            .iter()
            .filter(|l| l["campaign"] == campaign.as_str())
            .count();
        pages += 1;
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 10_000, "pagination does not terminate");
    }
    assert_eq!(mine, 3);
    assert!(pages >= 2);
}

#[test]
fn every_documented_operation_answers() {
    let doc = get("/openapi.json", &[]).json();
    assert_eq!(doc["openapi"], "3.1.0");
    let auth = format!("Bearer {}", admin_token());
    let mut checked = 0;
    for (template, ops) in doc["paths"].as_object().unwrap() {
        let path = template
            .replace("{slug}", "no-such-slug")
            .replace("{handle}", "no-such-handle")
            .replace("{period}", "not-a-month")
            .replace("{code}", "NOSUCHCODE")
            .replace("{order_id}", "no-such-order")
            .replace("{id}", "0");
        for (method, _) in ops.as_object().unwrap() {
            let m = method.to_ascii_uppercase();
            let body = matches!(m.as_str(), "POST" | "PUT" | "PATCH").then_some("{}");
            let mut headers = vec![("Authorization", auth.as_str())];
            if body.is_some() {
                headers.push(("Content-Type", "application/json"));
            }
            let r = request(&m, &path, &headers, body);
            assert_ne!(r.status, 405, "{m} {path}");
            if r.status == 404
                && r.header("content-type")
                    .is_some_and(|c| c.starts_with("application/json"))
            {
                assert_ne!(
                    r.json()["error"]["message"],
                    "route not found",
                    "{m} {path} is documented but not routed"
                );
            }
            assert!(r.status < 500, "{m} {path}: {}", r.status);
            checked += 1;
        }
    }
    assert_eq!(checked, 61);
}
