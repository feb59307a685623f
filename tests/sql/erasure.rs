//! The data-subject erasure (`erase_person`'s six statements, in its
//! order): afterwards none of the person's ids is anywhere in the
//! database, every other row is still there, and the rollups, kept and
//! rebuilt from the raw rows, are unchanged; another person is untouched.

use crate::attribution_sql::{
    click_dim_rollup_sql, credit_dim_rollup_sql, CLICK_DIM_DELETE_SQL, CLICK_ROLLUP_DELETE_SQL,
    CLICK_ROLLUP_SQL, CREDIT_DIM_DELETE_SQL, DIMS_JSON,
};
use crate::fixtures::{credit, insert_credits, link_touch};
use crate::rollups::roll_credits;
use crate::shell::{erase_person, ingest_touchpoint, store_conversion, Erased, Touch};
use crate::test_db::{
    click, code_touchpoint, exec, find_anywhere, insert_clicks, json_text, open, rows, snapshot,
    table_counts, world, Order, D, DAY, HOUR, MINUTE, T0, UNIQUE_GAP,
};
use rusqlite::{params, Connection};
use serde_json::Value;

const V1: &str = "q7Xb9LmN2pR4sT6vW8yZ0a";
const V2: &str = "Hk3Jd8Fs0Ql5Zx2Cv7Bn1m";
const CUST: &str = "cust-4711";
const EMAIL: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
const FBCLID: &str = "IwAR2xyzFbclid";
const V9: &str = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3s";
const CUST9: &str = "cust-0815";

