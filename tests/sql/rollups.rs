//! The fine rollups (`click_rollup`, `credit_rollup`) as the job and the
//! rebuild bind them: clicks, unique clicks (the 30-minute rule) and bot
//! clicks per day and key; the late-click "add" path and the rowid marks;
//! credit sums per day, model and dimension.

use crate::attribution_sql::{
    CLICK_ROLLUP_ADD_SQL, CLICK_ROLLUP_DELETE_DAY_SQL, CLICK_ROLLUP_DELETE_SQL,
    CLICK_ROLLUP_MARK_SQL, CLICK_ROLLUP_SQL, CREDIT_ROLLUP_DELETE_DAY_SQL,
    CREDIT_ROLLUP_DELETE_SQL, CREDIT_ROLLUP_SQL, DATA_DAYS_SQL, LAST_CLICK_SQL, NEW_CLICK_DAYS_SQL,
    REBUILD_MARK_SQL,
};
use crate::fixtures::{clicks, credit, credits, insert_credits, link_touch, CLICK_ROLLUP_COLUMNS};
use crate::test_db::{
    bot, check, click, conversion, exec, insert_clicks, json_text, open, rows, world, Order, D,
    DAY, HOUR, MINUTE, T0, UNIQUE_GAP,
};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// The job's click rollup of `days` (sorted): delete, then insert over
/// the range from the first day's start to the last day's end.
fn roll_clicks(db: &Connection, days: &[i64]) {
    let (first, last) = (days[0], days[days.len() - 1]);
    exec(db, CLICK_ROLLUP_DELETE_SQL, params![json_text(days)]);
    exec(
        db,
        CLICK_ROLLUP_SQL,
        params![first * DAY, (last + 1) * DAY, UNIQUE_GAP, json_text(days)],
    );
}

/// The rebuild's click rollup of one day.
fn rebuild_click_day(db: &Connection, day: i64) {
    exec(db, CLICK_ROLLUP_DELETE_DAY_SQL, params![day]);
    exec(
        db,
        CLICK_ROLLUP_SQL,
        params![day * DAY, (day + 1) * DAY, UNIQUE_GAP, json_text(&[day])],
    );
}

/// The job's credit rollup of `days` (sorted).
pub fn roll_credits(db: &Connection, days: &[i64]) {
    let (first, last) = (days[0], days[days.len() - 1]);
    exec(db, CREDIT_ROLLUP_DELETE_SQL, params![json_text(days)]);
    exec(
        db,
        CREDIT_ROLLUP_SQL,
        params![json_text(days), first * DAY, (last + 1) * DAY],
    );
}

fn state(db: &Connection) -> i64 {
    db.query_row(
        "SELECT click_rollup_rowid FROM attribution_state WHERE id = 1",
        [],
        |r| r.get(0),
    )
    .expect("state")
}

fn last_click(db: &Connection) -> i64 {
    db.query_row(LAST_CLICK_SQL, [], |r| r.get::<_, Option<i64>>(0))
        .expect("max")
        .unwrap_or(0)
}

/// A click rollup row without its day: link, app, trigger, rule, variant,
/// clicks, unique clicks, bot clicks.
type KeyCounts = (
    i64,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    i64,
);

const D_ROWS: [KeyCounts; 5] = [
    (1, "browser", "link", "", "", 5, 3, 2),
    (1, "browser", "qr", "", "", 1, 1, 0),
    (1, "instagram", "link", "", "", 1, 1, 0),
    (2, "browser", "link", "", "", 3, 2, 0),
    (2, "browser", "link", "ios", "b", 1, 1, 0),
];

fn day_rows(day: i64, rows: &[KeyCounts]) -> Vec<Value> {
    rows.iter()
        .map(|(l, app, trig, rule, var, n, u, b)| json!([day, l, app, trig, rule, var, n, u, b]))
        .collect()
}

