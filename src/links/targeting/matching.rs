//! Matching: whether a rule's [`Conditions`] hold for what the redirect
//! knows about a visitor (AND across conditions, OR within one list), with
//! `Accept-Language` read as a browser means it, and the first rule that
//! matches.

use super::rule::{Conditions, Rule};
use crate::traffic::ua::UaInfo;

/// Entries of an `Accept-Language` header looked at (the rest are ignored).
const MAX_LANGUAGES: usize = 16;

/// What the redirect knows about a visitor.
#[derive(Debug, Clone, Copy)]
pub struct VisitorFacts<'a> {
    pub ua: &'a UaInfo,
    /// The edge's two-letter country code.
    pub country: Option<&'a str>,
    /// The raw `Accept-Language` header.
    pub accept_language: Option<&'a str>,
}

impl Conditions {
    /// Whether every given condition holds for the visitor.
    pub fn matches(&self, f: &VisitorFacts) -> bool {
        let ua = f.ua;
        (self.os.is_empty() || self.os.contains(&ua.os))
            && (self.device_class.is_empty() || self.device_class.contains(&ua.device_class))
            && (self.app.is_empty() || self.app.iter().any(|a| a.matches(ua.app)))
            && (self.country.is_empty()
                || f.country.is_some_and(|c| {
                    let c = c.trim();
                    self.country.iter().any(|v| v.eq_ignore_ascii_case(c))
                }))
            && (self.language.is_empty()
                || f.accept_language.is_some_and(|h| {
                    accepted(h).any(|tag| self.language.iter().any(|v| language_matches(v, tag)))
                }))
    }
}

/// The first rule that matches the visitor.
pub fn match_rule(rules: &[Rule], facts: &VisitorFacts) -> Option<usize> {
    rules.iter().position(|r| r.when.matches(facts))
}

/// The language tags an `Accept-Language` header accepts (`q=0` excluded).
fn accepted(header: &str) -> impl Iterator<Item = &str> {
    header.split(',').take(MAX_LANGUAGES).filter_map(|entry| {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            let p = p.trim();
            let q = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="));
            q.is_some_and(|q| {
                let q = q.trim();
                q.starts_with('0') && q.bytes().all(|b| b == b'0' || b == b'.')
            })
        });
        (!tag.is_empty() && !refused).then_some(tag)
    })
}

