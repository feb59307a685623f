//! The shell's reporting: reports over the rollups, costs and goals, the
//! ranking, LTV, payouts, the spreadsheet export and the dashboard.

pub mod api;
pub mod costs;
pub mod dashboard;
pub mod export;
pub mod ltv;
pub mod payouts;
pub mod ranking;
pub mod report;
