//! The pre-launch link check from the edge (the judging is
//! [`crate::links::check`]): per user agent, the link's own redirect (built
//! here exactly as a visit would get it, rules and variants included, with
//! a fresh click id that is never recorded as a click), then the chain
//! followed with manual redirects, one fetch per hop with a timeout. The
//! result of each link is kept in D1 (`link_checks`, the latest per link),
//! shown by the API, the quality findings and the cron's daily rotation.

use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::config::Config;
use crate::edge::d1::{all, first, query, row};
use crate::edge::links::link_rows::{to_record, LinkRow};
use crate::edge::links::sql::LINK_SELECT;
use crate::edge::{config, now, DB};
use crate::links::check::{AgentResult, Hop};
use crate::links::link::LinkRecord;
use crate::links::targeting::VisitorFacts;
use crate::links::{check, targeting};
use crate::traffic::ids::{ClickId, ID_BYTES};
use crate::traffic::ua;
use serde::Serialize;
use worker::wasm_bindgen_futures::spawn_local;
use worker::{
    console_error, console_log, AbortController, D1Database, Delay, Env, Fetch, Headers, Method,
    Request, RequestInit, RequestRedirect,
};

type Result<T> = std::result::Result<T, ApiError>;

/// One link's check, as stored and answered.
#[derive(Serialize)]
pub struct Checked {
    pub slug: String,
    pub checked_at: String,
    pub ok: bool,
    pub reasons: Vec<&'static str>,
    pub agents: Vec<AgentResult>,
}

/// One fetch without following redirects: status, Location, Set-Cookie.
async fn fetch_once(
    url: &str,
    user_agent: &str,
    timeout_ms: u32,
) -> std::result::Result<(u16, Option<String>, Vec<String>), String> {
    let headers = Headers::new();
    headers
        .set("User-Agent", user_agent)
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_redirect(RequestRedirect::Manual)
        .with_headers(headers);
    let req = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    spawn_local(async move {
        Delay::from(std::time::Duration::from_millis(u64::from(timeout_ms))).await;
        controller.abort();
    });
    let resp = Fetch::Request(req)
        .send_with_signal(&signal)
        .await
        .map_err(|e| {
            if signal.aborted() {
                format!("timed out after {timeout_ms} ms")
            } else {
                e.to_string()
            }
        })?;
    let h = resp.headers();
    let location = h.get("Location").ok().flatten();
    let cookies = h.get_all("Set-Cookie").unwrap_or_default();
    Ok((resp.status_code(), location, cookies))
}

/// Checks one link with every agent and stores the result.
pub async fn check_link(
    db: &D1Database,
    config: &Config,
    record: &LinkRecord,
    short_url: &str,
) -> Result<Checked> {
    let cached = record.cached(&config.store);
    let mut agents = Vec::new();
    for (agent, user_agent) in check::AGENTS {
        let info = ua::classify(user_agent);
        let facts = VisitorFacts {
            ua: &info,
            country: None,
            accept_language: Some("en-US,en;q=0.9"),
        };
        let cid = ClickId::from_random(crate::edge::random::bytes::<ID_BYTES>());
        let chosen = targeting::choose(
            &cached.rules,
            &cached.variants,
            &facts,
            record.id,
            cid.as_str(),
        );
        let location = cached.target_of(chosen).location(cid.as_str());
        let expect = check::expectation(&location, cached.code.as_deref());
        let mut hops = vec![Hop {
            url: short_url.to_owned(),
            status: 302,
            location: Some(location),
            set_cookie: Vec::new(),
            elapsed_ms: 0,
        }];
        let mut error = None;
        let mut failed_ms = 0;
        while let Some(url) = check::next_fetch(&hops) {
            let started = now();
            match fetch_once(&url, user_agent, config.link_checks.timeout_ms).await {
                Ok((status, location, set_cookie)) => hops.push(Hop {
                    url,
                    status,
                    location,
                    set_cookie,
                    elapsed_ms: (now() - started).max(0) as u64,
                }),
                Err(msg) => {
                    failed_ms = (now() - started).max(0) as u64;
                    error = Some(check::classify_error(&msg));
                    break;
                }
            }
        }
        let mut result = check::evaluate(agent, hops, error, &expect);
        result.elapsed_ms += failed_ms;
        agents.push(result);
    }
    let (ok, reasons) = check::summarize(&agents);
    let checked_at = now();
    crate::edge::links::check::save_link_check(
        db,
        record.id,
        checked_at,
        ok,
        &crate::edge::d1::json_text(&reasons),
        &crate::edge::d1::json_text(&agents),
    )
    .await?;
    if !ok {
        crate::edge::outbox::link_broken(
            db,
            &crate::outbound::webhook::BrokenLink {
                slug: record.slug.as_str().to_owned(),
                short_url: short_url.to_owned(),
                destination: record.destination.as_str().to_owned(),
                problem: reasons.join(","),
                detail: agents
                    .iter()
                    .find(|a| !a.verdict.reasons().is_empty())
                    .map(|a| match (a.final_status, &a.final_url) {
                        (Some(status), Some(url)) => format!("{}: HTTP {status} at {url}", a.agent),
                        _ => format!("{}: {}", a.agent, a.verdict.reasons().join(",")),
                    }),
                checked_at,
            },
        )
        .await;
    }
    Ok(Checked {
        slug: record.slug.as_str().to_owned(),
        checked_at: crate::base::time::format_rfc3339(checked_at),
        ok,
        reasons,
        agents,
    })
}