/// The person (two visitors, a customer id, an email) and another one,
/// with clicks, orders, touchpoints, storefront events, credits and the
/// rollups of day D.
fn history(db: &Connection) {
    world(db);
    let mut with_ad_id = click("k4", 2, T0 + HOUR, V2);
    with_ad_id.ad_click_ids = Some(format!(r#"{{"fbclid":"{FBCLID}"}}"#));
    insert_clicks(
        db,
        &[
            click("k1", 1, T0 + 10 * MINUTE, V1),
            click("k2", 1, T0 + 20 * MINUTE, V1),
            click("k3", 1, T0 + 11 * HOUR, V1),
            with_ad_id,
            click("k9", 1, T0 + 5 * HOUR, V9),
            click("k10", 1, T0 + 5 * HOUR + 10 * MINUTE, V9),
        ],
    );
    let o1 = Order {
        order_id: "o1",
        at: T0 + 12 * HOUR,
        revenue_minor: 5_000,
        click_id: Some("k1"),
        visitor: Some(V1),
        customer: Some(CUST),
        email: Some(EMAIL),
    };
    let o2 = Order {
        order_id: "o2",
        at: T0 + 14 * HOUR,
        revenue_minor: 2_500,
        customer: Some(CUST),
        ..Order::default()
    };
    let o9 = Order {
        order_id: "o9",
        at: T0 + 13 * HOUR,
        revenue_minor: 3_000,
        click_id: Some("k9"),
        customer: Some(CUST9),
        ..Order::default()
    };
    for o in [&o1, &o2, &o9] {
        store_conversion(db, o, &o.fingerprint(), o.at);
    }
    code_touchpoint(db, &o1, ("SARAH10", 1, Some(1)));
    let touch = |at, visitor, customer| Touch {
        at,
        channel: "email",
        source: Some("newsletter"),
        medium: None,
        visitor,
        customer,
    };
    ingest_touchpoint(db, &touch(T0 + 2 * HOUR, Some(V2), Some(CUST)), T0);
    ingest_touchpoint(db, &touch(T0 + 3 * HOUR, None, Some(CUST)), T0);
    ingest_touchpoint(db, &touch(T0 + 4 * HOUR, Some(V9), None), T0);
    db.execute_batch(&format!(
        "INSERT INTO events (id, type, visitor_key, click_id, visit_id, host, path, occurred_at, day, received_at) VALUES
           ('ev1', 'page_view', 'v:{V1}', 'k1', 'ev1', 'shop.example', '/serum', {t}, {D}, {t}),
           ('ev2', 'add_to_cart', 'v:snippet-777', 'k4', 'ev2', 'shop.example', '/mask', {t}, {D}, {t}),
           ('ev3', 'page_view', 'v:{V9}', 'k9', 'ev3', 'shop.example', '/serum', {t}, {D}, {t}),
           ('ev4', 'product_view', 'c:k2', 'k2', 'ev4', 'shop.example', '/serum', {t}, {D}, {t});",
        t = T0 + 6 * HOUR
    ))
    .expect("events");
    let (a, c) = (T0 + 12 * HOUR, T0 + 13 * HOUR);
    let credits = [
        credit(
            1,
            "last_touch",
            (0, &link_touch("click:k3", T0 + 11 * HOUR, 1)),
            a,
            (1_000_000, 5_000, Some(5_000), false),
        ),
        credit(
            3,
            "last_touch",
            (0, &link_touch("click:k9", T0 + 5 * HOUR, 1)),
            c,
            (1_000_000, 3_000, Some(3_000), false),
        ),
    ];
    insert_credits(db, &credits);
    rollups(db);
}

/// The job's rollups of day D, rebuilt from the raw rows.
fn rollups(db: &Connection) {
    let days = json_text(&[D]);
    exec(db, CLICK_ROLLUP_DELETE_SQL, params![days]);
    exec(
        db,
        CLICK_ROLLUP_SQL,
        params![D * DAY, (D + 1) * DAY, UNIQUE_GAP, days],
    );
    roll_credits(db, &[D]);
    exec(db, CLICK_DIM_DELETE_SQL, params![days]);
    exec(db, &click_dim_rollup_sql(), params![days, DIMS_JSON]);
    exec(db, CREDIT_DIM_DELETE_SQL, params![days]);
    exec(db, &credit_dim_rollup_sql(), params![days, DIMS_JSON]);
}

fn rollup_tables(db: &Connection) -> Vec<Value> {
    [
        "click_rollup",
        "credit_rollup",
        "click_dim_rollup",
        "credit_dim_rollup",
    ]
    .iter()
    .map(|t| snapshot(db, t))
    .collect()
}

#[test]
fn erasure_leaves_none_of_the_persons_ids_and_every_total() {
    // By either of the person's ids the path may name.
    for id in [V1, CUST] {
        let db = open();
        history(&db);
        let person = [V1, V2, CUST, EMAIL, FBCLID];
        for needle in person {
            assert!(
                !find_anywhere(&db, needle).is_empty(),
                "{needle} stored before"
            );
        }
        let counts = table_counts(&db);
        let kept = rollup_tables(&db);
        let other = find_anywhere(&db, V9);
        let mut n = 0;
        let (persons, erased) = erase_person(&db, id, || {
            n += 1;
            format!("fresh-visitor-{n}")
        });
        assert_eq!(persons, 1, "{id}");
        let expected = Erased {
            identities: 4,
            clicks: 4,
            conversions: 2,
            touchpoints: 3,
            events: 3,
        };
        assert_eq!(erased, expected, "{id}");
        for needle in person {
            assert_eq!(
                find_anywhere(&db, needle),
                Vec::<String>::new(),
                "{needle} after erasing {id}"
            );
        }
        // Only the identity links and the person's events are gone.
        let expected_counts: Vec<(String, i64)> = counts
            .into_iter()
            .map(|(t, n)| {
                let gone = match t.as_str() {
                    "identities" => 4,
                    "events" => 3,
                    _ => 0,
                };
                (t, n - gone)
            })
            .collect();
        assert_eq!(table_counts(&db), expected_counts, "{id}");
        assert_eq!(
            find_anywhere(&db, V9),
            other,
            "the other person after erasing {id}"
        );
        // The rollups are untouched, and rebuilding them from the raw rows
        // gives the same: each visitor's clicks moved to one fresh id.
        assert_eq!(rollup_tables(&db), kept, "{id}");
        rollups(&db);
        assert_eq!(rollup_tables(&db), kept, "rebuilt after erasing {id}");
        check_fresh_visitors(&db);
        // A second erasure finds nothing (the handler's 404).
        let (persons, erased) = erase_person(&db, id, || "unused".into());
        assert_eq!((persons, erased), (0, Erased::default()), "{id} again");
    }
}

/// The person's clicks now belong to fresh visitors, one per old visitor.
fn check_fresh_visitors(db: &Connection) {
    let got = rows(
        db,
        "SELECT id, visitor_id, ad_click_ids FROM clicks WHERE visitor_id LIKE 'fresh-visitor-%' ORDER BY id",
        &[],
    );
    let visitor = |id: &str| {
        got.as_array()
            .expect("rows")
            .iter()
            .find(|r| r[0] == id)
            .map(|r| (r[1].clone(), r[2].clone()))
    };
    let (k1, k2, k3, k4) = (visitor("k1"), visitor("k2"), visitor("k3"), visitor("k4"));
    assert!(k1.is_some() && k1 == k2 && k2 == k3, "{got}");
    assert!(
        k4.as_ref()
            .is_some_and(|(v, ad)| ad.is_null() && Some(v) != k1.as_ref().map(|x| &x.0)),
        "{got}"
    );
    assert_eq!(got.as_array().map(Vec::len), Some(4));
}

#[test]
fn erasing_nobody_changes_nothing() {
    let db = open();
    history(&db);
    let before: Vec<Value> = table_counts(&db)
        .into_iter()
        .map(|(t, _)| snapshot(&db, &t))
        .collect();
    let (persons, erased) = erase_person(&db, "nobody-at-all", || "fresh".into());
    assert_eq!((persons, erased), (0, Erased::default()));
    let after: Vec<Value> = table_counts(&db)
        .into_iter()
        .map(|(t, _)| snapshot(&db, &t))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn events_under_the_erased_id_itself_go_without_any_click() {
    // The storefront snippet's own visitor id (`visitor_key` v:<id>) is
    // matched as the id asked for: here an event that names no click.
    let db = open();
    history(&db);
    db.execute_batch(&format!(
        "INSERT INTO events (id, type, visitor_key, click_id, visit_id, host, path, occurred_at, day, received_at) \
         VALUES ('ev5', 'page_view', 'v:{V1}', NULL, 'ev5', 'shop.example', '/', {T0}, {D}, {T0});"
    ))
    .expect("event");
    let (_, erased) = erase_person(&db, V1, || "fresh".into());
    assert_eq!(erased.events, 4);
    assert_eq!(find_anywhere(&db, V1), Vec::<String>::new());
}
