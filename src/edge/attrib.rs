//! The attribution job in the shell: the scheduled handler and
//! `POST /api/v1/attribution/run` both call [`run`].
//!
//! One run: take the lease; pick new conversions (after the watermark) and
//! dirty ones (late touchpoints, within the reprocess horizon), at most
//! `ATTRIBUTION_BATCH`; load their persons and candidate touchpoints in bulk;
//! let the core build journeys, the removal-effect table and the credit
//! rows; write everything in one D1 batch (a transaction) that replaces the
//! conversions' credits and findings, advances the watermark and releases
//! the lease. A rerun finds nothing new and changes nothing; an overlapping
//! run finds the lease taken.

use super::http::unavailable;
use super::random;
use super::rows::{query, row, D1Out, FromRow};
use super::store::{all_metered, json_text, stmt};
use crate::attribution::batch::{self, Candidate, CreditRow, Finding, Pending};
use crate::attribution::journey::{TouchKind, Touchpoint};
use crate::attribution::markov::{End, RemovalEffects, Transitions};
use crate::base::error::ApiError;
use crate::base::money::Currency;
use crate::base::time::{self, Millis, DAY, MINUTE};
use crate::config::Config;
use crate::ingest::conversion::hex;
use crate::ingest::identity::{self, IdKind};
use crate::reporting::report::RollupRange;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use worker::{console_log, D1Database, D1PreparedStatement};

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
    struct PendingRow {
        id: i64,
        occurred_at: Millis,
        revenue_minor: i64,
        currency: String,
        visitor_id: Option<String>,
        customer_id: Option<String>,
        email_sha256: Option<String>,
    }

    struct KeyRow {
        seed: String,
        key: String,
    }

    struct CandidateRow {
        key: String,
        kind: String,
        at: Millis,
        channel: String,
        influencer: Option<String>,
        campaign: Option<String>,
        link: Option<String>,
        content: Option<String>,
        platform: Option<String>,
        code: Option<String>,
        app: Option<String>,
        source: Option<String>,
        medium: Option<String>,
        visitor_id: Option<String>,
        customer_id: Option<String>,
        conversion_id: Option<i64>,
    }

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

    struct MaxRow {
        m: Option<i64>,
    }
}

/// Counts rows read and written across the run's statements.
#[derive(Default)]
struct Meter {
    read: usize,
    written: usize,
}

impl Meter {
    fn add(&mut self, r: &D1Out) {
        let m = r.meta();
        self.read += m.rows_read.unwrap_or(0);
        self.written += m.rows_written.unwrap_or(0);
    }
}

