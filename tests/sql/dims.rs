//! The per-dimension rollups built by `dim_rollup_statements` (delete,
//! then insert for every dimension of `DIMS_JSON`) from the fine rollups:
//! exact keys and sums per dimension, every dimension summing to `all`, and
//! reruns replacing rather than adding.

use crate::attribution_sql::{
    click_dim_rollup_sql, credit_dim_rollup_sql, CLICK_DIM_DELETE_SQL, CLICK_ROLLUP_SQL,
    CREDIT_DIM_DELETE_SQL, DIMS_JSON,
};
use crate::fixtures::{clicks, credits};
use crate::rollups::roll_credits;
use crate::test_db::{check, exec, json_text, open, rows, world, D, DAY, UNIQUE_GAP};
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// The four statements of `dim_rollup_statements`, in its order and with
/// its parameters, for the days in `days_json`.
fn dim_rollups(db: &Connection, days_json: &str) {
    exec(db, CLICK_DIM_DELETE_SQL, params![days_json]);
    exec(db, &click_dim_rollup_sql(), params![days_json, DIMS_JSON]);
    exec(db, CREDIT_DIM_DELETE_SQL, params![days_json]);
    exec(db, &credit_dim_rollup_sql(), params![days_json, DIMS_JSON]);
}

/// The fixture's fine rollups of days D and D+1, then the dimension
/// rollups of both.
fn rolled() -> Connection {
    let db = open();
    world(&db);
    clicks(&db);
    credits(&db);
    let days = json_text(&[D, D + 1]);
    exec(
        &db,
        CLICK_ROLLUP_SQL,
        params![D * DAY, (D + 2) * DAY, UNIQUE_GAP, days],
    );
    roll_credits(&db, &[D, D + 1]);
    dim_rollups(&db, &days);
    db
}

fn dims() -> Vec<String> {
    serde_json::from_str(DIMS_JSON).expect("DIMS_JSON is a JSON list")
}

#[test]
fn click_dimensions_have_exact_keys_and_sums() {
    let db = rolled();
    // `[key, clicks, unique, bots]` of day D per dimension.
    let cases = [
        ("all", json!([["", 11, 8, 2]])),
        (
            "app",
            json!([["browser", 10, 7, 2], ["instagram", 1, 1, 0]]),
        ),
        (
            "campaign",
            json!([["spring", 7, 5, 2], ["summer", 4, 3, 0]]),
        ),
        ("channel", json!([["influencer", 11, 8, 2]])),
        // The link's discount code; link 2 has none.
        ("code", json!([["", 4, 3, 0], ["SARAH10", 7, 5, 2]])),
        ("content", json!([["", 4, 3, 0], ["reel-1", 7, 5, 2]])),
        ("influencer", json!([["max", 4, 3, 0], ["sarah", 7, 5, 2]])),
        (
            "link",
            json!([["max-mask", 4, 3, 0], ["sarah-serum", 7, 5, 2]]),
        ),
        (
            "platform",
            json!([["instagram", 7, 5, 2], ["tiktok", 4, 3, 0]]),
        ),
        ("rule", json!([["", 10, 7, 2], ["ios", 1, 1, 0]])),
        ("trigger", json!([["link", 10, 7, 2], ["qr", 1, 1, 0]])),
        ("variant", json!([["", 10, 7, 2], ["b", 1, 1, 0]])),
    ];
    assert_eq!(cases.len(), dims().len(), "one case per dimension");
    for (dim, expected) in cases {
        check(
            &db,
            dim,
            "SELECT key, clicks, unique_clicks, bot_clicks FROM click_dim_rollup WHERE dim = ?1 AND day = ?2 ORDER BY key",
            params![dim, D],
            expected,
        );
    }
    // Day D+1 (one repeat click), for every dimension.
    check(
        &db,
        "day D+1",
        "SELECT COUNT(DISTINCT dim), SUM(clicks), SUM(unique_clicks) FROM click_dim_rollup WHERE day = ?1",
        params![D + 1],
        json!([[12, 12, 0]]),
    );
}

