//! Ingest: what the shop and other channels send in.
//!
//! Conversions (API and Shopify webhooks), refunds, touchpoints of other
//! channels, and identity stitching.
//!
//! May import: `base`, `traffic`, `links`, `attribution`.

pub mod conversion;
pub mod identity;
pub mod refund;
pub mod shopify;
pub mod touchpoint;
