//! Links: what an admin registers and what the redirect serves.
//!
//! Slugs, destinations, UTM tags and the names that go into them, discount
//! styles and codes, targeting rules and A/B variants, QR codes, bulk
//! edits, link records (including the KV record of the hot path), the
//! landing URL a link produces and the pre-launch check that follows it.
//!
//! May import: `base`, `traffic`.

pub mod bulk;
pub mod check;
pub mod code;
pub mod destination;
pub mod discount;
pub mod landing;
pub mod link;
pub mod qr;
pub mod slug;
pub mod targeting;
pub mod utm;
pub mod utm_names;
