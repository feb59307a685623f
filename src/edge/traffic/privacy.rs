//! The shell's part of privacy by default (the rules are in
//! [`crate::traffic::privacy`]): the consent decision for a visit, the day's salt
//! (created once per UTC day in D1, remembered per isolate, deleted by the
//! cron when the day is over), and the anonymous visitor id.
//! The cron's housekeeping is here too: past salts deleted, raw clicks
//! pruned under `RETENTION_DAYS`.

use crate::base::error::ApiError;
#[cfg(full)]
use crate::base::time::Millis;
use crate::base::time::DAY;
use crate::edge::d1::{batch, query, row, stmt};
use crate::edge::http::unavailable;
use crate::edge::{config, now, DB};
use crate::links::link::CachedLink;
use crate::traffic::ids::VisitorId;
use crate::traffic::privacy;
use crate::traffic::privacy::{ConsentFacts, Tracking};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::cell::RefCell;
#[cfg(full)]
use worker::console_log;
use worker::{console_error, D1Database, Env, Request};

thread_local! {
    /// `(day, salt)` of the current UTC day.
    static SALT: RefCell<Option<(i64, String)>> = const { RefCell::new(None) };
}

/// The anonymous visitor of this visit, when it may not use the cookie;
/// `None` when it may.
pub async fn anonymous_visitor(req: &Request, env: &Env, link: &CachedLink) -> Option<VisitorId> {
    let headers = req.headers();
    let get = |name: &str| headers.get(name).ok().flatten();
    let (cookie, dnt, gpc) = (get("Cookie"), get("DNT"), get("Sec-GPC"));
    let url = req.url().ok();
    let facts = ConsentFacts {
        is_eu: req.cf().is_some_and(|cf| cf.is_eu_country()),
        query: url.as_ref().and_then(|u| u.query()),
        cookie: cookie.as_deref(),
        dnt: dnt.as_deref(),
        sec_gpc: gpc.as_deref(),
    };
    if privacy::tracking(&config(env).privacy, &facts) == Tracking::Cookie {
        return None;
    }
    let ip = get("CF-Connecting-IP").unwrap_or_default();
    let prefix = privacy::ip_prefix(&ip).unwrap_or_default();
    let user_agent = get("User-Agent").unwrap_or_default();
    Some(match daily_salt(env).await {
        Some(salt) => privacy::anonymous_visitor(&salt, &prefix, &user_agent, link.id),
        // Without the day's salt, a random id: uniques over-count for the
        // moment, but nothing about the visitor is kept.
        None => VisitorId::from_random(crate::edge::random::bytes()),
    })
}

/// Today's salt: remembered per isolate, else read from (or created in) D1.
async fn daily_salt(env: &Env) -> Option<String> {
    let day = now().div_euclid(DAY);
    if let Some(salt) = SALT.with(|s| {
        s.borrow()
            .as_ref()
            .filter(|(d, _)| *d == day)
            .map(|(_, salt)| salt.clone())
    }) {
        return Some(salt);
    }
    let fresh = URL_SAFE_NO_PAD.encode(crate::edge::random::bytes::<32>());
    let db = env.d1(DB).ok()?;
    match crate::edge::traffic::privacy::stored_salt(&db, day, &fresh).await {
        Ok(salt) => {
            SALT.with(|s| *s.borrow_mut() = Some((day, salt.clone())));
            Some(salt)
        }
        Err(e) => {
            console_error!("privacy: no salt for day {day}: {e}");
            None
        }
    }
}

/// Clicks pruned per cron run at most (a bounded delete per invocation).
#[cfg(full)]
const PRUNE_PER_RUN: u32 = 50_000;

