//! Bearer-token checks, in constant time.

use crate::base::error::ApiError;
use subtle::ConstantTimeEq;
use worker::{console_error, Env, Request};

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
