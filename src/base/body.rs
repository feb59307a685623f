//! Request bodies: a JSON object read field by field, so every bad input is
//! reported against the field it is in.
//!
//! Unknown fields are refused (a typo such as `destinaton` must not be
//! silently ignored), so are repeated ones, wrong types name the field, and
//! `null` means absent except where a PATCH gives it the meaning "clear"
//! ([`Patch`]).

use crate::base::error::{ApiError, ParseError};
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
            Ok(Value::Object(map)) => {
                if let Some(key) = duplicate_key(body) {
                    return Err(ApiError::Invalid {
                        code: "duplicate_field",
                        message: format!("field '{key}' is given more than once"),
                        field: Some(key),
                    });
                }
                Ok(JsonObject(map))
            }
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

    /// A whole-number field from 1 to `max`; `None` when absent or `null`.
    pub fn opt_count(&self, field: &str, max: u32) -> Result<Option<u32>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => count(v, field, max).map(Some),
        }
    }

    /// A PATCH whole-number field from 1 to `max`; `null` clears.
    pub fn patch_count(&self, field: &str, max: u32) -> Result<Patch<u32>, ApiError> {
        match self.0.get(field) {
            None => Ok(Patch::Keep),
            Some(Value::Null) => Ok(Patch::Clear),
            Some(v) => count(v, field, max).map(Patch::Set),
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

/// The first key that appears twice in one object, at any depth.
///
/// `serde_json` silently keeps the last of repeated keys; a body such as
/// `{"destination": "https://shop.example/", "destination": "https://evil.example/"}`
/// would then mean one thing to a proxy that reads the first and another to
/// us, so repeats are refused. Only called on bodies that already parsed.
fn duplicate_key(body: &[u8]) -> Option<String> {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::fmt;

    /// Walks one JSON value; records the first repeated key and stops.
    #[derive(Clone, Copy)]
    struct Walk<'a>(&'a RefCell<Option<String>>);

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = BTreeSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if seen.contains(&key) {
                    *self.0.borrow_mut() = Some(key);
                    return Err(A::Error::custom("duplicate key"));
                }
                map.next_value_seed(self)?;
                seen.insert(key);
            }
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(self)?.is_some() {}
            Ok(())
        }

        // Scalars have no keys.
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }

    let found = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = Walk(&found).deserialize(&mut de);
    found.into_inner()
}

fn count(v: &Value, field: &str, max: u32) -> Result<u32, ApiError> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            ParseError::new(
                "invalid_value",
                format!("{field} must be a whole number from 1 to {max}"),
            )
            .at(field)
        })
}

/// Longest accepted display name.
pub const MAX_NAME_LEN: usize = 200;

/// A display name: trimmed, non-empty, at most [`MAX_NAME_LEN`] characters.
pub fn parse_name(s: &str) -> Result<String, ParseError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ParseError::new("empty", "name must not be empty"));
    }
    if s.chars().count() > MAX_NAME_LEN {
        return Err(ParseError::new(
            "too_long",
            format!("name must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ParseError::new(
            "invalid_format",
            "name must not contain control characters",
        ));
    }
    Ok(s.to_owned())
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
    fn repeated_keys_are_refused_at_any_depth() {
        let e = JsonObject::parse(br#"{"a": 1, "b": {"c": 2}, "a": 3}"#).unwrap_err();
        assert_eq!((e.code(), e.field()), ("duplicate_field", Some("a")));
        let e = JsonObject::parse(br#"{"items": [{"x": 1.5, "y": "s"}, {"x": 1, "x": 2}]}"#)
            .unwrap_err();
        assert_eq!((e.code(), e.field()), ("duplicate_field", Some("x")));
        // The same key in sibling objects is no repeat.
        assert!(JsonObject::parse(br#"{"a": {"k": 1e400}, "b": {"k": [true, null]}}"#).is_ok());
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
