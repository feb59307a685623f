//! Privacy by default: no visitor cookie without consent in the EU, under
//! honoured DNT/GPC signals (`scripts/e2e.sh` sets
//! `PRIVACY_SIGNALS=dnt,gpc` and `CONSENT_COOKIE=cmp_consent=yes`) and, in
//! `strict.rs`, everywhere; uniques still count within the day; and the
//! data-subject erasure endpoint.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const OTHER_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
/// An EU visit, as the edge describes it (miniflare takes `request.cf`
/// from this header locally).
pub const EU: (&str, &str) = ("MF-CF-Blob", r#"{"country":"DE","isEUCountry":"1"}"#);

/// A GET of `/{path}`: asserts the 302 and returns `(lc_cid, Set-Cookie)`.
pub fn visit(path: &str, headers: &[(&str, &str)]) -> (String, Option<String>) {
    let r = get(&format!("/{path}"), headers);
    assert_eq!(r.status, 302, "{headers:?}: {}", r.body);
    let cid = query_param(r.header("location").unwrap(), "lc_cid").unwrap();
    (cid, r.header("set-cookie").map(str::to_owned))
}

/// The visitor ids D1 stored for these clicks, in the given order.
pub fn visitors_of(ids: &[&str]) -> Vec<String> {
    let list: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = d1(&format!(
            "SELECT id, visitor_id FROM clicks WHERE id IN ({})",
            list.join(",")
        ));
        if rows.len() == ids.len() || Instant::now() > deadline {
            return ids
                .iter()
                .map(|id| {
                    rows.iter()
                        .find(|r| r["id"] == *id)
                        .unwrap_or_else(|| panic!("click {id} not stored"))["visitor_id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect();
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Anonymous visits: no cookie, one daily visitor per (IP prefix, user
/// agent, link), uniques by the 30-minute rule within the day.
pub fn check_anonymous_visits(extra: &[(&str, &str)]) {
    let link = link_to("https://shop.example/p", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let with = |more: &[(&'static str, &'static str)]| {
        let mut h: Vec<(&str, &str)> = extra.to_vec();
        h.extend_from_slice(more);
        h
    };
    let ip = |addr: &'static str| ("CF-Connecting-IP", addr);
    let (c1, k1) = visit(slug, &with(&[("User-Agent", UA), ip("203.0.113.10")]));
    // The same /24 and browser: the same visitor (a repeat within 30 min).
    let (c2, k2) = visit(slug, &with(&[("User-Agent", UA), ip("203.0.113.99")]));
    // Even a cookie the visitor still has is neither read nor renewed.
    let (c3, k3) = visit(
        slug,
        &with(&[
            ("User-Agent", UA),
            ip("203.0.113.10"),
            ("Cookie", "lc_vid=AAAAAAAAAAAAAAAAAAAAAA"),
        ]),
    );
    let (c4, _) = visit(slug, &with(&[("User-Agent", OTHER_UA), ip("203.0.113.10")]));
    let (c5, _) = visit(slug, &with(&[("User-Agent", UA), ip("198.51.100.7")]));
    assert_eq!(
        (k1, k2, k3),
        (None, None, None),
        "no cookie without consent"
    );
    let v = visitors_of(&[&c1, &c2, &c3, &c4, &c5]);
    assert_eq!(v[0], v[1]);
    assert_eq!(v[0], v[2]);
    assert_ne!(v[0], "AAAAAAAAAAAAAAAAAAAAAA");
    assert_ne!(v[0], v[3], "another browser is another visitor");
    assert_ne!(v[0], v[4], "another network is another visitor");
    assert_eq!(v[0].len(), 22);
    let stats = stats_eventually(slug, 5);
    assert_eq!(
        (
            &stats["clicks"],
            &stats["unique_clicks"],
            &stats["unique_visitors"]
        ),
        (&json!(5), &json!(3), &json!(3)),
        "{stats}"
    );

    // Consent (consent=1 on the link, the consent cookie, Sec-GPC: 0)
    // brings the cookie back; the click id reaches the shop either way.
    for consent in [
        ("X-None", ""),
        ("Cookie", "cmp_consent=yes"),
        ("Sec-GPC", "0"),
    ] {
        let path = if consent.0 == "X-None" {
            format!("{slug}?consent=1")
        } else {
            slug.to_owned()
        };
        let (_, cookie) = visit(&path, &with(&[("User-Agent", UA), consent]));
        assert!(
            cookie.is_some_and(|c| c.starts_with("lc_vid=")),
            "{consent:?} consents"
        );
    }
}

#[test]
fn eu_visitors_get_no_cookie_without_consent_and_uniques_still_count() {
    check_anonymous_visits(&[EU]);
    // Outside the EU, the cookie as before.
    let link = link_to("https://shop.example/p", json!({}));
    let (_, cookie) = visit(link["slug"].as_str().unwrap(), &[("User-Agent", UA)]);
    assert!(cookie.is_some());
}

#[test]
fn ad_platform_click_ids_are_kept_only_with_consent() {
    let link = link_to("https://shop.example/p", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let path = format!("{slug}?fbclid=IwAR_us.1&ttclid=t-2&gclid=a%20b&other=x");
    // Nothing of the query reaches the Location.
    let r = get(&format!("/{path}"), &[("User-Agent", UA)]);
    let location = r.header("location").unwrap();
    assert!(
        !location.contains("fbclid") && !location.contains("other=x"),
        "{location}"
    );
    let us = query_param(location, "lc_cid").unwrap();
    let (eu, _) = visit(&path, &[("User-Agent", UA), EU]);
    let (eu_consent, _) = visit(&format!("{path}&consent=1"), &[("User-Agent", UA), EU]);
    assert_eq!(stats_eventually(slug, 3)["clicks"], 3);
    let stored: std::collections::HashMap<String, Value> = d1(&format!(
        "SELECT c.id, c.ad_click_ids FROM clicks c JOIN links l ON l.id = c.link_id WHERE l.slug = '{slug}'"
    ))
    .into_iter()
    .map(|r| (r["id"].as_str().unwrap().to_owned(), r["ad_click_ids"].clone()))
    .collect();
    let both = json!(r#"{"fbclid":"IwAR_us.1","ttclid":"t-2"}"#);
    assert_eq!(stored[&us], both, "{stored:?}");
    assert_eq!(stored[&eu], Value::Null, "no consent: not kept");
    assert_eq!(stored[&eu_consent], both);
}

#[test]
fn do_not_track_and_gpc_are_honoured_when_configured() {
    check_anonymous_visits(&[("DNT", "1")]);
    check_anonymous_visits(&[("Sec-GPC", "1")]);
}

/// Report totals of one influencer, under every model.
fn totals_of(handle: &str, day: &str) -> Value {
    let auth = format!("Bearer {}", reports_token());
    let r = request(
        "GET",
        &format!("/api/v1/reports?model=all&group_by=influencer&from={day}&to={day}"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["influencer"] == handle)
        .cloned()
        .collect()
}

#[test]
fn erasing_a_person_removes_ids_and_keeps_totals() {
    let link = link_to("https://shop.example/p", json!({}));
    let (slug, handle) = (
        link["slug"].as_str().unwrap(),
        link["influencer"].as_str().unwrap().to_owned(),
    );
    let (cid, cookie) = visit(slug, &[("User-Agent", UA)]);
    let cookie = cookie.unwrap();
    let vid = cookie["lc_vid=".len()..]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (cid2, _) = visit(
        slug,
        &[("User-Agent", UA), ("Cookie", &format!("lc_vid={vid}"))],
    );
    visitors_of(&[&cid, &cid2]);
    let customer = unique("cust");
    let order = unique("order");
    let now = now_ms();
    let r = ingest(
        "/api/v1/conversions",
        &json!({"order_id": order, "occurred_at": linkcredit::base::time::format_rfc3339(now),
                "revenue": "80.00", "currency": "USD", "click_id": cid, "visitor_id": vid,
                "customer_id": customer, "email_sha256": "a".repeat(64)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = ingest(
        "/api/v1/touchpoints",
        &json!({"occurred_at": linkcredit::base::time::format_rfc3339(now - 1000), "channel": "email",
                "customer_id": customer}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    attribute_orders(std::slice::from_ref(&order));
    let day = linkcredit::base::time::format_date(now / 86_400_000);
    let before = totals_of(&handle, &day);
    assert!(!before.as_array().unwrap().is_empty(), "{before}");

    let r = admin("DELETE", &format!("/api/v1/people/{customer}"), None);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["persons"], 1, "{v}");
    assert_eq!(
        v["erased"],
        json!({"identities": 3, "clicks": 2, "conversions": 1, "touchpoints": 1, "events": 0}),
        "{v}"
    );
    // The ids are gone from every table; the rows stay.
    let gone = |sql: String| assert_eq!(d1(&sql), vec![json!({"n": 0})], "{sql}");
    gone(format!(
        "SELECT COUNT(*) AS n FROM identities WHERE key IN ('v:{vid}', 'c:{customer}', 'e:{}')",
        "a".repeat(64)
    ));
    gone(format!(
        "SELECT COUNT(*) AS n FROM clicks WHERE visitor_id = '{vid}'"
    ));
    gone(format!(
        "SELECT COUNT(*) AS n FROM conversions WHERE customer_id = '{customer}' OR visitor_id = '{vid}'"
    ));
    gone(format!(
        "SELECT COUNT(*) AS n FROM touchpoints WHERE customer_id = '{customer}'"
    ));
    let rows = d1(&format!(
        "SELECT c.visitor_id, c.customer_id, c.email_sha256, c.click_id, \
                (SELECT COUNT(DISTINCT visitor_id) FROM clicks WHERE id IN ('{cid}', '{cid2}')) AS click_visitors, \
                (SELECT COUNT(*) FROM credits WHERE conversion_id = c.id) AS credits \
         FROM conversions c WHERE c.order_id = '{order}'"
    ));
    assert_eq!(rows[0]["visitor_id"], Value::Null);
    assert_eq!(rows[0]["customer_id"], Value::Null);
    assert_eq!(rows[0]["email_sha256"], Value::Null);
    assert_eq!(
        rows[0]["click_id"],
        cid.as_str(),
        "a click id is not a person"
    );
    assert_eq!(
        rows[0]["click_visitors"], 1,
        "the clicks still share one (new) visitor"
    );
    assert!(rows[0]["credits"].as_u64() > Some(0));
    // Reports are unchanged, even after the rollups are rebuilt.
    assert_eq!(totals_of(&handle, &day), before);
    let r = admin(
        "POST",
        &format!("/api/v1/attribution/rollups?from={day}&to={day}"),
        Some(json!({})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(totals_of(&handle, &day), before);

    admin("DELETE", &format!("/api/v1/people/{customer}"), None).assert_error(
        404,
        "not_found",
        None,
    );
    admin("DELETE", "/api/v1/people/nobody-we-know", None).assert_error(404, "not_found", None);
}

#[test]
fn past_salts_are_deleted_by_the_cron() {
    // An anonymous visit makes sure today's salt exists.
    let link = link_to("https://shop.example/p", json!({}));
    visit(link["slug"].as_str().unwrap(), &[("User-Agent", UA), EU]);
    let today = now_ms() / 86_400_000;
    d1(&format!(
        "INSERT INTO daily_salts (day, salt) VALUES ({}, 'old') ON CONFLICT(day) DO NOTHING",
        today - 1
    ));
    let r = get("/__scheduled?cron=*/15+*+*+*+*", &[]);
    assert!(r.status < 300, "{}", r.body);
    let days: Vec<i64> = d1("SELECT day FROM daily_salts ORDER BY day")
        .iter()
        .map(|r| r["day"].as_i64().unwrap())
        .collect();
    assert_eq!(days, [today], "only today's salt survives");
}

#[test]
fn retention_prunes_old_raw_clicks_and_keeps_rollups() {
    // scripts/e2e.sh sets RETENTION_DAYS=97 (the shortest allowed).
    let link = link_to("https://shop.example/p", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let old = now_ms() - 150 * 86_400_000;
    let day = old / 86_400_000;
    let ids: Vec<String> = (0..3)
        .map(|i| format!("{}{i}", unique("ret").replace('-', "_")))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        d1(&format!(
            "INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, os, device_class, is_bot, via) \
             VALUES ('{id}', (SELECT id FROM links WHERE slug = '{slug}'), {}, 'old-visitor-{i}', 'safari', \
                     'ios', 'mobile', 0, 'link')",
            old + i as i64
        ));
    }
    // A conversion still waiting for attribution keeps its click (a
    // negative id sorts below the watermark, so no run picks it up).
    let order = unique("ret-order");
    d1(&format!(
        "INSERT INTO conversions (id, order_id, occurred_at, revenue_minor, currency, click_id, source, fingerprint, received_at) \
         VALUES (-{}, '{order}', {old}, 100, 'USD', '{}', 'api', 'x', {old})",
        now_ms() % 1_000_000_000 + 1,
        ids[2]
    ));
    let rolled = || {
        d1(&format!(
            "SELECT COALESCE(SUM(r.clicks), 0) AS n FROM click_rollup r JOIN links l ON l.id = r.link_id \
             WHERE l.slug = '{slug}' AND r.day = {day}"
        ))[0]["n"]
            .as_u64()
            .unwrap()
    };
    // The cron rolls the clicks up, then prunes what retention allows.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = get("/__scheduled?cron=*/15+*+*+*+*", &[]);
        assert!(r.status < 300, "{}", r.body);
        let left = d1(&format!(
            "SELECT id FROM clicks WHERE id IN ('{}', '{}', '{}')",
            ids[0], ids[1], ids[2]
        ));
        if left.len() == 1 || Instant::now() > deadline {
            assert_eq!(
                left,
                vec![json!({"id": ids[2]})],
                "only the pending conversion's click is kept"
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(rolled(), 3, "the rollup keeps every click");
    // A rebuild of that day leaves the click rollup alone (its raw clicks
    // are gone).
    let date = linkcredit::base::time::format_date(day);
    let r = admin(
        "POST",
        &format!("/api/v1/attribution/rollups?from={date}&to={date}"),
        Some(json!({})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(rolled(), 3);
    d1(&format!(
        "DELETE FROM conversions WHERE order_id = '{order}'"
    ));
}
