//! The report rollups: `click_rollup` and `credit_rollup` (fine, day ×
//! link × …) and the per-dimension `click_dim_rollup` / `credit_dim_rollup`,
//! rebuilt for the days a run touched (late clicks found by a rowid
//! watermark) or for any range on request.

use crate::base::error::ApiError;
use crate::base::time::{Millis, DAY, MINUTE};
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

/// Recomputes the credit rollup of the days in `?1` (a JSON array of day
/// numbers; `?2`..`?3` bound their milliseconds for the index). Per group,
/// assisted conversions count distinct conversions, and assisted revenue
/// sums those conversions' whole (reporting) revenue.
pub const CREDIT_ROLLUP_SQL: &str = "\
INSERT INTO credit_rollup (day, model, channel, influencer, campaign, link, content, platform, app, code,
                           trigger, rule, variant,
                           conversion_micros, revenue_minor, assisted_conversions, assisted_revenue, days_to_convert_ms)
SELECT day, model, channel, influencer, campaign, link, content, platform, app, code, trigger, rule, variant,
       SUM(micros), SUM(revenue), SUM(assisted), SUM(CASE WHEN assisted = 1 THEN total ELSE 0 END), SUM(dtc)
  FROM (
    SELECT day, model, channel, influencer, campaign, link, content, platform, app, code, trigger, rule, variant,
           conversion_id, SUM(conversion_micros) AS micros, SUM(reporting_minor) AS revenue,
           MAX(is_assist) AS assisted, MAX(total) AS total, SUM(dtc_part) / 1000000 AS dtc
      FROM (
        SELECT c.converted_at / 86400000 AS day, c.model, c.channel, COALESCE(c.influencer, '') AS influencer,
               COALESCE(c.campaign, '') AS campaign, COALESCE(c.link, '') AS link, COALESCE(c.content, '') AS content,
               COALESCE(c.platform, '') AS platform, COALESCE(c.app, '') AS app, COALESCE(c.code, '') AS code,
               COALESCE(k.trigger, '') AS trigger, COALESCE(k.rule, '') AS rule, COALESCE(k.variant, '') AS variant,
               c.conversion_id, c.conversion_micros, c.reporting_minor, c.is_assist,
               SUM(c.reporting_minor) OVER (PARTITION BY c.conversion_id, c.model) AS total,
               (c.converted_at - c.touched_at) * c.conversion_micros AS dtc_part
          FROM credits c LEFT JOIN clicks k ON c.touch_kind = 'click' AND k.id = substr(c.touchpoint_key, 7)
         WHERE c.converted_at >= ?2 AND c.converted_at < ?3 AND c.reporting_minor IS NOT NULL)
     WHERE day IN (SELECT value FROM json_each(?1))
     GROUP BY day, model, channel, influencer, campaign, link, content, platform, app, code, trigger, rule, variant,
              conversion_id)
 GROUP BY day, model, channel, influencer, campaign, link, content, platform, app, code, trigger, rule, variant";

/// Recomputes the click rollup of the days in `?4` (JSON; `?1`..`?2` bound
/// their milliseconds): clicks, unique clicks (the 30-minute rule, `?3`,
/// looking back across the first day's start) and bot clicks per day, link,
/// app, trigger, rule and variant.
pub const CLICK_ROLLUP_SQL: &str = "\
INSERT INTO click_rollup (day, link_id, app, trigger, rule, variant, clicks, unique_clicks, bot_clicks)
SELECT ts / 86400000, link_id, COALESCE(app, 'browser'), trigger, COALESCE(rule, ''), COALESCE(variant, ''),
       SUM(1 - is_bot), SUM(CASE WHEN is_bot = 0 AND (prev IS NULL OR ts - prev >= ?3) THEN 1 ELSE 0 END), SUM(is_bot)
  FROM (SELECT ts, link_id, app, trigger, rule, variant, is_bot,
               CASE WHEN is_bot = 0 THEN LAG(ts) OVER (PARTITION BY link_id, visitor_id, is_bot ORDER BY ts, id) END AS prev
          FROM clicks WHERE ts >= ?1 - ?3 AND ts < ?2)
 WHERE ts >= ?1 AND ts / 86400000 IN (SELECT value FROM json_each(?4))
 GROUP BY 1, 2, 3, 4, 5, 6";

