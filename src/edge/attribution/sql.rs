//! The attribution job's SQL: picking conversions, loading journeys
//! (persons and candidate touchpoints), writing credits and the marks, and
//! the report rollups. Only constants and text builders, no bindings: the
//! handlers bind them, and `tests/sql/` runs them against SQLite with the
//! migrations applied.

// ---- Picking conversions (run.rs) -------------------------------------------

/// The last click's rowid.
pub const LAST_CLICK_SQL: &str = "SELECT MAX(rowid) AS m FROM clicks";

/// The days of the clicks with rowids in `?1 < rowid <= ?2` (written since
/// the last run, however late they arrived).
pub const NEW_CLICK_DAYS_SQL: &str =
    "SELECT DISTINCT ts / 86400000 AS day FROM clicks WHERE rowid > ?1 AND rowid <= ?2";

/// Conversions to reprocess: dirty ones (a late touchpoint or a merge,
/// `dirty = 1`) that occurred since `?2`, and refunded ones (`dirty = 2`),
/// at or below the watermark `?1`; at most `?3`.
pub const PICK_DIRTY_SQL: &str =
    "SELECT id, occurred_at, revenue_minor - refunded_minor AS revenue_minor, currency, visitor_id, customer_id, \
                    email_sha256 FROM conversions \
             WHERE ((dirty = 1 AND occurred_at >= ?2) OR dirty = 2) AND id <= ?1 ORDER BY id LIMIT ?3";

/// New conversions: above the watermark `?1`; at most `?2`.
pub const PICK_NEW_SQL: &str =
    "SELECT id, occurred_at, revenue_minor - refunded_minor AS revenue_minor, currency, visitor_id, customer_id, \
                    email_sha256 FROM conversions \
             WHERE id > ?1 ORDER BY id LIMIT ?2";

// ---- Journeys (journeys.rs) -------------------------------------------------

/// Each seed identity key of `?1` (JSON) with every key of its person
/// (itself included).
pub const PERSON_KEYS_SQL: &str =
    "SELECT a.key AS seed, b.key AS key FROM identities a JOIN identities b ON b.person_id = a.person_id \
             WHERE a.key IN (SELECT value FROM json_each(?1))";

/// The candidate touchpoints of a batch: the human clicks of the visitors
/// in `?1` (JSON) and the channel touchpoints of those visitors or of the
/// customers in `?2`, between `?3` and `?4` (ms, inclusive); and the code
/// touchpoints of the conversions in `?5` (JSON ids), whenever they were.
pub const CANDIDATES_SQL: &str =
    "SELECT 'click:' || k.id AS key, 'click' AS kind, k.ts AS at, 'influencer' AS channel, i.handle AS influencer, \
                    cp.slug AS campaign, l.slug AS link, l.content, l.platform, k.code, k.app, NULL AS source, NULL AS medium, \
                    k.visitor_id, NULL AS customer_id, NULL AS conversion_id \
               FROM clicks k JOIN links l ON l.id = k.link_id JOIN influencers i ON i.id = l.influencer_id \
               JOIN campaigns cp ON cp.id = l.campaign_id \
              WHERE k.visitor_id IN (SELECT value FROM json_each(?1)) AND k.is_bot = 0 AND k.ts BETWEEN ?3 AND ?4 \
             UNION ALL \
             SELECT CASE t.kind WHEN 'code' THEN 'code:' ELSE 'tp:' END || t.id, t.kind, t.occurred_at, t.channel, i.handle, \
                    cp.slug, NULL, NULL, NULL, t.code, NULL, t.source, t.medium, t.visitor_id, t.customer_id, \
                    CASE t.kind WHEN 'code' THEN t.conversion_id END \
               FROM touchpoints t LEFT JOIN influencers i ON i.id = t.influencer_id \
               LEFT JOIN campaigns cp ON cp.id = t.campaign_id \
              WHERE (t.kind = 'channel' AND t.occurred_at BETWEEN ?3 AND ?4 \
                     AND (t.visitor_id IN (SELECT value FROM json_each(?1)) OR t.customer_id IN (SELECT value FROM json_each(?2)))) \
                 OR (t.kind = 'code' AND t.conversion_id IN (SELECT value FROM json_each(?5)))";

