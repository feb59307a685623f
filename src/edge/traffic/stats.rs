//! A link's click stats (`GET /api/v1/links/{slug}/stats`) and the human
//! clicks a click-limited link has had.

use crate::base::error::ApiError;
#[cfg(full)]
use crate::base::time::Millis;
use crate::edge::d1::{first, query, row};
#[cfg(full)]
use crate::{
    edge::http::unavailable,
    traffic::click::{LinkStats, StatsCounts, UNIQUE_WINDOW},
};
#[cfg(full)]
use std::collections::BTreeMap;
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

#[cfg(full)]
row! {
    struct StatsRow {
        clicks: Option<u64>,
        unique_clicks: Option<u64>,
        unique_visitors: Option<u64>,
        bot_clicks: Option<u64>,
        first_click: Option<Millis>,
        last_click: Option<Millis>,
    }

    struct AppRow {
        app: String,
        clicks: u64,
    }
}

/// Human clicks, unique clicks (the `LAG()` form of the core's
/// `count_unique`), unique visitors, bot clicks and clicks per app.
#[cfg(full)]
pub async fn link_stats(db: &D1Database, link_id: i64) -> Result<LinkStats> {
    let totals = query!(
        db,
        "SELECT SUM(1 - is_bot) AS clicks, \
                SUM(CASE WHEN is_bot = 0 AND (prev_ts IS NULL OR ts - prev_ts >= ?2) THEN 1 ELSE 0 END) AS unique_clicks, \
                COUNT(DISTINCT CASE WHEN is_bot = 0 THEN visitor_id END) AS unique_visitors, \
                SUM(is_bot) AS bot_clicks, \
                MIN(CASE WHEN is_bot = 0 THEN ts END) AS first_click, \
                MAX(CASE WHEN is_bot = 0 THEN ts END) AS last_click \
         FROM (SELECT ts, visitor_id, is_bot, \
                      CASE WHEN is_bot = 0 THEN LAG(ts) OVER (PARTITION BY visitor_id, is_bot ORDER BY ts, id) END AS prev_ts \
               FROM clicks WHERE link_id = ?1)",
        link_id,
        UNIQUE_WINDOW
    )
    .map_err(unavailable("binding stats query"))?;
    let by_app = query!(
        db,
        "SELECT COALESCE(app, 'browser') AS app, COUNT(*) AS clicks FROM clicks \
         WHERE link_id = ?1 AND is_bot = 0 GROUP BY 1 ORDER BY 1",
        link_id
    )
    .map_err(unavailable("binding by-app query"))?;
    let results = crate::edge::d1::sys_batch(db, &crate::edge::d1::statements(&[totals, by_app]))
        .await
        .map_err(unavailable("reading link stats"))?;
    let mut results = results.into_iter();
    let totals: Option<StatsRow> = results
        .next()
        .map(|r| r.rows::<StatsRow>())
        .transpose()
        .map_err(unavailable("decoding stats"))?
        .and_then(|rows| rows.into_iter().next());
    let apps: Vec<AppRow> = results
        .next()
        .map(|r| r.rows::<AppRow>())
        .transpose()
        .map_err(unavailable("decoding by-app stats"))?
        .unwrap_or_default();
    let counts = totals.map_or_else(StatsCounts::default, |r| StatsCounts {
        clicks: r.clicks.unwrap_or(0),
        unique_clicks: r.unique_clicks.unwrap_or(0),
        unique_visitors: r.unique_visitors.unwrap_or(0),
        bot_clicks: r.bot_clicks.unwrap_or(0),
        first: r.first_click,
        last: r.last_click,
    });
    let by_app: BTreeMap<String, u64> = apps.into_iter().map(|a| (a.app, a.clicks)).collect();
    Ok(LinkStats::new(counts, by_app))
}

/// The human clicks stored for a link (for `max_clicks`).
pub async fn human_clicks(db: &D1Database, link_id: i64) -> Result<u64> {
    row! {
        struct N {
            n: u64,
        }
    }
    let row: Option<N> = first(
        query!(
            db,
            "SELECT COUNT(*) AS n FROM clicks WHERE link_id = ?1 AND is_bot = 0",
            link_id
        ),
        "counting a link's clicks",
    )
    .await?;
    Ok(row.map_or(0, |r| r.n))
}
