//! Errors, as the API reports them.
//!
//! [`ParseError`] is what a newtype's `parse()` returns: a machine-readable
//! code and a human message, but no field name, because the same type is
//! parsed from many fields. [`ApiError`] is what a handler returns; the shell
//! maps each variant to an HTTP status and renders
//! `{"error":{"code","message","field"}}`.

use serde::Serialize;

/// A value failed validation. Attach the field with [`ParseError::at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub code: &'static str,
    pub message: String,
}

impl ParseError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ParseError {
            code,
            message: message.into(),
        }
    }

    /// Turns this into a 400 for the named request field.
    pub fn at(self, field: &str) -> ApiError {
        ApiError::Invalid {
            code: self.code,
            message: self.message,
            field: Some(field.to_owned()),
        }
    }
}

/// Everything a handler can answer with other than success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed or a field is invalid.
    #[error("{message}")]
    Invalid {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 401: missing or wrong bearer token.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// 403: the request is understood and refused (e.g. an event from an
    /// origin that is not a configured shop).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: the addressed resource does not exist.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// 405: the path exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request conflicts with stored state (e.g. a taken slug).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    /// 413: the body is larger than the endpoint accepts.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not of the media type the route takes.
    #[error("content type must be {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// 429: too many requests from one client; retry after the given time.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u32 },
    /// 503: storage is unavailable; the request may be retried.
    #[error("storage is temporarily unavailable, retry later")]
    Unavailable,
}

impl ApiError {
    /// The stable, machine-readable error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Forbidden { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound { .. } => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable => "unavailable",
        }
    }

    /// The request field the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Invalid { field, .. } | ApiError::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// A shorthand for a 400 that is about the request as a whole.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// The JSON body `{"error":{"code","message","field"}}`.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
            },
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

#[derive(Debug, Serialize)]
pub struct ErrorDetail<'a> {
    pub code: &'static str,
    pub message: String,
    pub field: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_code_message_and_field() {
        let e = ParseError::new("too_long", "at most 2048 characters").at("destination");
        let json = serde_json::to_value(e.body()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"error": {"code": "too_long", "message": "at most 2048 characters", "field": "destination"}})
        );
        let json = serde_json::to_value(ApiError::Unauthorized.body()).unwrap();
        assert_eq!(json["error"]["code"], "unauthorized");
        assert_eq!(json["error"]["field"], serde_json::Value::Null);
    }
}