#[test]
fn click_rollup_counts_clicks_uniques_and_bots_per_day_and_key() {
    let db = open();
    world(&db);
    clicks(&db);
    let d_minus = day_rows(D - 1, &[(1, "browser", "link", "", "", 1, 1, 0)]);
    let d = day_rows(D, &D_ROWS);
    // c14 is a repeat of c15, across midnight.
    let d_plus = day_rows(D + 1, &[(1, "browser", "link", "", "", 1, 0, 0)]);
    let cases: Vec<(&str, Vec<i64>, Vec<Value>)> = vec![
        ("day D alone", vec![D], d.clone()),
        (
            "three days in one run",
            vec![D - 1, D, D + 1],
            [d_minus.clone(), d.clone(), d_plus.clone()].concat(),
        ),
        (
            "two days around one left alone",
            vec![D - 1, D + 1],
            [d_minus, d_plus].concat(),
        ),
        ("a day without clicks", vec![D + 5], vec![]),
    ];
    for (what, days, expected) in cases {
        exec(&db, "DELETE FROM click_rollup", &[]);
        roll_clicks(&db, &days);
        check(&db, what, CLICK_ROLLUP_COLUMNS, &[], Value::Array(expected));
    }
    // Rerunning a day's rebuild replaces its rows, and totals are the raw
    // clicks' (13 human, 2 bots).
    exec(&db, "DELETE FROM click_rollup", &[]);
    for day in [D - 1, D, D + 1, D, D] {
        rebuild_click_day(&db, day);
    }
    check(
        &db,
        "totals after repeated rebuilds",
        "SELECT SUM(clicks), SUM(bot_clicks), COUNT(*) FROM click_rollup",
        &[],
        json!([[13, 2, 7]]),
    );
    check(
        &db,
        "the data's days",
        DATA_DAYS_SQL,
        &[],
        json!([[D - 1, D + 1]]),
    );
}

#[test]
fn late_clicks_are_added_to_days_never_rebuilt() {
    let db = open();
    world(&db);
    let old = (D - 2) * DAY;
    // A run rolled day D-2 up and moved the mark.
    insert_clicks(
        &db,
        &[
            click("e1", 1, old + HOUR, "v1"),
            click("e2", 1, old + 2 * HOUR, "v2"),
        ],
    );
    roll_clicks(&db, &[D - 2]);
    exec(&db, CLICK_ROLLUP_MARK_SQL, params![last_click(&db)]);
    assert_eq!(state(&db), 2);
    // Late arrivals for D-2 (before `kept_from`, never rebuilt) and one for D.
    let mut late = vec![
        click("l1", 1, old + HOUR + 10 * MINUTE, "v1"),
        click("l2", 1, old + HOUR + 20 * MINUTE, "v1"),
        bot("l3", 1, old + 3 * HOUR),
        click("l4", 1, old + 4 * HOUR, "v3"),
        click("n1", 2, T0 + HOUR, "v4"),
    ];
    late[3].app = Some("tiktok".into());
    insert_clicks(&db, &late);
    let kept_from = D;
    // The run, as run.rs binds it.
    let (mark, max) = (state(&db), last_click(&db));
    check(
        &db,
        "days with new clicks",
        &format!("SELECT day FROM ({NEW_CLICK_DAYS_SQL}) ORDER BY day"),
        params![mark, max],
        json!([[D - 2], [D]]),
    );
    roll_clicks(&db, &[D]);
    let added = exec(
        &db,
        CLICK_ROLLUP_ADD_SQL,
        params![mark, max, kept_from * DAY, UNIQUE_GAP],
    );
    assert_eq!(added, 2, "one row updated, one inserted");
    exec(&db, CLICK_ROLLUP_MARK_SQL, params![max]);
    let expected = json!([
        // 2 + 2 clicks; uniques count among the added clicks (l1, not l2).
        [D - 2, 1, "browser", "link", "", "", 4, 3, 1],
        [D - 2, 1, "tiktok", "link", "", "", 1, 1, 0],
        [D, 2, "browser", "link", "", "", 1, 1, 0],
    ]);
    check(
        &db,
        "after the late run",
        CLICK_ROLLUP_COLUMNS,
        &[],
        expected.clone(),
    );
    // The next run finds nothing past the mark: nothing is added twice.
    let (mark, max) = (state(&db), last_click(&db));
    assert_eq!((mark, max), (7, 7));
    exec(
        &db,
        CLICK_ROLLUP_ADD_SQL,
        params![mark, max, kept_from * DAY, UNIQUE_GAP],
    );
    check(
        &db,
        "after a second run",
        CLICK_ROLLUP_COLUMNS,
        &[],
        expected,
    );
    check(
        &db,
        "no new days past the mark",
        NEW_CLICK_DAYS_SQL,
        params![mark, max],
        json!([]),
    );
}

