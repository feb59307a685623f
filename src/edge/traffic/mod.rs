//! The shell's traffic: writing clicks (group commit), the privacy
//! decision's salt and housekeeping, storefront events, and link stats.

pub mod group_commit;
pub mod privacy;
pub mod stats;
#[cfg(full)]
pub mod storefront;
