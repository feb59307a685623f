//! Bulk link operations (`PATCH /api/v1/links:bulk`): a filter (tag,
//! campaign, influencer; every given criterion must hold) and one action
//! (disable, enable, move to a campaign, add a tag). The shell applies it
//! to every matching link in one D1 transaction, all or nothing.

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::links::utm_names::{CampaignSlug, Handle, Tag};
use serde_json::Value;

/// The most links one bulk operation may change: each changed link's KV
/// record is rewritten in the same request, within the subrequest limit.
pub const BULK_MAX: usize = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkFilter {
    pub tag: Option<Tag>,
    pub campaign: Option<CampaignSlug>,
    pub influencer: Option<Handle>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    Disable,
    Enable,
    MoveCampaign(CampaignSlug),
    AddTag(Tag),
}

impl BulkAction {
    pub fn as_str(&self) -> &'static str {
        match self {
            BulkAction::Disable => "disable",
            BulkAction::Enable => "enable",
            BulkAction::MoveCampaign(_) => "move_campaign",
            BulkAction::AddTag(_) => "add_tag",
        }
    }
}

/// A validated bulk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkEdit {
    pub filter: BulkFilter,
    pub action: BulkAction,
}

impl BulkEdit {
    pub const FIELDS: &'static [&'static str] = &["filter", "action", "campaign", "tag"];

    /// `{"filter": {"tag"?, "campaign"?, "influencer"?}, "action":
    /// "disable" | "enable" | "move_campaign" | "add_tag", "campaign"?, "tag"?}`.
    pub fn from_json(o: &JsonObject) -> Result<BulkEdit, ApiError> {
        o.deny_unknown(Self::FIELDS)?;
        let filter = match o.raw("filter") {
            Some(Value::Object(m)) => JsonObject::from_map(m.clone()),
            Some(_) => {
                return Err(ParseError::new("invalid_type", "filter must be an object").at("filter"))
            }
            None => return Err(ParseError::new("required", "filter is required").at("filter")),
        };
        let in_filter = |e: ApiError| match e {
            ApiError::Invalid {
                code,
                message,
                field,
            } => ApiError::Invalid {
                code,
                message,
                field: Some(format!("filter.{}", field.unwrap_or_default())),
            },
            other => other,
        };
        filter
            .deny_unknown(&["tag", "campaign", "influencer"])
            .map_err(in_filter)?;
        let filter = BulkFilter {
            tag: filter.opt("tag", Tag::parse).map_err(in_filter)?,
            campaign: filter
                .opt("campaign", CampaignSlug::parse)
                .map_err(in_filter)?,
            influencer: filter.opt("influencer", Handle::parse).map_err(in_filter)?,
        };
        if filter == BulkFilter::default() {
            return Err(ParseError::new(
                "empty",
                "filter needs at least one of tag, campaign, influencer",
            )
            .at("filter"));
        }
        let action = match o.req_str("action")? {
            "disable" => BulkAction::Disable,
            "enable" => BulkAction::Enable,
            "move_campaign" => BulkAction::MoveCampaign(o.req("campaign", CampaignSlug::parse)?),
            "add_tag" => BulkAction::AddTag(o.req("tag", Tag::parse)?),
            _ => {
                return Err(ParseError::new(
                    "invalid_value",
                    "action must be disable, enable, move_campaign or add_tag",
                )
                .at("action"))
            }
        };
        let stray = match action {
            BulkAction::MoveCampaign(_) => "tag",
            BulkAction::AddTag(_) => "campaign",
            _ if o.raw("campaign").is_some() => "campaign",
            _ => "tag",
        };
        if o.raw(stray).is_some() {
            return Err(ParseError::new(
                "unknown_field",
                format!("{stray} does not apply to action {}", action.as_str()),
            )
            .at(stray));
        }
        Ok(BulkEdit { filter, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str, expected: Result<BulkEdit, (&str, &str)>) {
        let got = BulkEdit::from_json(&JsonObject::parse(json.as_bytes()).unwrap());
        match (got, expected) {
            (Ok(g), Ok(e)) => assert_eq!(g, e, "{json}"),
            (Err(g), Err((code, field))) => {
                assert_eq!((g.code(), g.field()), (code, Some(field)), "{json}")
            }
            (g, e) => panic!("{json}: got {g:?}, expected {e:?}"),
        }
    }

    #[test]
    fn bulk_requests() {
        let tag = |s| Tag::parse(s).unwrap();
        let camp = |s| CampaignSlug::parse(s).unwrap();
        check(
            r#"{"filter":{"tag":"Q4"},"action":"disable"}"#,
            Ok(BulkEdit {
                filter: BulkFilter {
                    tag: Some(tag("q4")),
                    ..BulkFilter::default()
                },
                action: BulkAction::Disable,
            }),
        );
        check(
            r#"{"filter":{"campaign":"summer","influencer":"@Sarah"},"action":"move_campaign","campaign":"winter"}"#,
            Ok(BulkEdit {
                filter: BulkFilter {
                    tag: None,
                    campaign: Some(camp("summer")),
                    influencer: Some(Handle::parse("sarah").unwrap()),
                },
                action: BulkAction::MoveCampaign(camp("winter")),
            }),
        );
        check(
            r#"{"filter":{"influencer":"sarah"},"action":"add_tag","tag":"vip"}"#,
            Ok(BulkEdit {
                filter: BulkFilter {
                    influencer: Some(Handle::parse("sarah").unwrap()),
                    ..BulkFilter::default()
                },
                action: BulkAction::AddTag(tag("vip")),
            }),
        );
        check(r#"{"action":"disable"}"#, Err(("required", "filter")));
        check(
            r#"{"filter":[],"action":"disable"}"#,
            Err(("invalid_type", "filter")),
        );
        check(
            r#"{"filter":{},"action":"disable"}"#,
            Err(("empty", "filter")),
        );
        check(
            r#"{"filter":{"slug":"x"},"action":"disable"}"#,
            Err(("unknown_field", "filter.slug")),
        );
        check(
            r#"{"filter":{"campaign":"Bad Slug!"},"action":"disable"}"#,
            Err(("invalid_format", "filter.campaign")),
        );
        check(r#"{"filter":{"tag":"a"}}"#, Err(("required", "action")));
        check(
            r#"{"filter":{"tag":"a"},"action":"delete"}"#,
            Err(("invalid_value", "action")),
        );
        check(
            r#"{"filter":{"tag":"a"},"action":"move_campaign"}"#,
            Err(("required", "campaign")),
        );
        check(
            r#"{"filter":{"tag":"a"},"action":"add_tag","tag":"x,y"}"#,
            Err(("invalid_format", "tag")),
        );
        check(
            r#"{"filter":{"tag":"a"},"action":"disable","tag":"x"}"#,
            Err(("unknown_field", "tag")),
        );
        check(
            r#"{"filter":{"tag":"a"},"action":"add_tag","tag":"x","campaign":"c"}"#,
            Err(("unknown_field", "campaign")),
        );
        check(
            r#"{"filter":{"tag":"a"},"action":"enable","x":1}"#,
            Err(("unknown_field", "x")),
        );
    }
}
