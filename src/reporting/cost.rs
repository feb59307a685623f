//! Costs of influencer work, and campaign goals. ROI counts every kind:
//! fees, gifting, production, amplification, platform fees and the rest.

use crate::base::body::parse_name;
use crate::base::body::{JsonObject, Patch};
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time;
use crate::links::utm_names::{CampaignSlug, Handle};
use serde_json::Value;

pub const KINDS: &[&str] = &[
    "fee",
    "gifting",
    "production",
    "amplification",
    "platform_fee",
    "other",
];

fn parse_kind(s: &str) -> Result<&'static str, ParseError> {
    let lower = s.trim().to_ascii_lowercase();
    KINDS.iter().copied().find(|k| *k == lower).ok_or_else(|| {
        ParseError::new(
            "invalid_value",
            format!("kind must be one of {}", KINDS.join(", ")),
        )
    })
}

/// A validated `POST /api/v1/costs` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCost {
    pub influencer: Handle,
    pub campaign: Option<CampaignSlug>,
    pub kind: &'static str,
    pub amount: Money,
    pub incurred_day: i64,
    pub note: Option<String>,
}

fn amount(v: Option<&Value>, currency: Currency, field: &str) -> Result<Money, ApiError> {
    let v =
        v.ok_or_else(|| ParseError::new("required", format!("{field} is required")).at(field))?;
    crate::base::money::parse_amount(v, currency).map_err(|e| e.at(field))
}

impl NewCost {
    pub fn from_json(o: &JsonObject) -> Result<NewCost, ApiError> {
        o.deny_unknown(&[
            "influencer",
            "campaign",
            "kind",
            "amount",
            "currency",
            "incurred_on",
            "note",
        ])?;
        let currency = o.req("currency", Currency::parse)?;
        Ok(NewCost {
            influencer: o.req("influencer", Handle::parse)?,
            campaign: o.opt("campaign", CampaignSlug::parse)?,
            kind: o.req("kind", parse_kind)?,
            amount: amount(o.value("amount"), currency, "amount")?,
            incurred_day: o.req("incurred_on", time::parse_date)?,
            note: o.opt("note", parse_name)?,
        })
    }
}

/// A validated `PATCH /api/v1/campaigns/{slug}` body: goals in the
/// reporting currency; `null` clears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignGoals {
    pub target_cpa_minor: Patch<i64>,
    pub min_roas_milli: Patch<i64>,
}

impl CampaignGoals {
    pub fn from_json(o: &JsonObject, reporting: Currency) -> Result<CampaignGoals, ApiError> {
        o.deny_unknown(&["target_cpa", "min_roas"])?;
        if o.is_empty() {
            return Err(ApiError::invalid(
                "empty_patch",
                "give target_cpa or min_roas",
            ));
        }
        let patch = |field: &str,
                     f: &dyn Fn(&Value) -> Result<i64, ParseError>|
         -> Result<Patch<i64>, ApiError> {
            match o.raw(field) {
                None => Ok(Patch::Keep),
                Some(Value::Null) => Ok(Patch::Clear),
                Some(v) => f(v).map(Patch::Set).map_err(|e| e.at(field)),
            }
        };
        Ok(CampaignGoals {
            target_cpa_minor: patch("target_cpa", &|v| {
                crate::base::money::parse_amount(v, reporting).map(|m| m.minor)
            })?,
            min_roas_milli: patch("min_roas", &|v| {
                // ROAS 3.5 → 3500; at most 3 decimals, like a currency with exponent 3.
                let milli = Currency::parse("KWD").expect("static");
                crate::base::money::parse_amount(v, milli)
                    .map(|m| m.minor)
                    .map_err(|e| ParseError::new(e.code, "min_roas must be a decimal such as 3.5"))
            })?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> JsonObject {
        JsonObject::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn costs() {
        let c = NewCost::from_json(&obj(
            r#"{"influencer":"@Sarah","kind":"Gifting","amount":"250.00","currency":"USD","incurred_on":"2026-11-01","note":"Serum kit"}"#,
        ))
        .unwrap();
        assert_eq!(
            (
                c.influencer.as_str(),
                c.kind,
                c.amount.minor,
                c.incurred_day
            ),
            ("sarah", "gifting", 25_000, 20_758)
        );
        let e = NewCost::from_json(&obj(r#"{"influencer":"s","kind":"bribe","amount":"1","currency":"USD","incurred_on":"2026-11-01"}"#)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_value", Some("kind")));
        let e = NewCost::from_json(&obj(r#"{"influencer":"s","kind":"fee","amount":"-1","currency":"USD","incurred_on":"2026-11-01"}"#)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("negative", Some("amount")));
        let e = NewCost::from_json(&obj(
            r#"{"influencer":"s","kind":"fee","amount":"1","currency":"USD","incurred_on":"soon"}"#,
        ))
        .unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_date", Some("incurred_on")));
    }

    #[test]
    fn goals() {
        let usd = Currency::parse("USD").unwrap();
        let g = CampaignGoals::from_json(&obj(r#"{"target_cpa":"12.50","min_roas":3.5}"#), usd)
            .unwrap();
        assert_eq!(
            (g.target_cpa_minor, g.min_roas_milli),
            (Patch::Set(1250), Patch::Set(3500))
        );
        let g = CampaignGoals::from_json(&obj(r#"{"min_roas":null}"#), usd).unwrap();
        assert_eq!(
            (g.target_cpa_minor, g.min_roas_milli),
            (Patch::Keep, Patch::Clear)
        );
        assert_eq!(
            CampaignGoals::from_json(&obj("{}"), usd)
                .unwrap_err()
                .code(),
            "empty_patch"
        );
        assert_eq!(
            CampaignGoals::from_json(&obj(r#"{"min_roas":"lots"}"#), usd)
                .unwrap_err()
                .field(),
            Some("min_roas")
        );
    }
}