/// Adds clicks with rowids in `?1 < rowid <= ?2` from days before `?3`
/// (ms) to the click rollup: days whose raw clicks retention may have
/// pruned, so they are never rebuilt. Unique clicks count among the added
/// clicks (the 30-minute rule, `?4`).
pub const CLICK_ROLLUP_ADD_SQL: &str = "\
INSERT INTO click_rollup (day, link_id, app, trigger, rule, variant, clicks, unique_clicks, bot_clicks)
SELECT ts / 86400000, link_id, COALESCE(app, 'browser'), trigger, COALESCE(rule, ''), COALESCE(variant, ''),
       SUM(1 - is_bot), SUM(CASE WHEN is_bot = 0 AND (prev IS NULL OR ts - prev >= ?4) THEN 1 ELSE 0 END), SUM(is_bot)
  FROM (SELECT ts, link_id, app, trigger, rule, variant, is_bot,
               CASE WHEN is_bot = 0 THEN LAG(ts) OVER (PARTITION BY link_id, visitor_id, is_bot ORDER BY ts, id) END AS prev
          FROM clicks WHERE rowid > ?1 AND rowid <= ?2 AND ts < ?3)
 WHERE 1
 GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (day, link_id, app, trigger, rule, variant) DO UPDATE SET
  clicks = clicks + excluded.clicks, unique_clicks = unique_clicks + excluded.unique_clicks,
  bot_clicks = bot_clicks + excluded.bot_clicks";

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
        Ok(query!(
            db,
            "SELECT MIN(lo) AS lo, MAX(hi) AS hi FROM ( \
               SELECT MIN(ts) / 86400000 AS lo, MAX(ts) / 86400000 AS hi FROM clicks \
               UNION ALL SELECT MIN(converted_at) / 86400000, MAX(converted_at) / 86400000 FROM credits)"
        )),
        "finding the data's days",
    )
    .await?;
    let days_wanted = wanted.days(ranges.first().map_or((None, None), |r| (r.lo, r.hi)))?;
    let click_max: Vec<MaxRow> = read(
        &mut meter,
        Ok(query!(db, "SELECT MAX(rowid) AS m FROM clicks")),
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
                    query!(db, "DELETE FROM click_rollup WHERE day = ?1", day),
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
                    query!(db, "DELETE FROM credit_rollup WHERE day = ?1", day),
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
            "UPDATE attribution_state SET click_rollup_rowid = MAX(click_rollup_rowid, MIN(?1, COALESCE(\
               (SELECT MIN(rowid) - 1 FROM clicks WHERE rowid > click_rollup_rowid AND ts < ?2), ?1))) WHERE id = 1",
            click_max,
            kept_from.saturating_mul(DAY)
        ),
        "binding click rollup mark",
    )?;
    crate::edge::d1::batch(db, vec![mark], "marking the click rollup").await?;
    Ok(json!({"days": days, "rows_read": meter.read, "rows_written": meter.written}))
}

/// The dimensions of the per-dimension rollups, as SQL over
/// `click_rollup r` joined with `links l`, `influencers i`, `campaigns cp`.
const CLICK_DIM_KEY: &str = "COALESCE(CASE d.value WHEN 'influencer' THEN i.handle WHEN 'campaign' THEN cp.slug \
     WHEN 'content' THEN l.content WHEN 'platform' THEN l.platform WHEN 'link' THEN l.slug WHEN 'app' THEN r.app \
     WHEN 'code' THEN l.discount_code WHEN 'channel' THEN 'influencer' WHEN 'trigger' THEN r.trigger \
     WHEN 'rule' THEN r.rule WHEN 'variant' THEN r.variant END, '')";

/// The same over `credit_rollup c` (reports' semantics: no link means no
/// app; a link without an app is the browser).
const CREDIT_DIM_KEY: &str =
    "COALESCE(CASE d.value WHEN 'influencer' THEN c.influencer WHEN 'campaign' THEN c.campaign \
     WHEN 'content' THEN c.content WHEN 'platform' THEN c.platform WHEN 'link' THEN c.link \
     WHEN 'app' THEN COALESCE(NULLIF(c.app, ''), CASE WHEN c.link <> '' THEN 'browser' END) \
     WHEN 'code' THEN c.code WHEN 'channel' THEN c.channel WHEN 'trigger' THEN c.trigger \
     WHEN 'rule' THEN c.rule WHEN 'variant' THEN c.variant END, '')";

const DIMS_JSON: &str = "[\"influencer\",\"campaign\",\"content\",\"platform\",\"link\",\"app\",\"code\",\"channel\",\"trigger\",\"rule\",\"variant\",\"all\"]";

/// Statements that rebuild the per-dimension rollups of the days in
/// `days_json` from the fine rollups (which must be current).
pub fn dim_rollup_statements(db: &D1Database, days_json: &str) -> Result<Vec<D1PreparedStatement>> {
    Ok(vec![
        stmt(
            query!(db, "DELETE FROM click_dim_rollup WHERE day IN (SELECT value FROM json_each(?1))", days_json),
            "binding click dim delete",
        )?,
        stmt(
            query!(
                db,
                &format!(
                    "INSERT INTO click_dim_rollup (dim, day, key, clicks, unique_clicks, bot_clicks) \
                     SELECT d.value, r.day, {CLICK_DIM_KEY}, SUM(r.clicks), SUM(r.unique_clicks), SUM(r.bot_clicks) \
                       FROM click_rollup r JOIN links l ON l.id = r.link_id JOIN influencers i ON i.id = l.influencer_id \
                       JOIN campaigns cp ON cp.id = l.campaign_id, json_each(?2) d \
                      WHERE r.day IN (SELECT value FROM json_each(?1)) GROUP BY 1, 2, 3"
                ),
                days_json,
                DIMS_JSON
            ),
            "binding click dim rollup",
        )?,
        stmt(
            query!(db, "DELETE FROM credit_dim_rollup WHERE day IN (SELECT value FROM json_each(?1))", days_json),
            "binding credit dim delete",
        )?,
        stmt(
            query!(
                db,
                &format!(
                    "INSERT INTO credit_dim_rollup (model, dim, day, key, conversion_micros, revenue_minor, \
                                                   assisted_conversions, assisted_revenue, days_to_convert_ms) \
                     SELECT c.model, d.value, c.day, {CREDIT_DIM_KEY}, SUM(c.conversion_micros), SUM(c.revenue_minor), \
                            SUM(c.assisted_conversions), SUM(c.assisted_revenue), SUM(c.days_to_convert_ms) \
                       FROM credit_rollup c, json_each(?2) d \
                      WHERE c.day IN (SELECT value FROM json_each(?1)) GROUP BY 1, 2, 3, 4"
                ),
                days_json,
                DIMS_JSON
            ),
            "binding credit dim rollup",
        )?,
    ])
}
