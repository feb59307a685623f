//! HTTP plumbing: JSON responses, the error shape and its status codes, and
//! reading a JSON body within the size limit.

#[cfg(full)]
use crate::base::body::{JsonObject, MAX_BODY_BYTES};
use crate::base::error::ApiError;
#[cfg(full)]
use serde::Serialize;
use worker::console_error;
#[cfg(full)]
use worker::{Request, Response};

/// The HTTP status of each error.
#[cfg(full)]
pub fn status(e: &ApiError) -> u16 {
    match e {
        ApiError::Invalid { .. } => 400,
        ApiError::Unauthorized => 401,
        ApiError::Forbidden { .. } => 403,
        ApiError::NotFound { .. } => 404,
        ApiError::MethodNotAllowed => 405,
        ApiError::Conflict { .. } => 409,
        ApiError::PayloadTooLarge { .. } => 413,
        ApiError::UnsupportedMediaType { .. } => 415,
        ApiError::RateLimited { .. } => 429,
        ApiError::Unavailable => 503,
    }
}

#[cfg(full)]
pub fn json<T: Serialize>(status: u16, value: &T) -> Result<Response, ApiError> {
    let resp = Response::from_json(value).map_err(unavailable("serialising a response"))?;
    let resp = resp.with_status(status);
    let _ = resp.headers().set("Cache-Control", "no-store");
    Ok(resp)
}

/// What a 503 asks clients to wait before retrying.
#[cfg(full)]
pub const RETRY_AFTER_SECONDS: &str = "5";

/// Renders `{"error":{"code","message","field"}}` with the mapped status.
#[cfg(full)]
pub fn error_response(e: &ApiError) -> worker::Result<Response> {
    let resp = Response::from_json(&e.body())?.with_status(status(e));
    resp.headers().set("Cache-Control", "no-store")?;
    if matches!(e, ApiError::Unauthorized) {
        resp.headers().set("WWW-Authenticate", "Bearer")?;
    }
    if let ApiError::RateLimited { retry_after_secs } = e {
        resp.headers()
            .set("Retry-After", &retry_after_secs.to_string())?;
    }
    if matches!(e, ApiError::Unavailable) {
        // Storage is momentarily unavailable and nothing was stored: the
        // client retries (every write is idempotent).
        resp.headers().set("Retry-After", RETRY_AFTER_SECONDS)?;
    }
    Ok(resp)
}

/// Logs a storage or runtime failure and turns it into a 503.
pub fn unavailable<E: std::fmt::Display>(context: &'static str) -> impl Fn(E) -> ApiError {
    move |e| {
        console_error!("{context}: {e}");
        ApiError::Unavailable
    }
}

/// Refuses (415, naming `expected`) a body whose media type (the
/// `Content-Type` before its parameters, in any letter case) is none of
/// `accepted`.
#[cfg(full)]
pub fn require_media(
    req: &Request,
    accepted: &[&str],
    expected: &'static str,
) -> Result<(), ApiError> {
    let content_type = req
        .headers()
        .get("Content-Type")
        .ok()
        .flatten()
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or("").trim();
    if accepted.iter().any(|a| media.eq_ignore_ascii_case(a)) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType { expected })
    }
}

/// Reads a JSON object body: `application/json`, at most 64 KiB.
#[cfg(full)]
pub async fn read_json(req: &mut Request) -> Result<JsonObject, ApiError> {
    require_media(req, &["application/json"], "application/json")?;
    JsonObject::parse(&read_body(req, MAX_BODY_BYTES).await?)
}

/// Reads a raw body of at most `limit` bytes (413 beyond), checking the
/// declared length before reading anything.
#[cfg(full)]
pub async fn read_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|l| l.parse::<usize>().ok());
    if declared.is_some_and(|l| l > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let body = req
        .bytes()
        .await
        .map_err(|_| ApiError::invalid("unreadable_body", "the request body could not be read"))?;
    if body.len() > limit {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    Ok(body)
}

/// The most bytes a CSV upload may have (5,000 rows of a wide spreadsheet).
#[cfg(full)]
pub const MAX_CSV_BYTES: usize = 4 * 1024 * 1024;

/// Reads a `text/csv` body as UTF-8 text (415 for another type, 413
/// beyond [`MAX_CSV_BYTES`]).
#[cfg(full)]
pub async fn read_csv(req: &mut Request) -> Result<String, ApiError> {
    require_media(req, &["text/csv", "application/csv"], "text/csv")?;
    String::from_utf8(read_body(req, MAX_CSV_BYTES).await?)
        .map_err(|_| ApiError::invalid("invalid_encoding", "the CSV must be UTF-8"))
}

#[cfg(full)]
pub fn conflict(code: &'static str, field: &str, message: String) -> ApiError {
    ApiError::Conflict {
        code,
        message,
        field: Some(field.to_owned()),
    }
}
