//! The values one condition of a rule may list: operating systems, device
//! classes, countries and language tags, each parsed and normalised, and
//! the list itself (non-empty, bounded, repeats dropped).

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::traffic::ua::{DeviceClass, Os};
use serde_json::Value;

/// The most values one condition may list.
pub const MAX_VALUES: usize = 100;

/// Operating systems a rule can name: every [`Os`] but `other`.
const OSES: [Os; 6] = [
    Os::Ios,
    Os::Android,
    Os::Windows,
    Os::Macos,
    Os::Linux,
    Os::Chromeos,
];

const DEVICES: [DeviceClass; 3] = [
    DeviceClass::Mobile,
    DeviceClass::Tablet,
    DeviceClass::Desktop,
];

/// A condition's list of values, each parsed, repeats dropped.
pub(super) fn values<T: PartialEq>(
    o: &JsonObject,
    field: &str,
    parse: fn(&str) -> Result<T, ParseError>,
) -> Result<Vec<T>, ApiError> {
    let invalid =
        |code, message: &str| ParseError::new(code, format!("{field} {message}")).at(field);
    let items = match o.value(field) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("invalid_type", "must be a list of strings")),
    };
    if items.is_empty() {
        return Err(invalid(
            "empty",
            "must list a value (leave it out to match all)",
        ));
    }
    if items.len() > MAX_VALUES {
        return Err(invalid("too_many", "lists too many values"));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| invalid("invalid_type", "must be a list of strings"))?;
        let v = parse(s).map_err(|e| e.at(field))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

pub(super) fn parse_os(s: &str) -> Result<Os, ParseError> {
    let v = s.trim().to_ascii_lowercase();
    OSES.into_iter().find(|o| o.as_str() == v).ok_or_else(|| {
        ParseError::new(
            "invalid_value",
            "os must be one of ios, android, windows, macos, linux, chromeos",
        )
    })
}

pub(super) fn parse_device(s: &str) -> Result<DeviceClass, ParseError> {
    let v = s.trim().to_ascii_lowercase();
    DEVICES
        .into_iter()
        .find(|d| d.as_str() == v)
        .ok_or_else(|| {
            ParseError::new(
                "invalid_value",
                "device_class must be one of mobile, tablet, desktop",
            )
        })
}

pub(super) fn parse_country(s: &str) -> Result<String, ParseError> {
    let v = s.trim();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(ParseError::new(
            "invalid_value",
            "country must be a two-letter ISO 3166-1 code",
        ))
    }
}

/// A language tag (`de`, `de-AT`, `zh_Hant`), lowercased with `-`.
pub(super) fn parse_language(s: &str) -> Result<String, ParseError> {
    let v = s.trim().to_ascii_lowercase().replace('_', "-");
    let ok = v.len() <= 35
        && v.split('-').enumerate().all(|(i, sub)| {
            let (min, alpha) = if i == 0 { (2, true) } else { (1, false) };
            (min..=8).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || (!alpha && b.is_ascii_digit()))
        });
    if ok {
        Ok(v)
    } else {
        Err(ParseError::new(
            "invalid_value",
            "language must be a language tag such as 'de' or 'de-AT'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails to compile when `Os` or `DeviceClass` gains a value, so
    /// `OSES` and `DEVICES` are revisited.
    #[test]
    fn every_os_and_device_class_is_considered() {
        for o in OSES {
            match o {
                Os::Ios | Os::Android | Os::Windows | Os::Macos | Os::Linux | Os::Chromeos => {}
                Os::Other => panic!("other is not a target"),
            }
            assert_eq!(parse_os(o.as_str()), Ok(o));
        }
        for d in DEVICES {
            match d {
                DeviceClass::Mobile | DeviceClass::Tablet | DeviceClass::Desktop => {}
                DeviceClass::Bot | DeviceClass::Other => panic!("{d:?} is not a target"),
            }
        }
    }
}
