//! Short domains: `SHORT_DOMAINS` parsed into [`ShortDomain`]s, and the
//! base of a link's short URL ([`Config::short_base_for`]).

use super::{bad, Config};
use crate::base::error::ParseError;

/// One short domain: the host a request arrives on, and the origin its
/// short URLs start with (`https://` unless the entry names a scheme).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortDomain {
    pub host: String,
    pub origin: String,
}
/// `SHORT_DOMAINS`: comma-separated hosts or origins
/// (`go.brand.com, https://brand.link, http://localhost:8787`).
pub(super) fn short_domains(v: &str) -> Result<Vec<ShortDomain>, (String, ParseError)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::from;

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
}