/// The cron's privacy housekeeping: deletes the salts of past days and,
/// under `RETENTION_DAYS`, prunes raw clicks older than that.
#[cfg(full)]
pub async fn housekeeping(db: &worker::D1Database, config: &crate::config::Config, now: Millis) {
    match crate::edge::traffic::privacy::delete_old_salts(db, now.div_euclid(DAY)).await {
        Ok(n) if n > 0 => console_log!("privacy: deleted {n} past day salt(s)"),
        Ok(_) => {}
        Err(e) => console_error!("privacy: deleting past salts failed: {e}"),
    }
    if let Some(days) = config.retention_days {
        let cutoff = now - i64::from(days) * DAY;
        match crate::edge::traffic::privacy::prune_clicks(db, cutoff, PRUNE_PER_RUN).await {
            Ok(n) if n > 0 => console_log!("retention: pruned {n} clicks older than {days} days"),
            Ok(_) => {}
            Err(e) => console_error!("retention: pruning clicks failed: {e}"),
        }
    }
}

/// The salt of UTC day `day`: the stored one, or `fresh` when the day has
/// none yet (one batch, so concurrent isolates agree on the first).
pub async fn stored_salt(db: &D1Database, day: i64, fresh: &str) -> Result<String, ApiError> {
    row! {
        struct SaltRow {
            salt: String,
        }
    }
    let statements = vec![
        stmt(
            query!(
                db,
                "INSERT INTO daily_salts (day, salt) VALUES (?1, ?2) ON CONFLICT(day) DO NOTHING",
                day,
                fresh
            ),
            "binding salt insert",
        )?,
        stmt(
            query!(db, "SELECT salt FROM daily_salts WHERE day = ?1", day),
            "binding salt read",
        )?,
    ];
    let results = batch(db, statements, "reading the day's salt").await?;
    let rows: Vec<SaltRow> = results
        .last()
        .map(|r| r.rows())
        .transpose()
        .map_err(unavailable("decoding the salt"))?
        .unwrap_or_default();
    rows.into_iter()
        .next()
        .map(|r| r.salt)
        .ok_or(ApiError::Unavailable)
}

/// Deletes the salts of days before `today`: anonymous visitor ids of
/// those days can no longer be recomputed.
#[cfg(full)]
pub async fn delete_old_salts(db: &D1Database, today: i64) -> Result<usize, ApiError> {
    let delete = stmt(
        query!(db, "DELETE FROM daily_salts WHERE day < ?1", today),
        "binding salt delete",
    )?;
    let results = batch(db, vec![delete], "deleting old salts").await?;
    Ok(results.first().and_then(|r| r.meta().changes).unwrap_or(0))
}

/// Deletes up to `limit` raw clicks (and link misses) older than `cutoff`
/// that the rollups have seen and that no conversion waiting for
/// attribution names; returns how many clicks went. Credits and rollups
/// stay. The newest row is never deleted, so SQLite never hands its rowid
/// out again (the rollup's watermark is a rowid).
#[cfg(full)]
pub async fn prune_clicks(db: &D1Database, cutoff: Millis, limit: u32) -> Result<usize, ApiError> {
    let statements = vec![
        stmt(
            query!(
                db,
                "DELETE FROM clicks WHERE rowid IN (\
                   SELECT k.rowid FROM clicks k WHERE k.ts < ?1 \
                      AND k.rowid <= (SELECT click_rollup_rowid FROM attribution_state WHERE id = 1) \
                      AND k.rowid < (SELECT MAX(rowid) FROM clicks) \
                      AND NOT EXISTS (SELECT 1 FROM conversions c WHERE c.click_id = k.id AND c.attributed_at IS NULL) \
                    ORDER BY k.ts LIMIT ?2)",
                cutoff,
                limit
            ),
            "binding click prune",
        )?,
        stmt(
            query!(
                db,
                "DELETE FROM link_misses WHERE rowid IN (SELECT rowid FROM link_misses WHERE ts < ?1 LIMIT ?2)",
                cutoff,
                limit
            ),
            "binding miss prune",
        )?,
        stmt(
            query!(
                db,
                "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE received_at < ?1 LIMIT ?2)",
                cutoff,
                limit
            ),
            "binding event prune",
        )?,
    ];
    let results = batch(db, statements, "pruning old clicks").await?;
    Ok(results.first().and_then(|r| r.meta().changes).unwrap_or(0))
}
