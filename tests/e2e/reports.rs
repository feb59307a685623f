//! Reports, costs, goals, exports and the ranking, on the attribution
//! scenario's data (called from `attribution::attribution_scenario` right
//! after its first run, so the numbers are known by hand).

use crate::harness::*;
use linkcredit::base::time::{day_of, format_date};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;

fn row_where<'a>(rep: &'a Value, pairs: &[(&str, Value)]) -> &'a Value {
    rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| pairs.iter().all(|(k, v)| &r[*k] == v))
        .unwrap_or_else(|| panic!("no row {pairs:?} in {rep}"))
}

/// `who`: (handle, slug, code, campaign) of influencers A, B and C.
pub fn check_reports(t: i64, who: &[(String, String, String, String)]) {
    let (a, b, c) = (&who[0], &who[1], &who[2]);
    let from = format_date(day_of(t) - 60);
    let range = format!("from={from}&to={}", format_date(day_of(t) + 2));

    // Costs: every kind counts. 50.00 fee + 20.00 gifting for A; an EUR
    // cost without a rate is left out and reported.
    let cost = |body: Value| {
        let r = admin("POST", "/api/v1/costs", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()
    };
    let incurred = format_date(day_of(t) - 5);
    cost(
        json!({"influencer": a.0, "campaign": a.3, "kind": "fee", "amount": "50.00", "currency": "USD", "incurred_on": incurred}),
    );
    cost(
        json!({"influencer": a.0, "campaign": a.3, "kind": "gifting", "amount": 20, "currency": "USD", "incurred_on": incurred, "note": "Serum kit"}),
    );
    let eur = cost(
        json!({"influencer": a.0, "kind": "production", "amount": "30.00", "currency": "EUR", "incurred_on": incurred}),
    );
    admin("POST", "/api/v1/costs", Some(json!({"influencer": a.0, "kind": "bribe", "amount": "1", "currency": "USD", "incurred_on": incurred})))
        .assert_error(400, "invalid_value", Some("kind"));
    let q = admin("GET", "/api/v1/quality", None).json();
    assert!(
        q["findings"]["missing_fx_rate"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["cost_id"] == eur["id"]),
        "{q}"
    );

    // By influencer, linear: A has 1/3 of order 1 (33.34) and 1/2 of order 3
    // (40.00) = 73.34 over 0.833334 conversions, cost 70.00:
    // ROI 3.34/70 = 0.0477, ROAS 1.0477, CPA 70/0.833334 = 84.00,
    // AOV 73.34/0.833334 = 88.01, rate 0.833334/2 = 0.4167; A assists
    // order 1 (100.00); days to convert (10·⅓ + 2·½)/0.833334 = 5.20.
    let rep = report(&format!("model=linear&group_by=influencer&{range}"));
    let ra = row_where(&rep, &[("influencer", json!(a.0))]);
    assert_eq!(
        ra,
        &json!({"influencer": a.0, "clicks": 2, "unique_clicks": 2, "bot_clicks": 0, "conversions": 0.83, "revenue": "73.34",
                "cost": "70.00", "roi": 0.0477, "roas": 1.0477, "cpa": "84.00", "aov": "88.01", "conversion_rate": 0.4167,
                "assisted_conversions": 1, "assisted_revenue": "100.00", "avg_days_to_convert": 5.2,
                "visits": 0, "pages_per_visit": null, "product_view_rate": null, "add_to_cart_rate": null,
                "median_seconds_to_cart": null})
    );
    let rb = row_where(&rep, &[("influencer", json!(b.0))]);
    assert_eq!(
        (
            rb["revenue"].clone(),
            rb["conversions"].clone(),
            rb["cost"].clone(),
            rb["roi"].clone(),
            rb["aov"].clone(),
            rb["assisted_conversions"].clone()
        ),
        (
            json!("33.33"),
            json!(0.33),
            json!("0.00"),
            Value::Null,
            json!("99.99"),
            json!(1)
        )
    );
    let rc = row_where(&rep, &[("influencer", json!(c.0))]);
    assert_eq!(
        (
            rc["revenue"].clone(),
            rc["conversions"].clone(),
            rc["clicks"].clone(),
            rc["conversion_rate"].clone()
        ),
        (json!("50.00"), json!(1.0), json!(0), Value::Null)
    );
    assert_eq!(rep["currency"], "USD");
    assert!(rep["totals"]["revenue"].is_string());

    // Other groupings isolate the same numbers.
    let by_campaign = report(&format!("group_by=campaign&{range}"));
    assert_eq!(
        row_where(&by_campaign, &[("campaign", json!(a.3))])["revenue"],
        "73.34"
    );
    assert_eq!(
        row_where(&by_campaign, &[("campaign", json!(a.3))])["cost"],
        "70.00"
    );
    let by_link = report(&format!("group_by=link&{range}"));
    assert_eq!(
        row_where(&by_link, &[("link", json!(a.1))])["revenue"],
        "73.34"
    );
    assert_eq!(
        row_where(&by_link, &[("link", json!(a.1))])["cost"],
        Value::Null,
        "costs are not booked per link"
    );
    let by_code = report(&format!("group_by=code&{range}"));
    assert_eq!(
        row_where(&by_code, &[("code", json!(c.2))])["revenue"],
        "50.00"
    );
    assert_eq!(row_where(&by_code, &[("code", json!(a.2))])["clicks"], 2);
    let by_app = report(&format!("group_by=influencer,app&{range}"));
    let ig = row_where(
        &by_app,
        &[("influencer", json!(a.0)), ("app", json!("instagram"))],
    );
    assert_eq!(
        (ig["clicks"].clone(), ig["revenue"].clone()),
        (json!(2), json!("73.34"))
    );
    let by_day = report(&format!("group_by=influencer,day&{range}"));
    assert_eq!(
        row_where(
            &by_day,
            &[
                ("influencer", json!(a.0)),
                ("day", json!(format_date(day_of(t))))
            ]
        )["revenue"],
        "73.34"
    );
    assert_eq!(
        row_where(
            &by_day,
            &[
                ("influencer", json!(a.0)),
                ("day", json!(format_date(day_of(t - 10 * DAY))))
            ]
        )["clicks"],
        1
    );
    let monday = format_date(day_of(t) - (day_of(t) + 3).rem_euclid(7));
    let by_week = report(&format!("group_by=influencer,week&{range}"));
    let wk = row_where(
        &by_week,
        &[("influencer", json!(a.0)), ("week", json!(monday))],
    );
    assert_eq!(
        (wk["revenue"].clone(), wk["conversions"].clone()),
        (json!("73.34"), json!(0.83))
    );
    let month = format_date(day_of(t))[..7].to_owned();
    let by_month = report(&format!("group_by=month,influencer&{range}"));
    assert_eq!(
        row_where(
            &by_month,
            &[("influencer", json!(a.0)), ("month", json!(month))]
        )["revenue"],
        "73.34"
    );
    let week_only = report(&format!("group_by=week&{range}"));
    assert!(week_only["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["week"] == monday.as_str()));
    let by_channel = report(&format!("group_by=channel&{range}"));
    assert!(by_channel["rows"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["channel"] == "email"));

    // Every model side by side.
    let all = report(&format!("model=all&group_by=influencer&{range}"));
    let ra = row_where(&all, &[("influencer", json!(a.0))]);
    assert_eq!(ra["revenue_first_touch"], "100.00");
    assert_eq!(ra["revenue_last_touch"], "80.00");
    assert_eq!(ra["revenue_linear"], "73.34");
    assert_eq!(ra["revenue_time_decay"], "61.67"); // 19.69 + 41.98
    assert_eq!(ra["revenue_position_based"], "80.00");
    assert!(ra["revenue_data_driven"].is_string());
    assert_eq!(ra["conversions_first_touch"], 1.0);

    // CSV parses back to the same numbers.
    let auth = format!("Bearer {}", admin_token());
    let csv = request(
        "GET",
        &format!("/api/v1/reports?model=linear&group_by=influencer&format=csv&{range}"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename=\"linkcredit-influencer-"));
    let mut lines = csv.body.split("\r\n");
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        header[..6],
        [
            "influencer",
            "clicks",
            "unique_clicks",
            "bot_clicks",
            "conversions",
            "revenue"
        ]
    );
    let line = lines
        .find(|l| l.starts_with(&format!("{},", a.0)))
        .expect("A's row");
    let fields: Vec<&str> = line.split(',').collect();
    let json_row = row_where(&rep, &[("influencer", json!(a.0))]);
    for (name, value) in header.iter().zip(fields) {
        let expected = match &json_row[*name] {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        assert_eq!(value, expected, "CSV column {name}");
    }

    // Bad parameters are 400s naming the parameter.
    for (q, code, field) in [
        ("model=best", "invalid_value", "model"),
        ("group_by=planet", "invalid_value", "group_by"),
        ("from=yesterday", "invalid_date", "from"),
        ("from=2026-11-29&to=2026-11-01", "invalid_range", "from"),
        ("format=pdf", "invalid_value", "format"),
    ] {
        let r = request(
            "GET",
            &format!("/api/v1/reports?{q}"),
            &[("Authorization", &auth)],
            None,
        );
        r.assert_error(400, code, Some(field));
    }
    request(
        "GET",
        "/api/v1/reports",
        &[("Authorization", "Bearer nope")],
        None,
    )
    .assert_error(401, "unauthorized", None);

    // Goals and the ranking: A's campaign wants CPA ≤ 50.00 and ROAS ≥ 2.
    let g = admin(
        "PATCH",
        &format!("/api/v1/campaigns/{}", a.3),
        Some(json!({"target_cpa": "50.00", "min_roas": 2})),
    );
    assert_eq!(g.status, 200, "{}", g.body);
    assert_eq!(
        g.json(),
        json!({"slug": a.3, "target_cpa": "50.00", "min_roas": 2.0})
    );
    let auth = format!("Bearer {}", reports_token());
    let ranking = request(
        "GET",
        &format!("/api/v1/reports/ranking?model=linear&{range}"),
        &[("Authorization", &auth)],
        None,
    )
    .json();
    let ra = ranking["influencers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["influencer"] == a.0.as_str())
        .expect("A ranked");
    assert_eq!(
        (ra["tier"].clone(), ra["not_tiered"].clone()),
        (Value::Null, json!("below_minimum_sample")),
        "2 unique clicks < 20"
    );
    assert_eq!(ra["roi"], 0.0477);
    let flags: Vec<&str> = ra["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    assert_eq!(flags, vec!["cpa_above_target", "roas_below_min"], "{ra}");

    // The exchange rate arrives: the EUR cost counts from then on.
    let r = admin(
        "PUT",
        "/api/v1/fx",
        Some(json!({"currency": "EUR", "rate_to_reporting": "1.10", "valid_from": from})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rep = report(&format!("model=linear&group_by=influencer&{range}"));
    assert_eq!(
        row_where(&rep, &[("influencer", json!(a.0))])["cost"],
        "103.00",
        "70.00 + 30.00 EUR × 1.10"
    );
    admin(
        "PUT",
        "/api/v1/fx",
        Some(json!({"currency": "USD", "rate_to_reporting": "1", "valid_from": from})),
    )
    .assert_error(400, "invalid_value", Some("currency"));
}
