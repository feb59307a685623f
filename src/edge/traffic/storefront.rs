//! Storefront events from the edge (the rules are [`crate::traffic::storefront`]):
//! `POST /api/v1/events` with its CORS preflight, and `GET /t.js`.
//!
//! The endpoint is public, so every guard is here, in this order: the
//! `Origin` must be a configured shop (403), the body is capped (413) and
//! must be JSON (as `text/plain`, what `sendBeacon` sends for a string, or
//! `application/json`; 415), bots and honoured privacy signals are dropped
//! (202, nothing stored), each network (IP prefix) may send 20 visitors'
//! worth of events a minute to an isolate, and each visitor may store
//! `EVENTS_PER_MINUTE` events a minute (429). The rate limit and the visit are decided by the
//! `INSERT` itself, so they hold across isolates.

use crate::base::body::JsonObject;
use crate::base::error::ApiError;
use crate::base::time::{day_of, MINUTE};
use crate::edge::d1::{out, query};
use crate::edge::http::{read_body, unavailable};
use crate::edge::{config, now};
use crate::traffic::ids::{ClickId, ID_BYTES};
use crate::traffic::storefront::{Event, EventInput, NetworkLimiter, NETWORK_FACTOR, VISIT_GAP};
use crate::traffic::ua;
use serde_json::json;
use worker::{Env, Request, Response};

type Result<T> = std::result::Result<T, ApiError>;

/// The most bytes one event body may have.
pub const MAX_EVENT_BYTES: usize = 2048;

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

/// The request's `Origin`, when it is a configured shop.
fn allowed_origin(req: &Request, env: &Env) -> Result<String> {
    let origins = config(env).shop_origins;
    match header(req, "Origin") {
        Some(o) if origins.allows(&o) => Ok(o),
        Some(o) => Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: format!("events are accepted only from the shop origins in SHOP_ORIGINS, not from {o}"),
        }),
        None => Err(ApiError::Forbidden {
            code: "origin_not_allowed",
            message: "events are accepted only from a browser on a shop origin (no Origin header was sent)"
                .into(),
        }),
    }
}

fn cors(resp: Response, origin: &str) -> Response {
    let h = resp.headers();
    let _ = h.set("Access-Control-Allow-Origin", origin);
    let _ = h.set("Vary", "Origin");
    resp
}

/// `OPTIONS /api/v1/events`.
pub fn preflight(req: &Request, env: &Env) -> Result<Response> {
    let origin = allowed_origin(req, env)?;
    let resp = Response::empty()
        .map_err(unavailable("building a preflight"))?
        .with_status(204);
    let h = resp.headers();
    let _ = h.set("Access-Control-Allow-Methods", "POST");
    let _ = h.set("Access-Control-Allow-Headers", "Content-Type");
    let _ = h.set("Access-Control-Max-Age", "86400");
    Ok(cors(resp, &origin))
}

/// `POST /api/v1/events`. Errors carry the CORS headers too, so a shop's
/// developer can read them in the browser.
pub async fn track(mut req: Request, env: &Env) -> worker::Result<Response> {
    let origin = header(&req, "Origin").unwrap_or_default();
    let outcome = async {
        allowed_origin(&req, env)?;
        network_guard(&req, env)?;
        let event = read_event(&mut req).await?;
        if let Some(reason) = dropped(&req, env) {
            return crate::edge::http::json(202, &json!({"status": "dropped", "reason": reason}));
        }
        store(env, &event).await?;
        crate::edge::http::json(202, &json!({"status": "accepted"}))
    }
    .await;
    let resp = match outcome {
        Ok(r) => r,
        Err(e) => crate::edge::http::error_response(&e)?,
    };
    let allowed = config(env).shop_origins.allows(&origin);
    Ok(if allowed { cors(resp, &origin) } else { resp })
}

async fn read_event(req: &mut Request) -> Result<Event> {
    crate::edge::http::require_media(
        req,
        &["text/plain", "application/json"],
        "text/plain or application/json",
    )?;
    let body = JsonObject::parse(&read_body(req, MAX_EVENT_BYTES).await?)?;
    body.deny_unknown(&["type", "visitor_id", "click_id", "url", "occurred_at"])?;
    let text = |field: &str| body.opt_str(field).map(|v| v.map(str::to_owned));
    let input = EventInput {
        kind: text("type")?,
        visitor_id: text("visitor_id")?,
        click_id: text("click_id")?,
        url: text("url")?,
        occurred_at: body.value("occurred_at").cloned(),
    };
    Event::parse(input, now())
}

