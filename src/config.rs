//! Worker configuration read from `[vars]`, parsed and validated in the
//! core. The shell passes a lookup function; nothing here touches `Env`.

use crate::attribution::journey::{JourneyConfig, CHANNELS};
use crate::attribution::models::{ModelConfig, PositionSplit};
use crate::base::error::ParseError;
use crate::base::money::Currency;
use crate::base::time::{Millis, DAY, HOUR};
use crate::links::discount::{DiscountStyle, ParamName, StoreDefaults};
use crate::links::link::CategoryRules;
use crate::outbound::webhook::RetryPolicy;
use crate::roster::influencers::Tiers;
use crate::traffic::group_commit::{GroupCommit, MAX_GROUP};
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

/// One short domain: the host a request arrives on, and the origin its
/// short URLs start with (`https://` unless the entry names a scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortDomain {
    pub host: String,
    pub origin: String,
}

/// `SHORT_DOMAINS`: comma-separated hosts or origins
/// (`go.brand.com, https://brand.link, http://localhost:8787`).
fn short_domains(v: &str) -> Result<Vec<ShortDomain>, (String, ParseError)> {
    let mut out: Vec<ShortDomain> = Vec::new();
    for entry in v.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let full = if entry.contains("://") {
            entry.to_owned()
        } else {
            format!("https://{entry}")
        };
        let url = url::Url::parse(&full).ok().filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.path() == "/" && u.query().is_none()
        });
        let Some(host) = url.as_ref().and_then(|u| u.host_str()) else {
            return Err(bad(
                "SHORT_DOMAINS",
                "must list hosts or http(s) origins, comma-separated",
            ));
        };
        let host = host.to_owned();
        if out.iter().all(|d| d.host != host) {
            let origin = url.as_ref().map(|u| u.origin().ascii_serialization());
            out.push(ShortDomain {
                host,
                origin: origin.unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

impl Config {
    /// The short domain named `host`, if configured.
    pub fn short_domain(&self, host: &str) -> Option<&ShortDomain> {
        self.short_domains.iter().find(|d| d.host == host)
    }

    /// The base of a link's short URL: its own domain's origin, else
    /// `SHORT_BASE_URL`, else `fallback` (the request's origin).
    pub fn short_base_for(&self, domain: Option<&str>, fallback: &str) -> String {
        domain
            .and_then(|d| self.short_domain(d))
            .map(|d| d.origin.clone())
            .or_else(|| self.short_base.clone())
            .unwrap_or_else(|| fallback.to_owned())
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

/// A positive number of hours up to a week, with up to three decimals
/// (`0.001` h = 3.6 s, for tests), in milliseconds.
fn parse_hours(v: &str) -> Option<Millis> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 3 {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return None;
    }
    let whole: Millis = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: Millis = format!("{frac:0<3}").parse().ok()?;
    let ms = whole.checked_mul(HOUR)? + frac * HOUR / 1000;
    (1..=168 * HOUR).contains(&ms).then_some(ms)
}

/// A whole number in `range` (`unit`, e.g. " of milliseconds", names it in
/// the message).
fn whole<T>(
    name: &str,
    v: &str,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, (String, ParseError)>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    v.parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            let (from, to) = (range.start(), range.end());
            bad(
                name,
                &format!("must be a whole number{unit} from {from} to {to}"),
            )
        })
}

fn days(name: &str, v: &str) -> Result<Millis, (String, ParseError)> {
    whole::<u32>(name, v, 1..=3650, " of days").map(|d| Millis::from(d) * DAY)
}

impl Config {
    /// Reads the configuration with `var(name)`. Empty values mean unset.
    /// A bad value is an error naming the variable, never silently ignored.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, (String, ParseError)> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = Config {
            short_base: get("SHORT_BASE_URL").map(|v| v.trim_end_matches('/').to_owned()),
            ..Config::default()
        };
        if let Some(v) = get("SHORT_DOMAINS") {
            config.short_domains = short_domains(&v)?;
        }
        let named = |name: &'static str| move |e: ParseError| (name.to_owned(), e);
        if let Some(v) = get("TIER_THRESHOLDS") {
            config.tiers = Tiers::parse(&v).map_err(named("TIER_THRESHOLDS"))?;
        }
        if let Some(v) = get("LINK_CHECKS_PER_RUN") {
            config.link_checks.per_run = whole("LINK_CHECKS_PER_RUN", &v, 0..=20, "")?;
        }
        if let Some(v) = get("LINK_CHECK_TIMEOUT_MS") {
            config.link_checks.timeout_ms = whole("LINK_CHECK_TIMEOUT_MS", &v, 100..=30_000, "")?;
        }
        if let Some(v) = get("SHOP_ORIGINS") {
            config.shop_origins = Origins::parse(&v).map_err(named("SHOP_ORIGINS"))?;
        }
        if let Some(v) = get("EVENTS_PER_MINUTE") {
            config.events_per_minute = whole("EVENTS_PER_MINUTE", &v, 1..=10_000, "")?;
        }
        if let Some(v) = get("WEBHOOK_RETRY_BASE_MS") {
            config.webhooks.base_ms = whole(
                "WEBHOOK_RETRY_BASE_MS",
                &v,
                100..=3_600_000,
                " of milliseconds",
            )?;
        }
        if let Some(v) = get("WEBHOOK_GIVE_UP_HOURS") {
            config.webhooks.give_up_after_ms = parse_hours(&v).ok_or_else(|| {
                bad(
                    "WEBHOOK_GIVE_UP_HOURS",
                    "must be a number of hours above 0 and at most 168 (e.g. 24 or 0.001)",
                )
            })?;
        }
        if let Some(v) = get("PRODUCT_CATEGORIES") {
            config.categories = CategoryRules::parse(&v).map_err(named("PRODUCT_CATEGORIES"))?;
        }
        if let Some(v) = get("PRIVACY_MODE") {
            config.privacy.mode = PrivacyConfig::parse_mode(&v).map_err(named("PRIVACY_MODE"))?;
        }
        if let Some(v) = get("CONSENT_COOKIE") {
            config.privacy.consent_cookie =
                Some(PrivacyConfig::parse_consent_cookie(&v).map_err(named("CONSENT_COOKIE"))?);
        }
        if let Some(v) = get("PRIVACY_SIGNALS") {
            config
                .privacy
                .parse_signals(&v)
                .map_err(named("PRIVACY_SIGNALS"))?;
        }
        if let Some(v) = get("DISCOUNT_STYLE") {
            config.store.style =
                DiscountStyle::parse(&v).map_err(|e| ("DISCOUNT_STYLE".to_owned(), e))?;
        }
        if let Some(v) = get("COUPON_PARAM") {
            config.store.coupon_param =
                ParamName::parse(&v).map_err(|e| ("COUPON_PARAM".to_owned(), e))?;
        }
        if let Some(v) = get("REPORTING_CURRENCY") {
            config.reporting_currency =
                Currency::parse(&v).map_err(|e| ("REPORTING_CURRENCY".to_owned(), e))?;
        }
        if let Some(v) = get("CLICK_FLUSH_MS") {
            config.clicks.max_wait_ms = whole("CLICK_FLUSH_MS", &v, 1..=1000, "")?;
        }
        if let Some(v) = get("CLICK_BATCH_MAX") {
            config.clicks.max_clicks = whole("CLICK_BATCH_MAX", &v, 1..=MAX_GROUP, "")?;
        }
        let a = &mut config.attribution;
        if let Some(v) = get("ATTRIBUTION_BATCH") {
            a.batch = whole("ATTRIBUTION_BATCH", &v, 1..=20_000, "")?;
        }
        if let Some(v) = get("REPROCESS_HORIZON_DAYS") {
            a.reprocess_horizon = days("REPROCESS_HORIZON_DAYS", &v)?;
        }
        if let Some(v) = get("MARKOV_PERIOD_DAYS") {
            a.markov_period = days("MARKOV_PERIOD_DAYS", &v)?;
        }
        if let Some(v) = get("HALF_LIFE_DAYS") {
            a.models.half_life = days("HALF_LIFE_DAYS", &v)?;
        }
        if let Some(v) = get("POSITION_SPLIT") {
            let parts: Vec<u32> = v.split('/').filter_map(|p| p.trim().parse().ok()).collect();
            match parts.as_slice() {
                [first, middle, last] if first + middle + last == 100 => {
                    a.models.position = PositionSplit {
                        first: *first,
                        middle: *middle,
                        last: *last,
                    }
                }
                _ => {
                    return Err(bad(
                        "POSITION_SPLIT",
                        "must be first/middle/last percentages summing to 100, e.g. 40/20/40",
                    ))
                }
            }
        }
        if let Some(v) = get("WINDOW_DAYS") {
            a.journey.default_window = days("WINDOW_DAYS", &v)?;
        }
        if let Some(v) = get("INFLUENCER_WINDOW_DAYS") {
            a.journey.influencer_window = days("INFLUENCER_WINDOW_DAYS", &v)?;
        }
        if let Some(v) = get("CHANNEL_WINDOWS") {
            for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let (channel, d) = pair.split_once('=').ok_or_else(|| {
                    bad("CHANNEL_WINDOWS", "must look like paid_search=7,email=14")
                })?;
                let channel = channel.trim();
                if !CHANNELS.contains(&channel) {
                    return Err(bad(
                        "CHANNEL_WINDOWS",
                        &format!("unknown channel '{channel}'"),
                    ));
                }
                a.journey
                    .channel_windows
                    .insert(channel.to_owned(), days("CHANNEL_WINDOWS", d.trim())?);
            }
        }
        if let Some(v) = get("RETENTION_DAYS") {
            let need = config.min_retention_days();
            config.retention_days = Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|d| (need..=36_500).contains(d))
                    .ok_or_else(|| {
                        bad(
                            "RETENTION_DAYS",
                            &format!(
                                "must be a whole number of days from {need} (the longest lookback \
                                 window or data-driven period, plus the reprocess horizon) to 36500"
                            ),
                        )
                    })?,
            );
        }
        Ok(config)
    }

    /// The shortest retention that never prunes a click an attribution run
    /// may still read: the longest lookback window or data-driven period,
    /// plus the reprocess horizon.
    pub fn min_retention_days(&self) -> u32 {
        let a = &self.attribution;
        let j = &a.journey;
        let longest = j
            .channel_windows
            .values()
            .copied()
            .chain([j.default_window, j.influencer_window, a.markov_period])
            .max()
            .unwrap_or(0);
        ((longest + a.reprocess_horizon) / DAY) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::privacy::PrivacyMode;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, (String, ParseError)> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn privacy_and_retention() {
        let c = from(&[]).unwrap();
        assert_eq!((c.privacy.mode, c.retention_days), (PrivacyMode::Eu, None));
        assert_eq!(c.min_retention_days(), 97, "90-day data-driven period + 7");
        let c = from(&[
            ("PRIVACY_MODE", "strict"),
            ("CONSENT_COOKIE", "cmp=yes"),
            ("PRIVACY_SIGNALS", "dnt,gpc"),
            ("RETENTION_DAYS", "97"),
        ])
        .unwrap();
        assert_eq!(c.privacy.mode, PrivacyMode::Strict);
        assert!(c.privacy.honor_dnt && c.privacy.honor_gpc);
        assert_eq!(c.retention_days, Some(97));
        for (name, value) in [
            ("RETENTION_DAYS", "96"),
            ("RETENTION_DAYS", "forever"),
            ("PRIVACY_MODE", "off"),
            ("CONSENT_COOKIE", "a b"),
            ("PRIVACY_SIGNALS", "ads"),
        ] {
            assert_eq!(from(&[(name, value)]).unwrap_err().0, name, "{value}");
        }
        let short = from(&[("MARKOV_PERIOD_DAYS", "30"), ("RETENTION_DAYS", "67")]).unwrap();
        assert_eq!(
            short.retention_days,
            Some(67),
            "60-day influencer window + 7"
        );
    }

    /// The redirect worker reads the same vars: its config must not drift.
    #[test]
    fn the_redirect_worker_has_the_full_workers_vars() {
        let full = include_str!("../wrangler.toml");
        let redirect = include_str!("../wrangler.redirect.toml");
        let section = |toml: &'static str, from: &str, to: &str| {
            let s = &toml[toml.find(from).unwrap()..];
            &s[..s.find(to).unwrap()]
        };
        assert_eq!(
            section(full, "\n[vars]", "[[kv_namespaces]]"),
            section(redirect, "\n[vars]", "[[kv_namespaces]]")
        );
        assert_eq!(
            section(full, "compatibility_date", "\n"),
            section(redirect, "compatibility_date", "\n")
        );
    }

    #[test]
    fn events_and_webhooks() {
        let c = from(&[]).unwrap();
        assert!(c.shop_origins.is_empty());
        assert_eq!(c.events_per_minute, 60);
        assert_eq!(
            (c.webhooks.base_ms, c.webhooks.give_up_after_ms),
            (60_000, 24 * HOUR)
        );
        let c = from(&[
            (
                "SHOP_ORIGINS",
                "https://Shop.Brand.com, http://127.0.0.1:8799",
            ),
            ("EVENTS_PER_MINUTE", "30"),
            ("WEBHOOK_RETRY_BASE_MS", "200"),
            ("WEBHOOK_GIVE_UP_HOURS", "0.001"),
        ])
        .unwrap();
        assert!(c.shop_origins.allows("https://shop.brand.com"));
        assert!(c.shop_origins.allows("http://127.0.0.1:8799"));
        assert!(!c.shop_origins.allows("https://evil.example"));
        assert_eq!(c.events_per_minute, 30);
        assert_eq!(
            (c.webhooks.base_ms, c.webhooks.give_up_after_ms),
            (200, 3_600)
        );
        assert_eq!(parse_hours("24"), Some(24 * HOUR));
        assert_eq!(parse_hours("1.5"), Some(90 * 60_000));
        assert_eq!(parse_hours(".25"), Some(15 * 60_000));
        for bad in ["0", "169", "-1", "1.0001", ".", "", "1e3", "x"] {
            assert_eq!(parse_hours(bad), None, "{bad}");
        }
        for (name, value) in [
            ("SHOP_ORIGINS", "shop.brand.com/path"),
            ("EVENTS_PER_MINUTE", "0"),
            ("WEBHOOK_RETRY_BASE_MS", "5"),
            ("WEBHOOK_GIVE_UP_HOURS", "200"),
        ] {
            assert_eq!(from(&[(name, value)]).unwrap_err().0, name, "{value}");
        }
    }

    #[test]
    fn short_domains_are_hosts_or_origins() {
        let c = from(&[(
            "SHORT_DOMAINS",
            " go.brand.com, https://Brand.link/ ,http://localhost:8787,go.brand.com",
        )])
        .unwrap();
        let got: Vec<(&str, &str)> = c
            .short_domains
            .iter()
            .map(|d| (d.host.as_str(), d.origin.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("go.brand.com", "https://go.brand.com"),
                ("brand.link", "https://brand.link"),
                ("localhost", "http://localhost:8787"),
            ]
        );
        assert_eq!(
            c.short_base_for(Some("brand.link"), "http://x"),
            "https://brand.link"
        );
        assert_eq!(c.short_base_for(None, "http://x"), "http://x");
        assert_eq!(
            Config::default().short_base_for(None, "http://x"),
            "http://x"
        );
        for bad in [
            "ftp://a.example",
            "https://a.example/path",
            "https://",
            "a b",
        ] {
            assert_eq!(
                from(&[("SHORT_DOMAINS", bad)]).unwrap_err().0,
                "SHORT_DOMAINS",
                "{bad}"
            );
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let c = from(&[]).unwrap();
        assert_eq!(
            (c.short_base, c.store.style, c.store.coupon_param.as_str()),
            (None, DiscountStyle::Shopify, "coupon")
        );
        let c = from(&[
            ("SHORT_BASE_URL", "https://go.brand.com/"),
            ("DISCOUNT_STYLE", "woocommerce"),
            ("COUPON_PARAM", "apply_coupon"),
        ])
        .unwrap();
        assert_eq!(c.short_base.as_deref(), Some("https://go.brand.com"));
        assert_eq!(
            (c.store.style, c.store.coupon_param.as_str()),
            (DiscountStyle::Woocommerce, "apply_coupon")
        );
        assert_eq!(
            from(&[("DISCOUNT_STYLE", "magento")]).unwrap_err().0,
            "DISCOUNT_STYLE"
        );
        assert_eq!(from(&[("SHORT_BASE_URL", "")]).unwrap().short_base, None);
    }

    #[test]
    fn attribution_settings() {
        let c = from(&[
            ("ATTRIBUTION_BATCH", "500"),
            ("HALF_LIFE_DAYS", "3"),
            ("POSITION_SPLIT", "30/40/30"),
            ("CHANNEL_WINDOWS", "paid_search=7, email=14"),
            ("INFLUENCER_WINDOW_DAYS", "45"),
        ])
        .unwrap();
        let a = c.attribution;
        assert_eq!(
            (a.batch, a.models.half_life, a.models.position.middle),
            (500, 3 * DAY, 40)
        );
        assert_eq!(a.journey.channel_windows.get("email"), Some(&(14 * DAY)));
        assert_eq!(a.journey.influencer_window, 45 * DAY);
        assert_eq!(
            from(&[("POSITION_SPLIT", "50/50/50")]).unwrap_err().0,
            "POSITION_SPLIT"
        );
        assert_eq!(
            from(&[("CHANNEL_WINDOWS", "tv=3")]).unwrap_err().0,
            "CHANNEL_WINDOWS"
        );
        assert_eq!(
            from(&[("ATTRIBUTION_BATCH", "0")]).unwrap_err().0,
            "ATTRIBUTION_BATCH"
        );
    }

    #[test]
    fn click_group_commit() {
        let check = |pairs: &[(&str, &str)], expected: Result<(u32, usize), &str>| {
            let got = from(pairs)
                .map(|c| (c.clicks.max_wait_ms, c.clicks.max_clicks))
                .map_err(|(var, _)| var);
            assert_eq!(got, expected.map_err(str::to_owned), "{pairs:?}");
        };
        check(&[], Ok((25, 50)));
        check(
            &[("CLICK_FLUSH_MS", "40"), ("CLICK_BATCH_MAX", "1")],
            Ok((40, 1)),
        );
        check(&[("CLICK_BATCH_MAX", "100")], Ok((25, 100)));
        check(&[("CLICK_BATCH_MAX", "101")], Err("CLICK_BATCH_MAX"));
        check(&[("CLICK_BATCH_MAX", "0")], Err("CLICK_BATCH_MAX"));
        check(&[("CLICK_FLUSH_MS", "0")], Err("CLICK_FLUSH_MS"));
        check(&[("CLICK_FLUSH_MS", "fast")], Err("CLICK_FLUSH_MS"));
    }
}
