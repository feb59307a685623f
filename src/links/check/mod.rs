//! Pre-launch link check, the pure half of `POST /api/v1/links/{slug}/check`
//! and `POST /api/v1/links:check`.
//!
//! The shell follows a link's redirect chain itself (`redirect: manual`) once
//! per user agent in [`AGENTS`]. It records one [`Hop`] per response and asks
//! [`next_fetch`] for the next URL. `next_fetch` stops after [`MAX_HOPS`]
//! redirects or before a URL is fetched a second time. A fetch that fails
//! becomes a [`FetchError`] through [`classify_error`]. [`evaluate`] then
//! compares the chain with the [`Expectation`] read from the first Location
//! the worker itself produced ([`expectation()`]): the final status, the
//! `utm_*` tags and `lc_cid` that must survive, the Shopify discount hop and
//! the code. Each problem becomes a reason in the [`Verdict`], and
//! [`summarize`] folds the agents' verdicts into one.
//!
//! * `agents`: the user agents a link is checked with;
//! * `chain`: following the redirect chain (the hops, the next URL, fetch
//!   errors);
//! * `expectation`: what the worker's own first Location says must survive;
//! * `verdict`: judging a chain against it, and the summary of all agents.

mod agents;
mod chain;
mod expectation;
mod verdict;

pub use agents::*;
pub use chain::*;
pub use expectation::*;
pub use verdict::*;