#[test]
fn the_data_days_span_clicks_and_credits() {
    // `[click days, credit days, (first, last)]`
    let cases: [(&[i64], &[i64], Value); 5] = [
        (&[], &[], json!([[null, null]])),
        (&[D - 1, D + 1], &[], json!([[D - 1, D + 1]])),
        (&[], &[D, D + 2], json!([[D, D + 2]])),
        (&[D - 1, D + 1], &[D, D + 5], json!([[D - 1, D + 5]])),
        (&[D - 1, D + 1], &[D - 9, D], json!([[D - 9, D + 1]])),
    ];
    for (i, (click_days, credit_days, expected)) in cases.into_iter().enumerate() {
        let db = open();
        world(&db);
        let clicks: Vec<_> = click_days
            .iter()
            .map(|d| click(&format!("k{d}"), 1, d * DAY + HOUR, "v1"))
            .collect();
        insert_clicks(&db, &clicks);
        for d in credit_days {
            let order = format!("o{d}");
            let o = Order {
                order_id: &order,
                at: d * DAY + 2 * HOUR,
                revenue_minor: 100,
                ..Order::default()
            };
            let id = conversion(&db, &o);
            let touch = link_touch("click:none", o.at - HOUR, 1);
            let row = credit(
                id,
                "linear",
                (0, &touch),
                o.at,
                (1_000_000, 100, Some(100), false),
            );
            insert_credits(&db, &[row]);
        }
        check(&db, &format!("case {i}"), DATA_DAYS_SQL, &[], expected);
    }
}

#[test]
fn a_rebuild_moves_the_mark_only_up_to_late_clicks() {
    let db = open();
    world(&db);
    insert_clicks(
        &db,
        &[click("a", 1, T0, "v1"), click("b", 1, T0 + HOUR, "v1")],
    );
    exec(&db, CLICK_ROLLUP_MARK_SQL, params![2]);
    // rowid 3: a late click for a day before `kept_from`; rowid 4: today's.
    insert_clicks(
        &db,
        &[
            click("late", 1, T0 - 3 * DAY, "v2"),
            click("new", 1, T0 + 2 * HOUR, "v3"),
        ],
    );
    let rebuild_mark = |kept_from: i64| {
        exec(
            &db,
            "UPDATE attribution_state SET click_rollup_rowid = 2",
            &[],
        );
        exec(
            &db,
            REBUILD_MARK_SQL,
            params![last_click(&db), kept_from.saturating_mul(DAY)],
        );
        state(&db)
    };
    // Stops before the late click, so the next run adds it.
    assert_eq!(rebuild_mark(D), 2);
    // Nothing late when every day is kept (`kept_from` = i64::MIN).
    assert_eq!(rebuild_mark(i64::MIN), 4);
    // A late click only after some newer ones: the mark stops right before it.
    insert_clicks(&db, &[click("late2", 1, T0 - 4 * DAY, "v4")]);
    exec(&db, "DELETE FROM clicks WHERE id = 'late'", &[]);
    assert_eq!(rebuild_mark(D), 4);
}

/// The credit rollup's rows, in key order.
pub const CREDIT_ROLLUP_COLUMNS: &str = "SELECT day, model, channel, influencer, campaign, link, content, \
     platform, app, code, trigger, rule, variant, conversion_micros, revenue_minor, assisted_conversions, \
     assisted_revenue, days_to_convert_ms FROM credit_rollup \
     ORDER BY day, model, channel, influencer, campaign, link, content, platform, app, code, trigger, rule, variant";

