//! One attribution run: take the lease, pick the pending and dirty
//! conversions (at most `ATTRIBUTION_BATCH`), load their journeys, rebuild
//! the data-driven table from the period's transition counts, and write
//! credits, findings, paths and the watermark in one transaction.

use crate::attribution::batch;
use crate::attribution::batch::{CreditRow, Finding};
use crate::attribution::markov::{End, RemovalEffects, Transitions};
use crate::base::error::ApiError;
use crate::base::money::Currency;
use crate::base::time;
use crate::base::time::{Millis, DAY, MINUTE};
use crate::config::Config;
use crate::edge::attribution::journeys::{journeys_of, own_keys, PendingRow};
use crate::edge::attribution::rollups::{dim_rollup_statements, retained_from, MaxRow};
use crate::edge::attribution::sql::{
    CLICK_ROLLUP_ADD_SQL, CLICK_ROLLUP_DELETE_SQL, CLICK_ROLLUP_MARK_SQL, CLICK_ROLLUP_SQL,
    CONVERSION_MARKS_SQL, CREDITS_DELETE_SQL, CREDIT_ROLLUP_DELETE_SQL, CREDIT_ROLLUP_SQL,
    INSERT_CREDITS_SQL, LAST_CLICK_SQL, NEW_CLICK_DAYS_SQL, PICK_DIRTY_SQL, PICK_NEW_SQL,
};
use crate::edge::d1::{json_text, query, read, row, stmt, Meter};
use crate::edge::http::unavailable;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeSet;
use worker::{console_log, D1Database};

type Result<T> = std::result::Result<T, ApiError>;

/// How long a run may hold the lease before another may take over.
const LEASE: Millis = 5 * MINUTE;

/// Rows per `json_each` insert statement (one bound parameter each).
const ROWS_PER_STATEMENT: usize = 300;

/// The window of the per-link bot-share and disabled-link findings.
const FINDINGS_WINDOW: Millis = 30 * DAY;

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub trigger: String,
    pub status: &'static str,
    pub started_at: Millis,
    pub processed: usize,
    pub new: usize,
    pub reprocessed: usize,
    pub credit_rows: usize,
    pub findings: usize,
    pub channels: usize,
    pub p_conversion: f64,
    pub rows_read: usize,
    pub rows_written: usize,
    pub more_pending: bool,
}

row! {
    struct PathRow {
        path: String,
    }

    struct TransitionRow {
        a: String,
        b: String,
        n: u64,
    }

    struct StateRow {
        watermark: i64,
        click_rollup_rowid: i64,
    }

    struct DayRow {
        day: i64,
    }
}

/// Runs the attribution job once.
pub async fn run(
    db: &D1Database,
    config: &Config,
    now: Millis,
    trigger: &str,
) -> Result<RunSummary> {
    let mut meter = Meter::default();
    let run_id = hex::encode(crate::edge::random::bytes::<8>());
    let mut summary = RunSummary {
        run_id: run_id.clone(),
        trigger: trigger.to_owned(),
        started_at: now,
        ..RunSummary::default()
    };

    // 1. The lease.
    let lease = stmt(
        query!(
            db,
            "UPDATE attribution_state SET lease_owner = ?1, lease_until = ?2 WHERE id = 1 AND lease_until < ?3",
            run_id,
            now + LEASE,
            now
        ),
        "binding lease",
    )?;
    let lease = crate::edge::d1::sys_all(&lease)
        .await
        .map_err(unavailable("taking the lease"))?;
    if lease.meta().changes.unwrap_or(0) == 0 {
        summary.status = "busy";
        return Ok(summary);
    }
    let result = attribute(db, config, now, &run_id, &mut summary, &mut meter).await;
    if result.is_err() {
        // Release the lease so the next run can retry at once.
        let _ = stmt(
            query!(
                db,
                "UPDATE attribution_state SET lease_until = 0 WHERE id = 1 AND lease_owner = ?1",
                run_id
            ),
            "binding lease release",
        )?
        .run()
        .await;
    }
    result?;
    summary.rows_read = meter.read;
    summary.rows_written = meter.written;
    console_log!(
        "attribution run {run_id} ({trigger}): {} conversions ({} new, {} reprocessed), {} credit rows",
        summary.processed,
        summary.new,
        summary.reprocessed,
        summary.credit_rows
    );
    Ok(summary)
}

