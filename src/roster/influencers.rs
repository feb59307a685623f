//! Influencers and campaigns: validated create and update bodies and API
//! views. An influencer's roster profile (primary platform, follower count
//! and the tier derived from it, niche, a private contact email, contract
//! terms) is what the marketer's master spreadsheet keeps.

use crate::base::body::parse_name;
use crate::base::body::{JsonObject, Patch};
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis};
use crate::links::discount::{DiscountSetting, DiscountStyle, ParamName};
use crate::links::utm_names::{CampaignSlug, Handle, Platform, UtmValue};
use serde::Serialize;
use serde_json::Value;

/// The tiers by follower count: nano below the first threshold, then
/// micro, mid and macro below the next ones, mega otherwise
/// (`TIER_THRESHOLDS`, default 10k, 100k, 500k, 1M).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiers(pub [u64; 4]);

impl Default for Tiers {
    fn default() -> Self {
        Tiers([10_000, 100_000, 500_000, 1_000_000])
    }
}

pub const TIER_NAMES: [&str; 5] = ["nano", "micro", "mid", "macro", "mega"];

impl Tiers {
    /// `TIER_THRESHOLDS`: four increasing whole numbers, comma-separated.
    pub fn parse(s: &str) -> Result<Tiers, ParseError> {
        let bad = || {
            ParseError::new(
                "invalid_config",
                "must be four increasing follower counts, e.g. 10000,100000,500000,1000000",
            )
        };
        let mut t = [0u64; 4];
        let mut parts = s.split(',').map(str::trim);
        for slot in t.iter_mut() {
            *slot = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        }
        if parts.next().is_some() || !t.windows(2).all(|w| w[0] < w[1]) || t[0] == 0 {
            return Err(bad());
        }
        Ok(Tiers(t))
    }

    pub fn tier(&self, followers: u64) -> &'static str {
        let i = self.0.iter().position(|t| followers < *t).unwrap_or(4);
        TIER_NAMES[i]
    }

    /// The tier as SQL over a follower-count expression (NULL: no tier).
    pub fn sql(&self, followers: &str) -> String {
        let [a, b, c, d] = self.0;
        format!(
            "CASE WHEN {followers} IS NULL THEN NULL WHEN {followers} < {a} THEN 'nano' \
             WHEN {followers} < {b} THEN 'micro' WHEN {followers} < {c} THEN 'mid' \
             WHEN {followers} < {d} THEN 'macro' ELSE 'mega' END"
        )
    }
}

/// The most followers a profile may state.
pub const MAX_FOLLOWERS: u64 = 10_000_000_000;

