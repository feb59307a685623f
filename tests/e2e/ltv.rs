//! Lifetime value by acquisition source, on a seeded history: repeat
//! buyers from two influencers and from email, and a customer too recent
//! for the horizon.

use crate::harness::*;
use linkcredit::traffic::ids::ClickId;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

/// A human click on `slug` at `ts`, stored directly (the history is old).
fn click_at(slug: &str, ts: i64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&ts.to_be_bytes());
    bytes[8..].copy_from_slice(&(slug.len() as u64 ^ now_ms() as u64).to_be_bytes());
    let id = ClickId::from_random(bytes).as_str().to_owned();
    d1(&format!(
        "INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, os, device_class, is_bot, via) \
         VALUES ('{id}', (SELECT id FROM links WHERE slug = '{slug}'), {ts}, 'v-{id}', 'safari', 'ios', 'mobile', 0, 'link')"
    ));
    id
}

fn order(id: &str, at: i64, revenue: &str, customer: &str, click: Option<&str>) {
    let (revenue, currency) = revenue.split_once(' ').unwrap_or((revenue, "USD"));
    let mut body = json!({"order_id": id, "occurred_at": linkcredit::base::time::format_rfc3339(at),
                          "revenue": revenue, "currency": currency, "customer_id": customer});
    if let Some(c) = click {
        body["click_id"] = json!(c);
    }
    let r = ingest("/api/v1/conversions", &body);
    assert_eq!(r.status, 201, "{}", r.body);
}

fn ltv(query: &str) -> Value {
    let auth = format!("Bearer {}", reports_token());
    let r = request(
        "GET",
        &format!("/api/v1/reports/ltv?{query}"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    r.json()
}

#[test]
fn lifetime_value_by_acquisition_source() {
    let la = link_to("https://shop.example/p", json!({}));
    let lb = link_to("https://shop.example/p", json!({}));
    let (a, b) = (
        la["influencer"].as_str().unwrap(),
        lb["influencer"].as_str().unwrap(),
    );
    let (sa, sb) = (la["slug"].as_str().unwrap(), lb["slug"].as_str().unwrap());
    let t = now_ms();
    let p = unique("ltv");
    let c = |n: &str| format!("{p}-{n}");
    // A: one customer buys three times (the third after 90 days), one once;
    // B: one customer twice; email: one customer once; A: one too recent.
    let k = click_at(sa, t - 200 * DAY - 3_600_000);
    order(&c("a1-1"), t - 200 * DAY, "100.00", &c("ca1"), Some(&k));
    order(&c("a1-2"), t - 190 * DAY, "50.00", &c("ca1"), None);
    order(&c("a1-3"), t - 10 * DAY, "30.00", &c("ca1"), None);
    let k = click_at(sa, t - 150 * DAY - 3_600_000);
    order(&c("a2-1"), t - 150 * DAY, "80.00", &c("ca2"), Some(&k));
    // ca2's repeat order, 80 days later, in pounds: no touchpoint in its
    // window, so no model credits it; it counts at the day's rate (1.25).
    let r = admin(
        "PUT",
        "/api/v1/fx",
        Some(json!({"currency": "GBP", "rate_to_reporting": "1.25",
                    "valid_from": linkcredit::base::time::format_date((t - 400 * DAY) / DAY)})),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
    order(&c("a2-2"), t - 70 * DAY, "16.00 GBP", &c("ca2"), None);
    let k = click_at(sb, t - 120 * DAY - 3_600_000);
    order(&c("b1-1"), t - 120 * DAY, "60.00", &c("cb1"), Some(&k));
    order(&c("b1-2"), t - 100 * DAY, "60.00", &c("cb1"), None);
    let r = ingest(
        "/api/v1/touchpoints",
        &json!({"occurred_at": linkcredit::base::time::format_rfc3339(t - 130 * DAY - 3_600_000),
                "channel": "email", "customer_id": c("ce1")}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    order(&c("e1-1"), t - 130 * DAY, "40.00", &c("ce1"), None);
    let k = click_at(sa, t - 20 * DAY - 3_600_000);
    order(&c("n-1"), t - 20 * DAY, "100.00", &c("cnew"), Some(&k));

    // Attribution until every order is attributed.
    let orders: Vec<String> = [
        "a1-1", "a1-2", "a1-3", "a2-1", "a2-2", "b1-1", "b1-2", "e1-1", "n-1",
    ]
    .iter()
    .map(|n| c(n))
    .collect();
    attribute_orders(&orders);

    let v = ltv("horizon=90");
    assert_eq!(
        (&v["model"], &v["horizon_days"]),
        (&json!("first_touch"), &json!(90))
    );
    assert!(v["cohort"]["rule"]
        .as_str()
        .unwrap()
        .contains("at least 90 days old"));
    let row = |key: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["influencer"] == key)
            .cloned()
            .unwrap_or(Value::Null)
    };
    // A: ca1 (2 orders within 90 days: 150.00) and ca2 (80.00 and the
    // uncredited 16.00 GBP = 20.00: 100.00); cnew is too recent. B: cb1
    // (2 orders, 120.00).
    let ra = row(a);
    assert_eq!(
        (
            &ra["customers"],
            &ra["repeat_purchase_rate"],
            &ra["orders_per_customer"],
            &ra["revenue_per_customer"]
        ),
        (&json!(2.0), &json!(1.0), &json!(2.0), &json!("125.00")),
        "{v}"
    );
    let rb = row(b);
    assert_eq!(
        (
            &rb["customers"],
            &rb["repeat_purchase_rate"],
            &rb["orders_per_customer"],
            &rb["revenue_per_customer"]
        ),
        (&json!(1.0), &json!(1.0), &json!(2.0), &json!("120.00")),
        "{v}"
    );
    // The horizon rule: at 180 days only ca1 and ca2 (A) and none of B's
    // (120 days ago) qualify; ca1's third order, 190 days after its first,
    // is outside the horizon.
    let v = ltv("horizon=180");
    let ra = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["influencer"] == a)
        .cloned()
        .unwrap();
    assert_eq!(
        (
            &ra["customers"],
            &ra["orders_per_customer"],
            &ra["revenue_per_customer"]
        ),
        (&json!(1.0), &json!(2.0), &json!("150.00")),
        "only ca1's first order is 180 days old: {v}"
    );
    assert!(v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["influencer"] != b));
    // By channel: email's customer is in the non-influencer baseline.
    let v = ltv("group_by=channel&horizon=90");
    assert!(
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["channel"] == "email"),
        "{v}"
    );
    let r = request(
        "GET",
        "/api/v1/reports/ltv?horizon=60",
        &[("Authorization", &format!("Bearer {}", reports_token()))],
        None,
    );
    r.assert_error(400, "invalid_value", Some("horizon"));
}
