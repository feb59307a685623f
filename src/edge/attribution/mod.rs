//! The shell's attribution: the scheduled job (lease, journeys, credits in
//! one transaction), the rollups it rebuilds, and its API. The SQL they run
//! is in `sql` (tested natively by `tests/sql/`).

pub mod api;
pub mod journeys;
pub mod rollups;
pub mod run;
pub mod sql;