// ---- Writing a run's results (run.rs) ---------------------------------------

/// Deletes the credits of the conversions in `?1` (JSON ids).
pub const CREDITS_DELETE_SQL: &str =
    "DELETE FROM credits WHERE conversion_id IN (SELECT value FROM json_each(?1))";

/// Inserts credit rows, `?1` a JSON array of them (the core's `CreditRow`).
pub const INSERT_CREDITS_SQL: &str = "\
INSERT INTO credits (conversion_id, model, position, touchpoint_key, touch_kind, touched_at, converted_at, channel,
                     channel_key, influencer, campaign, link, content, platform, app, code, revenue_minor, currency,
                     conversion_micros, is_assist, reporting_minor)
SELECT json_extract(value, '$.conversion_id'), json_extract(value, '$.model'), json_extract(value, '$.position'),
       json_extract(value, '$.touchpoint_key'), json_extract(value, '$.touch_kind'), json_extract(value, '$.touched_at'),
       json_extract(value, '$.converted_at'), json_extract(value, '$.channel'), json_extract(value, '$.channel_key'),
       json_extract(value, '$.influencer'), json_extract(value, '$.campaign'), json_extract(value, '$.link'),
       json_extract(value, '$.content'), json_extract(value, '$.platform'), json_extract(value, '$.app'),
       json_extract(value, '$.code'), json_extract(value, '$.revenue_minor'), json_extract(value, '$.currency'),
       json_extract(value, '$.conversion_micros'), json_extract(value, '$.is_assist'), json_extract(value, '$.reporting_minor')
  FROM json_each(?1)";

/// Marks conversions attributed at `?2`: `?1` is a JSON array of
/// `{id, path, reporting}`; their dirty flag is cleared.
pub const CONVERSION_MARKS_SQL: &str = "UPDATE conversions SET attributed_at = ?2, dirty = 0, \
                        path = (SELECT json_extract(value, '$.path') FROM json_each(?1) \
                                WHERE json_extract(value, '$.id') = conversions.id), \
                        reporting_minor = (SELECT json_extract(value, '$.reporting') FROM json_each(?1) \
                                           WHERE json_extract(value, '$.id') = conversions.id) \
                 WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))";

/// Moves the click rollup's rowid mark up to `?1`.
pub const CLICK_ROLLUP_MARK_SQL: &str =
    "UPDATE attribution_state SET click_rollup_rowid = MAX(click_rollup_rowid, ?1) WHERE id = 1";

// ---- Rollups (run.rs, rollups.rs) -------------------------------------------

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

/// Deletes the credit rollup of the days in `?1` (JSON).
pub const CREDIT_ROLLUP_DELETE_SQL: &str =
    "DELETE FROM credit_rollup WHERE day IN (SELECT value FROM json_each(?1))";

/// Deletes the click rollup of the days in `?1` (JSON).
pub const CLICK_ROLLUP_DELETE_SQL: &str =
    "DELETE FROM click_rollup WHERE day IN (SELECT value FROM json_each(?1))";

/// Deletes the credit rollup of day `?1`.
pub const CREDIT_ROLLUP_DELETE_DAY_SQL: &str = "DELETE FROM credit_rollup WHERE day = ?1";

/// Deletes the click rollup of day `?1`.
pub const CLICK_ROLLUP_DELETE_DAY_SQL: &str = "DELETE FROM click_rollup WHERE day = ?1";

/// The first and last day with clicks or credits.
pub const DATA_DAYS_SQL: &str = "SELECT MIN(lo) AS lo, MAX(hi) AS hi FROM ( \
               SELECT MIN(ts) / 86400000 AS lo, MAX(ts) / 86400000 AS hi FROM clicks \
               UNION ALL SELECT MIN(converted_at) / 86400000, MAX(converted_at) / 86400000 FROM credits)";

/// After a rebuild: the click rollup's mark moves up to `?1` (the last
/// click), but stops short of clicks past the mark from days before `?2`
/// (ms; never rebuilt), which the next run adds to their rollup.
pub const REBUILD_MARK_SQL: &str = "UPDATE attribution_state SET click_rollup_rowid = MAX(click_rollup_rowid, MIN(?1, COALESCE(\
               (SELECT MIN(rowid) - 1 FROM clicks WHERE rowid > click_rollup_rowid AND ts < ?2), ?1))) WHERE id = 1";