/// A contact email: trimmed, `local@domain.tld`, at most 254 characters,
/// the domain lower-cased. Private: shown in the roster only.
pub fn parse_email(s: &str) -> Result<String, ParseError> {
    let s = s.trim();
    let bad = || {
        ParseError::new(
            "invalid_format",
            "must be an email address such as name@example.com",
        )
    };
    let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@');
    if !ok {
        return Err(bad());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A percentage with at most two decimals, 0–100, as basis points
/// (`"12.5"` is 1250).
pub fn parse_percent(s: &str) -> Result<u32, ParseError> {
    let bad = || {
        ParseError::new(
            "invalid_value",
            "must be a percentage from 0 to 100, at most 2 decimals",
        )
    };
    let s = s.trim().trim_end_matches('%');
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || frac.len() > 2
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u32 = int.parse().map_err(|_| bad())?;
    let frac: u32 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let bp = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    if bp > 10_000 {
        return Err(bad());
    }
    Ok(bp)
}

/// Basis points as a percentage (`1250` is `"12.5"`).
pub fn format_percent(bp: u32) -> String {
    match bp % 100 {
        0 => (bp / 100).to_string(),
        f if f % 10 == 0 => format!("{}.{}", bp / 100, f / 10),
        f => format!("{}.{f:02}", bp / 100),
    }
}

/// An influencer's contract terms (amounts in the reporting currency).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contract {
    pub base_fee: Option<Money>,
    pub bonus_per_conversion: Option<Money>,
    /// Basis points of credited revenue.
    pub revenue_share_bp: Option<u32>,
    /// Day numbers.
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// Everything about an influencer but the handle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: Option<String>,
    /// The primary platform.
    pub platform: Option<Platform>,
    pub follower_count: Option<u64>,
    pub niche: Option<UtmValue>,
    pub contact_email: Option<String>,
    pub contract: Contract,
}

/// The profile fields a body may carry (`platform` is accepted as another
/// name of `primary_platform`).
pub const PROFILE_FIELDS: &[&str] = &[
    "name",
    "primary_platform",
    "platform",
    "follower_count",
    "niche",
    "contact_email",
    "base_fee",
    "bonus_per_conversion",
    "revenue_share_pct",
    "contract_start",
    "contract_end",
];

/// A whole number from 0 to `max`; `null`: none.
fn count(o: &JsonObject, field: &str, max: u64) -> Result<Patch<u64>, ApiError> {
    match o.raw(field) {
        None => Ok(Patch::Keep),
        Some(Value::Null) => Ok(Patch::Clear),
        Some(Value::Number(n)) => {
            n.as_u64()
                .filter(|v| *v <= max)
                .map(Patch::Set)
                .ok_or_else(|| {
                    ParseError::new(
                        "invalid_value",
                        format!("{field} must be a whole number from 0 to {max}"),
                    )
                    .at(field)
                })
        }
        Some(_) => {
            Err(ParseError::new("invalid_type", format!("{field} must be a number")).at(field))
        }
    }
}

/// An amount (decimal string or number) in `currency`; `null`: none.
fn amount(o: &JsonObject, field: &str, currency: Currency) -> Result<Patch<Money>, ApiError> {
    match o.raw(field) {
        None => Ok(Patch::Keep),
        Some(Value::Null) => Ok(Patch::Clear),
        Some(v) => crate::base::money::parse_amount(v, currency)
            .map(Patch::Set)
            .map_err(|e| e.at(field)),
    }
}

/// A validated set of profile changes (`Keep` for absent fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePatch {
    pub name: Patch<String>,
    pub platform: Patch<Platform>,
    pub follower_count: Patch<u64>,
    pub niche: Patch<UtmValue>,
    pub contact_email: Patch<String>,
    pub base_fee: Patch<Money>,
    pub bonus_per_conversion: Patch<Money>,
    pub revenue_share_bp: Patch<u32>,
    pub start: Patch<i64>,
    pub end: Patch<i64>,
}

impl ProfilePatch {
    pub fn from_json(o: &JsonObject, currency: Currency) -> Result<ProfilePatch, ApiError> {
        if o.raw("platform").is_some() && o.raw("primary_platform").is_some() {
            return Err(ParseError::new(
                "duplicate_field",
                "give primary_platform or platform, not both",
            )
            .at("platform"));
        }
        let platform_field = if o.raw("platform").is_some() {
            "platform"
        } else {
            "primary_platform"
        };
        Ok(ProfilePatch {
            name: o.patch("name", parse_name)?,
            platform: o.patch(platform_field, Platform::parse)?,
            follower_count: count(o, "follower_count", MAX_FOLLOWERS)?,
            niche: o.patch("niche", UtmValue::parse)?,
            contact_email: o.patch("contact_email", parse_email)?,
            base_fee: amount(o, "base_fee", currency)?,
            bonus_per_conversion: amount(o, "bonus_per_conversion", currency)?,
            revenue_share_bp: match o.raw("revenue_share_pct") {
                Some(Value::Number(n)) => Patch::Set(
                    parse_percent(&n.to_string()).map_err(|e| e.at("revenue_share_pct"))?,
                ),
                _ => o.patch("revenue_share_pct", parse_percent)?,
            },
            start: o.patch("contract_start", time::parse_date)?,
            end: o.patch("contract_end", time::parse_date)?,
        })
    }

    /// Applies the changes; the contract must not end before it starts.
    pub fn apply(self, mut p: Profile) -> Result<Profile, ApiError> {
        self.name.apply(&mut p.name);
        self.platform.apply(&mut p.platform);
        self.follower_count.apply(&mut p.follower_count);
        self.niche.apply(&mut p.niche);
        self.contact_email.apply(&mut p.contact_email);
        let c = &mut p.contract;
        self.base_fee.apply(&mut c.base_fee);
        self.bonus_per_conversion.apply(&mut c.bonus_per_conversion);
        self.revenue_share_bp.apply(&mut c.revenue_share_bp);
        self.start.apply(&mut c.start);
        self.end.apply(&mut c.end);
        if let (Some(s), Some(e)) = (c.start, c.end) {
            if e < s {
                return Err(ParseError::new(
                    "invalid_range",
                    "contract_end is before contract_start",
                )
                .at("contract_end"));
            }
        }
        Ok(p)
    }
}

