//! Targeting: which destination a visitor of a link is sent to.
//!
//! A link may carry ordered [`Rule`]s and A/B [`Variant`]s besides its
//! default destination; [`choose`] decides, in this order:
//!
//! 1. the first rule whose [`Conditions`] all hold (`os`, `device_class`,
//!    `app`, `country`, `language`: AND across conditions, OR within one
//!    condition's list);
//! 2. else the visitor's variant ([`pick_variant`]): integer weights that
//!    sum to 100, sticky per (link, visitor);
//! 3. else the default destination.
//!
//! **Stickiness.** The bucket is the first 8 bytes of
//! `SHA-256(link id as 8 big-endian bytes ‖ visitor id)`, modulo the total
//! weight. SHA-256 is already in the wasm (email hashes, payload
//! fingerprints), so it costs no size; it is stable across Rust versions and
//! platforms (unlike `DefaultHasher`), and every output bit is well mixed
//! (FNV-1a's low bits, which `% 100` reads, are not).
//!
//! **Storage.** [`Rule`] and [`Variant`] serialise to the request shape
//! (which is also the API view) and deserialise through the same parser, so
//! a rule read back from D1 or KV is re-validated. The list invariants
//! (count, unique names, weights summing to 100) belong to [`parse_rules`]
//! and [`parse_variants`]; [`pick_variant`] divides by the actual total, so
//! it stays in range even for a list that skipped them.
//!
//! Pure: no clock, no randomness. Whether bots are targeted is the shell's
//! decision; matching only looks at the facts it is given.
//!
//! * `rule`: the shapes (rules, their conditions, variants);
//! * `parse`: reading them from a request or a stored record;
//! * `condition_values`: the values one condition may list;
//! * `matching`: whether a rule's conditions hold for a visitor;
//! * `choice`: rules before variants before the default, and the sticky
//!   variant.

mod choice;
mod condition_values;
mod matching;
mod parse;
mod rule;

pub use choice::*;
pub use condition_values::*;
pub use matching::*;
pub use parse::*;
pub use rule::*;
