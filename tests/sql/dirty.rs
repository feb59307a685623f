//! Dirty marking (`mark_dirty_sql` after the identity writes of the same
//! batch) as the touchpoint and conversion handlers bind it: exactly the
//! person's attributed conversions inside the span are flagged, the guard
//! stops a losing concurrent request, and the job picks up what was
//! flagged (`PICK_DIRTY_SQL`, `PICK_NEW_SQL`).

use crate::attribution_sql::{CONVERSION_MARKS_SQL, PICK_DIRTY_SQL, PICK_NEW_SQL};
use crate::shell::{ingest_touchpoint, store_conversion, Touch};
use crate::test_db::{
    check, click, exec, insert_clicks, json_text, open, rows, world, Order, DAY, T0,
};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

const T: i64 = T0;

/// Conversions stored through the conversion handler's batch: `a1` links
/// `v1`, `cust-1` and email `hash-1` (person `p:c:cust-1`), `a4` links
/// `v9` and `cust-9` (`p:c:cust-9`); `a5` carries only the email. All but
/// `a3` are then attributed by a run. `v1` also clicked link 1.
fn history(db: &Connection) {
    world(db);
    let o = |order_id, at, visitor, customer, email| Order {
        order_id,
        at,
        revenue_minor: 1_000,
        visitor,
        customer,
        email,
        ..Order::default()
    };
    for c in [
        o(
            "a1",
            T - 10 * DAY,
            Some("v1"),
            Some("cust-1"),
            Some("hash-1"),
        ),
        o("a2", T + DAY, None, Some("cust-1"), None),
        o("a3", T + 2 * DAY, Some("v1"), None, None),
        o("a4", T + DAY, Some("v9"), Some("cust-9"), None),
        o("a5", T + 4 * DAY, None, None, Some("hash-1")),
        o("a6", T + 400 * DAY, Some("v1"), None, None),
        o("a7", T + 5 * DAY, Some("v1"), None, None),
        o("a8", T + 3 * DAY, Some("v2"), None, None),
        o("a9", T + DAY, None, None, Some("hash-9")),
    ] {
        assert_eq!(store_conversion(db, &c, &c.fingerprint(), c.at), 0);
    }
    let marks: Vec<Value> = rows(db, "SELECT id FROM conversions WHERE order_id <> 'a3'", &[])
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| json!({"id": r[0], "path": ["sarah"], "reporting": 1_000}))
        .collect();
    assert_eq!(
        exec(
            db,
            CONVERSION_MARKS_SQL,
            params![json_text(&marks), T + 500 * DAY]
        ),
        8
    );
    insert_clicks(db, &[click("k1", 1, T - 20 * DAY, "v1")]);
    check(db, "nothing dirty yet", DIRTY, &[], json!([]));
}

const DIRTY: &str = "SELECT order_id FROM conversions WHERE dirty = 1 ORDER BY id";

/// The run's picks: `(dirty, new)` order ids.
fn picks(db: &Connection, watermark: i64, horizon: i64, limit: i64) -> (Value, Value) {
    let ids = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
        let sql = format!(
            "SELECT c.order_id FROM ({sql}) p JOIN conversions c ON c.id = p.id ORDER BY p.id"
        );
        let r = rows(db, &sql, p);
        Value::Array(
            r.as_array()
                .expect("rows")
                .iter()
                .map(|x| x[0].clone())
                .collect(),
        )
    };
    (
        ids(PICK_DIRTY_SQL, params![watermark, horizon, limit]),
        ids(PICK_NEW_SQL, params![watermark, limit]),
    )
}

/// A run attributes everything dirty again (`CONVERSION_MARKS_SQL`).
fn clear(db: &Connection) {
    let marks: Vec<Value> = rows(db, "SELECT id FROM conversions WHERE dirty <> 0", &[])
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| json!({"id": r[0], "path": ["sarah"], "reporting": 1_000}))
        .collect();
    exec(
        db,
        CONVERSION_MARKS_SQL,
        params![json_text(&marks), T + 600 * DAY],
    );
    check(db, "a run cleared the marks", DIRTY, &[], json!([]));
}