#[test]
fn credit_rollup_sums_credits_per_day_model_and_dimensions() {
    let db = open();
    world(&db);
    clicks(&db);
    assert_eq!(credits(&db), 18);
    roll_credits(&db, &[D, D + 1]);
    let (ms, md) = ("max-mask", "sarah-serum");
    #[rustfmt::skip]
    let expected = json!([
        [D, "last_touch", "email", "", "", "", "", "", "", "", "", "", "", 0, 0, 0, 0, 0],
        [D, "last_touch", "influencer", "max", "summer", ms, "", "tiktok", "", "", "link", "ios", "b", 1_000_000, 10_000, 0, 0, 6 * HOUR],
        [D, "last_touch", "influencer", "sarah", "spring", "", "", "", "", "SARAH10", "", "", "", 1_000_000, 2_900, 0, 0, 0],
        // A and F assisted: 2 conversions, their whole revenue (100 + 40).
        [D, "last_touch", "influencer", "sarah", "spring", md, "reel-1", "instagram", "", "", "link", "", "", 0, 0, 2, 14_000, 0],
        [D, "last_touch", "influencer", "sarah", "spring", md, "reel-1", "instagram", "instagram", "", "link", "", "", 1_000_000, 4_000, 0, 0, 18 * HOUR],
        [D, "linear", "email", "", "", "", "", "", "", "", "", "", "", 500_000, 1_450, 0, 0, HOUR / 2],
        [D, "linear", "influencer", "max", "summer", ms, "", "tiktok", "", "", "link", "ios", "b", 500_000, 5_000, 0, 0, 3 * HOUR],
        [D, "linear", "influencer", "sarah", "spring", "", "", "", "", "SARAH10", "", "", "", 500_000, 1_450, 0, 0, 0],
        [D, "linear", "influencer", "sarah", "spring", md, "reel-1", "instagram", "", "", "link", "", "", 1_166_667, 7_667, 2, 14_000, 63_450_024],
        [D, "linear", "influencer", "sarah", "spring", md, "reel-1", "instagram", "instagram", "", "link", "", "", 333_333, 1_333, 0, 0, 21_599_978],
        [D + 1, "last_touch", "influencer", "sarah", "spring", md, "reel-1", "instagram", "", "", "qr", "", "", 1_000_000, 2_000, 0, 0, 22 * HOUR],
        [D + 1, "linear", "influencer", "sarah", "spring", md, "reel-1", "instagram", "", "", "qr", "", "", 1_000_000, 2_000, 0, 0, 22 * HOUR],
    ]);
    check(
        &db,
        "credit rollup",
        CREDIT_ROLLUP_COLUMNS,
        &[],
        expected.clone(),
    );
    // Per day and model, the rollup holds exactly the credits with a
    // reporting value (C, without an exchange rate, is left out).
    let sums = "SELECT day, model, SUM(m), SUM(r) FROM (\
         SELECT day, model, conversion_micros AS m, revenue_minor AS r, 'rollup' AS src FROM credit_rollup \
         UNION ALL SELECT converted_at / 86400000, model, conversion_micros, reporting_minor, 'credits' FROM credits \
         WHERE reporting_minor IS NOT NULL) GROUP BY day, model, src ORDER BY day, model, src";
    check(
        &db,
        "rollup sums against the credits",
        sums,
        &[],
        json!([
            [D, "last_touch", 3_000_000, 16_900],
            [D, "last_touch", 3_000_000, 16_900],
            [D, "linear", 3_000_000, 16_900],
            [D, "linear", 3_000_000, 16_900],
            [D + 1, "last_touch", 1_000_000, 2_000],
            [D + 1, "last_touch", 1_000_000, 2_000],
            [D + 1, "linear", 1_000_000, 2_000],
            [D + 1, "linear", 1_000_000, 2_000],
        ]),
    );
    // The rebuild, day by day, gives the same rows; rerunning replaces them.
    exec(&db, "DELETE FROM credit_rollup", &[]);
    for day in [D, D + 1, D] {
        exec(&db, CREDIT_ROLLUP_DELETE_DAY_SQL, params![day]);
        exec(
            &db,
            CREDIT_ROLLUP_SQL,
            params![json_text(&[day]), day * DAY, (day + 1) * DAY],
        );
    }
    check(
        &db,
        "rebuilt day by day",
        CREDIT_ROLLUP_COLUMNS,
        &[],
        expected,
    );
    // A run of day D only leaves D+1 as it is.
    exec(
        &db,
        "UPDATE credit_rollup SET revenue_minor = -1 WHERE day = ?1",
        params![D + 1],
    );
    roll_credits(&db, &[D]);
    let untouched = rows(
        &db,
        "SELECT revenue_minor FROM credit_rollup WHERE day = ?1",
        params![D + 1],
    );
    assert_eq!(untouched, json!([[-1], [-1]]));
}