/// A validated `POST /api/v1/influencers` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInfluencer {
    pub handle: Handle,
    pub profile: Profile,
}

impl NewInfluencer {
    pub fn from_json(o: &JsonObject, currency: Currency) -> Result<NewInfluencer, ApiError> {
        let mut fields = vec!["handle"];
        fields.extend_from_slice(PROFILE_FIELDS);
        o.deny_unknown(&fields)?;
        Ok(NewInfluencer {
            handle: o.req("handle", Handle::parse)?,
            profile: ProfilePatch::from_json(o, currency)?.apply(Profile::default())?,
        })
    }
}

/// A validated `POST /api/v1/campaigns` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub slug: CampaignSlug,
    pub name: Option<String>,
    /// The discount style and coupon parameter of the campaign's links,
    /// unless a link sets its own.
    pub discount: DiscountSetting,
}

impl NewCampaign {
    pub fn from_json(o: &JsonObject) -> Result<NewCampaign, ApiError> {
        o.deny_unknown(&["slug", "name", "discount_style", "discount_param"])?;
        Ok(NewCampaign {
            slug: o.req("slug", CampaignSlug::parse)?,
            name: o.opt("name", parse_name)?,
            discount: DiscountSetting {
                style: o.opt("discount_style", DiscountStyle::parse)?,
                param: o.opt("discount_param", ParamName::parse)?,
            },
        })
    }
}

/// An influencer as the roster API shows it (the only place its contact
/// email appears).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfluencerView {
    pub handle: String,
    pub name: Option<String>,
    pub primary_platform: Option<&'static str>,
    /// The same as `primary_platform` (the field's earlier name).
    pub platform: Option<&'static str>,
    pub follower_count: Option<u64>,
    pub tier: Option<&'static str>,
    pub niche: Option<String>,
    pub contact_email: Option<String>,
    pub base_fee: Option<String>,
    pub bonus_per_conversion: Option<String>,
    pub revenue_share_pct: Option<String>,
    pub contract_start: Option<String>,
    pub contract_end: Option<String>,
    pub created_at: String,
}

