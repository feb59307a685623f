//! The shell's links: the redirect, the KV cache, the admin API for links
//! and codes with their SQL, and the pre-launch check's fetching.

pub mod api;
pub mod cache;
pub mod check;
pub mod codes;
pub mod link_rows;
pub mod link_writes;
pub mod redirect;
