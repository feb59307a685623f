//! Traffic: what a visit to a short link leaves behind.
//!
//! User-agent classification (bots, in-app browsers), the click and its
//! visitor and click ids, ad-platform click ids, the privacy decision per
//! visit, the group commit that writes clicks, the pages a visitor may see
//! instead of a bare redirect, and the storefront events posted from the
//! shop.
//!
//! May import: `base`.

pub mod ad_click_ids;
pub mod click;
pub mod group_commit;
pub mod ids;
pub mod privacy;
pub mod storefront;
pub mod ua;
pub mod visitor_pages;
