//! Outbound: what linkcredit sends to others, signed and retried.
//!
//! May import: every domain below it (`base` to `reporting`).

pub mod webhook;
