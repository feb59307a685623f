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

// The domains, from the base up: each may import only those above it in
// this list (see ARCHITECTURE.md; `tidy.rs` enforces it).
pub mod attribution;
pub mod base;
pub mod ingest;
pub mod links;
pub mod outbound;
pub mod reporting;
pub mod roster;
pub mod traffic;

// Configuration knows every domain, so it sits on top.
pub mod config;

#[cfg(target_arch = "wasm32")]
mod edge;

#[cfg(test)]
mod tidy;
