//! The report rollups: `click_rollup` and `credit_rollup` (fine, day ×
//! link × …) and the per-dimension `click_dim_rollup` / `credit_dim_rollup`,
//! rebuilt for the days a run touched (late clicks found by a rowid
//! watermark) or for any range on request.

use crate::base::error::ApiError;
use crate::base::time::{Millis, DAY, MINUTE};
use crate::edge::attribution::sql::{
    click_dim_rollup_sql, credit_dim_rollup_sql, CLICK_DIM_DELETE_SQL, CLICK_ROLLUP_DELETE_DAY_SQL,
    CLICK_ROLLUP_SQL, CREDIT_DIM_DELETE_SQL, CREDIT_ROLLUP_DELETE_DAY_SQL, CREDIT_ROLLUP_SQL,
    DATA_DAYS_SQL, DIMS_JSON, LAST_CLICK_SQL, REBUILD_MARK_SQL,
};
use crate::edge::d1::{json_text, query, read, row, stmt, Meter};
use crate::reporting::report::RollupRange;
use serde_json::json;
use worker::{D1Database, D1PreparedStatement};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    pub struct MaxRow {
        pub m: Option<i64>,
    }
}

/// The first day whose raw clicks are all still stored (`RETENTION_DAYS`
/// prunes older ones); click rollups of earlier days are never rebuilt.
pub fn retained_from(config: &crate::config::Config, now: Millis) -> i64 {
    config
        .retention_days
        .map_or(i64::MIN, |d| (now - i64::from(d) * DAY).div_euclid(DAY) + 1)
}

/// Rebuilds the report rollups day by day (`?from=&to=`, dates; default:
/// every day with clicks or credits), one D1 batch per day so each stays
/// small. For repairs and for seeded data; runs keep them current otherwise.
/// Click rollups of days before `kept_from` are left as they are.
pub async fn rebuild_rollups(
    db: &D1Database,
    query: &str,
    kept_from: i64,
) -> Result<serde_json::Value> {
    row! {
        struct Range {
            lo: Option<i64>,
            hi: Option<i64>,
        }
    }
    let wanted = RollupRange::from_query(query)?;
    let mut meter = Meter::default();
    let ranges: Vec<Range> = read(
        &mut meter,
        Ok(query!(db, DATA_DAYS_SQL)),
        "finding the data's days",
    )
    .await?;
    let days_wanted = wanted.days(ranges.first().map_or((None, None), |r| (r.lo, r.hi)))?;
    let click_max: Vec<MaxRow> = read(
        &mut meter,
        Ok(query!(db, LAST_CLICK_SQL)),
        "reading the last click",
    )
    .await?;
    let click_max = click_max.first().and_then(|r| r.m).unwrap_or(0);
    let mut days = 0;
    if let Some((lo, hi)) = days_wanted {
        for day in lo..=hi {
            let one = json_text(&[day]);
            let mut writes = Vec::new();
            if day >= kept_from {
                writes.push(stmt(
                    query!(db, CLICK_ROLLUP_DELETE_DAY_SQL, day),
                    "binding click rollup delete",
                )?);
                writes.push(stmt(
                    query!(
                        db,
                        CLICK_ROLLUP_SQL,
                        day * DAY,
                        (day + 1) * DAY,
                        30 * MINUTE,
                        one.clone()
                    ),
                    "binding click rollup",
                )?);
            }
            writes.extend([
                stmt(
                    query!(db, CREDIT_ROLLUP_DELETE_DAY_SQL, day),
                    "binding credit rollup delete",
                )?,
                stmt(
                    query!(
                        db,
                        CREDIT_ROLLUP_SQL,
                        one.clone(),
                        day * DAY,
                        (day + 1) * DAY
                    ),
                    "binding credit rollup",
                )?,
            ]);
            writes.extend(dim_rollup_statements(db, &one)?);
            for r in crate::edge::d1::batch(db, writes, "rebuilding rollups").await? {
                meter.add(&r);
            }
            days += 1;
        }
    }
    // The mark stops short of clicks that arrived for days before
    // `kept_from` (never rebuilt): the next run adds them to their rollup.
    let mark = stmt(
        query!(
            db,
            REBUILD_MARK_SQL,
            click_max,
            kept_from.saturating_mul(DAY)
        ),
        "binding click rollup mark",
    )?;
    crate::edge::d1::batch(db, vec![mark], "marking the click rollup").await?;
    Ok(json!({"days": days, "rows_read": meter.read, "rows_written": meter.written}))
}

/// Statements that rebuild the per-dimension rollups of the days in
/// `days_json` from the fine rollups (which must be current).
pub fn dim_rollup_statements(db: &D1Database, days_json: &str) -> Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        stmt(
            query!(db, CLICK_DIM_DELETE_SQL, days_json),
            "binding click dim delete",
        )?,
        stmt(
            query!(db, &click_dim_rollup_sql(), days_json, DIMS_JSON),
            "binding click dim rollup",
        )?,
        stmt(
            query!(db, CREDIT_DIM_DELETE_SQL, days_json),
            "binding credit dim delete",
        )?,
        stmt(
            query!(db, &credit_dim_rollup_sql(), days_json, DIMS_JSON),
            "binding credit dim rollup",
        )?,
    ])
}
