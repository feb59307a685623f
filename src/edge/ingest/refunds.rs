//! Refunds in D1: stored once per refund id, never more than the order,
//! and the order marked for the next attribution run.

use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::edge::d1::{query, row, rows, stmt};
use crate::edge::ingest::conversions::ConversionRow;
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

/// What became of a refund request.
pub enum Refunded {
    /// Stored now; the order's refunds now total this much.
    Created { refunded_total: i64 },
    /// The same refund again: nothing changed.
    Duplicate { refunded_total: i64 },
    /// This refund id was used with another amount.
    Conflict,
    /// More than the order's remaining net revenue.
    Exceeds { remaining: i64 },
}

/// Stores a refund of conversion `c` in one batch: the refund (only when it
/// fits the remaining net revenue, once per key), the order's refunded
/// total, and the mark for re-attribution (dirty = 2) when it was new.
pub async fn refund(
    db: &D1Database,
    c: &ConversionRow,
    r: &crate::ingest::refund::NewRefund,
    now: Millis,
) -> Result<Refunded> {
    row! {
        struct After {
            amount: Option<i64>,
            revenue_minor: i64,
            refunded_minor: i64,
        }
    }
    let key = r.key();
    let writes = vec![
        stmt(
            query!(
                db,
                "INSERT INTO refunds (conversion_id, refund_key, amount_minor, currency, refunded_at, received_at) \
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
                  WHERE (SELECT revenue_minor - refunded_minor FROM conversions WHERE id = ?1) >= ?3 \
                 ON CONFLICT(conversion_id, refund_key) DO NOTHING",
                c.id,
                &key,
                r.amount.minor,
                &c.currency,
                r.refunded_at.unwrap_or(now),
                now
            ),
            "binding refund insert",
        )?,
        stmt(
            query!(
                db,
                "UPDATE conversions SET dirty = CASE WHEN changes() > 0 THEN 2 ELSE dirty END, \
                   refunded_minor = (SELECT COALESCE(SUM(amount_minor), 0) FROM refunds WHERE conversion_id = ?1) \
                 WHERE id = ?1",
                c.id
            ),
            "binding refund total",
        )?,
        stmt(
            query!(
                db,
                "SELECT (SELECT amount_minor FROM refunds WHERE conversion_id = ?1 AND refund_key = ?2) AS amount, \
                        revenue_minor, refunded_minor FROM conversions WHERE id = ?1",
                c.id,
                &key
            ),
            "binding refund read-back",
        )?,
    ];
    let results = crate::edge::d1::batch(db, writes, "storing refund").await?;
    let inserted = results.first().and_then(|r| r.meta().changes).unwrap_or(0) > 0;
    let after: Vec<After> = rows(results.last(), "decoding refund read-back")?;
    let after = after.into_iter().next().ok_or(ApiError::Unavailable)?;
    Ok(match after.amount {
        _ if inserted => Refunded::Created {
            refunded_total: after.refunded_minor,
        },
        Some(a) if a == r.amount.minor => Refunded::Duplicate {
            refunded_total: after.refunded_minor,
        },
        Some(_) => Refunded::Conflict,
        None => Refunded::Exceeds {
            remaining: after.revenue_minor - after.refunded_minor,
        },
    })
}