/// Checks up to `limit` active links, those never checked or checked
/// longest ago first (`max_age`: only links whose last check is older).
pub async fn check_due(
    db: &D1Database,
    config: &Config,
    origin: &str,
    limit: u32,
    max_age: i64,
) -> Result<Vec<Checked>> {
    let due = crate::edge::links::check::links_due_for_check(db, now() - max_age, limit).await?;
    let mut out = Vec::new();
    for record in &due {
        let base = config.short_base_for(record.domain.as_deref(), origin);
        out.push(
            check_link(
                db,
                config,
                record,
                &crate::links::link::short_url(&base, &record.slug),
            )
            .await?,
        );
    }
    Ok(out)
}

/// The cron's share of the daily re-check: `LINK_CHECKS_PER_RUN` links
/// whose last check is a day old (every 15 minutes: 96 runs a day).
pub async fn scheduled(env: &Env) {
    let config = config(env);
    if config.link_checks.per_run == 0 {
        return;
    }
    let Ok(db) = env.d1(DB) else { return };
    let origin = config.short_base.clone().unwrap_or_default();
    match check_due(
        &db,
        &config,
        &origin,
        config.link_checks.per_run,
        crate::base::time::DAY,
    )
    .await
    {
        Ok(done) if !done.is_empty() => {
            let broken = done.iter().filter(|c| !c.ok).count();
            console_log!("link checks: {} checked, {broken} broken", done.len());
        }
        Ok(_) => {}
        Err(e) => console_error!("link checks failed: {e}"),
    }
}

/// Keeps a link's latest check.
pub async fn save_link_check(
    db: &D1Database,
    link_id: i64,
    at: Millis,
    ok: bool,
    reasons: &str,
    results: &str,
) -> Result<()> {
    crate::edge::d1::run(
        query!(
            db,
            "INSERT INTO link_checks (link_id, checked_at, ok, reasons, results) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT(link_id) DO UPDATE SET checked_at = excluded.checked_at, ok = excluded.ok, \
               reasons = excluded.reasons, results = excluded.results",
            link_id,
            at,
            i64::from(ok),
            reasons,
            results
        ),
        "saving a link check",
    )
    .await
}

/// A link's latest check: `(checked_at, ok, reasons JSON, results JSON)`.
pub async fn load_link_check(
    db: &D1Database,
    link_id: i64,
) -> Result<Option<(Millis, bool, String, String)>> {
    row! {
        struct CheckRow {
            checked_at: Millis,
            ok: i64,
            reasons: String,
            results: String,
        }
    }
    let row: Option<CheckRow> = first(
        query!(
            db,
            "SELECT checked_at, ok, reasons, results FROM link_checks WHERE link_id = ?1",
            link_id
        ),
        "reading a link check",
    )
    .await?;
    Ok(row.map(|r| (r.checked_at, r.ok != 0, r.reasons, r.results)))
}

/// Up to `limit` active links never checked, or last checked before
/// `before`, oldest check first.
pub async fn links_due_for_check(
    db: &D1Database,
    before: Millis,
    limit: u32,
) -> Result<Vec<LinkRecord>> {
    let rows: Vec<LinkRow> = all(
        query!(
            db,
            &format!(
                "{LINK_SELECT} LEFT JOIN link_checks k ON k.link_id = l.id \
                 WHERE l.status = 'active' AND (k.checked_at IS NULL OR k.checked_at < ?1) \
                 ORDER BY COALESCE(k.checked_at, 0), l.id LIMIT ?2"
            ),
            before,
            limit
        ),
        "finding links due for a check",
    )
    .await?;
    rows.into_iter().map(to_record).collect()
}