async fn attribute(
    db: &D1Database,
    config: &Config,
    now: Millis,
    run_id: &str,
    summary: &mut RunSummary,
    meter: &mut Meter,
) -> Result<()> {
    let settings = &config.attribution;
    let state: Vec<StateRow> = read(
        meter,
        Ok(query!(
            db,
            "SELECT watermark, click_rollup_rowid FROM attribution_state WHERE id = 1"
        )),
        "reading the watermark",
    )
    .await?;
    let watermark = state.first().map_or(0, |s| s.watermark);
    let click_rowid = state.first().map_or(0, |s| s.click_rollup_rowid);
    // The days of the clicks written since the last run (late ones too).
    let click_max: Vec<MaxRow> = read(
        meter,
        Ok(query!(db, LAST_CLICK_SQL)),
        "reading the last click",
    )
    .await?;
    let click_max = click_max.first().and_then(|r| r.m).unwrap_or(click_rowid);
    let click_days: Vec<DayRow> = read(
        meter,
        query!(db, NEW_CLICK_DAYS_SQL, click_rowid, click_max),
        "finding days with new clicks",
    )
    .await?;
    // Days whose raw clicks retention may have pruned are never rebuilt:
    // clicks arriving that late are added to their rollup instead.
    let kept_from = retained_from(config, now);
    let all_click_days: BTreeSet<i64> = click_days.into_iter().map(|d| d.day).collect();
    let late_days: Vec<i64> = all_click_days
        .iter()
        .copied()
        .filter(|d| *d < kept_from)
        .collect();
    let click_days: BTreeSet<i64> = all_click_days
        .iter()
        .copied()
        .filter(|d| *d >= kept_from)
        .collect();

    // 2. What to (re)process: dirty conversions first, then new ones.
    let limit = settings.batch as i64 + 1;
    let dirty: Vec<PendingRow> = read(
        meter,
        query!(
            db,
            PICK_DIRTY_SQL,
            watermark,
            now - settings.reprocess_horizon,
            limit
        ),
        "picking dirty conversions",
    )
    .await?;
    let fresh: Vec<PendingRow> = read(
        meter,
        query!(db, PICK_NEW_SQL, watermark, limit),
        "picking new conversions",
    )
    .await?;
    let mut rows: Vec<PendingRow> = dirty;
    summary.reprocessed = rows.len().min(settings.batch);
    rows.extend(fresh);
    summary.more_pending = rows.len() > settings.batch;
    rows.truncate(settings.batch);
    summary.new = rows.len() - summary.reprocessed;
    summary.processed = rows.len();
    let new_watermark = rows
        .iter()
        .filter(|r| r.id > watermark)
        .map(|r| r.id)
        .max()
        .unwrap_or(watermark);

    // 3. Journeys.
    let inputs: Vec<(i64, Millis, i64, String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.id,
                r.occurred_at,
                r.revenue_minor,
                r.currency.clone(),
                own_keys(r),
            )
        })
        .collect();
    let (mut pending, journeys) = if inputs.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        journeys_of(db, &inputs, config, Some(&mut meter.read)).await?
    };
    // Revenue in the reporting currency, at the rate of the conversion's day.
    let rates = crate::edge::fx::load_rates(db).await?;
    for p in &mut pending {
        p.reporting_minor = Currency::parse(&p.currency).ok().and_then(|c| {
            rates.to_reporting(
                p.revenue_minor,
                c,
                time::day_of(p.occurred_at),
                config.reporting_currency,
            )
        });
    }
    let paths: Vec<Vec<String>> = journeys.iter().map(|j| batch::path(j)).collect();
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();

    // 4. The removal-effect table: converting paths of the period (this
    // batch's new ones, and those stored by earlier runs) and the
    // non-converting click journeys, aggregated in SQL.
    let effects = if pending.is_empty() {
        RemovalEffects::default()
    } else {
        let period_start = now - settings.markov_period;
        let stored: Vec<PathRow> = read(
            meter,
            query!(
                db,
                "SELECT path FROM conversions WHERE path IS NOT NULL AND occurred_at >= ?1 \
                 AND id NOT IN (SELECT value FROM json_each(?2))",
                period_start,
                json_text(&ids)
            ),
            "loading converting paths",
        )
        .await?;
        let non_converting: Vec<TransitionRow> = read(
            meter,
            query!(db, NON_CONVERTING_SQL, period_start, now, 30 * MINUTE),
            "aggregating non-converting paths",
        )
        .await?;
        let mut t = Transitions::default();
        for p in &stored {
            if let Ok(keys) = serde_json::from_str::<Vec<String>>(&p.path) {
                t.add_path(&keys, End::Conversion);
            }
        }
        batch::add_converting(&mut t, &paths);
        for r in &non_converting {
            let from = (r.a != "^").then_some(r.a.as_str());
            let to = if r.b == "$" {
                Err(End::Null)
            } else {
                Ok(r.b.as_str())
            };
            t.add_transition(from, to, r.n);
        }
        t.removal_effects()
    };
    summary.channels = effects.effects.len();
    summary.p_conversion = effects.p_conversion;

    // 5. Credits and findings.
    let credits: Vec<CreditRow> =
        batch::credit_rows(&pending, &journeys, &settings.models, &effects);
    let findings: Vec<Finding> = batch::findings(&pending, &journeys);
    summary.credit_rows = credits.len();
    summary.findings = findings.len();

    // 6. One transaction.
    let ids_json = json_text(&ids);
    let mut writes = vec![
        stmt(
            query!(db, CREDITS_DELETE_SQL, ids_json),
            "binding credit delete",
        )?,
        stmt(
            query!(
                db,
                "DELETE FROM findings WHERE conversion_id IN (SELECT value FROM json_each(?1))",
                ids_json
            ),
            "binding finding delete",
        )?,
    ];
    for chunk in credits.chunks(ROWS_PER_STATEMENT) {
        writes.push(stmt(
            query!(db, INSERT_CREDITS_SQL, json_text(&chunk)),
            "binding credit insert",
        )?);
    }
    for chunk in findings.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|f| json!({"kind": f.kind, "conversion_id": f.conversion_id, "subject": f.subject, "detail": json_text(&f.detail)}))
            .collect();
        writes.push(stmt(
            query!(
                db,
                "INSERT INTO findings (kind, conversion_id, subject, detail, recorded_at) \
                 SELECT json_extract(value, '$.kind'), json_extract(value, '$.conversion_id'), \
                        json_extract(value, '$.subject'), json_extract(value, '$.detail'), ?2 FROM json_each(?1)",
                json_text(&rows),
                now
            ),
            "binding finding insert",
        )?);
    }
    let marks: Vec<_> = pending
        .iter()
        .zip(&paths)
        .map(|(p, path)| json!({"id": p.id, "path": path, "reporting": p.reporting_minor}))
        .collect();
    for chunk in marks.chunks(ROWS_PER_STATEMENT) {
        writes.push(stmt(
            query!(db, CONVERSION_MARKS_SQL, json_text(&chunk), now),
            "binding conversion marks",
        )?);
    }
    writes.push(stmt(
        query!(
            db,
            "INSERT INTO findings (kind, conversion_id, subject, recorded_at) \
             SELECT 'unknown_code', c.id, j.value, ?2 FROM conversions c, json_each(c.promo_codes) j \
             WHERE c.id IN (SELECT value FROM json_each(?1)) AND j.value NOT IN (SELECT code FROM codes)",
            ids_json,
            now
        ),
        "binding unknown-code findings",
    )?);
    if !pending.is_empty() {
        let table: Vec<_> = effects
            .effects
            .iter()
            .map(|(k, v)| json!({"k": k, "e": v}))
            .collect();
        writes.push(stmt(
            Ok(query!(db, "DELETE FROM removal_effects")),
            "binding effect delete",
        )?);
        for chunk in table.chunks(ROWS_PER_STATEMENT) {
            writes.push(stmt(
                query!(
                    db,
                    "INSERT INTO removal_effects (channel_key, effect, computed_at) \
                     SELECT json_extract(value, '$.k'), json_extract(value, '$.e'), ?2 FROM json_each(?1)",
                    json_text(&chunk),
                    now
                ),
                "binding effect insert",
            )?);
        }
    }
    // Link-level findings, refreshed every run.
    writes.push(stmt(
        Ok(query!(
            db,
            "DELETE FROM findings WHERE kind IN ('bot_share', 'disabled_link_clicks')"
        )),
        "binding link finding delete",
    )?);
    writes.push(stmt(
        query!(
            db,
            "INSERT INTO findings (kind, subject, detail, recorded_at) \
             SELECT 'bot_share', l.slug, json_object('clicks', COUNT(*), 'bot_clicks', SUM(k.is_bot), \
                    'share', ROUND(1.0 * SUM(k.is_bot) / COUNT(*), 4)), ?2 \
               FROM clicks k JOIN links l ON l.id = k.link_id WHERE k.ts >= ?1 \
              GROUP BY l.id HAVING SUM(k.is_bot) > 0",
            now - FINDINGS_WINDOW,
            now
        ),
        "binding bot-share findings",
    )?);
    writes.push(stmt(
        query!(
            db,
            "INSERT INTO findings (kind, subject, detail, recorded_at) \
             SELECT 'disabled_link_clicks', l.slug, json_object('visits', COUNT(*), 'bot_visits', SUM(m.is_bot), \
                    'reason', MAX(m.reason), 'last_at', MAX(m.ts)), ?2 \
               FROM link_misses m JOIN links l ON l.id = m.link_id WHERE m.ts >= ?1 GROUP BY l.id",
            now - FINDINGS_WINDOW,
            now
        ),
        "binding disabled-link findings",
    )?);
    // Rollups for reports: the credit days this run touched, and the clicks
    // since the last run (from the day before, for late writes).
    let days: BTreeSet<i64> = pending
        .iter()
        .map(|p| time::day_of(p.occurred_at))
        .collect();
    if !days.is_empty() {
        let days_json = json_text(&days);
        writes.push(stmt(
            query!(db, CREDIT_ROLLUP_DELETE_SQL, days_json),
            "binding credit rollup delete",
        )?);
        writes.push(stmt(
            query!(
                db,
                CREDIT_ROLLUP_SQL,
                days_json,
                days.first().copied().unwrap_or(0) * DAY,
                (days.last().copied().unwrap_or(0) + 1) * DAY
            ),
            "binding credit rollup",
        )?);
    }
    if let (Some(first), Some(last)) = (click_days.first(), click_days.last()) {
        let days_json = json_text(&click_days);
        writes.push(stmt(
            query!(db, CLICK_ROLLUP_DELETE_SQL, days_json),
            "binding click rollup delete",
        )?);
        writes.push(stmt(
            query!(
                db,
                CLICK_ROLLUP_SQL,
                first * DAY,
                (last + 1) * DAY,
                30 * MINUTE,
                days_json
            ),
            "binding click rollup",
        )?);
    }
    if !late_days.is_empty() {
        writes.push(stmt(
            query!(
                db,
                CLICK_ROLLUP_ADD_SQL,
                click_rowid,
                click_max,
                kept_from * DAY,
                30 * MINUTE
            ),
            "binding late click rollup",
        )?);
    }
    let touched: BTreeSet<i64> = days
        .union(&click_days)
        .copied()
        .chain(late_days.iter().copied())
        .collect();
    if !touched.is_empty() {
        writes.extend(dim_rollup_statements(db, &json_text(&touched))?);
    }
    writes.push(stmt(
        query!(db, CLICK_ROLLUP_MARK_SQL, click_max),
        "binding click rollup mark",
    )?);
    summary.status = "ok";
    let summary_json = serde_json::to_string(&*summary).unwrap_or_default();
    writes.push(stmt(
        query!(
            db,
            "UPDATE attribution_state SET watermark = MAX(watermark, ?1), last_run_at = ?2, last_run = ?3, lease_until = 0 \
             WHERE id = 1 AND lease_owner = ?4",
            new_watermark,
            now,
            summary_json,
            run_id
        ),
        "binding state update",
    )?);
    let results = crate::edge::d1::batch(db, writes, "writing attribution results").await?;
    for r in &results {
        meter.add(r);
    }
    Ok(())
}

