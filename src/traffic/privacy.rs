//! Privacy by default: whether a visit may carry the `lc_vid` cookie, and
//! the anonymous visitor id used when it may not.
//!
//! In the EU (`request.cf.isEUCountry`), everywhere under
//! `PRIVACY_MODE=strict`, and for visitors sending `DNT: 1` or
//! `Sec-GPC: 1` when `PRIVACY_SIGNALS` honours them, no cookie is read or
//! set unless consent is signalled: `consent=1` on the link, the configured
//! consent cookie, or `Sec-GPC: 0`. Such a visit is counted under an
//! anonymous visitor id: the first 128 bits of SHA-256 of a salt that
//! rotates daily, the IP prefix (/24 for IPv4, /48 for IPv6), the user agent
//! and the link. The shell deletes each day's salt once the day is over,
//! so the id can no longer be recomputed from anyone's IP and browser:
//! nothing that identifies a person survives the day. Unique clicks still
//! count correctly within the day. The click id (`lc_cid`) is passed to
//! the shop either way: it identifies a click, not a person.

use crate::base::error::ParseError;
use crate::traffic::ids::{VisitorId, ID_BYTES};
use sha2::{Digest, Sha256};

/// Where consent is required before the cookie is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrivacyMode {
    /// Visitors in the EU (and those whose honoured signals opt out).
    #[default]
    Eu,
    /// Every visitor.
    Strict,
}

/// The privacy settings (`PRIVACY_MODE`, `CONSENT_COOKIE`,
/// `PRIVACY_SIGNALS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrivacyConfig {
    pub mode: PrivacyMode,
    /// A cookie whose presence signals consent: its name, and the value it
    /// must have (any value but `0`, `false`, `no`, `deny` or `denied` when
    /// none is given).
    pub consent_cookie: Option<(String, Option<String>)>,
    /// Honour `DNT: 1` as an opt-out.
    pub honor_dnt: bool,
    /// Honour `Sec-GPC: 1` as an opt-out.
    pub honor_gpc: bool,
}

impl PrivacyConfig {
    pub fn parse_mode(s: &str) -> Result<PrivacyMode, ParseError> {
        match s {
            "eu" => Ok(PrivacyMode::Eu),
            "strict" => Ok(PrivacyMode::Strict),
            _ => Err(ParseError::new("invalid_config", "must be eu or strict")),
        }
    }

    /// `CONSENT_COOKIE`: `name` or `name=value`.
    pub fn parse_consent_cookie(s: &str) -> Result<(String, Option<String>), ParseError> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().to_owned())),
            None => (s.trim(), None),
        };
        let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || !name.bytes().all(token) {
            return Err(ParseError::new(
                "invalid_config",
                "must be a cookie name, or name=value",
            ));
        }
        Ok((name.to_owned(), value.filter(|v| !v.is_empty())))
    }

    /// `PRIVACY_SIGNALS`: a comma-separated list of `dnt` and `gpc`.
    pub fn parse_signals(&mut self, s: &str) -> Result<(), ParseError> {
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "dnt" => self.honor_dnt = true,
                "gpc" => self.honor_gpc = true,
                _ => {
                    return Err(ParseError::new(
                        "invalid_config",
                        "must list dnt and/or gpc, comma-separated",
                    ))
                }
            }
        }
        Ok(())
    }
}

/// What the shell read off the request that bears on consent.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsentFacts<'a> {
    /// `request.cf.isEUCountry`.
    pub is_eu: bool,
    /// The link's query string (for `consent=1`).
    pub query: Option<&'a str>,
    pub cookie: Option<&'a str>,
    pub dnt: Option<&'a str>,
    pub sec_gpc: Option<&'a str>,
}

/// How a visit's visitor is identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// The `lc_vid` cookie: read it, or set a new one.
    Cookie,
    /// No cookie is read or set; the visitor is the daily anonymous id.
    Anonymous,
}