// ---- Per-dimension rollups (rollups.rs: `dim_rollup_statements`) -------------

/// The dimensions of the per-dimension rollups, as SQL over
/// `click_rollup r` joined with `links l`, `influencers i`, `campaigns cp`.
pub const CLICK_DIM_KEY: &str = "COALESCE(CASE d.value WHEN 'influencer' THEN i.handle WHEN 'campaign' THEN cp.slug \
     WHEN 'content' THEN l.content WHEN 'platform' THEN l.platform WHEN 'link' THEN l.slug WHEN 'app' THEN r.app \
     WHEN 'code' THEN l.discount_code WHEN 'channel' THEN 'influencer' WHEN 'trigger' THEN r.trigger \
     WHEN 'rule' THEN r.rule WHEN 'variant' THEN r.variant END, '')";

/// The same over `credit_rollup c` (reports' semantics: no link means no
/// app; a link without an app is the browser).
pub const CREDIT_DIM_KEY: &str =
    "COALESCE(CASE d.value WHEN 'influencer' THEN c.influencer WHEN 'campaign' THEN c.campaign \
     WHEN 'content' THEN c.content WHEN 'platform' THEN c.platform WHEN 'link' THEN c.link \
     WHEN 'app' THEN COALESCE(NULLIF(c.app, ''), CASE WHEN c.link <> '' THEN 'browser' END) \
     WHEN 'code' THEN c.code WHEN 'channel' THEN c.channel WHEN 'trigger' THEN c.trigger \
     WHEN 'rule' THEN c.rule WHEN 'variant' THEN c.variant END, '')";

/// Every dimension (`all`: time-only groupings), as the JSON bound to `?2`.
pub const DIMS_JSON: &str = "[\"influencer\",\"campaign\",\"content\",\"platform\",\"link\",\"app\",\"code\",\"channel\",\"trigger\",\"rule\",\"variant\",\"all\"]";

/// Deletes the click dimension rollup of the days in `?1` (JSON).
pub const CLICK_DIM_DELETE_SQL: &str =
    "DELETE FROM click_dim_rollup WHERE day IN (SELECT value FROM json_each(?1))";

/// Deletes the credit dimension rollup of the days in `?1` (JSON).
pub const CREDIT_DIM_DELETE_SQL: &str =
    "DELETE FROM credit_dim_rollup WHERE day IN (SELECT value FROM json_each(?1))";

/// Rebuilds the click dimension rollup of the days in `?1` (JSON) for the
/// dimensions in `?2` ([`DIMS_JSON`]) from the click rollup.
pub fn click_dim_rollup_sql() -> String {
    format!(
        "INSERT INTO click_dim_rollup (dim, day, key, clicks, unique_clicks, bot_clicks) \
                     SELECT d.value, r.day, {CLICK_DIM_KEY}, SUM(r.clicks), SUM(r.unique_clicks), SUM(r.bot_clicks) \
                       FROM click_rollup r JOIN links l ON l.id = r.link_id JOIN influencers i ON i.id = l.influencer_id \
                       JOIN campaigns cp ON cp.id = l.campaign_id, json_each(?2) d \
                      WHERE r.day IN (SELECT value FROM json_each(?1)) GROUP BY 1, 2, 3"
    )
}

/// Rebuilds the credit dimension rollup of the days in `?1` (JSON) for the
/// dimensions in `?2` ([`DIMS_JSON`]) from the credit rollup.
pub fn credit_dim_rollup_sql() -> String {
    format!(
        "INSERT INTO credit_dim_rollup (model, dim, day, key, conversion_micros, revenue_minor, \
                                                   assisted_conversions, assisted_revenue, days_to_convert_ms) \
                     SELECT c.model, d.value, c.day, {CREDIT_DIM_KEY}, SUM(c.conversion_micros), SUM(c.revenue_minor), \
                            SUM(c.assisted_conversions), SUM(c.assisted_revenue), SUM(c.days_to_convert_ms) \
                       FROM credit_rollup c, json_each(?2) d \
                      WHERE c.day IN (SELECT value FROM json_each(?1)) GROUP BY 1, 2, 3, 4"
    )
}
