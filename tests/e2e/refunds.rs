//! Refunds: stored once, never more than the order, and credited revenue
//! drops by exactly the refund under every model after the next run.

use crate::harness::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Runs attribution until `handle`'s revenue under `model` is `want`.
fn credited_eventually(handle: &str, range: &str, model: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        admin("POST", "/api/v1/attribution/run", Some(json!({})));
        let rep = report(&format!("group_by=influencer&model={model}&{range}"));
        let got = rep["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["influencer"] == handle)
            .map(|r| r["revenue"].as_str().unwrap_or("").to_owned())
            .unwrap_or_default();
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }
}

#[test]
fn refunds_reduce_credited_revenue_exactly_and_once() {
    let link = link_to("https://shop.example/p", json!({}));
    let (slug, handle) = (
        link["slug"].as_str().unwrap(),
        link["influencer"].as_str().unwrap(),
    );
    let r = get(&format!("/{slug}"), &[("User-Agent", UA)]);
    let cid = query_param(r.header("location").unwrap(), "lc_cid").unwrap();
    assert_eq!(stats_eventually(slug, 1)["clicks"], 1);
    let order = unique("refund-order");
    let now = now_ms();
    let r = ingest(
        "/api/v1/conversions",
        &json!({"order_id": order, "occurred_at": linkcredit::base::time::format_rfc3339(now),
                "revenue": "100.00", "currency": "USD", "click_id": cid}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let day = linkcredit::base::time::format_date(now / 86_400_000);
    let range = format!("from={day}&to={day}");
    assert_eq!(
        credited_eventually(handle, &range, "last_touch", "100.00"),
        "100.00"
    );

    let refund = |body: Value| ingest(&format!("/api/v1/conversions/{order}/refund"), &body);
    let r = refund(json!({"amount": "30.00", "refund_id": "r1"}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"order_id": order, "refund_key": "id:r1", "amount": "30.00", "refunded": "30.00",
               "net_revenue": "70.00", "currency": "USD"})
    );
    // A retry is the same refund; the same id with another amount conflicts.
    let again = refund(json!({"amount": "30.00", "refund_id": "r1"}));
    assert_eq!(
        (again.status, &again.json()["duplicate"]),
        (200, &json!(true))
    );
    refund(json!({"amount": "40.00", "refund_id": "r1"})).assert_error(
        409,
        "refund_conflict",
        Some("refund_id"),
    );
    refund(json!({"amount": "70.01"})).assert_error(400, "exceeds_revenue", Some("amount"));
    refund(json!({"amount": "1.001"})).assert_error(400, "too_precise", Some("amount"));
    ingest(
        "/api/v1/conversions/no-such-order/refund",
        &json!({"amount": "1"}),
    )
    .assert_error(404, "not_found", None);
    let r = request(
        "POST",
        &format!("/api/v1/conversions/{order}/refund"),
        &[("Content-Type", "application/json")],
        Some(r#"{"amount":"1"}"#),
    );
    assert_eq!(r.status, 401);

    // Every model credits the net revenue after the next run.
    for model in ["last_touch", "first_touch", "linear", "data_driven"] {
        assert_eq!(
            credited_eventually(handle, &range, model, "70.00"),
            "70.00",
            "{model}"
        );
    }
    let stored = admin("GET", &format!("/api/v1/conversions/{order}"), None).json();
    assert_eq!(
        (
            &stored["revenue_minor"],
            &stored["refunded_minor"],
            &stored["net_revenue_minor"]
        ),
        (&json!(10_000), &json!(3_000), &json!(7_000))
    );
    // The rest of the order, refunded without an id: nothing is credited.
    assert_eq!(refund(json!({"amount": "70.00"})).status, 201);
    assert_eq!(
        credited_eventually(handle, &range, "last_touch", "0.00"),
        "0.00"
    );
    let rows = d1(&format!(
        "SELECT COUNT(*) AS n, SUM(r.amount_minor) AS total FROM refunds r JOIN conversions c ON c.id = r.conversion_id \
         WHERE c.order_id = '{order}'"
    ));
    assert_eq!(rows, vec![json!({"n": 2, "total": 10_000})]);
}
