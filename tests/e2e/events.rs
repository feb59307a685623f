//! Storefront events: only from the shop's origin, never from bots, at
//! most 30 a minute per visitor (the e2e worker's EVENTS_PER_MINUTE), the
//! leading indicators they feed, and `/t.js` in headless Chromium.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SHOP: &str = "http://shop.test";
const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// A storefront event as `sendBeacon` sends it: a text/plain JSON string.
fn send(origin: Option<&str>, ua: &str, body: &str) -> Resp {
    let mut headers = vec![
        ("Content-Type", "text/plain;charset=UTF-8"),
        ("User-Agent", ua),
    ];
    if let Some(o) = origin {
        headers.push(("Origin", o));
    }
    // Like `request`, retried on a 503 (storage busy: nothing was stored).
    request("POST", "/api/v1/events", &headers, Some(body))
}

fn event(v: Value) -> String {
    v.to_string()
}

/// A fresh link clicked once by a human; returns `(slug, handle, click id)`.
fn clicked_link() -> (String, String, String) {
    let link = link_to("https://shop.example/p", json!({}));
    let slug = link["slug"].as_str().unwrap().to_owned();
    let handle = link["influencer"].as_str().unwrap().to_owned();
    let cid = click(&slug);
    (slug, handle, cid)
}

fn click(slug: &str) -> String {
    let r = get(&format!("/{slug}"), &[("User-Agent", UA)]);
    assert_eq!(r.status, 302, "{}", r.body);
    query_param(r.header("location").unwrap(), "lc_cid").unwrap()
}

/// The stored events of a click id: `(type, visitor_key, host, path)`.
fn stored(cid: &str) -> Vec<(String, String, String, String)> {
    d1(&format!(
        "SELECT type, visitor_key, host, path FROM events WHERE click_id = '{cid}' ORDER BY occurred_at, type"
    ))
    .iter()
    .map(|r| {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
        (s("type"), s("visitor_key"), s("host"), s("path"))
    })
    .collect()
}

#[test]
fn events_count_only_from_the_shop_and_from_people() {
    let (_, _, cid) = clicked_link();
    let visitor = unique("visitor-e");
    let body = event(
        json!({"type": "page_view", "visitor_id": visitor, "click_id": cid,
                            "url": "http://shop.test/products/serum?email=a@b.test#x"}),
    );

    let r = send(Some(SHOP), UA, &body);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json(), json!({"status": "accepted"}));
    assert_eq!(r.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(r.header("vary"), Some("Origin"));

    let r = send(Some("http://evil.test"), UA, &body);
    r.assert_error(403, "origin_not_allowed", None);
    assert_eq!(r.header("access-control-allow-origin"), None);
    send(None, UA, &body).assert_error(403, "origin_not_allowed", None);

    let bot = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
    let r = send(Some(SHOP), bot, &body);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json(), json!({"status": "dropped", "reason": "bot"}));

    // The CORS preflight (a fetch with application/json sends one).
    let pre = |origin: &str| {
        request_once(
            "OPTIONS",
            "/api/v1/events",
            &[
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
            ],
            None,
        )
    };
    let r = pre(SHOP);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("access-control-allow-origin"), Some(SHOP));
    assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
    pre("http://evil.test").assert_error(403, "origin_not_allowed", None);

    // Bad input: a clear 4xx, nothing stored.
    let big = event(
        json!({"type": "page_view", "visitor_id": visitor, "url": format!("http://shop.test/{}", "x".repeat(3000))}),
    );
    send(Some(SHOP), UA, &big).assert_error(413, "payload_too_large", None);
    let r = request_once(
        "POST",
        "/api/v1/events",
        &[("Content-Type", "application/xml"), ("Origin", SHOP)],
        Some(body.as_bytes()),
    );
    r.assert_error(415, "unsupported_media_type", None);
    assert_eq!(r.header("access-control-allow-origin"), Some(SHOP));
    let bad = |v: Value, code: &str, field: &str| {
        send(Some(SHOP), UA, &event(v)).assert_error(400, code, Some(field));
    };
    bad(
        json!({"type": "purchase", "visitor_id": visitor, "url": "http://shop.test/"}),
        "unknown_type",
        "type",
    );
    bad(
        json!({"type": "page_view", "url": "http://shop.test/"}),
        "missing",
        "visitor_id",
    );
    bad(
        json!({"type": "page_view", "visitor_id": visitor, "url": "http://shop.test/", "occurred_at": now_ms() - 3 * 86_400_000}),
        "out_of_range",
        "occurred_at",
    );
    bad(
        json!({"type": "page_view", "visitor_id": visitor, "url": "http://shop.test/", "extra": 1}),
        "unknown_field",
        "extra",
    );

    // Exactly the one accepted event, without its query or fragment.
    assert_eq!(
        stored(&cid),
        [(
            "page_view".to_owned(),
            format!("v:{visitor}"),
            "shop.test".to_owned(),
            "/products/serum".to_owned()
        )]
    );
}

