//! The influencer roster (profile fields, the derived tier, the private
//! contact email) and content pieces (format, posted_at, product category),
//! and reports by tier, format, product category and posted week.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

fn influencer(extra: Value) -> (String, Value) {
    let handle = unique("ros");
    let mut body = json!({"handle": handle});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let r = admin("POST", "/api/v1/influencers", Some(body));
    assert_eq!(r.status, 201, "{}", r.body);
    (handle, r.json())
}

#[test]
fn tiers_are_derived_at_each_threshold() {
    let (handle, created) = influencer(json!({
        "name": "Mia Rossi", "primary_platform": "Instagram", "follower_count": 9_999, "niche": "Skin Care",
        "contact_email": "mia@agency.example", "base_fee": "1500.00", "bonus_per_conversion": "2.50",
        "revenue_share_pct": "12.5", "contract_start": "2026-11-01", "contract_end": "2026-12-31"}));
    assert_eq!(
        created,
        json!({"handle": handle, "name": "Mia Rossi", "primary_platform": "instagram", "platform": "instagram",
               "follower_count": 9999, "tier": "nano", "niche": "skin-care", "contact_email": "mia@agency.example",
               "base_fee": "1500.00", "bonus_per_conversion": "2.50", "revenue_share_pct": "12.5",
               "contract_start": "2026-11-01", "contract_end": "2026-12-31", "created_at": created["created_at"]})
    );
    for (followers, tier) in [
        (10_000, "micro"),
        (99_999, "micro"),
        (100_000, "mid"),
        (499_999, "mid"),
        (500_000, "macro"),
        (999_999, "macro"),
        (1_000_000, "mega"),
        (0, "nano"),
    ] {
        let r = admin(
            "PATCH",
            &format!("/api/v1/influencers/{handle}"),
            Some(json!({"follower_count": followers})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["tier"], tier, "{followers} followers");
        assert_eq!(
            admin("GET", &format!("/api/v1/influencers/{handle}"), None).json()["tier"],
            tier
        );
    }
    let cleared = admin(
        "PATCH",
        &format!("/api/v1/influencers/{handle}"),
        Some(json!({"follower_count": null, "contact_email": null})),
    )
    .json();
    assert_eq!(
        (&cleared["tier"], &cleared["contact_email"]),
        (&Value::Null, &Value::Null)
    );
    admin(
        "PATCH",
        &format!("/api/v1/influencers/{handle}"),
        Some(json!({"contract_end": "2026-10-01"})),
    )
    .assert_error(400, "invalid_range", Some("contract_end"));
    admin(
        "PATCH",
        &format!("/api/v1/influencers/{handle}"),
        Some(json!({"tier": "mega"})),
    )
    .assert_error(400, "unknown_field", Some("tier"));
    admin(
        "PATCH",
        "/api/v1/influencers/nobody-here",
        Some(json!({"niche": "x"})),
    )
    .assert_error(404, "not_found", None);
}

/// `(influencer, key, clicks, revenue)` rows of `handles`, sorted.
fn rows(rep: &Value, dim: &str, handles: &[&str]) -> Vec<(String, Value, u64, String)> {
    let mut out: Vec<_> = rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| handles.iter().any(|h| r["influencer"] == *h))
        .map(|r| {
            (
                r["influencer"].as_str().unwrap().to_owned(),
                r[dim].clone(),
                r["clicks"].as_u64().unwrap(),
                r["revenue"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort_by_key(|r| r.0.clone());
    out
}

#[test]
fn reports_by_tier_format_category_and_posted_week() {
    // scripts/e2e.sh sets PRODUCT_CATEGORIES=/products/serum=skincare,...
    let (a, _) = influencer(json!({"follower_count": 250_000}));
    let (b, _) = influencer(json!({"follower_count": 5_000}));
    let campaign = unique("camp");
    assert_eq!(
        admin("POST", "/api/v1/campaigns", Some(json!({"slug": campaign}))).status,
        201
    );
    let link = |handle: &str, extra: Value| {
        let mut body = json!({"influencer": handle, "campaign": campaign});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let r = admin("POST", "/api/v1/links", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    };
    let la = link(
        &a,
        json!({"destination": "https://shop.example/products/serum-x?v=1", "format": "reel",
                             "posted_at": "2026-11-18T19:00:00Z"}),
    );
    let lb = link(
        &b,
        json!({"destination": "https://shop.example/products/oil", "format": "Story",
                             "product_category": "Hair Care", "posted_at": "2026-11-23T08:00:00Z"}),
    );
    assert_eq!(
        (&la["format"], &la["product_category"]),
        (&json!("reel"), &json!("skincare"))
    );
    assert_eq!(
        (&lb["format"], &lb["product_category"]),
        (&json!("story"), &json!("hair-care"))
    );
    let click = |l: &Value| {
        let r = get(
            &format!("/{}", l["slug"].as_str().unwrap()),
            &[("User-Agent", UA)],
        );
        assert_eq!(r.status, 302);
        query_param(r.header("location").unwrap(), "lc_cid").unwrap()
    };
    let (ca, _, cb) = (click(&la), click(&la), click(&lb));
    // Orders come after their clicks are stored (group commit writes a
    // click a few milliseconds after its redirect). Everything is polled
    // over HTTP: the D1 file is busy enough with the other tests.
    let slug = |l: &Value| l["slug"].as_str().unwrap().to_owned();
    assert_eq!(stats_eventually(&slug(&la), 2)["clicks"], 2);
    assert_eq!(stats_eventually(&slug(&lb), 1)["clicks"], 1);
    let now = now_ms();
    let occurred = linkcredit::base::time::format_rfc3339(now);
    for (cid, revenue) in [(&ca, "100.00"), (&cb, "40.00")] {
        let r = ingest(
            "/api/v1/conversions",
            &json!({"order_id": unique("ord"), "occurred_at": occurred, "revenue": revenue, "currency": "USD", "click_id": cid}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let day = linkcredit::base::time::format_date(now / 86_400_000);
    let range = format!("from={day}&to={day}&model=last_touch");
    let who = [a.as_str(), b.as_str()];
    let want = |ka: Value, kb: Value| {
        let mut want = vec![
            (a.clone(), ka, 2, "100.00".to_owned()),
            (b.clone(), kb, 1, "40.00".to_owned()),
        ];
        want.sort_by_key(|r| r.0.clone());
        want
    };
    // Attribution runs (the tests share one lease) until the report shows
    // both orders and all three clicks.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        admin("POST", "/api/v1/attribution/run", Some(json!({})));
        let rep = report(&format!("group_by=influencer,tier&{range}"));
        if rows(&rep, "tier", &who) == want(json!("mid"), json!("nano"))
            || Instant::now() > deadline
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
    let check = |dim: &str, ka: Value, kb: Value| {
        let rep = report(&format!("group_by=influencer,{dim}&{range}"));
        assert_eq!(rows(&rep, dim, &who), want(ka, kb), "group_by={dim}");
    };
    check("tier", json!("mid"), json!("nano"));
    check("format", json!("reel"), json!("story"));
    check("product_category", json!("skincare"), json!("hair-care"));
    check("posted_week", json!("2026-11-16"), json!("2026-11-23"));
    // One dimension alone reads the same joins.
    let rep = report(&format!("group_by=tier&{range}"));
    let mid = rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["tier"] == "mid")
        .cloned();
    assert!(
        mid.is_some_and(|m| m["clicks"].as_u64() >= Some(2)),
        "{rep}"
    );
}
