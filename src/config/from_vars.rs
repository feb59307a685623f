//! Reading the vars: [`Config::from_vars`] takes each variable that is set,
//! checks it (whole numbers in a range, days, hours, lists) and names the
//! variable when a value is bad; [`Config::min_retention_days`] bounds
//! `RETENTION_DAYS`.

use super::short_domains::short_domains;
use super::{bad, Config};
use crate::attribution::journey::CHANNELS;
use crate::attribution::models::PositionSplit;
use crate::base::error::ParseError;
use crate::base::money::Currency;
use crate::base::time::{Millis, DAY, HOUR};
use crate::links::discount::{DiscountStyle, ParamName};
use crate::links::link::CategoryRules;
use crate::roster::influencers::Tiers;
use crate::traffic::group_commit::MAX_GROUP;
use crate::traffic::privacy::PrivacyConfig;
use crate::traffic::storefront::Origins;

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
    use crate::config::tests::from;
    use crate::traffic::privacy::PrivacyMode;

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
