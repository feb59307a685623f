//! Links: validated input for create and patch, the stored record, the API
//! view, and the small record cached in KV for the redirect hot path.
//!
//! * `new_link`: the `POST /api/v1/links` body (and its `tags`, `domain`
//!   and routing fields);
//! * `patch`: the `PATCH /api/v1/links/{slug}` body and how it applies;
//! * `piece`: the content piece a link was posted in, and product
//!   categories;
//! * `limits`: a link's status and its limits (window, click cap);
//! * `record`: the link as stored in D1, and where it sends a visitor;
//! * `view`: the JSON the admin API returns;
//! * `cached`: the record KV holds for the redirect;
//! * `availability`: whether a visit is redirected, and why not.

mod availability;
mod cached;
mod limits;
mod new_link;
mod patch;
mod piece;
mod record;
mod view;

pub use availability::*;
pub use cached::*;
pub use limits::*;
pub use new_link::*;
pub use patch::*;
pub use piece::*;
pub use record::*;
pub use view::*;
