//! The roster: influencers, their profiles and contracts, campaigns, and
//! the master spreadsheet's import and export.
//!
//! May import: `base`, `traffic`, `links`, `attribution`, `ingest`.

pub mod export;
pub mod import;
pub mod influencers;
