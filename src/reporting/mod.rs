//! Reporting: what a marketer reads.
//!
//! Reports by any grouping under any model, costs and campaign goals,
//! lifetime value, payouts, and the dashboard with its sessions.
//!
//! May import: every domain below it (`base` to `roster`).

pub mod cost;
pub mod dashboard;
pub mod ltv;
pub mod payout;
pub mod report;
pub mod session;
