//! linkcredit: influencer-marketing attribution at the edge.
//!
//! The crate has two halves (see `ARCHITECTURE.md`):
//!
//! * the **pure core**: every module below except [`edge`]. It has no
//!   `worker` dependency, never reads the clock (time is always a parameter)
//!   and never draws randomness itself (random bytes are passed in). It is
//!   compiled and tested natively with plain `cargo test`.
//! * the **edge shell**, [`edge`], compiled only for `wasm32`. It parses
//!   requests, calls the core, and reads and writes KV and D1.

pub mod adclick;
pub mod attribution;
pub mod bulk;
pub mod click;
pub mod clicklog;
pub mod code;
pub mod config;
pub mod conversion;
pub mod cost;
pub mod csv;
pub mod dashboard;
pub mod destination;
pub mod discount;
pub mod engagement;
pub mod error;
pub mod export;
pub mod fx;
pub mod identity;
pub mod ids;
pub mod import;
pub mod input;
pub mod job;
pub mod journey;
pub mod link;
pub mod linkcheck;
pub mod ltv;
pub mod markov;
pub mod memo;
pub mod money;
pub mod names;
pub mod order;
pub mod page;
pub mod pages;
pub mod payout;
pub mod privacy;
pub mod qr;
pub mod refund;
pub mod report;
pub mod roster;
pub mod route;
pub mod session;
pub mod shopify;
pub mod slug;
pub mod targeting;
pub mod time;
pub mod touchpoint;
pub mod ua;
pub mod utm;
pub mod webhook;

#[cfg(target_arch = "wasm32")]
mod edge;
