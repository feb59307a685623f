//! On-site engagement: the events the storefront snippet ([`SNIPPET`],
//! served at `GET /t.js`) posts to `POST /api/v1/events`, the shop origins
//! allowed to post them, and the leading-indicator report columns built
//! from them.
//!
//! The snippet sends `page_view` on every page, `product_view` on product
//! pages, and `add_to_cart` / `checkout_start` when the theme calls
//! `linkcredit.track(...)`. Each event names its visitor (the snippet's
//! first-party `lc_vid`, kept in `localStorage`, never a cookie) and, when
//! the visitor arrived through a link in the last 30 days, its click id
//! (`lc_cid`). Of the page URL only the host and the path are kept: query
//! strings and fragments can carry personal data (emails, names, tokens).
//!
//! The shell groups a visitor key's events into visits ([`VISIT_GAP`]) at
//! ingest; the report query sums them per group into an [`EngagementAgg`],
//! whose [`EngagementAgg::columns`] are the report's engagement columns.
//! These move days before conversions do, so a new influencer's traffic
//! can be judged before the first order arrives.
//!
//! One job a file: `events` (the body of an event and its checks),
//! `page_url` (what is kept of the page's URL), `origins` (the shops allowed
//! to post), `engagement` (the report's columns), `network_limiter` (the
//! flood guard per network) and `snippet` (the script itself).

mod engagement;
mod events;
mod network_limiter;
mod origins;
mod page_url;
mod snippet;

pub use engagement::*;
pub use events::*;
pub use network_limiter::*;
pub use origins::*;
pub use page_url::*;
pub use snippet::*;