/// All rows of a statement, counting the rows read in `meter`.
async fn read<T: FromRow>(
    meter: &mut Meter,
    s: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<Vec<T>> {
    all_metered(s, what, &mut meter.read).await
}

/// The identity keys a conversion row carries itself.
fn own_keys(r: &PendingRow) -> Vec<String> {
    let mut k = Vec::new();
    if let Some(v) = &r.visitor_id {
        k.push(identity::key(IdKind::Visitor, v));
    }
    if let Some(c) = &r.customer_id {
        k.push(identity::key(IdKind::Customer, c));
    }
    if let Some(e) = &r.email_sha256 {
        k.push(identity::key(IdKind::Email, e));
    }
    k
}

/// Loads `rows`' persons and candidate touchpoints and builds their
/// journeys. Shared by the job and the journey endpoint.
pub async fn journeys_of(
    db: &D1Database,
    rows: &[(i64, Millis, i64, String, Vec<String>)],
    config: &Config,
    meter_out: Option<&mut usize>,
) -> Result<(Vec<Pending>, Vec<Vec<Touchpoint>>)> {
    let mut meter = Meter::default();
    let seeds: BTreeSet<&str> =
        crate::base::sorting::set(rows.iter().flat_map(|r| r.4.iter().map(String::as_str)));
    let expansions: Vec<KeyRow> = read(
        &mut meter,
        query!(
            db,
            "SELECT a.key AS seed, b.key AS key FROM identities a JOIN identities b ON b.person_id = a.person_id \
             WHERE a.key IN (SELECT value FROM json_each(?1))",
            json_text(&seeds)
        ),
        "loading persons",
    )
    .await?;
    let mut person: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for e in &expansions {
        person
            .entry(e.seed.as_str())
            .or_default()
            .insert(e.key.clone());
    }
    let pending: Vec<Pending> = rows
        .iter()
        .map(|(id, at, revenue, currency, own)| {
            let mut keys: BTreeSet<String> = crate::base::sorting::set(own.iter().cloned());
            for k in own {
                keys.extend(person.get(k.as_str()).into_iter().flatten().cloned());
            }
            Pending {
                id: *id,
                occurred_at: *at,
                revenue_minor: *revenue,
                currency: currency.clone(),
                reporting_minor: None,
                keys,
            }
        })
        .collect();
    let all_keys: BTreeSet<&str> = crate::base::sorting::set(
        pending
            .iter()
            .flat_map(|p| p.keys.iter().map(String::as_str)),
    );
    let visitors: Vec<&str> = all_keys
        .iter()
        .filter_map(|k| identity::value_of(k, IdKind::Visitor))
        .collect();
    let customers: Vec<&str> = all_keys
        .iter()
        .filter_map(|k| identity::value_of(k, IdKind::Customer))
        .collect();
    let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
    let until = pending.iter().map(|p| p.occurred_at).max().unwrap_or(0);
    let since = pending.iter().map(|p| p.occurred_at).min().unwrap_or(0)
        - config.attribution.journey.max_window();
    let candidates: Vec<CandidateRow> = read(
        &mut meter,
        query!(
            db,
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
                 OR (t.kind = 'code' AND t.conversion_id IN (SELECT value FROM json_each(?5)))",
            json_text(&visitors),
            json_text(&customers),
            since,
            until,
            json_text(&ids)
        ),
        "loading touchpoints",
    )
    .await?;
    let candidates: Vec<Candidate> = candidates
        .into_iter()
        .map(|r| {
            let mut keys = Vec::new();
            if let Some(v) = &r.visitor_id {
                keys.push(identity::key(IdKind::Visitor, v));
            }
            if let Some(c) = &r.customer_id {
                keys.push(identity::key(IdKind::Customer, c));
            }
            let kind = match r.kind.as_str() {
                "code" => TouchKind::Code,
                "channel" => TouchKind::Channel,
                _ => TouchKind::Click,
            };
            Candidate {
                touch: Touchpoint {
                    key: r.key,
                    kind,
                    at: r.at,
                    channel: r.channel,
                    influencer: r.influencer,
                    campaign: r.campaign,
                    link: r.link,
                    content: r.content,
                    platform: r.platform,
                    code: r.code,
                    app: r.app,
                    source: r.source,
                    medium: r.medium,
                    is_bot: false,
                },
                keys,
                conversion_id: r.conversion_id,
            }
        })
        .collect();
    let journeys = batch::journeys(&pending, &candidates, &config.attribution.journey);
    if let Some(out) = meter_out {
        *out += meter.read;
    }
    Ok((pending, journeys))
}

/// Runs the attribution job once.
pub async fn run(
    db: &D1Database,
    config: &Config,
    now: Millis,
    trigger: &str,
) -> Result<RunSummary> {
    let mut meter = Meter::default();
    let run_id = hex(&random::bytes::<8>());
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
    let lease = super::rows::all(&lease)
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
        Ok(query!(db, "SELECT MAX(rowid) AS m FROM clicks")),
        "reading the last click",
    )
    .await?;
    let click_max = click_max.first().and_then(|r| r.m).unwrap_or(click_rowid);
    let click_days: Vec<DayRow> = read(
        meter,
        query!(
            db,
            "SELECT DISTINCT ts / 86400000 AS day FROM clicks WHERE rowid > ?1 AND rowid <= ?2",
            click_rowid,
            click_max
        ),
        "finding days with new clicks",
    )
    .await?;
    // Days whose raw clicks retention may have pruned are never rebuilt:
    // clicks arriving that late are added to their rollup instead.
    let kept_from = retained_from(config, now);
    let all_click_days: BTreeSet<i64> =
        crate::base::sorting::set(click_days.into_iter().map(|d| d.day));
    let late_days: Vec<i64> = all_click_days
        .iter()
        .copied()
        .filter(|d| *d < kept_from)
        .collect();
    let click_days: BTreeSet<i64> =
        crate::base::sorting::set(all_click_days.iter().copied().filter(|d| *d >= kept_from));

    // 2. What to (re)process: dirty conversions first, then new ones.
    let limit = settings.batch as i64 + 1;
    let dirty: Vec<PendingRow> = read(
        meter,
        query!(
            db,
            "SELECT id, occurred_at, revenue_minor - refunded_minor AS revenue_minor, currency, visitor_id, customer_id, \
                    email_sha256 FROM conversions \
             WHERE ((dirty = 1 AND occurred_at >= ?2) OR dirty = 2) AND id <= ?1 ORDER BY id LIMIT ?3",
            watermark,
            now - settings.reprocess_horizon,
            limit
        ),
        "picking dirty conversions",
    )
    .await?;
    let fresh: Vec<PendingRow> = read(
        meter,
        query!(
            db,
            "SELECT id, occurred_at, revenue_minor - refunded_minor AS revenue_minor, currency, visitor_id, customer_id, \
                    email_sha256 FROM conversions \
             WHERE id > ?1 ORDER BY id LIMIT ?2",
            watermark,
            limit
        ),
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
    let rates = super::reports::load_rates(db).await?;
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
            query!(
                db,
                "DELETE FROM credits WHERE conversion_id IN (SELECT value FROM json_each(?1))",
                ids_json
            ),
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
            query!(
                db,
                "UPDATE conversions SET attributed_at = ?2, dirty = 0, \
                        path = (SELECT json_extract(value, '$.path') FROM json_each(?1) \
                                WHERE json_extract(value, '$.id') = conversions.id), \
                        reporting_minor = (SELECT json_extract(value, '$.reporting') FROM json_each(?1) \
                                           WHERE json_extract(value, '$.id') = conversions.id) \
                 WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))",
                json_text(&chunk),
                now
            ),
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
    let days: BTreeSet<i64> =
        crate::base::sorting::set(pending.iter().map(|p| time::day_of(p.occurred_at)));
    if !days.is_empty() {
        let days_json = json_text(&days);
        writes.push(stmt(
            query!(
                db,
                "DELETE FROM credit_rollup WHERE day IN (SELECT value FROM json_each(?1))",
                days_json
            ),
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
            query!(
                db,
                "DELETE FROM click_rollup WHERE day IN (SELECT value FROM json_each(?1))",
                days_json
            ),
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
    let touched: BTreeSet<i64> = crate::base::sorting::set(
        days.union(&click_days)
            .copied()
            .chain(late_days.iter().copied()),
    );
    if !touched.is_empty() {
        writes.extend(dim_rollup_statements(db, &json_text(&touched))?);
    }
    writes.push(stmt(
        query!(db, "UPDATE attribution_state SET click_rollup_rowid = MAX(click_rollup_rowid, ?1) WHERE id = 1", click_max),
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
    let results = super::store::batch(db, writes, "writing attribution results").await?;
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

const INSERT_CREDITS_SQL: &str = "\
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

/// The admin endpoints: run now, status, and quality findings.
pub async fn handle(
    req: worker::Request,
    env: &worker::Env,
    route: crate::base::route::Route<'_>,
) -> Result<worker::Response> {
    use crate::base::route::Route;
    super::auth::require_bearer(&req, env, "ADMIN_TOKEN")?;
    let db = env.d1(super::DB).map_err(unavailable("D1 binding"))?;
    match route {
        Route::RunAttribution => {
            let summary = run(&db, &super::config(env), super::now(), "api").await?;
            let status = if summary.status == "busy" { 409 } else { 200 };
            super::http::json(status, &summary)
        }
        Route::RebuildRollups => {
            let query = req
                .url()
                .ok()
                .and_then(|u| u.query().map(str::to_owned))
                .unwrap_or_default();
            let kept_from = retained_from(&super::config(env), super::now());
            let v = rebuild_rollups(&db, &query, kept_from).await?;
            super::http::json(200, &v)
        }
        Route::AttributionStatus => {
            row! {
                #[derive(Serialize)]
                struct State {
                    watermark: i64,
                    last_run_at: Option<Millis>,
                    last_run: Option<String>,
                }
            }
            row! {
                #[derive(Serialize)]
                struct Effect {
                    channel_key: String,
                    effect: f64,
                }
            }
            let mut meter = Meter::default();
            let state: Vec<State> = read(
                &mut meter,
                Ok(query!(
                    &db,
                    "SELECT watermark, last_run_at, last_run FROM attribution_state WHERE id = 1"
                )),
                "reading attribution state",
            )
            .await?;
            let effects: Vec<Effect> = read(
                &mut meter,
                Ok(query!(&db, "SELECT channel_key, effect FROM removal_effects ORDER BY effect DESC, channel_key")),
                "reading removal effects",
            )
            .await?;
            let state = state.into_iter().next();
            super::http::json(
                200,
                &json!({
                    "watermark": state.as_ref().map(|s| s.watermark),
                    "last_run_at": state.as_ref().and_then(|s| s.last_run_at).map(crate::base::time::format_rfc3339),
                    "last_run": state.as_ref().and_then(|s| s.last_run.as_deref()).and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok()),
                    "removal_effects": effects,
                }),
            )
        }
        Route::Quality => {
            row! {
                #[derive(Serialize)]
                struct Row {
                    kind: String,
                    order_id: Option<String>,
                    subject: Option<String>,
                    detail: Option<String>,
                    recorded_at: Millis,
                }
            }
            let mut meter = Meter::default();
            let rows: Vec<Row> = read(
                &mut meter,
                Ok(query!(
                    &db,
                    "SELECT f.kind, c.order_id, f.subject, f.detail, f.recorded_at FROM findings f \
                     LEFT JOIN conversions c ON c.id = f.conversion_id \
                     UNION ALL \
                     SELECT 'broken_link', NULL, l.slug, json_object('reasons', json(k.reasons)), k.checked_at \
                       FROM link_checks k JOIN links l ON l.id = k.link_id WHERE k.ok = 0 AND l.status = 'active' \
                     ORDER BY 1 LIMIT 5000"
                )),
                "reading findings",
            )
            .await?;
            let mut groups: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
            for kind in [
                "no_touchpoints",
                "code_without_clicks",
                "unknown_code",
                "bot_share",
                "disabled_link_clicks",
                "missing_fx_rate",
                "broken_link",
            ] {
                groups.insert(kind.to_owned(), Vec::new());
            }
            // Costs that cannot be converted to the reporting currency.
            row! {
                #[derive(Serialize)]
                struct CostRow {
                    id: i64,
                    handle: String,
                    currency: String,
                    amount_minor: i64,
                    incurred_day: i64,
                }
            }
            let reporting = super::config(env).reporting_currency;
            let costs: Vec<CostRow> = read(
                &mut meter,
                query!(
                    &db,
                    "SELECT k.id, i.handle, k.currency, k.amount_minor, k.incurred_day FROM costs k \
                     JOIN influencers i ON i.id = k.influencer_id WHERE k.currency <> ?1 AND NOT EXISTS \
                     (SELECT 1 FROM fx_rates f WHERE f.currency = k.currency AND f.valid_day <= k.incurred_day)",
                    reporting.as_str()
                ),
                "reading costs without rates",
            )
            .await?;
            for c in costs {
                let amount = Currency::parse(&c.currency)
                    .map(|cur| crate::reporting::report::money(c.amount_minor, cur))
                    .unwrap_or_default();
                groups.entry("missing_fx_rate".into()).or_default().push(json!({
                    "cost_id": c.id,
                    "subject": c.currency,
                    "detail": {"influencer": c.handle, "amount": amount, "incurred_on": time::format_date(c.incurred_day)},
                }));
            }
            for r in rows {
                let detail = r
                    .detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok());
                groups.entry(r.kind.clone()).or_default().push(json!({
                    "order_id": r.order_id,
                    "subject": r.subject,
                    "detail": detail,
                    "recorded_at": crate::base::time::format_rfc3339(r.recorded_at),
                }));
            }
            super::http::json(200, &json!({"findings": groups}))
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}

/// Recomputes the credit rollup of the days in `?1` (a JSON array of day
/// numbers; `?2`..`?3` bound their milliseconds for the index). Per group,
/// assisted conversions count distinct conversions, and assisted revenue
/// sums those conversions' whole (reporting) revenue.
const CREDIT_ROLLUP_SQL: &str = "\
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
const CLICK_ROLLUP_SQL: &str = "\
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
const CLICK_ROLLUP_ADD_SQL: &str = "\
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
fn retained_from(config: &crate::config::Config, now: Millis) -> i64 {
    config
        .retention_days
        .map_or(i64::MIN, |d| (now - i64::from(d) * DAY).div_euclid(DAY) + 1)
}

/// Rebuilds the report rollups day by day (`?from=&to=`, dates; default:
/// every day with clicks or credits), one D1 batch per day so each stays
/// small. For repairs and for seeded data; runs keep them current otherwise.
/// Click rollups of days before `kept_from` are left as they are.
async fn rebuild_rollups(
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
            for r in super::store::batch(db, writes, "rebuilding rollups").await? {
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
    super::store::batch(db, vec![mark], "marking the click rollup").await?;
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
fn dim_rollup_statements(db: &D1Database, days_json: &str) -> Result<Vec<D1PreparedStatement>> {
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