#[test]
fn each_visitor_may_send_thirty_events_a_minute() {
    let (slug, _, cid) = clicked_link();
    let visitor = unique("visitor-rate");
    let body = event(
        json!({"type": "page_view", "visitor_id": visitor, "click_id": cid, "url": "http://shop.test/"}),
    );
    for i in 0..30 {
        let r = send(Some(SHOP), UA, &body);
        assert_eq!(r.status, 202, "event {i}: {}", r.body);
    }
    let r = send(Some(SHOP), UA, &body);
    r.assert_error(429, "rate_limited", None);
    assert_eq!(r.header("retry-after"), Some("60"));
    // Another visitor is not limited.
    let other = event(
        json!({"type": "page_view", "visitor_id": unique("visitor-other"), "url": "http://shop.test/"}),
    );
    assert_eq!(send(Some(SHOP), UA, &other).status, 202);
    // Exactly 30 stored: one visit of 30 page views.
    let row = link_row(&slug);
    assert_eq!(
        (&row["visits"], &row["pages_per_visit"]),
        (&json!(1), &json!(30.0)),
        "{row}"
    );
}

#[test]
fn a_network_may_send_twenty_visitors_worth_a_minute() {
    // Inventing visitor ids does not get past the per-network guard: 600
    // events (20 × 30) per IP prefix and minute. It counts before the body
    // is read, so these bodies (invalid, nothing stored) count too.
    let from = |ip: &str| {
        request_once(
            "POST",
            "/api/v1/events",
            &[
                ("Content-Type", "text/plain"),
                ("Origin", SHOP),
                ("User-Agent", UA),
                ("CF-Connecting-IP", ip),
            ],
            Some(b"{}"),
        )
    };
    let minute = || now_ms() / 60_000;
    let start = minute();
    let mut sent = 0;
    let limited = loop {
        let r = from("203.0.113.9");
        sent += 1;
        if r.status == 429 || sent > 1300 {
            break r;
        }
        assert_eq!(r.status, 400, "{}", r.body);
    };
    limited.assert_error(429, "rate_limited", None);
    // The same /24, another host: the same network.
    let same_network = from("203.0.113.200");
    if minute() == start {
        assert_eq!(sent, 601, "the 601st of the minute");
        same_network.assert_error(429, "rate_limited", None);
    }
    // Another network is not limited.
    assert_eq!(from("198.51.100.4").status, 400);
}

