//! Outbound webhooks from the edge (signing, payloads and the retry rule
//! are [`crate::outbound::webhook`]).
//!
//! * **Outbox.** An event becomes one `webhook_deliveries` row per active
//!   endpoint subscribed to it, with its payload fixed then, keyed by
//!   `(endpoint, event_key)` so an event is queued once however often it is
//!   reported. Attributed conversions are handed over by [`export`] in the
//!   same D1 batch that marks them exported, so none is skipped or sent
//!   twice; refunds and broken links are queued where they happen.
//! * **Delivery.** [`deliver_due`] (every cron run) claims due deliveries
//!   with a lease (an `UPDATE … RETURNING`, so two runs never send the same
//!   one), POSTs each, signed, with a timeout, logs the attempt and
//!   reschedules failures with exponential backoff until the policy gives
//!   up: then the delivery is dead (the dead-letter list,
//!   `GET /api/v1/webhook-deliveries?status=dead`), and a replay resends it.

use super::http::{self, read_json, unavailable};
use super::rows::{query, row};
use super::store::{all, batch, first, json_text, out, stmt};
use super::{auth, config, now, DB};
use crate::attribution::models::Model;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::Currency;
use crate::base::pagination::{next_cursor, Page};
use crate::base::route::Route;
use crate::base::time::{format_rfc3339, Millis};
use crate::config::Config;
use crate::outbound::webhook::{
    self, AttributedConversion, CreditLine, EndpointInput, EventKind, NewEndpoint, Outcome,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::form_urlencoded;
use worker::wasm_bindgen_futures::spawn_local;
use worker::{
    console_error, console_log, AbortController, D1Database, D1PreparedStatement, Delay, Env,
    Fetch, Headers, Method, Request, RequestInit, Response,
};

type Result<T> = std::result::Result<T, ApiError>;

/// Deliveries one cron run sends at most.
const PER_RUN: u32 = 25;
/// How long a claimed delivery is leased to the run that claimed it.
const LEASE_MS: Millis = 2 * 60 * 1000;
/// How long a receiver may take to answer.
const TIMEOUT_MS: u64 = 10_000;
/// Attributed conversions handed to the outbox per run at most.
const EXPORT_PER_RUN: u32 = 200;

row! {
    struct EndpointRow {
        id: i64,
        url: String,
        events: String,
        description: Option<String>,
        status: String,
        created_at: i64,
    }

    struct DeliveryRow {
        id: i64,
        endpoint_id: i64,
        event: String,
        event_key: String,
        payload: String,
        status: String,
        attempts: i64,
        next_attempt_at: Option<i64>,
        last_status: Option<i64>,
        last_error: Option<String>,
        created_at: i64,
        delivered_at: Option<i64>,
    }

    struct AttemptRow {
        delivery_id: i64,
        attempted_at: i64,
        status: Option<i64>,
        error: Option<String>,
        duration_ms: i64,
        replay: i64,
    }

    struct SendRow {
        id: i64,
        event: String,
        payload: String,
        status: String,
        attempts: i64,
        created_at: i64,
        url: String,
        secret: String,
    }

    struct IdRow {
        id: i64,
    }

    struct UnexportedRow {
        id: i64,
        order_id: String,
        occurred_at: i64,
        revenue_minor: i64,
        currency: String,
        click_id: Option<String>,
        email_sha256: Option<String>,
    }

    struct CreditRow {
        conversion_id: i64,
        model: String,
        channel: String,
        influencer: Option<String>,
        campaign: Option<String>,
        link: Option<String>,
        code: Option<String>,
        revenue_minor: i64,
        conversion_micros: i64,
        touchpoint_key: String,
    }

    struct ClickAdRow {
        id: String,
        ts: i64,
        ad_click_ids: Option<String>,
    }
}

fn endpoint_view(e: &EndpointRow) -> Value {
    let events: Vec<&str> = webhook::parse_events_text(&e.events)
        .iter()
        .map(|k| k.as_str())
        .collect();
    json!({"id": e.id, "url": e.url, "events": events, "description": e.description,
           "status": e.status, "created_at": format_rfc3339(e.created_at)})
}

fn delivery_view(d: &DeliveryRow, attempts: &[&AttemptRow]) -> Value {
    let log: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!({"at": format_rfc3339(a.attempted_at), "status": a.status, "error": a.error,
                   "duration_ms": a.duration_ms, "replay": a.replay != 0})
        })
        .collect();
    json!({
        "id": d.id, "endpoint_id": d.endpoint_id, "event": d.event, "event_key": d.event_key,
        "status": d.status, "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.filter(|_| d.status == "pending").map(format_rfc3339),
        "last_status": d.last_status, "last_error": d.last_error,
        "created_at": format_rfc3339(d.created_at), "delivered_at": d.delivered_at.map(format_rfc3339),
        "payload": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
        "attempt_log": log,
    })
}

