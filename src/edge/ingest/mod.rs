//! The shell's ingest: the conversions, touchpoint and Shopify endpoints,
//! their SQL (one read batch, one transactional write batch), refunds and
//! erasure. The SQL they run is in `sql` (tested natively by `tests/sql/`).

pub mod api;
pub mod conversions;
pub mod erasure;
pub mod identities;
pub mod refunds;
pub mod sql;
pub mod touchpoints;
