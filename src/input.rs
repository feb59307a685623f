//! Request bodies: a JSON object read field by field, so every bad input is
//! reported against the field it is in.
//!
//! Unknown fields are refused (a typo such as `destinaton` must not be
//! silently ignored), wrong types name the field, and `null` means absent
//! except where a PATCH gives it the meaning "clear" ([`Patch`]).

use crate::error::{ApiError, ParseError};
use serde_json::{Map, Value};

/// The largest JSON body any endpoint accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed JSON object body.
#[derive(Debug)]
pub struct JsonObject(Map<String, Value>);

/// A PATCH field: left alone, cleared with `null`, or set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    /// Applies the patch to an optional field.
    pub fn apply(self, field: &mut Option<T>) {
        match self {
            Patch::Keep => {}
            Patch::Clear => *field = None,
            Patch::Set(v) => *field = Some(v),
        }
    }
}

impl JsonObject {
    /// Parses a body, refusing anything but a JSON object of at most
    /// [`MAX_BODY_BYTES`].
    pub fn parse(body: &[u8]) -> Result<JsonObject, ApiError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::invalid(
                "expected_object",
                "request body must be a JSON object",
            )),
            Err(e) => Err(ApiError::invalid(
                "malformed_json",
                format!("request body is not valid JSON: {e}"),
            )),
        }
    }

    /// Wraps an already-parsed object (e.g. one item of a batch).
    pub fn from_map(map: Map<String, Value>) -> JsonObject {
        JsonObject(map)
    }

    /// Refuses any field not in `allowed`.
    pub fn deny_unknown(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) => Err(ApiError::Invalid {
                code: "unknown_field",
                message: format!(
                    "unknown field '{k}'; expected one of: {}",
                    allowed.join(", ")
                ),
                field: Some(k.clone()),
            }),
        }
    }

    /// A field's raw JSON value, `null` included; `None` when absent.
    pub fn raw(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    /// A field's raw JSON value; `None` when absent or `null`.
    pub fn value(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|v| !v.is_null())
    }

    /// A string field; `None` when absent or `null`.
    pub fn opt_str(&self, field: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => {
                Err(ParseError::new("invalid_type", format!("{field} must be a string")).at(field))
            }
        }
    }

    /// A boolean field; `None` when absent or `null`.
    pub fn opt_bool(&self, field: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ParseError::new(
                "invalid_type",
                format!("{field} must be true or false"),
            )
            .at(field)),
        }
    }

    /// A required string field.
    pub fn req_str(&self, field: &str) -> Result<&str, ApiError> {
        self.opt_str(field)?
            .ok_or_else(|| ParseError::new("required", format!("{field} is required")).at(field))
    }

    /// An optional field parsed with `parse`.
    pub fn opt<T>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Option<T>, ApiError> {
        self.opt_str(field)?
            .map(|s| parse(s).map_err(|e| e.at(field)))
            .transpose()
    }

    /// A required field parsed with `parse`.
    pub fn req<T>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<T, ApiError> {
        parse(self.req_str(field)?).map_err(|e| e.at(field))
    }

    /// A PATCH field parsed with `parse`; `null` clears.
    pub fn patch<T>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Result<Patch<T>, ApiError> {
        match self.0.get(field) {
            None => Ok(Patch::Keep),
            Some(Value::Null) => Ok(Patch::Clear),
            Some(Value::String(s)) => parse(s).map(Patch::Set).map_err(|e| e.at(field)),
            Some(_) => Err(ParseError::new(
                "invalid_type",
                format!("{field} must be a string or null"),
            )
            .at(field)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> JsonObject {
        JsonObject::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn body_shape_errors() {
        assert_eq!(
            JsonObject::parse(b"{").unwrap_err().code(),
            "malformed_json"
        );
        assert_eq!(JsonObject::parse(b"").unwrap_err().code(), "malformed_json");
        assert_eq!(
            JsonObject::parse(b"[1]").unwrap_err().code(),
            "expected_object"
        );
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            JsonObject::parse(&big).unwrap_err().code(),
            "payload_too_large"
        );
    }

    #[test]
    fn field_errors_name_the_field() {
        let o = obj(r#"{"a": "x", "n": 1, "z": null}"#);
        assert_eq!(o.deny_unknown(&["a", "n"]).unwrap_err().field(), Some("z"));
        assert!(o.deny_unknown(&["a", "n", "z"]).is_ok());
        assert_eq!(o.req_str("a"), Ok("x"));
        assert_eq!(o.opt_str("z"), Ok(None));
        let e = o.req_str("n").unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_type", Some("n")));
        let e = o.req_str("missing").unwrap_err();
        assert_eq!((e.code(), e.field()), ("required", Some("missing")));
        let e = o
            .req("a", |_| Err::<(), _>(ParseError::new("bad", "no")))
            .unwrap_err();
        assert_eq!((e.code(), e.field()), ("bad", Some("a")));
    }

    #[test]
    fn patch_is_tri_state() {
        let o = obj(r#"{"a": "x", "z": null, "n": 2}"#);
        let id = |s: &str| Ok::<_, ParseError>(s.to_owned());
        assert_eq!(o.patch("a", id), Ok(Patch::Set("x".to_owned())));
        assert_eq!(o.patch("z", id), Ok(Patch::Clear));
        assert_eq!(o.patch("q", id), Ok(Patch::Keep));
        assert_eq!(o.patch("n", id).unwrap_err().code(), "invalid_type");
    }
}