/// The per-network flood guard ([`NetworkLimiter`]): `NETWORK_FACTOR`
/// visitors' worth of events per IP prefix and minute, in this isolate.
fn network_guard(req: &Request, env: &Env) -> Result<()> {
    thread_local! {
        static LIMITER: std::cell::RefCell<Option<NetworkLimiter>> =
            const { std::cell::RefCell::new(None) };
    }
    let ip = header(req, "CF-Connecting-IP").unwrap_or_default();
    let Some(network) = crate::traffic::privacy::ip_prefix(&ip) else {
        return Ok(());
    };
    let per_minute = config(env).events_per_minute.saturating_mul(NETWORK_FACTOR);
    let allowed = LIMITER.with(|l| {
        l.borrow_mut()
            .get_or_insert_with(|| NetworkLimiter::new(per_minute, 10_000))
            .allow(&network, now())
    });
    if allowed {
        Ok(())
    } else {
        Err(ApiError::RateLimited {
            retry_after_secs: 60,
        })
    }
}

/// Why an event is not stored, when it is not: a bot, or a privacy signal
/// the worker honours.
fn dropped(req: &Request, env: &Env) -> Option<&'static str> {
    let agent = header(req, "User-Agent").unwrap_or_default();
    if ua::classify(&agent).is_bot() {
        return Some("bot");
    }
    let privacy = config(env).privacy;
    let on = |name: &str| header(req, name).is_some_and(|v| v.trim() == "1");
    if (privacy.honor_gpc && on("Sec-GPC")) || (privacy.honor_dnt && on("DNT")) {
        return Some("privacy_signal");
    }
    None
}

/// Stores the event unless the visitor is over the limit (429). The visit
/// is the visitor's latest one if it saw an event within [`VISIT_GAP`], and
/// a click id the visitor sent before is kept for later events without one.
async fn store(env: &Env, event: &Event) -> Result<()> {
    let db = env.d1(crate::edge::DB).map_err(unavailable("D1 binding"))?;
    let config = config(env);
    let limit = config.events_per_minute;
    let received = now();
    let id = ClickId::from_random(crate::edge::random::bytes::<ID_BYTES>());
    let click = event.click_id.as_ref().map(|c| c.as_str().to_owned());
    let result = out(
        query!(
            &db,
            "INSERT INTO events (id, type, visitor_key, click_id, visit_id, host, path, occurred_at, day, received_at) \
             SELECT ?1, ?2, ?3, \
                    COALESCE(?4, (SELECT click_id FROM events WHERE visitor_key = ?3 AND click_id IS NOT NULL \
                                  ORDER BY received_at DESC LIMIT 1)), \
                    COALESCE((SELECT visit_id FROM events WHERE visitor_key = ?3 AND received_at > ?9 - ?10 \
                              ORDER BY received_at DESC LIMIT 1), ?1), \
                    ?5, ?6, ?7, ?8, ?9 \
              WHERE (SELECT COUNT(*) FROM events WHERE visitor_key = ?3 AND received_at > ?9 - ?11) < ?12",
            id.as_str(),
            event.kind.as_str(),
            event.visitor_key(),
            click,
            &event.url_host,
            &event.url_path,
            event.occurred_at,
            day_of(event.occurred_at),
            received,
            VISIT_GAP,
            MINUTE,
            i64::from(limit)
        ),
        "storing an event",
    )
    .await?;
    if result.meta().changes.unwrap_or(0) == 0 {
        return Err(ApiError::RateLimited {
            retry_after_secs: 60,
        });
    }
    Ok(())
}

/// `GET /t.js`: cached for an hour at the edge and in browsers.
pub fn snippet() -> worker::Result<Response> {
    let resp = Response::ok(crate::traffic::storefront::SNIPPET)?;
    let h = resp.headers();
    h.set("Content-Type", "application/javascript; charset=utf-8")?;
    h.set("Cache-Control", "public, max-age=3600")?;
    h.set("X-Content-Type-Options", "nosniff")?;
    Ok(resp)
}
