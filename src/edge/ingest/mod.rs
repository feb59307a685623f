//! The shell's ingest: the conversions, touchpoint and Shopify endpoints,
//! their SQL (one read batch, one transactional write batch), refunds and
//! erasure.

pub mod api;
pub mod conversions;
pub mod erasure;
pub mod identities;
pub mod refunds;
pub mod touchpoints;