impl InfluencerView {
    pub fn new(handle: String, p: &Profile, tiers: &Tiers, created_at: Millis) -> Self {
        let platform = p.platform.map(Platform::as_str);
        let c = &p.contract;
        InfluencerView {
            handle,
            name: p.name.clone(),
            primary_platform: platform,
            platform,
            follower_count: p.follower_count,
            tier: p.follower_count.map(|f| tiers.tier(f)),
            niche: p.niche.as_ref().map(|n| n.as_str().to_owned()),
            contact_email: p.contact_email.clone(),
            base_fee: c.base_fee.as_ref().map(Money::major),
            bonus_per_conversion: c.bonus_per_conversion.as_ref().map(Money::major),
            revenue_share_pct: c.revenue_share_bp.map(format_percent),
            contract_start: c.start.map(time::format_date),
            contract_end: c.end.map(time::format_date),
            created_at: time::format_rfc3339(created_at),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignView {
    pub slug: String,
    pub name: Option<String>,
    pub discount_style: Option<String>,
    pub discount_param: Option<String>,
    pub created_at: String,
}

impl CampaignView {
    pub fn new(
        slug: String,
        name: Option<String>,
        discount_style: Option<String>,
        discount_param: Option<String>,
        created_at: Millis,
    ) -> Self {
        CampaignView {
            slug,
            name,
            discount_style,
            discount_param,
            created_at: time::format_rfc3339(created_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> JsonObject {
        JsonObject::parse(s.as_bytes()).unwrap()
    }

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn influencer_bodies() {
        let i = NewInfluencer::from_json(
            &obj(r#"{"handle":"@Sarah","name":" Sarah J ","platform":"TikTok"}"#),
            usd(),
        )
        .unwrap();
        assert_eq!(i.handle.as_str(), "sarah");
        assert_eq!(i.profile.name.as_deref(), Some("Sarah J"));
        assert_eq!(i.profile.platform, Some(Platform::Tiktok));
        let check = |json: &str, code: &str, field: &str| {
            let e = NewInfluencer::from_json(&obj(json), usd()).unwrap_err();
            assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}");
        };
        check(r#"{"name":"x"}"#, "required", "handle");
        check(
            &format!(r#"{{"handle":"a","name":"{}"}}"#, "n".repeat(201)),
            "too_long",
            "name",
        );
        check(
            r#"{"handle":"a","follower_count":-1}"#,
            "invalid_value",
            "follower_count",
        );
        check(
            r#"{"handle":"a","follower_count":"10k"}"#,
            "invalid_type",
            "follower_count",
        );
        check(
            r#"{"handle":"a","contact_email":"nope"}"#,
            "invalid_format",
            "contact_email",
        );
        check(
            r#"{"handle":"a","revenue_share_pct":"101"}"#,
            "invalid_value",
            "revenue_share_pct",
        );
        check(
            r#"{"handle":"a","base_fee":"12.345"}"#,
            "too_precise",
            "base_fee",
        );
        check(
            r#"{"handle":"a","contract_start":"2026-12-01","contract_end":"2026-11-01"}"#,
            "invalid_range",
            "contract_end",
        );
        check(
            r#"{"handle":"a","platform":"x","primary_platform":"x"}"#,
            "duplicate_field",
            "platform",
        );
        check(r#"{"handle":"a","tier":"mega"}"#, "unknown_field", "tier");
        let full = NewInfluencer::from_json(
            &obj(r#"{"handle":"mia","primary_platform":"instagram","follower_count":250000,"niche":"Skin Care",
                     "contact_email":"Mia@Agency.EXAMPLE","base_fee":"1500","bonus_per_conversion":2.5,
                     "revenue_share_pct":"12.5","contract_start":"2026-11-01","contract_end":"2026-12-31"}"#),
            usd(),
        )
        .unwrap();
        let v = InfluencerView::new("mia".into(), &full.profile, &Tiers::default(), 0);
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"handle": "mia", "name": null, "primary_platform": "instagram", "platform": "instagram",
                "follower_count": 250000, "tier": "mid", "niche": "skin-care", "contact_email": "Mia@agency.example",
                "base_fee": "1500.00", "bonus_per_conversion": "2.50", "revenue_share_pct": "12.5",
                "contract_start": "2026-11-01", "contract_end": "2026-12-31", "created_at": "1970-01-01T00:00:00.000Z"})
        );
    }

    #[test]
    fn tiers_at_each_threshold() {
        let t = Tiers::default();
        let check = |followers: u64, tier: &str| assert_eq!(t.tier(followers), tier, "{followers}");
        check(0, "nano");
        check(9_999, "nano");
        check(10_000, "micro");
        check(99_999, "micro");
        check(100_000, "mid");
        check(499_999, "mid");
        check(500_000, "macro");
        check(999_999, "macro");
        check(1_000_000, "mega");
        check(MAX_FOLLOWERS, "mega");
        assert_eq!(
            Tiers::parse("1000, 5000,20000,50000"),
            Ok(Tiers([1000, 5000, 20000, 50000]))
        );
        for bad in ["1,2,3", "1,2,3,4,5", "5,4,3,2", "0,1,2,3", "a,b,c,d"] {
            assert!(Tiers::parse(bad).is_err(), "{bad}");
        }
        assert!(t.sql("i.follower_count").contains("< 10000 THEN 'nano'"));
    }

    #[test]
    fn percents_and_emails() {
        for (s, bp) in [
            ("0", 0),
            ("12.5", 1250),
            ("12.50", 1250),
            ("7.25%", 725),
            ("100", 10_000),
        ] {
            assert_eq!(parse_percent(s), Ok(bp), "{s}");
        }
        for bad in ["100.01", "-1", "1.234", "", "x", ".5"] {
            assert!(parse_percent(bad).is_err(), "{bad}");
        }
        for (bp, s) in [
            (0, "0"),
            (1250, "12.5"),
            (725, "7.25"),
            (10_000, "100"),
            (5, "0.05"),
        ] {
            assert_eq!(format_percent(bp), s);
        }
        assert_eq!(parse_email(" a.b@Ex.COM ").as_deref(), Ok("a.b@ex.com"));
        for bad in ["a@b", "@b.com", "a b@c.com", "a@.com", "a@b.com."] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn campaign_bodies() {
        let c = NewCampaign::from_json(&obj(r#"{"slug":"Summer-Glow"}"#)).unwrap();
        assert_eq!(c.slug.as_str(), "summer-glow");
        let e = NewCampaign::from_json(&obj(r#"{"slug":"summer glow"}"#)).unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_format", Some("slug")));
    }
}
