//! Sending due deliveries: each claimed with a lease (`UPDATE …
//! RETURNING`), signed, posted with a timeout, its attempt logged, then
//! delivered, retried with backoff, or given up to the dead-letter list.

use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::config::Config;
use crate::edge::d1::{all, batch, json_text, query, row, stmt, IdRow};
use crate::edge::http::unavailable;
use crate::edge::outbound::export::export;
use crate::edge::{config, now, DB};
use crate::outbound::webhook;
use crate::outbound::webhook::Outcome;
use worker::wasm_bindgen_futures::spawn_local;
use worker::{
    console_error, console_log, AbortController, D1Database, Delay, Env, Fetch, Headers, Method,
    Request, RequestInit,
};

type Result<T> = std::result::Result<T, ApiError>;

/// Deliveries one cron run sends at most.
const PER_RUN: u32 = 25;

/// How long a claimed delivery is leased to the run that claimed it.
const LEASE_MS: Millis = 2 * 60 * 1000;

/// How long a receiver may take to answer.
const TIMEOUT_MS: u64 = 10_000;

row! {
    pub struct SendRow {
        id: i64,
        event: String,
        payload: String,
        status: String,
        attempts: i64,
        created_at: i64,
        url: String,
        secret: String,
    }
}

/// One POST with a timeout: the status, or why there was none.
async fn post(url: &str, headers: Headers, body: &str) -> std::result::Result<u16, String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let controller = AbortController::default();
    let signal = controller.signal();
    spawn_local(async move {
        Delay::from(std::time::Duration::from_millis(TIMEOUT_MS)).await;
        controller.abort();
    });
    match Fetch::Request(req).send_with_signal(&signal).await {
        Ok(resp) => Ok(resp.status_code()),
        Err(_) if signal.aborted() => Err(format!("timed out after {TIMEOUT_MS} ms")),
        Err(e) => Err(e.to_string()),
    }
}

/// Sends one delivery, logs the attempt and records the outcome. A replay
/// that fails leaves the delivery's state as it was. Returns the status.
pub async fn attempt(
    db: &D1Database,
    config: &Config,
    d: &SendRow,
    replay: bool,
) -> Result<Option<u16>> {
    let started = now();
    let signature = webhook::sign(&d.secret, started.div_euclid(1000), &d.payload);
    let headers = Headers::new();
    for (name, value) in [
        ("Content-Type", "application/json"),
        ("User-Agent", "linkcredit-webhooks/1"),
        (webhook::SIGNATURE_HEADER, signature.as_str()),
        ("X-Linkcredit-Event", d.event.as_str()),
        ("X-Linkcredit-Delivery", &d.id.to_string()),
    ] {
        headers
            .set(name, value)
            .map_err(unavailable("setting a webhook header"))?;
    }
    let result = post(&d.url, headers, &d.payload).await;
    let finished = now();
    let (status, error) = match &result {
        Ok(s) => (
            Some(*s),
            (!(200..300).contains(s)).then(|| format!("HTTP {s}")),
        ),
        Err(e) => (None, Some(e.clone())),
    };
    let attempts = d.attempts + 1;
    let (outcome, next) = webhook::outcome(
        &config.webhooks,
        status,
        d.created_at,
        u32::try_from(attempts).unwrap_or(u32::MAX),
        finished,
    );
    let mut writes = vec![stmt(
        query!(
            db,
            "INSERT INTO webhook_attempts (delivery_id, attempted_at, status, error, duration_ms, replay) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            d.id,
            started,
            status.map(i64::from),
            error.as_deref(),
            finished - started,
            i64::from(replay)
        ),
        "binding a delivery attempt",
    )?];
    let (new_status, next_at, delivered_at) = match outcome {
        Outcome::Delivered => ("delivered", None, Some(finished)),
        _ if replay => (d.status.as_str(), None, None),
        Outcome::Retry => ("pending", next, None),
        Outcome::Dead => ("dead", None, None),
    };
    writes.push(stmt(
        query!(
            db,
            "UPDATE webhook_deliveries SET status = ?2, attempts = attempts + 1, \
                    next_attempt_at = CASE WHEN ?5 = 1 AND ?2 = 'pending' THEN next_attempt_at ELSE ?3 END, \
                    last_status = ?4, last_error = ?6, delivered_at = COALESCE(delivered_at, ?7) WHERE id = ?1",
            d.id,
            new_status,
            next_at,
            status.map(i64::from),
            i64::from(replay),
            error.as_deref(),
            delivered_at
        ),
        "binding a delivery update",
    )?);
    batch(db, writes, "recording a delivery attempt").await?;
    Ok(status)
}

/// Sends the deliveries that are due (at most [`PER_RUN`]).
pub async fn deliver_due(db: &D1Database, config: &Config, now: Millis) -> Result<(usize, usize)> {
    let claimed: Vec<IdRow> = all(
        query!(
            db,
            "UPDATE webhook_deliveries SET next_attempt_at = ?1 + ?2 \
             WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                          WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 AND e.status = 'active' \
                          ORDER BY d.next_attempt_at LIMIT ?3) \
             RETURNING id",
            now,
            LEASE_MS,
            PER_RUN
        ),
        "claiming due deliveries",
    )
    .await?;
    if claimed.is_empty() {
        return Ok((0, 0));
    }
    let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
    let due = sendable(db, &ids).await?;
    let mut delivered = 0;
    for d in &due {
        if let Ok(Some(s)) = attempt(db, config, d, false).await {
            delivered += usize::from((200..300).contains(&s));
        }
    }
    Ok((due.len(), delivered))
}

/// The cron's share: export attributed conversions, then send what is due.
pub async fn scheduled(env: &Env) {
    let config = config(env);
    let Ok(db) = env.d1(DB) else { return };
    if let Err(e) = export(&db, now()).await {
        console_error!("webhooks: export failed: {e}");
    }
    match deliver_due(&db, &config, now()).await {
        Ok((0, _)) => {}
        Ok((sent, ok)) => console_log!("webhooks: {sent} sent, {ok} delivered"),
        Err(e) => console_error!("webhooks: delivery failed: {e}"),
    }
}

/// The deliveries `ids` with their endpoint's URL and secret, to be sent.
pub async fn sendable(db: &D1Database, ids: &[i64]) -> Result<Vec<SendRow>> {
    all(
        query!(
            db,
            "SELECT d.id, d.event, d.payload, d.status, d.attempts, d.created_at, e.url, e.secret \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.id IN (SELECT value FROM json_each(?1)) ORDER BY d.id",
            json_text(ids)
        ),
        "reading deliveries to send",
    )
    .await
}
