//! End-to-end tests: the real worker under `wrangler dev` (workerd, local KV
//! and D1), driven over HTTP.
//!
//! `scripts/e2e.sh` builds the worker, starts it on a free port with fresh
//! local state, and runs this binary with `LINKCREDIT_BASE_URL` set. Tests
//! run in parallel against one worker, so each one creates its own
//! influencers, campaigns and links under unique names.

mod harness;

mod admin_api;
mod attribution;
mod bad_input;
mod bots;
mod clicks;
mod conversions;
mod discounts;
mod events;
mod faults;
mod import;
mod link_check;
mod link_tools;
mod ltv;
mod payouts;
mod privacy;
mod redirect;
mod refunds;
mod reports;
mod roster;
mod strict_privacy;
mod webhooks;
