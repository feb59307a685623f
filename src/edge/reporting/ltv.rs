//! `GET /api/v1/reports/ltv`: customers by acquisition source, read from
//! credits and conversions, then [`crate::reporting::ltv::build`].

use crate::base::error::ApiError;
use crate::base::time;
use crate::config::Config;
use crate::edge::d1::{all, query, row};
use crate::edge::now;
use crate::reporting::ltv::{GroupSums, LtvGroup, LtvParams};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

/// Lifetime value by acquisition source ([`crate::reporting::ltv`]): one query over
/// the conversions, their credits and (for tiers) the roster. An order's
/// revenue is its credited revenue in the reporting currency (net of
/// refunds); an order no model credited counts its net revenue as its last
/// attribution run converted it (`conversions.reporting_minor`).
pub async fn ltv(db: &D1Database, p: &LtvParams, config: &Config) -> Result<serde_json::Value> {
    row! {
        struct LtvRow {
            k: Option<String>,
            channel: String,
            customers_micros: i64,
            repeat_micros: i64,
            orders_micros: i64,
            revenue_milli: i64,
        }
    }
    let (key, join) = match p.group {
        LtvGroup::Influencer => ("k.influencer".to_owned(), ""),
        LtvGroup::Campaign => ("k.campaign".to_owned(), ""),
        LtvGroup::Channel => ("k.channel".to_owned(), ""),
        LtvGroup::Tier => (
            config.tiers.sql("i.follower_count"),
            " LEFT JOIN influencers i ON i.handle = k.influencer",
        ),
    };
    let now = now();
    let rows: Vec<LtvRow> = all(
        query!(
            db,
            &format!(
                "WITH orders AS ( \
                   SELECT c.id, c.occurred_at AS at, \
                          COALESCE('c:' || c.customer_id, 'e:' || c.email_sha256, 'v:' || c.visitor_id) AS customer, \
                          COALESCE((SELECT SUM(reporting_minor) FROM credits k \
                                     WHERE k.conversion_id = c.id AND k.model = ?1), \
                                   c.reporting_minor, \
                                   CASE WHEN c.currency = ?4 THEN c.revenue_minor - c.refunded_minor END, 0) AS revenue \
                     FROM conversions c \
                    WHERE c.attributed_at IS NOT NULL AND COALESCE(c.customer_id, c.email_sha256, c.visitor_id) IS NOT NULL), \
                 firsts AS (SELECT customer, MIN(at) AS first_at FROM orders GROUP BY customer HAVING MIN(at) <= ?2), \
                 value AS ( \
                   SELECT f.customer, \
                          (SELECT o.id FROM orders o WHERE o.customer = f.customer ORDER BY o.at, o.id LIMIT 1) AS first_id, \
                          COUNT(o.id) AS orders, SUM(o.revenue) AS revenue \
                     FROM firsts f JOIN orders o ON o.customer = f.customer AND o.at < f.first_at + ?3 \
                    GROUP BY f.customer) \
                 SELECT {key} AS k, k.channel AS channel, SUM(k.conversion_micros) AS customers_micros, \
                        SUM(CASE WHEN v.orders > 1 THEN k.conversion_micros ELSE 0 END) AS repeat_micros, \
                        SUM(k.conversion_micros * v.orders) AS orders_micros, \
                        SUM(k.conversion_micros * v.revenue) / 1000 AS revenue_milli \
                   FROM value v JOIN credits k ON k.conversion_id = v.first_id AND k.model = ?1{join} \
                  GROUP BY 1, 2"
            ),
            p.model.as_str(),
            p.cohort_end(now),
            p.horizon_days * time::DAY,
            config.reporting_currency.as_str()
        ),
        "reading lifetime values",
    )
    .await?;
    let sums: Vec<GroupSums> = rows
        .into_iter()
        .map(|r| GroupSums {
            key: r.k,
            channel: r.channel,
            customers_micros: r.customers_micros,
            repeat_micros: r.repeat_micros,
            orders_micros: r.orders_micros,
            revenue_micros: i128::from(r.revenue_milli) * 1000,
        })
        .collect();
    Ok(crate::reporting::ltv::build(
        p,
        &sums,
        now,
        config.reporting_currency,
    ))
}
