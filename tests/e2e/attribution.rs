//! The attribution engine end to end: controlled clicks, touchpoints, a
//! code-only and a cross-device conversion; the job run by the API and by
//! the cron trigger; credits in D1 equal to hand-computed cents; reruns
//! change nothing; a late touchpoint reprocesses only its conversion.

use crate::harness::*;
use linkcredit::traffic::ids::{ClickId, VisitorId};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const DAY: i64 = 86_400_000;

fn random16(salt: &str) -> [u8; 16] {
    let seed = format!("{salt}-{}-{}", now_ms(), unique("r"));
    let mut out = [0u8; 16];
    for (i, b) in seed.bytes().enumerate() {
        out[i % 16] = out[i % 16].wrapping_mul(31).wrapping_add(b);
    }
    out
}

/// A human click on `slug` by `visitor` at `ts`, written straight into D1
/// (the redirect always stamps "now"; the scenario needs past times).
fn click_at(slug: &str, visitor: &str, ts: i64, code: &str) {
    let id = ClickId::from_random(random16(slug));
    d1(&format!(
        "INSERT INTO clicks (id, link_id, ts, visitor_id, ua_family, app, os, device_class, is_bot, via, code) \
         VALUES ('{id}', (SELECT id FROM links WHERE slug = '{slug}'), {ts}, '{visitor}', 'instagram', 'instagram', 'ios', 'mobile', 0, 'link', '{code}')"
    ));
}

/// `model -> [(influencer or channel key, cents)]` of a conversion, from D1.
fn credits(order: &str) -> BTreeMap<String, Vec<(String, i64)>> {
    let rows = d1(&format!(
        "SELECT model, channel_key, revenue_minor, conversion_micros FROM credits \
         WHERE conversion_id = (SELECT id FROM conversions WHERE order_id = '{order}') ORDER BY model, position"
    ));
    let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    let mut micros: BTreeMap<String, i64> = BTreeMap::new();
    for r in rows {
        let m = r["model"].as_str().unwrap().to_owned();
        out.entry(m.clone()).or_default().push((
            r["channel_key"].as_str().unwrap().to_owned(),
            r["revenue_minor"].as_i64().unwrap(),
        ));
        *micros.entry(m).or_default() += r["conversion_micros"].as_i64().unwrap();
    }
    for (m, total) in micros {
        assert_eq!(
            total, 1_000_000,
            "{order} {m}: conversion credit sums to one"
        );
    }
    out
}

fn cents(c: &BTreeMap<String, Vec<(String, i64)>>, model: &str) -> Vec<i64> {
    c.get(model)
        .unwrap_or_else(|| panic!("no {model} credits in {c:?}"))
        .iter()
        .map(|x| x.1)
        .collect()
}

fn run() -> Value {
    let r = admin("POST", "/api/v1/attribution/run", Some(json!({})));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "ok", "{v}");
    v
}

fn attributed_at(order: &str) -> i64 {
    d1(&format!(
        "SELECT attributed_at FROM conversions WHERE order_id = '{order}'"
    ))[0]["attributed_at"]
        .as_i64()
        .unwrap()
}

