//! Attribution: splitting a conversion's value over its journey.
//!
//! Journeys, the six models with their integer weights, the data-driven
//! (Markov) table, and the attribution job's pure part.
//!
//! May import: `base`, `traffic`, `links`.

pub mod batch;
pub mod journey;
pub mod markov;
pub mod models;
