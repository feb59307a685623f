//! Outbound webhooks against local receivers that verify every signature
//! themselves: an attributed conversion delivered after two failures, a
//! replay, a refund that dies after the retry limit (the e2e worker gives up
//! after 7.2 s) and is replayed from the dead-letter list, and a broken link.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

fn register(rx: &Receiver, secret: &str, events: &[&str]) -> i64 {
    let r = admin(
        "POST",
        "/api/v1/webhook-endpoints",
        Some(json!({"url": rx.url(), "events": events, "secret": secret, "description": "e2e"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["events"], json!(events));
    assert!(v.get("secret").is_none(), "the secret is never shown");
    v["id"].as_i64().unwrap()
}

/// The endpoint's delivery of `event_key`, once it exists.
fn delivery(endpoint: i64, event_key: &str) -> Option<Value> {
    let event = event_key.split(':').next().unwrap();
    let mut cursor = String::new();
    loop {
        let r = admin(
            "GET",
            &format!(
                "/api/v1/webhook-deliveries?endpoint={endpoint}&event={event}&limit=200{cursor}"
            ),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        if let Some(d) = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["event_key"] == event_key)
        {
            return Some(d.clone());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return None,
        }
    }
}

/// Runs the delivery cron until the delivery's status is `want`.
fn until_status(endpoint: i64, event_key: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        delivery_cron();
        let d = delivery(endpoint, event_key);
        if d.as_ref().is_some_and(|d| d["status"] == want) {
            return d.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{event_key} never became {want}: {d:?}"
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// Disables a test's endpoint, so the rest of the suite's events are not
/// sent to it.
fn disable(endpoint: i64) {
    let r = admin(
        "DELETE",
        &format!("/api/v1/webhook-endpoints/{endpoint}"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn attempt_times(d: &Value) -> Vec<i64> {
    d["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| linkcredit::base::time::parse_rfc3339(a["at"].as_str().unwrap()).unwrap())
        .collect()
}

fn statuses(d: &Value) -> Vec<Value> {
    d["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].clone())
        .collect()
}

#[test]
fn conversions_are_delivered_signed_after_two_failures_and_replayed() {
    let secret = "whsec_e2e_attributed_0123";
    let rx = Receiver::start(secret, 2, 500);
    let endpoint = register(&rx, secret, &["conversion.attributed"]);

    let link = link_to("https://shop.example/p", json!({}));
    let (slug, handle, campaign) = (
        link["slug"].as_str().unwrap(),
        link["influencer"].as_str().unwrap(),
        link["campaign"].as_str().unwrap(),
    );
    // Instagram appends its click id to the link it opens.
    let r = get(&format!("/{slug}?fbclid=IwAR_e2e.1"), &[("User-Agent", UA)]);
    let cid = query_param(r.header("location").unwrap(), "lc_cid").unwrap();
    let stats = stats_eventually(slug, 1);
    let click_at =
        linkcredit::base::time::parse_rfc3339(stats["last_click_at"].as_str().unwrap()).unwrap();
    let order = unique("hook-order");
    let occurred = now_ms();
    let email = "ab".repeat(32);
    let r = ingest(
        "/api/v1/conversions",
        &json!({"order_id": order, "occurred_at": linkcredit::base::time::format_rfc3339(occurred),
                "revenue": "100.00", "currency": "USD", "click_id": cid, "email_sha256": email}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    attribute_orders(std::slice::from_ref(&order));

    let key = format!("conversion.attributed:{order}");
    let d = until_status(endpoint, &key, "delivered");
    assert_eq!(d["attempts"], 3, "{d}");
    assert_eq!(statuses(&d), [json!(500), json!(500), json!(200)]);
    // Exponential backoff: 200 ms after the first failure, 400 after the second.
    let at = attempt_times(&d);
    assert!(at[1] - at[0] >= 200 && at[2] - at[1] >= 400, "{at:?}");

    let id = d["id"].as_i64().unwrap();
    let got = rx.of(id);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|g| g.verified), "every signature verified");
    assert_eq!(
        got.iter().map(|g| g.answered).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    assert!(got.iter().all(|g| g.body == got[0].body), "the same body");
    assert_eq!(
        got[0].headers["x-linkcredit-event"],
        "conversion.attributed"
    );
    assert_eq!(got[0].headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "conversion.attributed");
    assert!(body["id"].as_str().unwrap().starts_with("evt_"));
    let data = &body["data"];
    assert_eq!(data["event_name"], "Purchase");
    assert_eq!(data["event_time"], occurred / 1000);
    assert_eq!(data["event_id"], order.as_str());
    assert_eq!(data["order_id"], order.as_str());
    assert_eq!(data["value"], "100.00");
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["click_id"], cid.as_str());
    assert_eq!(data["hashed_email"], email.as_str());
    assert_eq!(data["ad_click_ids"], json!({"fbclid": "IwAR_e2e.1"}));
    assert_eq!(data["fbc"], format!("fb.1.{click_at}.IwAR_e2e.1"));
    for model in [
        "first_touch",
        "last_touch",
        "linear",
        "time_decay",
        "position_based",
        "data_driven",
    ] {
        let lines = data["credit"][model]
            .as_array()
            .unwrap_or_else(|| panic!("{model}: {data}"));
        assert_eq!(lines.len(), 1, "{model}: {lines:?}");
        let line = &lines[0];
        assert_eq!(
            (
                &line["channel"],
                &line["influencer"],
                &line["campaign"],
                &line["link"],
                &line["revenue"],
                &line["share"]
            ),
            (
                &json!("influencer"),
                &json!(handle),
                &json!(campaign),
                &json!(slug),
                &json!("100.00"),
                &json!(1)
            ),
            "{model}"
        );
    }

    // Replay: the same body and envelope id, signed afresh.
    let r = admin(
        "POST",
        &format!("/api/v1/webhook-deliveries/{id}/replay"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (&v["replay_status"], &v["status"], &v["attempts"]),
        (&json!(200), &json!("delivered"), &json!(4))
    );
    assert_eq!(v["attempt_log"][3]["replay"], true);
    let got = rx.of(id);
    assert_eq!(got.len(), 4);
    assert!(got[3].verified && got[3].body == got[0].body);
    disable(endpoint);

    // Unknown ids and bad filters.
    admin("POST", "/api/v1/webhook-deliveries/99999999/replay", None).assert_error(
        404,
        "not_found",
        None,
    );
    admin("GET", "/api/v1/webhook-deliveries?status=lost", None).assert_error(
        400,
        "invalid_value",
        Some("status"),
    );
}

#[test]
fn a_failing_receiver_ends_in_the_dead_letter_list_and_a_replay_delivers() {
    let secret = "whsec_e2e_refunds_456789";
    let rx = Receiver::start(secret, usize::MAX, 503);
    let endpoint = register(&rx, secret, &["conversion.refunded"]);
    let order = unique("hook-refund");
    let r = ingest(
        "/api/v1/conversions",
        &json!({"order_id": order, "occurred_at": linkcredit::base::time::format_rfc3339(now_ms() - 60_000),
                "revenue": "100.00", "currency": "USD"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = ingest(
        &format!("/api/v1/conversions/{order}/refund"),
        &json!({"amount": "30.00", "refund_id": "rf-1"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let key = format!("conversion.refunded:{order}:id:rf-1");
    // Queued at once, with the refund.
    let d = delivery(endpoint, &key).expect("queued with the refund");
    assert_eq!(
        (&d["status"], &d["attempts"]),
        (&json!("pending"), &json!(0))
    );
    assert_eq!(d["payload"]["data"]["amount"], "30.00");
    assert_eq!(d["payload"]["data"]["net_value"], "70.00");
    assert_eq!(d["payload"]["data"]["refund_id"], "rf-1");
    assert_eq!(d["payload"]["data"]["event_name"], "Refund");

    let d = until_status(endpoint, &key, "dead");
    let n = d["attempts"].as_u64().unwrap();
    assert!(n >= 2, "{d}");
    assert!(statuses(&d).iter().all(|s| *s == json!(503)), "{d}");
    assert_eq!(d["next_attempt_at"], Value::Null);
    // Every attempt within the 7.2 s the e2e worker allows.
    let created = linkcredit::base::time::parse_rfc3339(d["created_at"].as_str().unwrap()).unwrap();
    assert!(
        attempt_times(&d).iter().all(|t| t - created <= 7_200),
        "{d}"
    );
    let id = d["id"].as_i64().unwrap();
    assert_eq!(rx.of(id).len() as u64, n);
    // More cron runs send nothing more.
    delivery_cron();
    delivery_cron();
    assert_eq!(rx.of(id).len() as u64, n);
    // The dead-letter list has it.
    let r = admin(
        "GET",
        &format!(
            "/api/v1/webhook-deliveries?status=dead&endpoint={endpoint}&event=conversion.refunded"
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id));

    // The receiver recovers; a replay delivers the dead letter.
    disable(endpoint);
    rx.fail_first.store(0, std::sync::atomic::Ordering::SeqCst);
    let r = admin(
        "POST",
        &format!("/api/v1/webhook-deliveries/{id}/replay"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (&v["replay_status"], &v["status"]),
        (&json!(200), &json!("delivered"))
    );
    assert!(rx.of(id).last().unwrap().verified);
}

#[test]
fn a_broken_link_is_reported_once_a_day() {
    let secret = "whsec_e2e_links_abcdefgh";
    let rx = Receiver::start(secret, 0, 500);
    let endpoint = register(&rx, secret, &["link.broken"]);
    // Nothing listens on port 9 (discard): every agent's fetch fails.
    let link = link_to("http://127.0.0.1:9/p", json!({}));
    let slug = link["slug"].as_str().unwrap();
    for _ in 0..2 {
        let r = admin("POST", &format!("/api/v1/links/{slug}/check"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["ok"], false, "{}", r.body);
    }
    let day = linkcredit::base::time::format_date(now_ms() / 86_400_000);
    let key = format!("link.broken:{slug}:{day}");
    let d = until_status(endpoint, &key, "delivered");
    let got = rx.of(d["id"].as_i64().unwrap());
    assert_eq!(got.len(), 1, "two checks, one event");
    assert!(got[0].verified);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "link.broken");
    assert_eq!(body["data"]["slug"], slug);
    assert_eq!(body["data"]["destination"], "http://127.0.0.1:9/p");
    assert!(
        !body["data"]["problem"].as_str().unwrap().is_empty(),
        "{body}"
    );

    // Registration refuses bad input, naming the field.
    let bad = |body: Value, field: &str, code: &str| {
        admin("POST", "/api/v1/webhook-endpoints", Some(body)).assert_error(400, code, Some(field));
    };
    bad(
        json!({"url": "ftp://x.test/", "events": ["link.broken"], "secret": secret}),
        "url",
        "invalid_url",
    );
    // Deliveries carry hashed emails and click ids: https, or http only to
    // this machine (the receivers here are on 127.0.0.1).
    bad(
        json!({"url": "http://hooks.example/lc", "events": ["link.broken"], "secret": secret}),
        "url",
        "insecure_url",
    );
    bad(
        json!({"url": rx.url(), "events": ["order.paid"], "secret": secret}),
        "events",
        "unknown_event",
    );
    bad(
        json!({"url": rx.url(), "events": ["link.broken"], "secret": "short"}),
        "secret",
        "invalid_secret",
    );
    // A disabled endpoint gets nothing more.
    let r = admin(
        "DELETE",
        &format!("/api/v1/webhook-endpoints/{endpoint}"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = admin("GET", "/api/v1/webhook-endpoints", None).json();
    let mine = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == endpoint)
        .unwrap()
        .clone();
    assert_eq!(mine["status"], "disabled");
}