#[test]
fn attribution_scenario() {
    // Three influencers, each with a link and a code.
    let mut who = Vec::new();
    for _ in 0..3 {
        let (handle, campaign) = roster();
        let slug = unique("attr").replace('-', "_");
        let code = unique_code("AC");
        assert_eq!(
            admin(
                "POST",
                "/api/v1/codes",
                Some(json!({"code": code, "influencer": handle}))
            )
            .status,
            201
        );
        let r = admin(
            "POST",
            "/api/v1/links",
            Some(
                json!({"slug": slug, "destination": "https://shop.example.com/p", "influencer": handle, "campaign": campaign, "discount_code": code}),
            ),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        who.push((handle, slug, code, campaign));
    }
    let (a, b, c) = (&who[0], &who[1], &who[2]);
    let t = (now_ms() / 1000) * 1000 - DAY;

    // Person 1: clicks A on day 0 and B on day 5, an email on day 9, buys on
    // day 10 for 100.00 — the worked example.
    let v1 = VisitorId::from_random(random16("v1")).to_string();
    click_at(&a.1, &v1, t - 10 * DAY, &a.2);
    click_at(&b.1, &v1, t - 5 * DAY, &b.2);
    assert_eq!(
        ingest(
            "/api/v1/touchpoints",
            &json!({"occurred_at": t - DAY, "channel": "email", "visitor_id": v1})
        )
        .status,
        201
    );
    let o1 = unique("o1");
    assert_eq!(ingest("/api/v1/conversions", &json!({"order_id": o1, "occurred_at": t, "revenue": "100.00", "currency": "USD", "visitor_id": v1})).status, 201);

    // Code only: C's code, no clicks, 50.00.
    let o2 = unique("o2");
    assert_eq!(ingest("/api/v1/conversions", &json!({"order_id": o2, "occurred_at": t, "revenue": "50.00", "currency": "USD", "promo_codes": [c.2]})).status, 201);

    // Cross-device: visitor 3 clicks A on the phone two days before; a
    // referral touchpoint three days before links visitor 3 and customer K;
    // K buys on the laptop for 80.00.
    let v3 = VisitorId::from_random(random16("v3")).to_string();
    let k = unique("k");
    click_at(&a.1, &v3, t - 2 * DAY, &a.2);
    assert_eq!(ingest("/api/v1/touchpoints", &json!({"occurred_at": t - 3 * DAY, "channel": "referral", "visitor_id": v3, "customer_id": k})).status, 201);
    let o3 = unique("o3");
    assert_eq!(ingest("/api/v1/conversions", &json!({"order_id": o3, "occurred_at": t, "revenue": "80.00", "currency": "USD", "customer_id": k})).status, 201);

    // Run the job.
    let summary = run();
    assert!(summary["processed"].as_u64().unwrap() >= 3, "{summary}");

    // Person 1: every model, to the cent.
    let c1 = credits(&o1);
    let keys: Vec<String> = c1["linear"].iter().map(|x| x.0.clone()).collect();
    assert_eq!(keys, vec![a.0.clone(), b.0.clone(), "email".to_owned()]);
    assert_eq!(cents(&c1, "first_touch"), vec![10_000, 0, 0]);
    assert_eq!(cents(&c1, "last_touch"), vec![0, 0, 10_000]);
    assert_eq!(cents(&c1, "linear"), vec![3_334, 3_333, 3_333]);
    // 2^(-10/7) : 2^(-5/7) : 2^(-1/7) of 100.00 = 19.69009, 32.30495, 48.00497;
    // the leftover cent goes to the largest remainder (the third).
    assert_eq!(cents(&c1, "time_decay"), vec![1_969, 3_230, 4_801]);
    assert_eq!(cents(&c1, "position_based"), vec![4_000, 2_000, 4_000]);
    // Data-driven: in proportion to the run's removal effects.
    let status = admin("GET", "/api/v1/attribution", None).json();
    let re: BTreeMap<String, f64> = status["removal_effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["channel_key"].as_str().unwrap().to_owned(),
                e["effect"].as_f64().unwrap(),
            )
        })
        .collect();
    let weights: Vec<f64> = keys
        .iter()
        .map(|k| re.get(k).copied().unwrap_or(0.0))
        .collect();
    let total: f64 = weights.iter().sum();
    let dd = cents(&c1, "data_driven");
    assert_eq!(dd.iter().sum::<i64>(), 10_000);
    for (got, w) in dd.iter().zip(&weights) {
        let want = if total > 0.0 {
            10_000.0 * w / total
        } else {
            10_000.0 / 3.0
        };
        assert!(
            (*got as f64 - want).abs() < 1.0,
            "data_driven {dd:?} vs RE {weights:?}"
        );
    }
    // Assists: A and B are influencer touchpoints before the last.
    let assists = d1(&format!(
        "SELECT SUM(is_assist) AS n FROM credits WHERE model = 'linear' AND conversion_id = (SELECT id FROM conversions WHERE order_id = '{o1}')"
    ));
    assert_eq!(assists[0]["n"], 2);

    // Code only: all of it to C, under every model.
    let c2 = credits(&o2);
    assert_eq!(c2.len(), 6);
    for (model, rows) in &c2 {
        assert_eq!(rows, &vec![(c.0.clone(), 5_000)], "{model}");
    }

    // Cross-device: the referral, then A's click.
    let c3 = credits(&o3);
    assert_eq!(
        c3["linear"]
            .iter()
            .map(|x| x.0.as_str())
            .collect::<Vec<_>>(),
        vec!["referral", a.0.as_str()]
    );
    assert_eq!(cents(&c3, "first_touch"), vec![8_000, 0]);
    assert_eq!(cents(&c3, "last_touch"), vec![0, 8_000]);
    assert_eq!(cents(&c3, "linear"), vec![4_000, 4_000]);
    // 2^(-1/7) : 1 of 80.00 = 38.02120, 41.97880 → 38.02, 41.98.
    assert_eq!(cents(&c3, "time_decay"), vec![3_802, 4_198]);
    assert_eq!(cents(&c3, "position_based"), vec![4_000, 4_000]);

    // Reports, costs and goals on the same data.
    crate::reports::check_reports(t, &who);

    // Rerun (by the cron trigger): nothing changes.
    let before = (
        credits(&o1),
        credits(&o2),
        credits(&o3),
        attributed_at(&o1),
        attributed_at(&o2),
        attributed_at(&o3),
    );
    let cron = get("/__scheduled?cron=*/15+*+*+*+*", &[]);
    assert!(cron.status < 300, "{} {}", cron.status, cron.body);
    let status = admin("GET", "/api/v1/attribution", None).json();
    assert!(
        status["last_run"]["trigger"]
            .as_str()
            .unwrap()
            .starts_with("cron"),
        "{status}"
    );
    run();
    let after = (
        credits(&o1),
        credits(&o2),
        credits(&o3),
        attributed_at(&o1),
        attributed_at(&o2),
        attributed_at(&o3),
    );
    assert_eq!(before, after, "a rerun changes nothing");

    // A late touchpoint (paid search on day 8 for person 1) reprocesses
    // only person 1's conversion.
    assert_eq!(
        ingest(
            "/api/v1/touchpoints",
            &json!({"occurred_at": t - 2 * DAY, "channel": "paid_search", "visitor_id": v1})
        )
        .status,
        201
    );
    let summary = run();
    assert!(summary["reprocessed"].as_u64().unwrap() >= 1, "{summary}");
    assert!(attributed_at(&o1) > before.3, "o1 was reprocessed");
    assert_eq!(
        (attributed_at(&o2), attributed_at(&o3)),
        (before.4, before.5),
        "o2 and o3 were not"
    );
    assert_eq!((credits(&o2), credits(&o3)), (before.1, before.2));
    let c1 = credits(&o1);
    assert_eq!(
        c1["linear"]
            .iter()
            .map(|x| x.0.as_str())
            .collect::<Vec<_>>(),
        vec![a.0.as_str(), b.0.as_str(), "paid_search", "email"]
    );
    assert_eq!(cents(&c1, "linear"), vec![2_500, 2_500, 2_500, 2_500]);
    assert_eq!(
        cents(&c1, "position_based"),
        vec![4_000, 1_000, 1_000, 4_000]
    );
    // Δ = 10, 5, 2, 1 days: 13.72330, 22.51542, 30.30350, 33.45778 → the
    // two leftover cents go to .778 and .542.
    assert_eq!(cents(&c1, "time_decay"), vec![1_372, 2_252, 3_030, 3_346]);

    // An overlapping run finds the lease taken and does nothing.
    d1("UPDATE attribution_state SET lease_owner = 'someone-else', lease_until = 9999999999999 WHERE id = 1");
    let busy = admin("POST", "/api/v1/attribution/run", Some(json!({})));
    assert_eq!(
        (busy.status, busy.json()["status"].as_str()),
        (409, Some("busy")),
        "{}",
        busy.body
    );
    d1("UPDATE attribution_state SET lease_owner = NULL, lease_until = 0 WHERE id = 1");

    // Quality: the code-only conversion is a code used without clicks.
    let q = admin("GET", "/api/v1/quality", None).json();
    let leaks = q["findings"]["code_without_clicks"].as_array().unwrap();
    assert!(
        leaks
            .iter()
            .any(|f| f["order_id"] == o2.as_str() && f["subject"] == c.2.as_str()),
        "{q}"
    );
}
