//! Worker configuration read from `[vars]`, parsed and validated in the
//! core. The shell passes a lookup function; nothing here touches `Env`.

use crate::discount::{DiscountStyle, ParamName, StoreDefaults};
use crate::error::ParseError;

/// Everything configurable through plain vars.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Base of short URLs (`SHORT_BASE_URL`); `None`: the request's origin.
    pub short_base: Option<String>,
    /// `DISCOUNT_STYLE` (default `shopify`) and `COUPON_PARAM` (default
    /// `coupon`): the store-wide discount defaults.
    pub store: StoreDefaults,
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
        if let Some(v) = get("DISCOUNT_STYLE") {
            config.store.style =
                DiscountStyle::parse(&v).map_err(|e| ("DISCOUNT_STYLE".to_owned(), e))?;
        }
        if let Some(v) = get("COUPON_PARAM") {
            config.store.coupon_param =
                ParamName::parse(&v).map_err(|e| ("COUPON_PARAM".to_owned(), e))?;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, (String, ParseError)> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
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
}
