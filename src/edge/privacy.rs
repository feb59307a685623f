//! The shell's part of privacy by default (the rules are in
//! [`crate::traffic::privacy`]): the consent decision for a visit, the day's salt
//! (created once per UTC day in D1, remembered per isolate, deleted by the
//! cron when the day is over), and the anonymous visitor id.

use super::{config, now, random, store, DB};
use crate::base::time::{Millis, DAY};
use crate::links::link::CachedLink;
use crate::traffic::ids::VisitorId;
use crate::traffic::privacy::{self, ConsentFacts, Tracking};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::cell::RefCell;
use worker::{console_error, console_log, Env, Request};

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
        None => VisitorId::from_random(random::bytes()),
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
    let fresh = URL_SAFE_NO_PAD.encode(random::bytes::<32>());
    let db = env.d1(DB).ok()?;
    match store::daily_salt(&db, day, &fresh).await {
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
const PRUNE_PER_RUN: u32 = 50_000;

/// The cron's privacy housekeeping: deletes the salts of past days and,
/// under `RETENTION_DAYS`, prunes raw clicks older than that.
pub async fn housekeeping(db: &worker::D1Database, config: &crate::config::Config, now: Millis) {
    match store::delete_old_salts(db, now.div_euclid(DAY)).await {
        Ok(n) if n > 0 => console_log!("privacy: deleted {n} past day salt(s)"),
        Ok(_) => {}
        Err(e) => console_error!("privacy: deleting past salts failed: {e}"),
    }
    if let Some(days) = config.retention_days {
        let cutoff = now - i64::from(days) * DAY;
        match store::prune_clicks(db, cutoff, PRUNE_PER_RUN).await {
            Ok(n) if n > 0 => console_log!("retention: pruned {n} clicks older than {days} days"),
            Ok(_) => {}
            Err(e) => console_error!("retention: pruning clicks failed: {e}"),
        }
    }
}
