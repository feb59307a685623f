//! The webhook outbox every domain writes its events to: one statement
//! queues an event for every active endpoint subscribed to it, once per
//! endpoint and event key. `outbound/` delivers what is queued here.

use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::edge::d1::{batch, query, stmt};
use crate::edge::now;
use crate::outbound::webhook;
use crate::outbound::webhook::EventKind;
use sha2::{Digest, Sha256};
use worker::{console_error, D1Database, D1PreparedStatement};

type Result<T> = std::result::Result<T, ApiError>;

/// The envelope id of an event: the same for every endpoint and every
/// attempt, so receivers deduplicate on it.
pub fn event_id(event_key: &str) -> String {
    let digest = Sha256::digest(event_key.as_bytes());
    format!("evt_{}", hex::encode(&digest[..12]))
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
