//! The base layer: what every domain stands on, and which knows no domain.
//!
//! Errors as the API reports them, request bodies read field by field,
//! money in integer minor units and exchange rates, timestamps, CSV,
//! keyset pagination, the route table and the isolate's memo.
//!
//! May import: nothing else in the crate.

pub mod body;
pub mod csv;
pub mod decimal;
pub mod error;
pub mod fx;
pub mod html;
pub mod memo;
pub mod money;
pub mod pagination;
pub mod route;
pub mod time;