/// Whether this visit may use the cookie.
pub fn tracking(config: &PrivacyConfig, f: &ConsentFacts<'_>) -> Tracking {
    let signal = |v: Option<&str>, want: &str| v.is_some_and(|v| v.trim() == want);
    let opted_out =
        (config.honor_dnt && signal(f.dnt, "1")) || (config.honor_gpc && signal(f.sec_gpc, "1"));
    let restricted = config.mode == PrivacyMode::Strict || f.is_eu || opted_out;
    if !restricted || consented(config, f) {
        Tracking::Cookie
    } else {
        Tracking::Anonymous
    }
}

fn consented(config: &PrivacyConfig, f: &ConsentFacts<'_>) -> bool {
    let by_param = f
        .query
        .is_some_and(|q| q.split('&').any(|p| p == "consent=1"));
    let by_gpc = f.sec_gpc.is_some_and(|v| v.trim() == "0");
    let by_cookie = match (&config.consent_cookie, f.cookie) {
        (Some((name, want)), Some(header)) => header.split(';').any(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            k.trim() == name
                && match want {
                    Some(w) => v.trim() == w,
                    None => !matches!(
                        v.trim().to_ascii_lowercase().as_str(),
                        "0" | "false" | "no" | "deny" | "denied"
                    ),
                }
        }),
        _ => false,
    };
    by_param || by_gpc || by_cookie
}

/// The network prefix of an IP address: `a.b.c` for IPv4 (/24), the first
/// three groups for IPv6 (/48), expanded so that `::` spellings agree.
/// `None` for anything else.
pub fn ip_prefix(ip: &str) -> Option<String> {
    let ip = ip.trim();
    if let Ok(v4) = ip.parse::<std::net::Ipv4Addr>() {
        let [a, b, c, _] = v4.octets();
        return Some(format!("{a}.{b}.{c}"));
    }
    let v6 = ip.parse::<std::net::Ipv6Addr>().ok()?;
    if let Some(v4) = v6.to_ipv4_mapped() {
        return ip_prefix(&v4.to_string());
    }
    let s = v6.segments();
    Some(format!("{:x}:{:x}:{:x}", s[0], s[1], s[2]))
}

