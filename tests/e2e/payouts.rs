//! Payouts for a seeded month under two models, exact to the cent; closing
//! freezes the month, and a conversion that arrives later is an adjustment
//! in the next open month.

use crate::harness::*;
use linkcredit::reporting::payout::Period;
use linkcredit::traffic::ids::ClickId;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn click(slug: &str, visitor: &str, ts: i64) -> String {
    let mut bytes = [7u8; 16];
    bytes[..8].copy_from_slice(&ts.to_be_bytes());
    bytes[8..12].copy_from_slice(&(slug.len() as u32 + visitor.len() as u32).to_be_bytes());
    bytes[12..].copy_from_slice(&(now_ms() as u32).to_be_bytes());
    let id = ClickId::from_random(bytes).as_str().to_owned();
    d1(&format!(
        "INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, os, device_class, is_bot, via) \
         VALUES ('{id}', (SELECT id FROM links WHERE slug = '{slug}'), {ts}, '{visitor}', 'safari', 'ios', 'mobile', 0, 'link')"
    ));
    id
}

fn order(id: &str, at: i64, revenue: &str, click: &str) {
    let r = ingest(
        "/api/v1/conversions",
        &json!({"order_id": id, "occurred_at": linkcredit::base::time::format_rfc3339(at),
                "revenue": revenue, "currency": "USD", "click_id": click}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

/// `(influencer, kind, for_period, amount)` of `handles`' lines.
fn lines(v: &Value, handles: &[&str]) -> Vec<(String, String, Value, String)> {
    let mut out: Vec<_> = v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| handles.iter().any(|h| l["influencer"] == *h))
        .map(|l| {
            (
                l["influencer"].as_str().unwrap().to_owned(),
                l["kind"].as_str().unwrap().to_owned(),
                l["for_period"].clone(),
                l["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort_by_key(|l| (l.0.clone(), l.1.clone(), l.2.to_string()));
    out
}

#[test]
fn payouts_are_exact_frozen_on_close_and_adjusted_later() {
    let today = now_ms() / DAY;
    let this = Period::of_day(today);
    let month = Period::of_day(this.first_day() - 1);
    let m0 = month.first_day() * DAY;
    let la = link_to("https://shop.example/p", json!({}));
    let lb = link_to("https://shop.example/p", json!({}));
    let (a, b) = (
        la["influencer"].as_str().unwrap().to_owned(),
        lb["influencer"].as_str().unwrap().to_owned(),
    );
    let (sa, sb) = (la["slug"].as_str().unwrap(), lb["slug"].as_str().unwrap());
    let start = linkcredit::base::time::format_date(month.first_day());
    for (h, terms) in [
        (
            &a,
            json!({"base_fee": "1500.00", "bonus_per_conversion": "2.50", "revenue_share_pct": "12.5", "contract_start": start}),
        ),
        (
            &b,
            json!({"revenue_share_pct": "10", "contract_start": start}),
        ),
    ] {
        let r = admin("PATCH", &format!("/api/v1/influencers/{h}"), Some(terms));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let p = unique("pay");
    let (va, vb, vab) = (format!("{p}-va"), format!("{p}-vb"), format!("{p}-vab"));
    // 100.00 after A's click; 60.00 after B's; 80.00 after A's, then B's.
    let k = click(sa, &va, m0 + 9 * DAY + 12 * HOUR);
    order(&format!("{p}-1"), m0 + 9 * DAY + 13 * HOUR, "100.00", &k);
    let k = click(sb, &vb, m0 + 10 * DAY + 12 * HOUR);
    order(&format!("{p}-2"), m0 + 10 * DAY + 13 * HOUR, "60.00", &k);
    click(sa, &vab, m0 + 11 * DAY + 10 * HOUR);
    let k = click(sb, &vab, m0 + 11 * DAY + 11 * HOUR);
    order(&format!("{p}-3"), m0 + 11 * DAY + 12 * HOUR, "80.00", &k);
    attribute_orders(&[format!("{p}-1"), format!("{p}-2"), format!("{p}-3")]);

    let who = [a.as_str(), b.as_str()];
    let payout = |query: &str| {
        let r = admin("GET", &format!("/api/v1/payouts?{query}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let label = month.label();
    let line = |h: &str, kind: &str, amount: &str| {
        (
            h.to_owned(),
            kind.to_owned(),
            Value::Null,
            amount.to_owned(),
        )
    };
    // Last touch: A 1 conversion, 100.00; B 2 conversions, 140.00.
    let v = payout(&format!("period={label}&model=last_touch"));
    assert_eq!(v["status"], "open");
    let mut want = vec![
        line(&a, "base_fee", "1500.00"),
        line(&a, "bonus", "2.50"),
        line(&a, "revenue_share", "12.50"),
        line(&b, "revenue_share", "14.00"),
    ];
    want.sort_by_key(|l| (l.0.clone(), l.1.clone()));
    assert_eq!(lines(&v, &who), want, "{v}");
    // Linear: the 80.00 order is split, 1.5 conversions and 140.00 for A.
    let v = payout(&format!("period={label}&model=linear"));
    let mut want = vec![
        line(&a, "base_fee", "1500.00"),
        line(&a, "bonus", "3.75"),
        line(&a, "revenue_share", "17.50"),
        line(&b, "revenue_share", "10.00"),
    ];
    want.sort_by_key(|l| (l.0.clone(), l.1.clone()));
    assert_eq!(lines(&v, &who), want, "{v}");
    let csv = admin(
        "GET",
        &format!("/api/v1/payouts?period={label}&model=linear&format=csv"),
        None,
    );
    assert!(csv
        .body
        .starts_with("influencer,kind,for_period,amount\r\n"));
    assert!(
        csv.body.contains(&format!("{a},bonus,,3.75\r\n")),
        "{}",
        csv.body
    );

    // Close the month; a later order of that month is an adjustment next month.
    let r = admin(
        "POST",
        &format!("/api/v1/payouts/{label}/close?model=last_touch"),
        Some(json!({})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "closed");
    let late = click(sa, &format!("{p}-vl"), m0 + 20 * DAY);
    order(&format!("{p}-4"), m0 + 20 * DAY + HOUR, "20.00", &late);
    attribute_orders(&[format!("{p}-4")]);
    let frozen = payout(&format!("period={label}"));
    assert_eq!(frozen["status"], "closed");
    assert!(
        lines(&frozen, &[&a]).contains(&line(&a, "bonus", "2.50")),
        "{frozen}"
    );
    let next = payout(&format!("period={}&model=last_touch", this.label()));
    let adj: Vec<_> = lines(&next, &[&a])
        .into_iter()
        .filter(|l| l.1.starts_with("adjustment:"))
        .collect();
    assert_eq!(
        adj,
        vec![
            (
                a.clone(),
                "adjustment:bonus".into(),
                json!(label),
                "2.50".into()
            ),
            (
                a.clone(),
                "adjustment:revenue_share".into(),
                json!(label),
                "2.50".into()
            ),
        ],
        "{next}"
    );
    admin(
        "POST",
        &format!("/api/v1/payouts/{label}/close"),
        Some(json!({})),
    )
    .assert_error(409, "period_closed", Some("period"));
    admin(
        "POST",
        &format!("/api/v1/payouts/{}/close", this.label()),
        Some(json!({})),
    )
    .assert_error(400, "period_not_over", Some("period"));
    admin("GET", "/api/v1/payouts", None).assert_error(400, "required", Some("period"));
}