/// Transition counts of the period's non-converting click journeys: the
/// human clicks of visitors whose person never converted, repeat clicks of
/// one link within 30 minutes collapsed, as `(a, b, n)` with `^` for START
/// and `$` for the end (NULL).
const NON_CONVERTING_SQL: &str = "\
WITH converted AS (
  SELECT visitor_id AS v FROM conversions WHERE visitor_id IS NOT NULL
  UNION
  SELECT substr(x.key, 3) FROM identities x WHERE x.key LIKE 'v:%' AND x.person_id IN (
    SELECT i.person_id FROM identities i JOIN conversions c
      ON i.key = 'v:' || c.visitor_id OR i.key = 'c:' || c.customer_id OR i.key = 'e:' || c.email_sha256)
), raw AS (
  SELECT k.id, k.visitor_id AS v, k.ts, inf.handle AS key,
         LAG(k.ts) OVER (PARTITION BY k.visitor_id, k.link_id ORDER BY k.ts, k.id) AS prev_same
    FROM clicks k JOIN links l ON l.id = k.link_id JOIN influencers inf ON inf.id = l.influencer_id
   WHERE k.is_bot = 0 AND k.ts BETWEEN ?1 AND ?2 AND k.visitor_id NOT IN (SELECT v FROM converted)
), kept AS (
  SELECT id, v, ts, key FROM raw WHERE prev_same IS NULL OR ts - prev_same >= ?3
), seq AS (
  SELECT key, LAG(key) OVER (PARTITION BY v ORDER BY ts, id) AS prev,
         LEAD(key) OVER (PARTITION BY v ORDER BY ts, id) AS next FROM kept
)
SELECT COALESCE(prev, '^') AS a, key AS b, COUNT(*) AS n FROM seq GROUP BY 1, 2
UNION ALL
SELECT key AS a, '$' AS b, COUNT(*) AS n FROM seq WHERE next IS NULL GROUP BY 1";