fn not_found() -> ApiError {
    ApiError::NotFound { what: "delivery" }
}

/// The admin routes.
pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    auth::require_bearer(&req, env, "ADMIN_TOKEN")?;
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    let query = req
        .url()
        .ok()
        .and_then(|u| u.query().map(str::to_owned))
        .unwrap_or_default();
    match route {
        Route::CreateWebhookEndpoint => {
            let body = read_json(&mut req).await?;
            body.deny_unknown(&["url", "events", "secret", "description"])?;
            let text = |field: &str| body.opt_str(field).map(|v| v.map(str::to_owned));
            let events = match body.value("events") {
                None => None,
                Some(Value::Array(items)) => Some(
                    items
                        .iter()
                        .map(|v| {
                            v.as_str().map(str::to_owned).ok_or_else(|| {
                                ParseError::new("invalid_type", "events must be strings")
                                    .at("events")
                            })
                        })
                        .collect::<Result<Vec<String>>>()?,
                ),
                Some(_) => {
                    return Err(ParseError::new(
                        "invalid_type",
                        "events must be an array of event names",
                    )
                    .at("events"))
                }
            };
            let new = NewEndpoint::parse(EndpointInput {
                url: text("url")?,
                events,
                secret: text("secret")?,
                description: text("description")?,
            })?;
            let now = now();
            let created: Option<EndpointRow> = first(
                query!(
                    &db,
                    "INSERT INTO webhook_endpoints (url, events, secret, description, status, created_at) \
                     VALUES (?1, ?2, ?3, ?4, 'active', ?5) \
                     RETURNING id, url, events, description, status, created_at",
                    &new.url,
                    webhook::events_text(&new.events),
                    &new.secret,
                    new.description.as_deref(),
                    now
                ),
                "storing a webhook endpoint",
            )
            .await?;
            let created = created.ok_or(ApiError::Unavailable)?;
            http::json(201, &endpoint_view(&created))
        }
        Route::ListWebhookEndpoints => {
            let rows: Vec<EndpointRow> = all(
                Ok(query!(
                    &db,
                    "SELECT id, url, events, description, status, created_at FROM webhook_endpoints ORDER BY id"
                )),
                "listing webhook endpoints",
            )
            .await?;
            let data: Vec<Value> = rows.iter().map(endpoint_view).collect();
            http::json(200, &json!({ "data": data }))
        }
        Route::DeleteWebhookEndpoint(id) => {
            let id: i64 = id.parse().map_err(|_| ApiError::NotFound {
                what: "webhook endpoint",
            })?;
            let r = out(
                query!(
                    &db,
                    "UPDATE webhook_endpoints SET status = 'disabled' WHERE id = ?1",
                    id
                ),
                "disabling a webhook endpoint",
            )
            .await?;
            if r.meta().changes.unwrap_or(0) == 0 {
                return Err(ApiError::NotFound {
                    what: "webhook endpoint",
                });
            }
            http::json(200, &json!({"id": id, "status": "disabled"}))
        }
        Route::ListDeliveries => list_deliveries(&db, &query).await,
        Route::ReplayDelivery(id) => {
            let id: i64 = id.parse().map_err(|_| not_found())?;
            let d = sendable(&db, &[id])
                .await?
                .into_iter()
                .next()
                .ok_or_else(not_found)?;
            let config = config(env);
            let status = attempt(&db, &config, &d, true).await?;
            let row = load_delivery(&db, id).await?.ok_or_else(not_found)?;
            let attempts = load_attempts(&db, &[id]).await?;
            let mut v = delivery_view(&row, &attempts.iter().collect::<Vec<_>>());
            v["replay_status"] = json!(status);
            http::json(200, &v)
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}

/// The columns of a [`DeliveryRow`].
const DELIVERY_SELECT: &str =
    "SELECT id, endpoint_id, event, event_key, payload, status, attempts, next_attempt_at, last_status, \
            last_error, created_at, delivered_at FROM webhook_deliveries";

async fn load_delivery(db: &D1Database, id: i64) -> Result<Option<DeliveryRow>> {
    first(
        query!(db, &format!("{DELIVERY_SELECT} WHERE id = ?1"), id),
        "reading a delivery",
    )
    .await
}

/// The deliveries `ids` with their endpoint's URL and secret, to be sent.
async fn sendable(db: &D1Database, ids: &[i64]) -> Result<Vec<SendRow>> {
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

async fn load_attempts(db: &D1Database, ids: &[i64]) -> Result<Vec<AttemptRow>> {
    all(
        query!(
            db,
            "SELECT delivery_id, attempted_at, status, error, duration_ms, replay FROM webhook_attempts \
             WHERE delivery_id IN (SELECT value FROM json_each(?1)) ORDER BY id",
            json_text(ids)
        ),
        "reading delivery attempts",
    )
    .await
}

/// `GET /api/v1/webhook-deliveries?status=&endpoint=&event=&limit=&cursor=`.
async fn list_deliveries(db: &D1Database, query: &str) -> Result<Response> {
    let page = Page::from_query(query)?;
    let (mut status, mut endpoint, mut event) = (None, None, None);
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "status" => {
                if !matches!(v.as_ref(), "pending" | "delivered" | "dead") {
                    return Err(ParseError::new(
                        "invalid_value",
                        "status must be pending, delivered or dead",
                    )
                    .at("status"));
                }
                status = Some(v.into_owned());
            }
            "endpoint" => {
                endpoint = Some(v.parse::<i64>().map_err(|_| {
                    ParseError::new("invalid_value", "endpoint must be an endpoint id")
                        .at("endpoint")
                })?)
            }
            "event" => {
                let kind = EventKind::parse(&v).ok_or_else(|| {
                    ParseError::new(
                        "invalid_value",
                        "event must be conversion.attributed, conversion.refunded or link.broken",
                    )
                    .at("event")
                })?;
                event = Some(kind.as_str());
            }
            "limit" | "cursor" => {}
            other => {
                return Err(ParseError::new(
                    "unknown_parameter",
                    format!("unknown parameter '{other}'"),
                )
                .at(other))
            }
        }
    }
    let rows: Vec<DeliveryRow> = all(
        query!(
            db,
            &format!(
                "{DELIVERY_SELECT} WHERE id > ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR endpoint_id = ?3) \
               AND (?4 IS NULL OR event = ?4) ORDER BY id LIMIT ?5"
            ),
            page.after,
            status.as_deref(),
            endpoint,
            event,
            page.limit
        ),
        "listing deliveries",
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let attempts = load_attempts(db, &ids).await?;
    let data: Vec<Value> = rows
        .iter()
        .map(|d| {
            let mine: Vec<&AttemptRow> =
                attempts.iter().filter(|a| a.delivery_id == d.id).collect();
            delivery_view(d, &mine)
        })
        .collect();
    http::json(
        200,
        &json!({"data": data, "next_cursor": next_cursor(&ids, page)}),
    )
}

/// The envelope id of an event: the same for every endpoint and every
/// attempt, so receivers deduplicate on it.
fn event_id(event_key: &str) -> String {
    let digest = Sha256::digest(event_key.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("evt_{hex}")
}

/// The statement that queues `payload` for every active endpoint
/// subscribed to `kind` (once per endpoint and `event_key`).
pub fn enqueue(
    db: &D1Database,
    kind: EventKind,
    event_key: &str,
    payload: &str,
    now: Millis,
) -> Result<D1PreparedStatement> {
    stmt(
        query!(
            db,
            "INSERT INTO webhook_deliveries (endpoint_id, event, event_key, payload, status, attempts, next_attempt_at, created_at) \
             SELECT id, ?1, ?2, ?3, 'pending', 0, ?4, ?4 FROM webhook_endpoints \
              WHERE status = 'active' AND instr(',' || events || ',', ',' || ?1 || ',') > 0 \
             ON CONFLICT (endpoint_id, event_key) DO NOTHING",
            kind.as_str(),
            event_key,
            payload,
            now
        ),
        "binding a webhook delivery",
    )
}

/// Queues one event on its own, after what caused it was stored; a
/// failure is logged. `payload` gets the envelope id and the time.
async fn queue_alone(
    db: &D1Database,
    kind: EventKind,
    key: &str,
    payload: impl FnOnce(&str, Millis) -> String,
) {
    let now = now();
    let payload = payload(&event_id(key), now);
    let queued = match enqueue(db, kind, key, &payload, now) {
        Ok(s) => batch(db, vec![s], "queueing a webhook event")
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    if let Err(e) = queued {
        console_error!("webhooks: queueing {} failed: {e}", kind.as_str());
    }
}

/// Queues `conversion.refunded` for a stored refund (a retried refund
/// queues nothing new).
pub async fn refunded(db: &D1Database, r: &webhook::Refunded, refund_key: &str) {
    let key = format!("conversion.refunded:{}:{refund_key}", r.order_id);
    queue_alone(db, EventKind::ConversionRefunded, &key, |id, now| {
        webhook::conversion_refunded(id, now, r)
    })
    .await;
}

/// Queues `link.broken` for a failed link check (once a day per link).
pub async fn link_broken(db: &D1Database, b: &webhook::BrokenLink) {
    let day = crate::base::time::format_date(crate::base::time::day_of(b.checked_at));
    let key = format!("link.broken:{}:{day}", b.slug);
    queue_alone(db, EventKind::LinkBroken, &key, |id, now| {
        webhook::link_broken(id, now, b)
    })
    .await;
}

/// Hands attributed conversions to the outbox: one batch queues their
/// `conversion.attributed` deliveries and marks them exported.
pub async fn export(db: &D1Database, now: Millis) -> Result<usize> {
    let pending: Vec<UnexportedRow> = all(
        query!(
            db,
            "SELECT id, order_id, occurred_at, revenue_minor - refunded_minor AS revenue_minor, currency, click_id, \
                    email_sha256 FROM conversions WHERE exported = 0 AND attributed_at IS NOT NULL ORDER BY id LIMIT ?1",
            EXPORT_PER_RUN
        ),
        "reading conversions to export",
    )
    .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = pending.iter().map(|c| c.id).collect();
    let credits: Vec<CreditRow> = all(
        query!(
            db,
            "SELECT conversion_id, model, channel, influencer, campaign, link, code, revenue_minor, conversion_micros, \
                    touchpoint_key FROM credits WHERE conversion_id IN (SELECT value FROM json_each(?1)) ORDER BY conversion_id, model, position",
            json_text(&ids)
        ),
        "reading credits to export",
    )
    .await?;
    // The converting click: the order's own click id, else its last-touch
    // click. Its ad-platform click ids go out with the conversion.
    let click_of = |c: &UnexportedRow| -> Option<String> {
        c.click_id.clone().or_else(|| {
            credits
                .iter()
                .find(|k| k.conversion_id == c.id && k.model == Model::LastTouch.as_str())
                .and_then(|k| k.touchpoint_key.strip_prefix("click:"))
                .map(str::to_owned)
        })
    };
    let click_ids: Vec<String> = pending.iter().filter_map(click_of).collect();
    let clicks: Vec<ClickAdRow> = all(
        query!(
            db,
            "SELECT id, ts, ad_click_ids FROM clicks WHERE id IN (SELECT value FROM json_each(?1))",
            json_text(&click_ids)
        ),
        "reading converting clicks",
    )
    .await?;
    let mut writes = Vec::with_capacity(pending.len() + 1);
    for c in &pending {
        let click = click_of(c).and_then(|id| clicks.iter().find(|k| k.id == id));
        let Ok(currency) = Currency::parse(&c.currency) else {
            continue;
        };
        let lines = credits
            .iter()
            .filter(|k| k.conversion_id == c.id)
            .filter_map(|k| {
                Some(CreditLine {
                    model: Model::parse(&k.model)?,
                    channel: k.channel.clone(),
                    influencer: k.influencer.clone(),
                    campaign: k.campaign.clone(),
                    link: k.link.clone(),
                    code: k.code.clone(),
                    revenue_minor: k.revenue_minor,
                    conversion_micros: k.conversion_micros,
                })
            })
            .collect();
        let conversion = AttributedConversion {
            order_id: c.order_id.clone(),
            occurred_at: c.occurred_at,
            value_minor: c.revenue_minor,
            currency,
            click_id: c.click_id.clone(),
            email_sha256: c.email_sha256.clone(),
            credits: lines,
            ad_click_ids: crate::traffic::ad_click_ids::parse(
                click.and_then(|k| k.ad_click_ids.as_deref()),
            ),
            click_at: click.map(|k| k.ts),
        };
        let key = format!("conversion.attributed:{}", c.order_id);
        let payload = webhook::conversion_attributed(&event_id(&key), now, &conversion);
        writes.push(enqueue(
            db,
            EventKind::ConversionAttributed,
            &key,
            &payload,
            now,
        )?);
    }
    writes.push(stmt(
        query!(
            db,
            "UPDATE conversions SET exported = 1 WHERE id IN (SELECT value FROM json_each(?1))",
            json_text(&ids)
        ),
        "binding the export mark",
    )?);
    batch(db, writes, "queueing conversion.attributed").await?;
    Ok(pending.len())
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
async fn attempt(
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
