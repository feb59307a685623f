//! The attribution job's journey reads (`PERSON_KEYS_SQL`,
//! `CANDIDATES_SQL`) as `journeys_of` binds them: a person's linked ids,
//! the candidate touchpoints inside the windows (bots, other persons and
//! other conversions' codes left out), and one batch carried on through
//! the core (journeys, credits under every model) into the credit rollup.

use crate::attribution_sql::{CONVERSION_MARKS_SQL, CREDITS_DELETE_SQL};
use crate::fixtures::insert_credits;
use crate::rollups::roll_credits;
use crate::shell::{ingest_touchpoint, journey_reads, keys_of, Pending, Touch};
use crate::test_db::{
    check, click, code_touchpoint, conversion, exec, insert_clicks, json_text, open, rows, world,
    Order, D, DAY, HOUR, T0,
};
use linkcredit::attribution::batch::{self, Candidate};
use linkcredit::attribution::journey::{JourneyConfig, TouchKind, Touchpoint};
use linkcredit::attribution::markov::RemovalEffects;
use linkcredit::attribution::models::{Model, ModelConfig};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// X's time: day D, 12:00.
const T: i64 = T0 + 12 * HOUR;
const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Person P1 (`v1`, `v2`, `cust-1`, an email) with order X (D 12:00, v1
/// and cust-1), person P2 (`v9`) with order Y (D 13:00); their clicks and
/// touchpoints in and out of X's windows. The two orders' ids.
fn history(db: &Connection) -> (i64, i64) {
    world(db);
    db.execute_batch(&format!(
        "INSERT INTO identities (key, person_id, linked_at) VALUES
           ('v:v1', 'p:c:cust-1', 1), ('c:cust-1', 'p:c:cust-1', 1), ('v:v2', 'p:c:cust-1', 2),
           ('e:{HASH}', 'p:c:cust-1', 3), ('v:v9', 'p:v:v9', 4), ('v:v10', 'p:v:v9', 4);"
    ))
    .expect("identities");
    let mut bot = click("k5", 1, T - 2 * HOUR, "v1");
    bot.is_bot = true;
    insert_clicks(
        db,
        &[
            click("k1", 1, T - DAY, "v1"),      // in
            click("k2", 2, T - 10 * DAY, "v2"), // in: a linked visitor
            click("k3", 1, T - 61 * DAY, "v1"), // before the 60-day window
            click("k4", 1, T + HOUR, "v1"),     // after the conversion
            bot,                                // a bot: never a touchpoint
            click("k6", 1, T - HOUR, "v9"),     // another person's
            click("k7", 2, T - 60 * DAY, "v1"), // exactly at the window's start
            click("k8", 1, T, "v1"),            // exactly at the conversion
        ],
    );
    let touch = |at, channel, visitor, customer| Touch {
        at,
        channel,
        source: Some("newsletter"),
        medium: Some("email"),
        visitor,
        customer,
    };
    for t in [
        touch(T - 5 * DAY, "email", None, Some("cust-1")), // tp:1 in
        touch(T - 90 * DAY, "paid_search", Some("v2"), None), // tp:2 too early
        touch(T - DAY, "email", Some("v9"), None),         // tp:3 another person's
        touch(T + DAY, "email", None, Some("cust-1")),     // tp:4 too late
        touch(T - 2 * HOUR, "paid_social", Some("v2"), None), // tp:5 in
    ] {
        ingest_touchpoint(db, &t, t.at);
    }
    let x = Order {
        order_id: "X",
        at: T,
        revenue_minor: 12_345,
        visitor: Some("v1"),
        customer: Some("cust-1"),
        ..Order::default()
    };
    let y = Order {
        order_id: "Y",
        at: T + HOUR,
        revenue_minor: 6_789,
        visitor: Some("v9"),
        ..Order::default()
    };
    let (x_id, y_id) = (conversion(db, &x), conversion(db, &y));
    assert_eq!(code_touchpoint(db, &x, ("SARAH10", 1, Some(1))), 1); // tp 6
    assert_eq!(code_touchpoint(db, &y, ("MAX15", 2, Some(2))), 1); // tp 7
    (x_id, y_id)
}

fn pending(id: i64, at: i64, visitor: Option<&str>, customer: Option<&str>) -> Pending {
    Pending {
        id,
        at,
        own: keys_of(visitor, customer, None),
    }
}

#[test]
fn a_persons_ids_are_every_key_linked_to_a_seed() {
    let db = open();
    history(&db);
    let sql = format!(
        "SELECT * FROM ({}) ORDER BY 1, 2",
        crate::attribution_sql::PERSON_KEYS_SQL
    );
    let p1 = ["c:cust-1", &format!("e:{HASH}"), "v:v1", "v:v2"].map(|k| k.to_string());
    let cases: Vec<(&str, Vec<&str>, Vec<Value>)> = vec![
        (
            "both of X's own keys",
            vec!["c:cust-1", "v:v1"],
            ["c:cust-1", "v:v1"]
                .iter()
                .flat_map(|s| p1.iter().map(move |k| json!([s, k])))
                .collect(),
        ),
        (
            "the other person",
            vec!["v:v9"],
            vec![json!(["v:v9", "v:v10"]), json!(["v:v9", "v:v9"])],
        ),
        ("an unknown key", vec!["v:nobody"], vec![]),
    ];
    for (what, seeds, expected) in cases {
        check(
            &db,
            what,
            &sql,
            params![json_text(&seeds)],
            Value::Array(expected),
        );
    }
}

#[test]
fn candidates_are_the_persons_touchpoints_inside_the_windows() {
    let db = open();
    let (x, _) = history(&db);
    let cfg = JourneyConfig::default();
    let (keys, candidates) = journey_reads(&db, &[pending(x, T, Some("v1"), Some("cust-1"))], &cfg);
    let expected_keys: Vec<String> = ["c:cust-1", &format!("e:{HASH}"), "v:v1", "v:v2"]
        .map(|k| k.to_string())
        .to_vec();
    assert_eq!(keys[0].iter().cloned().collect::<Vec<_>>(), expected_keys);
    let mut got = candidates.as_array().expect("rows").clone();
    got.sort_by(|a, b| a[0].as_str().cmp(&b[0].as_str()));
    let sarah = |key: &str, at, visitor| {
        json!([
            key,
            "click",
            at,
            "influencer",
            "sarah",
            "spring",
            "sarah-serum",
            "reel-1",
            "instagram",
            null,
            null,
            null,
            null,
            visitor,
            null,
            null
        ])
    };
    let max = |key: &str, at, visitor| {
        json!([
            key,
            "click",
            at,
            "influencer",
            "max",
            "summer",
            "max-mask",
            null,
            "tiktok",
            null,
            null,
            null,
            null,
            visitor,
            null,
            null
        ])
    };
    let channel = |key: &str, at, ch, visitor: Value, customer: Value| {
        json!([
            key,
            "channel",
            at,
            ch,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            "newsletter",
            "email",
            visitor,
            customer,
            null
        ])
    };
    let expected = vec![
        sarah("click:k1", T - DAY, "v1"),
        max("click:k2", T - 10 * DAY, "v2"),
        max("click:k7", T - 60 * DAY, "v1"),
        sarah("click:k8", T, "v1"),
        json!([
            "code:6",
            "code",
            T,
            "influencer",
            "sarah",
            "spring",
            null,
            null,
            null,
            "SARAH10",
            null,
            null,
            null,
            "v1",
            "cust-1",
            x
        ]),
        channel("tp:1", T - 5 * DAY, "email", Value::Null, json!("cust-1")),
        channel(
            "tp:5",
            T - 2 * HOUR,
            "paid_social",
            json!("v2"),
            Value::Null,
        ),
    ];
    assert_eq!(Value::Array(got), Value::Array(expected));
}

/// A candidate row as `journeys_of` turns it into the core's `Candidate`.
fn candidate(r: &Value) -> Candidate {
    let s = |i: usize| r[i].as_str().map(str::to_owned);
    let mut keys = Vec::new();
    if let Some(v) = s(13) {
        keys.push(format!("v:{v}"));
    }
    if let Some(c) = s(14) {
        keys.push(format!("c:{c}"));
    }
    let kind = match r[1].as_str() {
        Some("code") => TouchKind::Code,
        Some("channel") => TouchKind::Channel,
        _ => TouchKind::Click,
    };
    Candidate {
        touch: Touchpoint {
            key: s(0).expect("key"),
            kind,
            at: r[2].as_i64().expect("at"),
            channel: s(3).expect("channel"),
            influencer: s(4),
            campaign: s(5),
            link: s(6),
            content: s(7),
            platform: s(8),
            code: s(9),
            app: s(10),
            source: s(11),
            medium: s(12),
            is_bot: false,
        },
        keys,
        conversion_id: r[15].as_i64(),
    }
}

#[test]
fn a_batch_goes_from_candidates_through_the_core_into_the_rollup() {
    let db = open();
    let (x, y) = history(&db);
    let cfg = JourneyConfig::default();
    let batch_in = [
        pending(x, T, Some("v1"), Some("cust-1")),
        pending(y, T + HOUR, Some("v9"), None),
    ];
    let (keys, candidates) = journey_reads(&db, &batch_in, &cfg);
    let candidates: Vec<Candidate> = candidates
        .as_array()
        .expect("rows")
        .iter()
        .map(candidate)
        .collect();
    let pending: Vec<batch::Pending> = batch_in
        .iter()
        .zip(keys)
        .zip([12_345, 6_789])
        .map(|((p, keys), revenue)| batch::Pending {
            id: p.id,
            occurred_at: p.at,
            revenue_minor: revenue,
            currency: "EUR".into(),
            reporting_minor: Some(revenue),
            keys,
        })
        .collect();
    let journeys = batch::journeys(&pending, &candidates, &cfg);
    let paths: Vec<Vec<&str>> = journeys
        .iter()
        .map(|j| j.iter().map(|t| t.key.as_str()).collect())
        .collect();
    assert_eq!(
        paths,
        [
            vec!["click:k7", "click:k2", "tp:1", "click:k1", "tp:5", "click:k8", "code:6"],
            vec!["tp:3", "click:k6", "code:7"],
        ]
    );
    let credits = batch::credit_rows(
        &pending,
        &journeys,
        &ModelConfig::default(),
        &RemovalEffects::default(),
    );
    // The run's writes, twice (a reprocessed batch): its credits are
    // deleted, then inserted.
    let ids = json_text(&[x, y]);
    assert_eq!(exec(&db, CREDITS_DELETE_SQL, params![ids]), 0);
    assert_eq!(insert_credits(&db, &credits), 6 * (7 + 3));
    assert_eq!(exec(&db, CREDITS_DELETE_SQL, params![ids]), 6 * (7 + 3));
    assert_eq!(insert_credits(&db, &credits), 6 * (7 + 3));
    // The job's marks: attributed, the path, the reporting value.
    let marks: Vec<Value> = pending
        .iter()
        .zip(&journeys)
        .map(|(p, j)| json!({"id": p.id, "path": batch::path(j), "reporting": p.reporting_minor}))
        .collect();
    exec(
        &db,
        CONVERSION_MARKS_SQL,
        params![json_text(&marks), T + 2 * HOUR],
    );
    check(
        &db,
        "the marks",
        "SELECT order_id, attributed_at, dirty, path, reporting_minor FROM conversions ORDER BY id",
        &[],
        json!([
            [
                "X",
                T + 2 * HOUR,
                0,
                r#"["max","max","email","sarah","paid_social","sarah","sarah"]"#,
                12_345
            ],
            ["Y", T + 2 * HOUR, 0, r#"["email","sarah","max"]"#, 6_789],
        ]),
    );
    roll_credits(&db, &[D]);
    // Every model credits each conversion exactly once, to the cent.
    let expected: Vec<Value> = {
        let mut names: Vec<&str> = Model::ALL.iter().map(|m| m.as_str()).collect();
        names.sort();
        names
            .into_iter()
            .map(|m| json!([m, 2_000_000, 12_345 + 6_789]))
            .collect()
    };
    check(
        &db,
        "credited per model",
        "SELECT model, SUM(conversion_micros), SUM(revenue_minor) FROM credit_rollup GROUP BY model ORDER BY model",
        &[],
        Value::Array(expected),
    );
    let per_conversion = rows(
        &db,
        "SELECT conversion_id, model, COUNT(*), SUM(revenue_minor) FROM credits GROUP BY 1, 2 ORDER BY 1, 2",
        &[],
    );
    for r in per_conversion.as_array().expect("rows") {
        let (n, revenue) = if r[0] == json!(x) {
            (7, 12_345)
        } else {
            (3, 6_789)
        };
        assert_eq!(
            (r[2].as_i64(), r[3].as_i64()),
            (Some(n), Some(revenue)),
            "{r}"
        );
    }
}