/// `de` matches any tag whose primary subtag is `de`; `de-at` only `de-AT`.
fn language_matches(rule: &str, tag: &str) -> bool {
    let tag = if rule.contains('-') {
        tag
    } else {
        tag.split(['-', '_']).next().unwrap_or(tag)
    };
    rule.len() == tag.len()
        && rule.bytes().zip(tag.bytes()).all(|(r, t)| {
            r == if t == b'_' {
                b'-'
            } else {
                t.to_ascii_lowercase()
            }
        })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::links::targeting::parse::parse_rules;
    use crate::traffic::ua::{self, Bot, BotKind, DeviceClass, Os};
    use serde_json::{json, Value};

    /// A human visitor's user agent (also used by `choice`'s tests).
    pub(in crate::links::targeting) fn human(
        os: Os,
        device_class: DeviceClass,
        app: Option<&'static str>,
    ) -> UaInfo {
        UaInfo {
            app,
            os,
            device_class,
            bot: None,
        }
    }

    /// The index of the first rule of `rules` that matches the visitor.
    fn check_match(
        rules: &Value,
        ua: &UaInfo,
        country: Option<&str>,
        lang: Option<&str>,
        expected: Option<usize>,
    ) {
        let rules = parse_rules(rules).unwrap();
        let facts = VisitorFacts {
            ua,
            country,
            accept_language: lang,
        };
        assert_eq!(
            match_rule(&rules, &facts),
            expected,
            "{ua:?} {country:?} {lang:?}"
        );
    }

    fn when(conditions: &[Value]) -> Value {
        let rules: Vec<Value> = conditions
            .iter()
            .map(|c| json!({"when": c, "destination": "https://shop.example/"}))
            .collect();
        Value::Array(rules)
    }

    #[test]
    fn matching_devices_and_apps() {
        let iphone = ua::classify("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1");
        let insta = ua::classify("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 Instagram 354.0.0.29.90 (iPhone12,8; iOS 18_1; en_US; en; scale=2.00; 750x1334; 654111336)");
        let android = human(Os::Android, DeviceClass::Mobile, None);
        let tiktok = human(Os::Android, DeviceClass::Mobile, Some("tiktok"));
        let webview = human(Os::Android, DeviceClass::Tablet, Some("webview"));
        let desktop = human(Os::Windows, DeviceClass::Desktop, None);
        let bot = UaInfo {
            app: None,
            os: Os::Other,
            device_class: DeviceClass::Bot,
            bot: Some(Bot {
                name: "googlebot",
                kind: BotKind::Crawler,
            }),
        };
        let stores = when(&[json!({"os": ["ios"]}), json!({"os": ["android"]})]);
        check_match(&stores, &iphone, None, None, Some(0));
        check_match(&stores, &insta, None, None, Some(0));
        check_match(&stores, &android, None, None, Some(1));
        check_match(&stores, &desktop, None, None, None);
        check_match(&stores, &bot, None, None, None);
        let apps = when(&[json!({"app": ["instagram"]}), json!({"app": ["any"]})]);
        check_match(&apps, &insta, None, None, Some(0));
        check_match(&apps, &tiktok, None, None, Some(1));
        check_match(&apps, &webview, None, None, Some(1));
        check_match(&apps, &iphone, None, None, None);
        let devices = when(&[json!({"device_class": ["tablet", "desktop"]})]);
        check_match(&devices, &webview, None, None, Some(0));
        check_match(&devices, &desktop, None, None, Some(0));
        check_match(&devices, &android, None, None, None);
    }

    #[test]
    fn matching_country_language_and_logic() {
        let phone = human(Os::Ios, DeviceClass::Mobile, None);
        let android = human(Os::Android, DeviceClass::Mobile, Some("instagram"));
        let geo = when(&[json!({"country": ["US", "CA"]})]);
        check_match(&geo, &phone, Some("CA"), None, Some(0));
        check_match(&geo, &phone, Some("us"), None, Some(0));
        check_match(&geo, &phone, Some("GB"), None, None);
        check_match(&geo, &phone, None, None, None);
        let lang = when(&[json!({"language": ["de-at"]}), json!({"language": ["de"]})]);
        check_match(
            &lang,
            &phone,
            None,
            Some("de-AT,de;q=0.9,en;q=0.5"),
            Some(0),
        );
        check_match(&lang, &phone, None, Some("en-US, DE_at;q=0.2"), Some(0));
        check_match(&lang, &phone, None, Some("de-DE,de;q=0.9"), Some(1));
        check_match(&lang, &phone, None, Some("de-CH"), Some(1));
        check_match(&lang, &phone, None, Some("de"), Some(1));
        check_match(
            &lang,
            &phone,
            None,
            Some("en-US,en;q=0.8,de-AT;q=0,de;q=0.000"),
            None,
        );
        check_match(&lang, &phone, None, Some("en,de-AT; Q=0.0"), None);
        check_match(&lang, &phone, None, Some("*"), None);
        check_match(&lang, &phone, None, Some("deu,dee-AT"), None);
        check_match(&lang, &phone, None, Some(""), None);
        check_match(&lang, &phone, None, None, None);
        // The 17th entry is past what is read.
        let long = format!("{},de", ["en"; 16].join(","));
        check_match(&lang, &phone, None, Some(&long), None);
        // AND across conditions, OR within one; first match wins; else none.
        let rules = when(&[
            json!({"os": ["ios"], "country": ["US", "CA"], "language": ["en"]}),
            json!({"os": ["ios", "android"], "app": ["instagram", "tiktok"]}),
            json!({"country": ["DE"]}),
        ]);
        check_match(&rules, &phone, Some("US"), Some("en-US"), Some(0));
        check_match(&rules, &phone, Some("US"), Some("fr"), None);
        check_match(&rules, &phone, Some("FR"), Some("en"), None);
        check_match(&rules, &android, Some("US"), Some("en"), Some(1));
        check_match(&rules, &android, Some("DE"), None, Some(1));
        check_match(&rules, &phone, Some("DE"), Some("en"), Some(2));
    }
}
