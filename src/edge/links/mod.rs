//! The shell's links: the redirect, the KV cache, the admin API for links
//! and codes with their SQL (the shared link select and the list pages in
//! `sql`, tested natively by `tests/sql/`), and the pre-launch check's
//! fetching.

#[cfg(full)]
pub mod api;
pub mod cache;
#[cfg(full)]
pub mod check;
#[cfg(full)]
pub mod codes;
pub mod link_rows;
#[cfg(full)]
pub mod link_writes;
pub mod redirect;
pub mod sql;
