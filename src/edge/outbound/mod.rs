//! The shell's outbound webhooks: endpoints and the delivery log, the
//! export of attributed conversions, and delivery with retries.

pub mod delivery;
pub mod endpoints;
pub mod export;
