//! Bearer-token checks, in constant time, and the admin API's call context.

use crate::base::error::ApiError;
use crate::config::Config;
use crate::edge::http::unavailable;
use crate::edge::{config, DB};
use subtle::ConstantTimeEq;
use worker::{console_error, D1Database, Env, Request};

/// Checks `Authorization: Bearer <token>` against the secret `binding`.
/// A missing or empty secret refuses every request.
pub fn require_bearer(req: &Request, env: &Env, binding: &str) -> Result<(), ApiError> {
    let expected = match env.secret(binding) {
        Ok(s) => s.to_string(),
        Err(_) => {
            console_error!("secret {binding} is not configured; refusing the request");
            return Err(ApiError::Unauthorized);
        }
    };
    let header = req
        .headers()
        .get("Authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let given = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .unwrap_or("")
        .trim();
    let ok = !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// An admin API call, once `Authorization: Bearer $ADMIN_TOKEN` is
/// checked: what every admin handler needs.
pub struct Admin {
    pub db: D1Database,
    pub config: Config,
    /// The raw query string (empty without one).
    pub query: String,
    /// The origin the request was made to (short URLs use it when no short
    /// domain is configured).
    pub origin: String,
}

impl Admin {
    pub fn from_request(req: &Request, env: &Env) -> Result<Admin, ApiError> {
        require_bearer(req, env, "ADMIN_TOKEN")?;
        let db = env.d1(DB).map_err(unavailable("D1 binding"))?;
        let url = req.url().ok();
        let query = url
            .as_ref()
            .and_then(|u| u.query())
            .unwrap_or("")
            .to_owned();
        let origin = url
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        Ok(Admin {
            db,
            config: config(env),
            query,
            origin,
        })
    }
}
