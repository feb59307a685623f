//! Other-channel touchpoints (`POST /api/v1/touchpoints`): email, paid
//! search and the rest, so multi-touch attribution covers every channel.

use crate::attribution::journey::CHANNELS;
use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::base::time::Millis;
use crate::ingest::conversion::{parse_external_id, parse_occurred_at};
use crate::links::utm_names::UtmValue;
use crate::traffic::ids::VisitorId;

/// A validated touchpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTouchpoint {
    pub occurred_at: Millis,
    pub channel: &'static str,
    pub source: Option<UtmValue>,
    pub medium: Option<UtmValue>,
    pub campaign: Option<UtmValue>,
    pub visitor_id: Option<VisitorId>,
    pub customer_id: Option<String>,
}

fn parse_channel(s: &str) -> Result<&'static str, ParseError> {
    let lower = s.trim().to_ascii_lowercase();
    CHANNELS
        .iter()
        .copied()
        .find(|c| *c == lower)
        .ok_or_else(|| {
            ParseError::new(
                "invalid_value",
                format!("channel must be one of {}", CHANNELS.join(", ")),
            )
        })
}

impl NewTouchpoint {
    pub fn from_json(o: &JsonObject, now: Millis) -> Result<NewTouchpoint, ApiError> {
        o.deny_unknown(&[
            "occurred_at",
            "channel",
            "source",
            "medium",
            "campaign",
            "visitor_id",
            "customer_id",
        ])?;
        let occurred_at = match o.value("occurred_at") {
            Some(v) => parse_occurred_at(v, now).map_err(|e| e.at("occurred_at"))?,
            None => {
                return Err(ParseError::new("required", "occurred_at is required").at("occurred_at"))
            }
        };
        let t = NewTouchpoint {
            occurred_at,
            channel: o.req("channel", parse_channel)?,
            source: o.opt("source", UtmValue::parse)?,
            medium: o.opt("medium", UtmValue::parse)?,
            campaign: o.opt("campaign", UtmValue::parse)?,
            visitor_id: o.opt("visitor_id", VisitorId::parse)?,
            customer_id: o
                .value("customer_id")
                .map(|v| parse_external_id(v, "customer_id"))
                .transpose()
                .map_err(|e| e.at("customer_id"))?,
        };
        if t.visitor_id.is_none() && t.customer_id.is_none() {
            return Err(
                ParseError::new("required", "give visitor_id or customer_id (or both)")
                    .at("visitor_id"),
            );
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<NewTouchpoint, ApiError> {
        NewTouchpoint::from_json(
            &JsonObject::parse(json.as_bytes()).unwrap(),
            1_795_939_200_000,
        )
    }

    #[test]
    fn touchpoints() {
        let t = parse(r#"{"occurred_at":"2026-11-28T10:00:00Z","channel":"Email","source":"Newsletter","customer_id":"c-1"}"#).unwrap();
        assert_eq!(
            (
                t.channel,
                t.source.unwrap().as_str(),
                t.customer_id.as_deref()
            ),
            ("email", "newsletter", Some("c-1"))
        );
        let e = parse(r#"{"occurred_at":"2026-11-28T10:00:00Z","channel":"tv","customer_id":"c"}"#)
            .unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_value", Some("channel")));
        let e = parse(r#"{"occurred_at":"2026-11-28T10:00:00Z","channel":"email"}"#).unwrap_err();
        assert_eq!((e.code(), e.field()), ("required", Some("visitor_id")));
        let e = parse(r#"{"channel":"email","customer_id":"c"}"#).unwrap_err();
        assert_eq!((e.code(), e.field()), ("required", Some("occurred_at")));
    }
}