#[test]
fn a_late_touchpoint_marks_the_persons_later_attributed_conversions() {
    let db = open();
    history(&db);
    // v2 (unknown so far) and cust-1: v2 joins cust-1's person in the same
    // batch, then the person's attributed conversions within a year after
    // the touchpoint are marked: a2 (cust-1), a5 (the email), a7 (v1), a8
    // (v2). Not a1 (before), a3 (never attributed), a6 (beyond the reach),
    // a4 and a9 (other persons).
    let touch = Touch {
        at: T,
        channel: "email",
        source: None,
        medium: None,
        visitor: Some("v2"),
        customer: Some("cust-1"),
    };
    assert_eq!(ingest_touchpoint(&db, &touch, T + 501 * DAY), 4);
    check(
        &db,
        "marked",
        DIRTY,
        &[],
        json!([["a2"], ["a5"], ["a7"], ["a8"]]),
    );
    check(
        &db,
        "v2 joined the person",
        "SELECT key FROM identities WHERE person_id = 'p:c:cust-1' ORDER BY key",
        &[],
        json!([["c:cust-1"], ["e:hash-1"], ["v:v1"], ["v:v2"]]),
    );
    // The run's picks: dirty ones at or below the watermark that occurred
    // since the horizon, and refunds (dirty = 2) whenever they occurred.
    exec(
        &db,
        "UPDATE conversions SET dirty = 2 WHERE order_id = 'a1'",
        &[],
    );
    #[rustfmt::skip]
    let cases = [
        ("everything", 9, T - 30 * DAY, 10, json!(["a1", "a2", "a5", "a7", "a8"]), json!([])),
        ("a later horizon", 9, T + 4 * DAY, 10, json!(["a1", "a5", "a7"]), json!([])),
        ("a lower watermark", 6, T - 30 * DAY, 10, json!(["a1", "a2", "a5"]), json!(["a7", "a8", "a9"])),
        ("a limit", 9, T - 30 * DAY, 2, json!(["a1", "a2"]), json!([])),
    ];
    for (what, watermark, horizon, limit, dirty, new) in cases {
        assert_eq!(
            picks(&db, watermark, horizon, limit),
            (dirty, new),
            "{what}"
        );
    }
}

#[test]
fn a_merge_marks_both_persons_and_a_losing_request_marks_nothing() {
    let db = open();
    history(&db);
    // m1 links v9 (p:c:cust-9) to cust-1 (p:c:cust-1): the persons merge,
    // then every attributed conversion of the merged person up to m1 is
    // marked: a1, a2, a5, a7 (cust-1's person) and a4 (v9's).
    let m1 = Order {
        order_id: "m1",
        at: T + 10 * DAY,
        revenue_minor: 2_000,
        visitor: Some("v9"),
        customer: Some("cust-1"),
        ..Order::default()
    };
    assert_eq!(store_conversion(&db, &m1, &m1.fingerprint(), m1.at), 5);
    let marked = json!([["a1"], ["a2"], ["a4"], ["a5"], ["a7"]]);
    check(&db, "marked", DIRTY, &[], marked.clone());
    check(
        &db,
        "one person",
        "SELECT key, person_id FROM identities ORDER BY key",
        &[],
        json!([
            ["c:cust-1", "p:c:cust-1"],
            ["c:cust-9", "p:c:cust-1"],
            ["e:hash-1", "p:c:cust-1"],
            ["v:v1", "p:c:cust-1"],
            ["v:v9", "p:c:cust-1"]
        ]),
    );
    clear(&db);
    // The same order with another payload (a request that lost the race):
    // its insert is ignored, so the guard fails and it links and marks
    // nothing, not even with a new email.
    let other = Order {
        email: Some("hash-new"),
        ..m1
    };
    let before = rows(&db, "SELECT * FROM identities ORDER BY key", &[]);
    assert_eq!(store_conversion(&db, &other, "fp:other", other.at), 0);
    check(&db, "nothing marked", DIRTY, &[], json!([]));
    let after = rows(&db, "SELECT * FROM identities ORDER BY key", &[]);
    assert_eq!(after, before);
    // The same payload again (its fingerprint) passes the guard: the email
    // is linked, the same conversions are marked again.
    let fingerprint = m1.fingerprint();
    assert_eq!(store_conversion(&db, &other, &fingerprint, other.at), 5);
    check(&db, "marked again", DIRTY, &[], marked);
    check(
        &db,
        "the email linked",
        "SELECT person_id FROM identities WHERE key = 'e:hash-new'",
        &[],
        json!([["p:c:cust-1"]]),
    );
}

#[test]
fn an_order_through_a_click_joins_the_clicks_person() {
    let db = open();
    history(&db);
    // Only a click id and a new customer id: the conversion takes the
    // click's visitor (v1), the new customer joins v1's person, and that
    // person's attributed conversions up to the order are marked (a1, a2).
    let k = Order {
        order_id: "k",
        at: T + 3 * DAY,
        revenue_minor: 500,
        click_id: Some("k1"),
        customer: Some("cust-new"),
        ..Order::default()
    };
    assert_eq!(store_conversion(&db, &k, &k.fingerprint(), k.at), 2);
    check(&db, "marked", DIRTY, &[], json!([["a1"], ["a2"]]));
    check(
        &db,
        "the order and its person",
        "SELECT c.visitor_id, c.customer_id, i.person_id FROM conversions c \
         JOIN identities i ON i.key = 'c:' || c.customer_id WHERE c.order_id = 'k'",
        &[],
        json!([["v1", "cust-new", "p:c:cust-1"]]),
    );
}
