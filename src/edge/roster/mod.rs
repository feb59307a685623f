//! The shell's roster: influencers and campaigns (API and SQL) and the
//! spreadsheet import.

pub mod api;
pub mod import;
pub mod records;