/// Today's report row of one link.
fn link_row(slug: &str) -> Value {
    let day = linkcredit::base::time::format_date(now_ms() / 86_400_000);
    let rep = report(&format!("group_by=link&from={day}&to={day}"));
    rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["link"] == slug)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn leading_indicators_are_report_columns() {
    let link = link_to("https://shop.example/p", json!({}));
    let (slug, handle) = (
        link["slug"].as_str().unwrap(),
        link["influencer"].as_str().unwrap(),
    );
    // Three clicks, one after the other: each one's time is the link's
    // last click time once it is stored.
    let mut cids = Vec::new();
    let mut ts = std::collections::HashMap::new();
    for n in 1..=3 {
        let cid = click(slug);
        let stats = stats_eventually(slug, n);
        let at = linkcredit::base::time::parse_rfc3339(stats["last_click_at"].as_str().unwrap())
            .unwrap();
        ts.insert(cid.clone(), at);
        cids.push(cid);
    }
    assert_eq!(stats_eventually(slug, 3)["clicks"], 3);
    let list = cids
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(",");
    let ts: std::collections::HashMap<String, i64> =
        d1(&format!("SELECT id, ts FROM clicks WHERE id IN ({list})"))
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    r["ts"].as_i64().unwrap(),
                )
            })
            .collect();
    let post = |cid: Option<&str>, visitor: &str, kind: &str, at: i64, path: &str| {
        let mut v = json!({"type": kind, "visitor_id": visitor, "url": format!("http://shop.test{path}"), "occurred_at": at});
        if let Some(c) = cid {
            v["click_id"] = json!(c);
        }
        let r = send(Some(SHOP), UA, &event(v));
        assert_eq!(r.status, 202, "{}", r.body);
    };
    // A: 3 page views (the last one without the click id: it keeps the
    // visitor's), a product view, a cart 90 s after the click.
    let (a, b, c) = (&cids[0], &cids[1], &cids[2]);
    let (va, vb, vc) = (
        unique("visitor-a"),
        unique("visitor-b"),
        unique("visitor-c"),
    );
    post(Some(a), &va, "page_view", ts[a] + 1_000, "/");
    post(
        Some(a),
        &va,
        "product_view",
        ts[a] + 20_000,
        "/products/serum",
    );
    post(Some(a), &va, "page_view", ts[a] + 21_000, "/products/serum");
    post(
        Some(a),
        &va,
        "add_to_cart",
        ts[a] + 90_000,
        "/products/serum",
    );
    post(None, &va, "page_view", ts[a] + 95_000, "/cart");
    // B: 1 page view and a cart 30 s after the click. C: 1 page view.
    post(Some(b), &vb, "page_view", ts[b] + 2_000, "/");
    post(Some(b), &vb, "add_to_cart", ts[b] + 30_000, "/");
    post(Some(c), &vc, "page_view", ts[c] + 3_000, "/");

    let day = linkcredit::base::time::format_date(now_ms() / 86_400_000);
    let rep = report(&format!(
        "group_by=influencer&from={day}&to={day}&model=last_touch"
    ));
    let row = rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["influencer"] == handle)
        .unwrap_or_else(|| panic!("{rep}"))
        .clone();
    // 3 visits, 5 page views (A's last one counts because it keeps A's
    // click id), 1 visit with a product view, 2 with a cart; the median of
    // 90 s and 30 s is 60 s.
    assert_eq!(
        (
            &row["visits"],
            &row["pages_per_visit"],
            &row["product_view_rate"],
            &row["add_to_cart_rate"],
            &row["median_seconds_to_cart"]
        ),
        (
            &json!(3),
            &json!(1.67),
            &json!(0.3333),
            &json!(0.6667),
            &json!(60.0)
        ),
        "{row}"
    );
    // The same columns in CSV, and by link.
    let auth = format!("Bearer {}", reports_token());
    let csv = get(
        &format!("/api/v1/reports?group_by=link&from={day}&to={day}&format=csv"),
        &[("Authorization", &auth)],
    );
    assert_eq!(csv.status, 200);
    let header = csv.body.lines().next().unwrap();
    assert!(
        header.ends_with(
            "visits,pages_per_visit,product_view_rate,add_to_cart_rate,median_seconds_to_cart"
        ),
        "{header}"
    );
    let line = csv
        .body
        .lines()
        .find(|l| l.starts_with(&format!("{slug},")))
        .unwrap();
    assert!(line.ends_with(",3,1.67,0.3333,0.6667,60.0"), "{line}");
}

#[test]
fn the_snippet_records_a_page_view_and_an_add_to_cart_in_chromium() {
    let t = get("/t.js", &[]);
    assert_eq!(t.status, 200);
    assert_eq!(
        t.header("content-type"),
        Some("application/javascript; charset=utf-8")
    );
    assert!(t.body.len() < 2048, "{} bytes", t.body.len());
    assert!(!t.body.contains("document.cookie"));

    let (slug, _, cid) = clicked_link();
    let out = std::process::Command::new("node")
        .arg("tests/snippet.mjs")
        .arg(base())
        .arg(&cid)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "snippet.mjs: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["cookies"], 0, "no cookies at all: {page}");
    assert_eq!(page["stored_click_id"], cid.as_str(), "{page}");

    // The landing page's page view and product view, the add-to-cart, and
    // the cart page's view, which has no lc_cid in its URL.
    // Polled over HTTP (the report's leading indicators for the link): one
    // visit, two page views, a product view and a cart.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row = link_row(&slug);
        if (row["pages_per_visit"] == json!(2.0) && row["add_to_cart_rate"] == json!(1.0))
            || Instant::now() > deadline
        {
            assert_eq!(
                (
                    &row["visits"],
                    &row["pages_per_visit"],
                    &row["product_view_rate"],
                    &row["add_to_cart_rate"]
                ),
                (&json!(1), &json!(2.0), &json!(1.0), &json!(1.0)),
                "{row}"
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let rows = stored(&cid);
    let mut kinds: Vec<(&str, &str)> = rows
        .iter()
        .map(|(k, _, _, p)| (k.as_str(), p.as_str()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("add_to_cart", "/products/serum"),
            ("page_view", "/cart"),
            ("page_view", "/products/serum"),
            ("product_view", "/products/serum"),
        ],
        "{rows:?} {page}"
    );
    let visitor = &rows[0].1;
    assert!(
        visitor.starts_with("v:") && rows.iter().all(|r| &r.1 == visitor && r.2 == "shop.test")
    );
}
