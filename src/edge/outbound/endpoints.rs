//! Webhook endpoints (register, list, disable) and the delivery log with
//! its attempts and replay: the admin side of outbound webhooks.

use crate::base::error::{ApiError, ParseError};
use crate::base::pagination::{next_cursor, Page};
use crate::base::route::Route;
use crate::base::time::format_rfc3339;
use crate::edge::d1::{all, first, json_text, out, query, row};
use crate::edge::http::{read_json, unavailable};
use crate::edge::outbound::delivery::{attempt, sendable};
use crate::edge::{config, now, DB};
use crate::outbound::webhook;
use crate::outbound::webhook::{EndpointInput, EventKind, NewEndpoint};
use serde_json::{json, Value};
use url::form_urlencoded;
use worker::{D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

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
    crate::edge::auth::require_bearer(&req, env, "ADMIN_TOKEN")?;
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
            crate::edge::http::json(201, &endpoint_view(&created))
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
            crate::edge::http::json(200, &json!({ "data": data }))
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
            crate::edge::http::json(200, &json!({"id": id, "status": "disabled"}))
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
            crate::edge::http::json(200, &v)
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
    crate::edge::http::json(
        200,
        &json!({"data": data, "next_cursor": next_cursor(&ids, page)}),
    )
}
