//! Worker configuration read from `[vars]`, parsed and validated in the
//! core. The shell passes a lookup function; nothing here touches `Env`.
//!
//! [`Config`] and its parts are here; `from_vars` reads them from the vars
//! ([`Config::from_vars`]) and `short_domains` parses `SHORT_DOMAINS` and
//! picks a link's short-URL base.

mod from_vars;
mod short_domains;

pub use short_domains::*;

use crate::attribution::journey::JourneyConfig;
use crate::attribution::models::ModelConfig;
use crate::base::error::ParseError;
use crate::base::money::Currency;
use crate::base::time::{Millis, DAY};
use crate::links::discount::StoreDefaults;
use crate::links::link::CategoryRules;
use crate::outbound::webhook::RetryPolicy;
use crate::roster::influencers::Tiers;
use crate::traffic::group_commit::GroupCommit;
use crate::traffic::privacy::PrivacyConfig;
use crate::traffic::storefront::Origins;

/// The attribution job's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionSettings {
    /// Most conversions one run processes (`ATTRIBUTION_BATCH`, 2000).
    pub batch: usize,
    /// How far back late touchpoints reprocess conversions
    /// (`REPROCESS_HORIZON_DAYS`, 7).
    pub reprocess_horizon: Millis,
    /// The period whose paths build the data-driven table
    /// (`MARKOV_PERIOD_DAYS`, 90).
    pub markov_period: Millis,
    /// `HALF_LIFE_DAYS` (7) and `POSITION_SPLIT` (`40/20/40`).
    pub models: ModelConfig,
    /// `WINDOW_DAYS` (30), `INFLUENCER_WINDOW_DAYS` (60) and
    /// `CHANNEL_WINDOWS` (`paid_search=7,email=14`).
    pub journey: JourneyConfig,
}

impl Default for AttributionSettings {
    fn default() -> Self {
        AttributionSettings {
            batch: 2000,
            reprocess_horizon: 7 * DAY,
            markov_period: 90 * DAY,
            models: ModelConfig::default(),
            journey: JourneyConfig::default(),
        }
    }
}

/// Everything configurable through plain vars.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Base of short URLs (`SHORT_BASE_URL`); `None`: the request's origin.
    pub short_base: Option<String>,
    /// `DISCOUNT_STYLE` (default `shopify`) and `COUPON_PARAM` (default
    /// `coupon`): the store-wide discount defaults.
    pub store: StoreDefaults,
    pub attribution: AttributionSettings,
    /// The one currency reports are in (`REPORTING_CURRENCY`, USD).
    pub reporting_currency: Currency,
    /// Group commit of clicks (`CLICK_FLUSH_MS`, `CLICK_BATCH_MAX`).
    pub clicks: GroupCommit,
    /// The short domains links can be bound to (`SHORT_DOMAINS`).
    pub short_domains: Vec<ShortDomain>,
    /// Consent before the visitor cookie (`PRIVACY_MODE`, `CONSENT_COOKIE`,
    /// `PRIVACY_SIGNALS`).
    pub privacy: PrivacyConfig,
    /// Raw clicks older than this many days are pruned by the cron
    /// (`RETENTION_DAYS`); `None` keeps them.
    pub retention_days: Option<u32>,
    /// Influencer tiers by follower count (`TIER_THRESHOLDS`).
    pub tiers: Tiers,
    /// Product categories by destination path prefix (`PRODUCT_CATEGORIES`).
    pub categories: CategoryRules,
    /// Pre-launch link checks (`LINK_CHECKS_PER_RUN`, `LINK_CHECK_TIMEOUT_MS`).
    pub link_checks: LinkChecks,
    /// The shops storefront events may come from (`SHOP_ORIGINS`).
    pub shop_origins: Origins,
    /// Events one visitor may store per minute (`EVENTS_PER_MINUTE`, 60).
    pub events_per_minute: u32,
    /// Webhook retries (`WEBHOOK_RETRY_BASE_MS`, `WEBHOOK_GIVE_UP_HOURS`).
    pub webhooks: RetryPolicy,
}

/// How the link check runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkChecks {
    /// Links the cron re-checks per run (0 turns the daily re-check off):
    /// each takes up to 4 agents × 10 hops of subrequests.
    pub per_run: u32,
    /// The time one hop may take.
    pub timeout_ms: u32,
}

impl Default for LinkChecks {
    fn default() -> Self {
        LinkChecks {
            per_run: 1,
            timeout_ms: 5000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            short_base: None,
            store: StoreDefaults::default(),
            attribution: AttributionSettings::default(),
            reporting_currency: Currency::parse("USD").expect("static"),
            clicks: GroupCommit::default(),
            short_domains: Vec::new(),
            privacy: PrivacyConfig::default(),
            retention_days: None,
            tiers: Tiers::default(),
            categories: CategoryRules::default(),
            link_checks: LinkChecks::default(),
            shop_origins: Origins::default(),
            events_per_minute: 60,
            webhooks: RetryPolicy::default(),
        }
    }
}

fn bad(name: &str, message: &str) -> (String, ParseError) {
    (name.to_owned(), ParseError::new("invalid_config", message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// `Config::from_vars` over `pairs`, for the children's tests too.
    pub(super) fn from(pairs: &[(&str, &str)]) -> Result<Config, (String, ParseError)> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    /// wrangler.toml's `[vars]` are the one source of both workers' vars:
    /// they make a valid config, and the redirect worker's config has none
    /// of its own (scripts/wrangler_config.py appends wrangler.toml's section
    /// to it, and scripts/deploy-test.sh checks what it writes), on the same
    /// compatibility date.
    #[test]
    fn both_workers_read_the_vars_of_wrangler_toml() {
        let full = include_str!("../../wrangler.toml");
        let redirect = include_str!("../../wrangler.redirect.toml");
        let vars: Vec<(&str, &str)> = full
            .lines()
            .skip_while(|l| l.trim() != "[vars]")
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .filter(|l| !l.trim_start().starts_with('#') && l.contains('='))
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                (k.trim(), v.trim().trim_matches('"'))
            })
            .collect();
        assert!(vars.iter().any(|(k, _)| *k == "DISCOUNT_STYLE"), "{vars:?}");
        assert!(from(&vars).is_ok(), "{:?}", from(&vars).err());
        assert!(
            !redirect.lines().any(|l| {
                let l = l.trim_start();
                l.starts_with("[vars") || l.starts_with("vars")
            }),
            "wrangler.redirect.toml must not set vars: they come from wrangler.toml"
        );
        let date = |toml: &'static str| toml.lines().find(|l| l.starts_with("compatibility_date"));
        assert!(date(full).is_some());
        assert_eq!(date(full), date(redirect));
    }
}
