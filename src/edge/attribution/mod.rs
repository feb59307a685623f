//! The shell's attribution: the scheduled job (lease, journeys, credits in
//! one transaction), the rollups it rebuilds, and its API.

pub mod api;
pub mod journeys;
pub mod rollups;
pub mod run;