/// The anonymous visitor id of a visit: SHA-256 over the day's salt, the
/// IP prefix, the user agent and the link, cut to a [`VisitorId`].
pub fn anonymous_visitor(salt: &str, ip_prefix: &str, user_agent: &str, link_id: i64) -> VisitorId {
    let mut h = Sha256::new();
    for part in [salt.as_bytes(), ip_prefix.as_bytes(), user_agent.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.update(link_id.to_be_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; ID_BYTES];
    bytes.copy_from_slice(&digest[..ID_BYTES]);
    VisitorId::from_random(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(config: &PrivacyConfig, facts: ConsentFacts<'_>, expected: Tracking) {
        assert_eq!(tracking(config, &facts), expected, "{config:?} {facts:?}");
    }

    #[test]
    fn consent_rules() {
        use Tracking::*;
        let eu = PrivacyConfig::default();
        let strict = PrivacyConfig {
            mode: PrivacyMode::Strict,
            consent_cookie: Some(("cmp_consent".into(), Some("yes".into()))),
            ..PrivacyConfig::default()
        };
        let signals = PrivacyConfig {
            consent_cookie: Some(("consent".into(), None)),
            honor_dnt: true,
            honor_gpc: true,
            ..PrivacyConfig::default()
        };
        let eu_visit = ConsentFacts {
            is_eu: true,
            ..ConsentFacts::default()
        };
        check(&eu, ConsentFacts::default(), Cookie);
        check(&eu, eu_visit, Anonymous);
        check(
            &eu,
            ConsentFacts {
                query: Some("a=b&consent=1"),
                ..eu_visit
            },
            Cookie,
        );
        check(
            &eu,
            ConsentFacts {
                query: Some("consent=10"),
                ..eu_visit
            },
            Anonymous,
        );
        check(
            &eu,
            ConsentFacts {
                sec_gpc: Some("0"),
                ..eu_visit
            },
            Cookie,
        );
        // Without a configured consent cookie, no cookie is consent.
        check(
            &eu,
            ConsentFacts {
                cookie: Some("consent=1"),
                ..eu_visit
            },
            Anonymous,
        );
        // DNT is not honoured unless configured.
        check(
            &eu,
            ConsentFacts {
                dnt: Some("1"),
                ..ConsentFacts::default()
            },
            Cookie,
        );

        check(&strict, ConsentFacts::default(), Anonymous);
        check(
            &strict,
            ConsentFacts {
                cookie: Some("a=1; cmp_consent=yes"),
                ..ConsentFacts::default()
            },
            Cookie,
        );
        check(
            &strict,
            ConsentFacts {
                cookie: Some("cmp_consent=no"),
                ..ConsentFacts::default()
            },
            Anonymous,
        );
        check(
            &strict,
            ConsentFacts {
                cookie: Some("xcmp_consent=yes"),
                ..ConsentFacts::default()
            },
            Anonymous,
        );

        check(
            &signals,
            ConsentFacts {
                dnt: Some("1"),
                ..ConsentFacts::default()
            },
            Anonymous,
        );
        check(
            &signals,
            ConsentFacts {
                sec_gpc: Some("1"),
                ..ConsentFacts::default()
            },
            Anonymous,
        );
        check(
            &signals,
            ConsentFacts {
                dnt: Some("0"),
                ..ConsentFacts::default()
            },
            Cookie,
        );
        check(
            &signals,
            ConsentFacts {
                dnt: Some("1"),
                cookie: Some("consent=granted"),
                ..ConsentFacts::default()
            },
            Cookie,
        );
        check(
            &signals,
            ConsentFacts {
                dnt: Some("1"),
                cookie: Some("consent=denied"),
                ..ConsentFacts::default()
            },
            Anonymous,
        );
    }

    #[test]
    fn settings_parse() {
        assert_eq!(PrivacyConfig::parse_mode("strict"), Ok(PrivacyMode::Strict));
        assert!(PrivacyConfig::parse_mode("off").is_err());
        assert_eq!(
            PrivacyConfig::parse_consent_cookie("cmp=yes"),
            Ok(("cmp".into(), Some("yes".into())))
        );
        assert_eq!(
            PrivacyConfig::parse_consent_cookie("cmp"),
            Ok(("cmp".into(), None))
        );
        assert!(PrivacyConfig::parse_consent_cookie("a b").is_err());
        assert!(PrivacyConfig::parse_consent_cookie("=x").is_err());
        let mut c = PrivacyConfig::default();
        c.parse_signals("DNT, gpc").unwrap();
        assert!(c.honor_dnt && c.honor_gpc);
        assert!(c.parse_signals("dnt,ads").is_err());
    }

    #[test]
    fn ip_prefixes() {
        let check =
            |ip: &str, want: Option<&str>| assert_eq!(ip_prefix(ip).as_deref(), want, "{ip}");
        check("203.0.113.77", Some("203.0.113"));
        check(" 10.1.2.3 ", Some("10.1.2"));
        check("2001:db8:abcd:12::1", Some("2001:db8:abcd"));
        check(
            "2001:0db8:abcd:0012:0000:0000:0000:0002",
            Some("2001:db8:abcd"),
        );
        check("::ffff:198.51.100.9", Some("198.51.100"));
        check("not an ip", None);
        check("", None);
    }

    #[test]
    fn anonymous_ids_are_stable_within_a_salt_and_differ_across() {
        let id = |salt, ip, ua, link| anonymous_visitor(salt, ip, ua, link);
        let a = id("salt-1", "203.0.113", "UA", 7);
        assert_eq!(a, id("salt-1", "203.0.113", "UA", 7));
        assert_eq!(a.as_str().len(), 22);
        for other in [
            id("salt-2", "203.0.113", "UA", 7),
            id("salt-1", "203.0.114", "UA", 7),
            id("salt-1", "203.0.113", "UA2", 7),
            id("salt-1", "203.0.113", "UA", 8),
            // Length-prefixed parts: moving a byte between parts changes it.
            id("salt-1", "203.0.11", "3UA", 7),
        ] {
            assert_ne!(a, other);
        }
        assert!(VisitorId::parse(a.as_str()).is_ok());
    }
}
