//! The edge shell: the Workers entry points and the shell's base. Compiled
//! only for `wasm32`.
//!
//! The shell mirrors the core's domains (`traffic/`, `links/`, …): each
//! folder holds the handlers of its routes and the SQL they run, as named
//! constants or inline statements next to the code that binds them; the
//! statements `tests/sql/` runs natively against SQLite live in a
//! folder's `sql.rs` (constants and text builders only, no `worker`). The
//! files directly in `edge/` are its base, which imports no shell domain:
//! the clock ([`now`], the only read in the crate), the configuration,
//! HTTP and D1 helpers, bearer auth, random bytes, exchange rates and the
//! webhook outbox. [`entry`] is its top: the `fetch`, `scheduled` and
//! `queue` events, which dispatch to every domain. Handlers return
//! `Result<Response, ApiError>`; [`http::error_response`] maps errors to
//! statuses, so no bad input can ever surface as a 500.

// The redirect worker (feature `redirect-only`) compiles the same modules
// but reaches only the redirect path; the rest is dead there, and left out
// of its wasm by the linker.

#[cfg(full)]
pub mod auth;
pub mod d1;
pub mod entry;
#[cfg(full)]
pub mod fx;
pub mod http;
#[cfg(full)]
pub mod outbox;
pub mod random;

#[cfg(full)]
pub mod attribution;
#[cfg(full)]
pub mod ingest;
pub mod links;
#[cfg(full)]
pub mod outbound;
#[cfg(full)]
pub mod reporting;
#[cfg(full)]
pub mod roster;
pub mod traffic;

use crate::base::time::Millis;
use crate::config::Config;
use worker::{console_error, Env};

/// Binding names, as in `wrangler.toml`.
pub const DB: &str = "DB";
/// The KV namespace of the redirect records.
pub const LINKS_KV: &str = "LINKS";

/// The current time. The only clock read in the crate.
pub fn now() -> Millis {
    worker::Date::now().as_millis() as Millis
}

/// The configuration from `[vars]`. A bad value is logged and the defaults
/// are used, so a typo in a var degrades to default behaviour, not an outage.
///
/// Vars are fixed for the life of an isolate, so they are read and parsed
/// once per isolate, not on every request (the redirect is the hot path).
pub fn config(env: &Env) -> Config {
    thread_local! {
        static CONFIG: std::cell::OnceCell<Config> = const { std::cell::OnceCell::new() };
    }
    CONFIG.with(|c| {
        c.get_or_init(|| {
            Config::from_vars(|name| env.var(name).ok().map(|v| v.to_string())).unwrap_or_else(
                |(var, e)| {
                    console_error!("config: {var}: {}; using defaults", e.message);
                    Config::default()
                },
            )
        })
        .clone()
    })
}

/// The full worker's service binding, in the redirect worker's config.
#[cfg(feature = "redirect-only")]
pub const APP: &str = "APP";
