//! The shapes of targeting: a [`Rule`] with its [`Conditions`], the
//! [`AppMatch`] of an `app` condition, and an A/B [`Variant`]. They
//! serialise to the request shape, and deserialise through the parser.

use crate::base::error::ParseError;
use crate::links::destination::Destination;
use crate::links::utm_names::UtmValue;
use crate::traffic::ua::{DeviceClass, Os};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub use crate::traffic::ua::APP_NAMES;

/// One targeting rule: where visitors go when every condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Rule {
    pub name: UtmValue,
    pub when: Conditions,
    pub destination: Destination,
}

/// A rule's conditions; an empty list places no condition. At least one
/// list is non-empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conditions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<Os>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_class: Vec<DeviceClass>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app: Vec<AppMatch>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub country: Vec<String>,
    /// Lowercase language tags (`de`, `de-at`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub language: Vec<String>,
}

/// An `app` condition value: one in-app browser, or any of them (`any`,
/// which includes unnamed web views).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppMatch {
    Any,
    App(&'static str),
}

/// One A/B destination and its share of visitors, in percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Variant {
    pub name: UtmValue,
    pub destination: Destination,
    pub weight: u8,
}

impl AppMatch {
    pub fn parse(s: &str) -> Result<AppMatch, ParseError> {
        let v = s.trim().to_ascii_lowercase();
        if v == "any" {
            return Ok(AppMatch::Any);
        }
        match APP_NAMES.iter().find(|a| **a == v) {
            Some(a) => Ok(AppMatch::App(a)),
            None => Err(ParseError::new(
                "invalid_value",
                format!("app must be 'any' or one of {}", APP_NAMES.join(", ")),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AppMatch::Any => "any",
            AppMatch::App(a) => a,
        }
    }

    /// Whether a visit from in-app browser `app` (`None`: a browser) matches.
    pub fn matches(self, app: Option<&str>) -> bool {
        match self {
            AppMatch::Any => app.is_some(),
            AppMatch::App(a) => app == Some(a),
        }
    }
}

impl Serialize for AppMatch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_name_parses() {
        for n in APP_NAMES {
            assert_eq!(AppMatch::parse(n), Ok(AppMatch::App(n)));
        }
    }
}
