//! Reports: credited revenue, cost and return by any grouping, under any
//! model — the marketer's answer to "which influencer moved sales?".
//!
//! The shell reads aggregated rollups (never raw clicks) grouped by the
//! requested dimensions; this module merges clicks, credits and costs by
//! group key, computes the metrics in integers where money is involved, and
//! renders JSON rows, totals, the model comparison and RFC 4180 CSV.
//!
//! * `dim`: the dimensions a report can be grouped by, and their day
//!   buckets;
//! * `params`: the query of a report (model, range, grouping, format) and
//!   of a rollup rebuild;
//! * `aggregates`: what the shell reads, per group key;
//! * `metrics`: one group's metric columns, with money in integers;
//! * `build`: the merge of the aggregates into rows and totals;
//! * `csv`: the rows as RFC 4180 CSV;
//! * `ranking`: influencers ranked by ROI and tiered by tercile.

mod aggregates;
mod build;
mod csv;
mod dim;
mod metrics;
mod params;
mod ranking;

pub use aggregates::*;
pub use build::*;
pub use csv::*;
pub use dim::*;
pub use metrics::*;
pub use params::*;
pub use ranking::*;