#[test]
fn credit_dimensions_have_exact_keys_and_sums() {
    let db = rolled();
    // `[key, micros, revenue, assisted, assisted revenue, days to convert]`
    // of day D under the linear model.
    let cases = [
        (
            "all",
            json!([["", 3_000_000, 16_900, 2, 14_000, 97_650_002]]),
        ),
        // No link: no app; a link without an app: the browser.
        (
            "app",
            json!([
                ["", 1_000_000, 2_900, 0, 0, 1_800_000],
                ["browser", 1_666_667, 12_667, 2, 14_000, 74_250_024],
                ["instagram", 333_333, 1_333, 0, 0, 21_599_978]
            ]),
        ),
        (
            "campaign",
            json!([
                ["", 500_000, 1_450, 0, 0, 1_800_000],
                ["spring", 2_000_000, 10_450, 2, 14_000, 85_050_002],
                ["summer", 500_000, 5_000, 0, 0, 10_800_000]
            ]),
        ),
        (
            "channel",
            json!([
                ["email", 500_000, 1_450, 0, 0, 1_800_000],
                ["influencer", 2_500_000, 15_450, 2, 14_000, 95_850_002]
            ]),
        ),
        // The credited code (a code touchpoint's), not the link's.
        (
            "code",
            json!([
                ["", 2_500_000, 15_450, 2, 14_000, 97_650_002],
                ["SARAH10", 500_000, 1_450, 0, 0, 0]
            ]),
        ),
        (
            "content",
            json!([
                ["", 1_500_000, 7_900, 0, 0, 12_600_000],
                ["reel-1", 1_500_000, 9_000, 2, 14_000, 85_050_002]
            ]),
        ),
        (
            "influencer",
            json!([
                ["", 500_000, 1_450, 0, 0, 1_800_000],
                ["max", 500_000, 5_000, 0, 0, 10_800_000],
                ["sarah", 2_000_000, 10_450, 2, 14_000, 85_050_002]
            ]),
        ),
        (
            "link",
            json!([
                ["", 1_000_000, 2_900, 0, 0, 1_800_000],
                ["max-mask", 500_000, 5_000, 0, 0, 10_800_000],
                ["sarah-serum", 1_500_000, 9_000, 2, 14_000, 85_050_002]
            ]),
        ),
        (
            "platform",
            json!([
                ["", 1_000_000, 2_900, 0, 0, 1_800_000],
                ["instagram", 1_500_000, 9_000, 2, 14_000, 85_050_002],
                ["tiktok", 500_000, 5_000, 0, 0, 10_800_000]
            ]),
        ),
        (
            "rule",
            json!([
                ["", 2_500_000, 11_900, 2, 14_000, 86_850_002],
                ["ios", 500_000, 5_000, 0, 0, 10_800_000]
            ]),
        ),
        (
            "trigger",
            json!([
                ["", 1_000_000, 2_900, 0, 0, 1_800_000],
                ["link", 2_000_000, 14_000, 2, 14_000, 95_850_002]
            ]),
        ),
        (
            "variant",
            json!([
                ["", 2_500_000, 11_900, 2, 14_000, 86_850_002],
                ["b", 500_000, 5_000, 0, 0, 10_800_000]
            ]),
        ),
    ];
    assert_eq!(cases.len(), dims().len(), "one case per dimension");
    for (dim, expected) in cases {
        check(
            &db,
            dim,
            "SELECT key, conversion_micros, revenue_minor, assisted_conversions, assisted_revenue, days_to_convert_ms \
             FROM credit_dim_rollup WHERE model = 'linear' AND dim = ?1 AND day = ?2 ORDER BY key",
            params![dim, D],
            expected,
        );
    }
}

/// Per (model, day, dimension) for credits, or (day, dimension) for
/// clicks: the sums over keys, which must equal the fine rollup's.
fn sums_by_dim(db: &Connection) -> (Value, Value) {
    let clicks = rows(
        db,
        "SELECT r.day, d.value, (SELECT SUM(clicks) || '/' || SUM(unique_clicks) || '/' || SUM(bot_clicks) \
                FROM click_dim_rollup x WHERE x.day = r.day AND x.dim = d.value) \
           FROM (SELECT DISTINCT day FROM click_rollup) r, json_each(?1) d ORDER BY 1, 2",
        params![DIMS_JSON],
    );
    let credits = rows(
        db,
        "SELECT r.model, r.day, d.value, (SELECT SUM(conversion_micros) || '/' || SUM(revenue_minor) || '/' \
                || SUM(days_to_convert_ms) FROM credit_dim_rollup x \
                WHERE x.model = r.model AND x.day = r.day AND x.dim = d.value) \
           FROM (SELECT DISTINCT model, day FROM credit_rollup) r, json_each(?1) d ORDER BY 1, 2, 3",
        params![DIMS_JSON],
    );
    (clicks, credits)
}

#[test]
fn every_dimension_sums_to_the_fine_rollups_and_reruns_replace() {
    let db = rolled();
    let fine_clicks = rows(
        &db,
        "SELECT day, SUM(clicks) || '/' || SUM(unique_clicks) || '/' || SUM(bot_clicks) FROM click_rollup GROUP BY day",
        &[],
    );
    let fine_credits = rows(
        &db,
        "SELECT model, day, SUM(conversion_micros) || '/' || SUM(revenue_minor) || '/' || SUM(days_to_convert_ms) \
         FROM credit_rollup GROUP BY model, day",
        &[],
    );
    let (clicks, credits) = sums_by_dim(&db);
    let n = dims().len();
    let per_dim = |fine: &Value, width: usize| -> Value {
        let mut out = Vec::new();
        for row in fine.as_array().expect("rows") {
            let r = row.as_array().expect("row");
            let mut names = dims();
            names.sort();
            for d in names {
                let mut x: Vec<Value> = r[..width].to_vec();
                x.push(json!(d));
                x.push(r[width].clone());
                out.push(Value::Array(x));
            }
        }
        Value::Array(out)
    };
    assert_eq!(clicks, per_dim(&fine_clicks, 1), "click dimensions");
    assert_eq!(credits, per_dim(&fine_credits, 2), "credit dimensions");
    assert_eq!(clicks.as_array().map(Vec::len), Some(2 * n));
    assert_eq!(credits.as_array().map(Vec::len), Some(4 * n));
    // Rerunning for one day replaces its rows and leaves the other's.
    let before = (
        rows(&db, "SELECT * FROM click_dim_rollup ORDER BY 1, 2, 3", &[]),
        rows(
            &db,
            "SELECT * FROM credit_dim_rollup ORDER BY 1, 2, 3, 4",
            &[],
        ),
    );
    dim_rollups(&db, &json_text(&[D]));
    dim_rollups(&db, &json_text(&[D + 1, D]));
    let after = (
        rows(&db, "SELECT * FROM click_dim_rollup ORDER BY 1, 2, 3", &[]),
        rows(
            &db,
            "SELECT * FROM credit_dim_rollup ORDER BY 1, 2, 3, 4",
            &[],
        ),
    );
    assert_eq!(before, after);
}
