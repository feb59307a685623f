//! Server-side ingestion: the conversions API (single and batch), other
//! channels' touchpoints, the Shopify order webhook, and the read-side debug
//! endpoints for conversions and journeys.
//!
//! Nothing is answered 201 before its row is committed, and a rejected
//! request writes nothing.

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::route::{decode_segment, Route};
use crate::base::time;
use crate::config::Config;
use crate::edge::http::{read_json, unavailable};
use crate::edge::ingest::conversions::Ingested;
use crate::edge::ingest::refunds::Refunded;
use crate::edge::{now, DB};
use crate::ingest::conversion::{BatchItem, NewConversion, MAX_BATCH};
use crate::ingest::identity::IdKind;
use crate::ingest::refund::NewRefund;
use crate::ingest::touchpoint::NewTouchpoint;
use crate::ingest::{identity, shopify};
use serde_json::{json, Value};
use worker::{console_log, D1Database, Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// The largest Shopify webhook body accepted (orders with many lines are big).
const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

pub async fn handle(mut req: Request, env: &Env, route: Route<'_>) -> Result<Response> {
    match route {
        Route::ShopifyWebhook => return shopify_webhook(&mut req, env).await,
        Route::GetConversion(_) | Route::GetJourney(_) => {
            crate::edge::auth::require_bearer(&req, env, "ADMIN_TOKEN")?
        }
        _ => crate::edge::auth::require_bearer(&req, env, "INGEST_TOKEN")?,
    }
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    match route {
        Route::CreateConversion => {
            let body = read_json(&mut req).await?;
            let conversion = NewConversion::from_json(&body, now())?;
            answer(
                &conversion.order_id,
                crate::edge::ingest::conversions::ingest_conversion(&db, &conversion, None, now())
                    .await?,
            )
        }
        Route::ConversionBatch => batch(&db, &read_json(&mut req).await?).await,
        Route::CreateTouchpoint => {
            let body = read_json(&mut req).await?;
            let t = NewTouchpoint::from_json(&body, now())?;
            let id = crate::edge::ingest::touchpoints::ingest_touchpoint(&db, &t, now()).await?;
            crate::edge::http::json(201, &json!({"id": id}))
        }
        Route::GetConversion(order) => {
            let order = decode_segment(order);
            let c = crate::edge::ingest::conversions::load_conversion(&db, &order)
                .await?
                .ok_or(ApiError::NotFound { what: "conversion" })?;
            crate::edge::http::json(200, &conversion_view(&c))
        }
        Route::GetJourney(order) => {
            journey(&db, &crate::edge::config(env), &decode_segment(order)).await
        }
        Route::RefundConversion(order) => {
            let order = decode_segment(order);
            let c = crate::edge::ingest::conversions::load_conversion(&db, &order)
                .await?
                .ok_or(ApiError::NotFound { what: "conversion" })?;
            let currency = Currency::parse(&c.currency).map_err(|_| ApiError::Unavailable)?;
            let body = read_json(&mut req).await?;
            let refund = NewRefund::from_json(&body, currency, now())?;
            let money = |minor: i64| Money { minor, currency }.major();
            let view = |total: i64| {
                json!({"order_id": order, "refund_key": refund.key(), "amount": refund.amount.major(),
                       "refunded": money(total), "net_revenue": money(c.revenue_minor - total),
                       "currency": c.currency})
            };
            let outcome = crate::edge::ingest::refunds::refund(&db, &c, &refund, now()).await?;
            if let Refunded::Created { refunded_total } | Refunded::Duplicate { refunded_total } =
                outcome
            {
                // Queued once per refund; a retried refund re-queues nothing
                // but heals a queueing that failed the first time.
                let event = crate::outbound::webhook::Refunded {
                    order_id: c.order_id.clone(),
                    refund_id: refund.refund_id.clone(),
                    amount_minor: refund.amount.minor,
                    refunded_total_minor: refunded_total,
                    revenue_minor: c.revenue_minor,
                    currency,
                    refunded_at: refund.refunded_at.unwrap_or_else(now),
                };
                crate::edge::outbox::refunded(&db, &event, &refund.key()).await;
            }
            match outcome {
                Refunded::Created { refunded_total } => {
                    crate::edge::http::json(201, &view(refunded_total))
                }
                Refunded::Duplicate { refunded_total } => {
                    let mut v = view(refunded_total);
                    v["duplicate"] = json!(true);
                    crate::edge::http::json(200, &v)
                }
                Refunded::Conflict => Err(ApiError::Conflict {
                    code: "refund_conflict",
                    message: "this refund_id was already used with another amount".into(),
                    field: Some("refund_id".into()),
                }),
                Refunded::Exceeds { remaining } => Err(ParseError::new(
                    "exceeds_revenue",
                    format!(
                        "the order has {} {} left to refund",
                        money(remaining),
                        c.currency
                    ),
                )
                .at("amount")),
            }
        }
        _ => Err(ApiError::NotFound { what: "route" }),
    }
}

fn answer(order_id: &str, outcome: Ingested) -> Result<Response> {
    match outcome {
        Ingested::Created(id) => crate::edge::http::json(201, &json!({"id": id})),
        Ingested::Duplicate(id) => {
            crate::edge::http::json(200, &json!({"id": id, "duplicate": true}))
        }
        Ingested::Conflict(_) => Err(ApiError::Conflict {
            code: "order_conflict",
            message: format!("order {order_id} was already received with a different payload"),
            field: Some("order_id".into()),
        }),
    }
}

/// `{conversions: [...]}`: up to 100, each validated and stored on its own;
/// one result per item, in order.
async fn batch(db: &D1Database, body: &JsonObject) -> Result<Response> {
    body.deny_unknown(&["conversions"])?;
    let items = match body.value("conversions") {
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(
                ParseError::new("invalid_type", "conversions must be an array").at("conversions"),
            )
        }
        None => {
            return Err(ParseError::new("required", "conversions is required").at("conversions"))
        }
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ParseError::new(
            "invalid_batch_size",
            format!(
                "a batch holds 1 to {MAX_BATCH} conversions; this one has {}",
                items.len()
            ),
        )
        .at("conversions"));
    }
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let parsed = match item {
            Value::Object(map) => JsonObject::from_map(map.clone()),
            _ => {
                let e =
                    ApiError::invalid("expected_object", "each conversion must be a JSON object");
                results.push(item_error(index, &e));
                continue;
            }
        };
        let outcome = match NewConversion::from_json(&parsed, now()) {
            Ok(c) => crate::edge::ingest::conversions::ingest_conversion(db, &c, None, now())
                .await
                .and_then(|o| match o {
                    Ingested::Created(id) => Ok((201, id)),
                    Ingested::Duplicate(id) => Ok((200, id)),
                    Ingested::Conflict(_) => Err(ApiError::Conflict {
                        code: "order_conflict",
                        message: format!(
                            "order {} was already received with a different payload",
                            c.order_id
                        ),
                        field: Some("order_id".into()),
                    }),
                }),
            Err(e) => Err(e),
        };
        results.push(match outcome {
            Ok((status, id)) => BatchItem {
                index,
                status,
                id: Some(id),
                error: None,
            },
            Err(e) => item_error(index, &e),
        });
    }
    crate::edge::http::json(200, &json!({"results": results}))
}

fn item_error(index: usize, e: &ApiError) -> BatchItem {
    BatchItem {
        index,
        status: crate::edge::http::status(e),
        id: None,
        error: serde_json::to_value(e.body())
            .ok()
            .map(|b| b["error"].clone()),
    }
}

/// `POST /api/v1/webhooks/shopify`: HMAC first, then the topic, then the
/// order. Retries of the same order are stored once.
async fn shopify_webhook(req: &mut Request, env: &Env) -> Result<Response> {
    let secret = env
        .secret("SHOPIFY_WEBHOOK_SECRET")
        .map(|s| s.to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let signature = req
        .headers()
        .get("X-Shopify-Hmac-Sha256")
        .ok()
        .flatten()
        .unwrap_or_default();
    let body = crate::edge::http::read_body(req, MAX_WEBHOOK_BYTES).await?;
    // Verified before anything is parsed or stored.
    if !shopify::verify(secret.as_bytes(), &body, &signature) {
        return Err(ApiError::Unauthorized);
    }
    let topic = req
        .headers()
        .get("X-Shopify-Topic")
        .ok()
        .flatten()
        .unwrap_or_default();
    if !shopify::ORDER_TOPICS.contains(&topic.as_str()) {
        return crate::edge::http::json(202, &json!({"ignored": true, "topic": topic}));
    }
    let (conversion, landing) = shopify::order_to_conversion(&body, now())?;
    let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
    match crate::edge::ingest::conversions::ingest_conversion(
        &db,
        &conversion,
        Some(&landing.utm),
        now(),
    )
    .await?
    {
        Ingested::Created(id) => crate::edge::http::json(201, &json!({"id": id})),
        Ingested::Duplicate(id) => {
            crate::edge::http::json(200, &json!({"id": id, "duplicate": true}))
        }
        // orders/paid after orders/create, or an edit: the first payload
        // stays; answering 2xx stops Shopify from retrying forever.
        Ingested::Conflict(id) => {
            console_log!(
                "shopify order {} re-sent with other fields ({topic}); keeping the first",
                conversion.order_id
            );
            crate::edge::http::json(200, &json!({"id": id, "duplicate": true, "changed": true}))
        }
    }
}

fn conversion_view(c: &crate::edge::ingest::conversions::ConversionRow) -> Value {
    let revenue = Currency::parse(&c.currency)
        .map(|cur| {
            Money {
                minor: c.revenue_minor,
                currency: cur,
            }
            .major()
        })
        .unwrap_or_default();
    json!({
        "id": c.id,
        "order_id": c.order_id,
        "occurred_at": time::format_rfc3339(c.occurred_at),
        "revenue": revenue,
        "revenue_minor": c.revenue_minor,
        "refunded_minor": c.refunded_minor,
        "net_revenue_minor": c.revenue_minor - c.refunded_minor,
        "attributed_at": c.attributed_at.map(time::format_rfc3339),
        "currency": c.currency,
        "click_id": c.click_id,
        "visitor_id": c.visitor_id,
        "customer_id": c.customer_id,
        "promo_codes": serde_json::from_str::<Value>(&c.promo_codes).unwrap_or(Value::Null),
        "source": c.source,
    })
}

/// `GET /api/v1/journeys/{order_id}`: the ordered touchpoints the
/// attribution job will see for this conversion.
async fn journey(db: &D1Database, config: &Config, order_id: &str) -> Result<Response> {
    let c = crate::edge::ingest::conversions::load_conversion(db, order_id)
        .await?
        .ok_or(ApiError::NotFound { what: "conversion" })?;
    let mut own = Vec::new();
    if let Some(v) = &c.visitor_id {
        own.push(identity::key(IdKind::Visitor, v));
    }
    if let Some(cu) = &c.customer_id {
        own.push(identity::key(IdKind::Customer, cu));
    }
    if let Some(e) = &c.email_sha256 {
        own.push(identity::key(IdKind::Email, e));
    }
    let input = [(
        c.id,
        c.occurred_at,
        c.revenue_minor,
        c.currency.clone(),
        own,
    )];
    let (pending, mut journeys) =
        crate::edge::attribution::journeys::journeys_of(db, &input, config, None).await?;
    let keys: Vec<String> = pending
        .into_iter()
        .next()
        .map(|p| p.keys.into_iter().collect())
        .unwrap_or_default();
    let touchpoints = journeys.pop().unwrap_or_default();
    let views: Vec<Value> = touchpoints
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
            v["occurred_at"] = json!(time::format_rfc3339(t.at));
            v["channel_key"] = json!(t.channel_key());
            v
        })
        .collect();
    crate::edge::http::json(
        200,
        &json!({"order_id": c.order_id, "conversion": conversion_view(&c), "identities": keys, "touchpoints": views}),
    )
}
