//! Targeting: which destination a visitor of a link is sent to.
//!
//! A link may carry ordered [`Rule`]s and A/B [`Variant`]s besides its
//! default destination; [`choose`] decides, in this order:
//!
//! 1. the first rule whose [`Conditions`] all hold (`os`, `device_class`,
//!    `app`, `country`, `language`: AND across conditions, OR within one
//!    condition's list);
//! 2. else the visitor's variant ([`pick_variant`]): integer weights that
//!    sum to 100, sticky per (link, visitor);
//! 3. else the default destination.
//!
//! **Stickiness.** The bucket is the first 8 bytes of
//! `SHA-256(link id as 8 big-endian bytes ‖ visitor id)`, modulo the total
//! weight. SHA-256 is already in the wasm (email hashes, payload
//! fingerprints), so it costs no size; it is stable across Rust versions and
//! platforms (unlike `DefaultHasher`), and every output bit is well mixed
//! (FNV-1a's low bits, which `% 100` reads, are not).
//!
//! **Storage.** [`Rule`] and [`Variant`] serialise to the request shape
//! (which is also the API view) and deserialise through the same parser, so
//! a rule read back from D1 or KV is re-validated. The list invariants
//! (count, unique names, weights summing to 100) belong to [`parse_rules`]
//! and [`parse_variants`]; [`pick_variant`] divides by the actual total, so
//! it stays in range even for a list that skipped them.
//!
//! Pure: no clock, no randomness. Whether bots are targeted is the shell's
//! decision; matching only looks at the facts it is given.

use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::links::destination::Destination;
use crate::links::utm_names::UtmValue;
use crate::traffic::ua::{DeviceClass, Os, UaInfo};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The most rules a link may carry.
pub const MAX_RULES: usize = 20;
/// The most A/B variants a link may carry (at least 2).
pub const MAX_VARIANTS: usize = 10;
/// The most values one condition may list.
pub const MAX_VALUES: usize = 100;
/// Entries of an `Accept-Language` header looked at (the rest are ignored).
const MAX_LANGUAGES: usize = 16;

/// Operating systems a rule can name: every [`Os`] but `other`.
const OSES: [Os; 6] = [
    Os::Ios,
    Os::Android,
    Os::Windows,
    Os::Macos,
    Os::Linux,
    Os::Chromeos,
];

const DEVICES: [DeviceClass; 3] = [
    DeviceClass::Mobile,
    DeviceClass::Tablet,
    DeviceClass::Desktop,
];

pub use crate::traffic::ua::APP_NAMES;

/// One targeting rule: where visitors go when every condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Rule {
    pub name: UtmValue,
    pub when: Conditions,
    pub destination: Destination,
}

/// A rule's conditions; an empty list places no condition. At least one
/// list is non-empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Conditions {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<Os>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub device_class: Vec<DeviceClass>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app: Vec<AppMatch>,
    /// ISO 3166-1 alpha-2, upper case.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub country: Vec<String>,
    /// Lowercase language tags (`de`, `de-at`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub language: Vec<String>,
}

/// An `app` condition value: one in-app browser, or any of them (`any`,
/// which includes unnamed web views).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppMatch {
    Any,
    App(&'static str),
}

/// One A/B destination and its share of visitors, in percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value")]
pub struct Variant {
    pub name: UtmValue,
    pub destination: Destination,
    pub weight: u8,
}

/// What the redirect knows about a visitor.
#[derive(Debug, Clone, Copy)]
pub struct VisitorFacts<'a> {
    pub ua: &'a UaInfo,
    /// The edge's two-letter country code.
    pub country: Option<&'a str>,
    /// The raw `Accept-Language` header.
    pub accept_language: Option<&'a str>,
}

/// Which destination a visit got, as recorded on the click.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    Default,
    Rule(usize),
    Variant(usize),
}

impl AppMatch {
    pub fn parse(s: &str) -> Result<AppMatch, ParseError> {
        let v = s.trim().to_ascii_lowercase();
        if v == "any" {
            return Ok(AppMatch::Any);
        }
        match APP_NAMES.iter().find(|a| **a == v) {
            Some(a) => Ok(AppMatch::App(a)),
            None => Err(ParseError::new(
                "invalid_value",
                format!("app must be 'any' or one of {}", APP_NAMES.join(", ")),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AppMatch::Any => "any",
            AppMatch::App(a) => a,
        }
    }

    /// Whether a visit from in-app browser `app` (`None`: a browser) matches.
    pub fn matches(self, app: Option<&str>) -> bool {
        match self {
            AppMatch::Any => app.is_some(),
            AppMatch::App(a) => app == Some(a),
        }
    }
}

impl Serialize for AppMatch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Conditions {
    fn is_empty(&self) -> bool {
        self.os.is_empty()
            && self.device_class.is_empty()
            && self.app.is_empty()
            && self.country.is_empty()
            && self.language.is_empty()
    }

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

impl TryFrom<Value> for Rule {
    type Error = String;
    fn try_from(v: Value) -> Result<Rule, String> {
        rule(&v, 0).map_err(|e| stored("rule", e))
    }
}

impl TryFrom<Value> for Variant {
    type Error = String;
    fn try_from(v: Value) -> Result<Variant, String> {
        variant(&v, 0).map_err(|e| stored("variant", e))
    }
}

impl Chosen {
    /// Where the visitor goes (`default` when the index is out of range).
    pub fn destination<'a>(
        self,
        default: &'a Destination,
        rules: &'a [Rule],
        variants: &'a [Variant],
    ) -> &'a Destination {
        match self {
            Chosen::Default => None,
            Chosen::Rule(i) => rules.get(i).map(|r| &r.destination),
            Chosen::Variant(i) => variants.get(i).map(|v| &v.destination),
        }
        .unwrap_or(default)
    }

    /// The labels recorded on the click: (rule name, variant name).
    pub fn labels<'a>(
        self,
        rules: &'a [Rule],
        variants: &'a [Variant],
    ) -> (Option<&'a str>, Option<&'a str>) {
        match self {
            Chosen::Default => (None, None),
            Chosen::Rule(i) => (rules.get(i).map(|r| r.name.as_str()), None),
            Chosen::Variant(i) => (None, variants.get(i).map(|v| v.name.as_str())),
        }
    }
}

/// Reads a link's `rules` field; `null` or `[]` is none.
pub fn parse_rules(v: &Value) -> Result<Vec<Rule>, ApiError> {
    let items = list(v, "rules", 1, MAX_RULES)?;
    let mut rules: Vec<Rule> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("rules[{i}]");
        let r = rule(item, i).map_err(|e| under(&at, e))?;
        if rules.iter().any(|x| x.name == r.name) {
            return Err(duplicate(&at));
        }
        rules.push(r);
    }
    Ok(rules)
}

/// Reads a link's `variants` field; `null` or `[]` is none.
pub fn parse_variants(v: &Value) -> Result<Vec<Variant>, ApiError> {
    let items = list(v, "variants", 2, MAX_VARIANTS)?;
    let mut variants: Vec<Variant> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("variants[{i}]");
        let x = variant(item, i).map_err(|e| under(&at, e))?;
        if variants.iter().any(|y| y.name == x.name) {
            return Err(duplicate(&at));
        }
        variants.push(x);
    }
    let total: u32 = variants.iter().map(|x| u32::from(x.weight)).sum();
    if !variants.is_empty() && total != 100 {
        return Err(ParseError::new(
            "invalid_weights",
            format!("variant weights must sum to 100, not {total}"),
        )
        .at("variants"));
    }
    Ok(variants)
}

/// The first rule that matches the visitor.
pub fn match_rule(rules: &[Rule], facts: &VisitorFacts) -> Option<usize> {
    rules.iter().position(|r| r.when.matches(facts))
}

/// The visitor's variant: the same (link, visitor) always gets the same one.
pub fn pick_variant(variants: &[Variant], link_id: i64, visitor: &str) -> Option<usize> {
    let total: u64 = variants.iter().map(|v| u64::from(v.weight)).sum();
    if total == 0 {
        return None;
    }
    let mut bucket = hash(link_id, visitor) % total;
    variants.iter().position(|v| {
        let w = u64::from(v.weight);
        let here = bucket < w;
        bucket = bucket.wrapping_sub(w);
        here
    })
}

/// A matching rule, else the visitor's variant, else the default.
pub fn choose(
    rules: &[Rule],
    variants: &[Variant],
    facts: &VisitorFacts,
    link_id: i64,
    visitor: &str,
) -> Chosen {
    if let Some(i) = match_rule(rules, facts) {
        Chosen::Rule(i)
    } else if let Some(i) = pick_variant(variants, link_id, visitor) {
        Chosen::Variant(i)
    } else {
        Chosen::Default
    }
}

fn hash(link_id: i64, visitor: &str) -> u64 {
    let mut input = Vec::with_capacity(8 + visitor.len());
    input.extend_from_slice(&link_id.to_be_bytes());
    input.extend_from_slice(visitor.as_bytes());
    let digest = Sha256::digest(input.as_slice());
    digest[..8].iter().fold(0, |h, &b| (h << 8) | u64::from(b))
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

fn rule(v: &Value, i: usize) -> Result<Rule, ApiError> {
    let o = object(v)?;
    o.deny_unknown(&["name", "when", "destination"])?;
    let name = match o.opt("name", UtmValue::parse)? {
        Some(n) => n,
        None => UtmValue::parse(&format!("rule-{}", i + 1)).expect("valid default name"),
    };
    let when = match o.value("when") {
        Some(w) => conditions(w).map_err(|e| under("when", e))?,
        None => return Err(ParseError::new("required", "when is required").at("when")),
    };
    Ok(Rule {
        name,
        when,
        destination: o.req("destination", Destination::parse)?,
    })
}

fn conditions(v: &Value) -> Result<Conditions, ApiError> {
    let o = object(v)?;
    o.deny_unknown(&["os", "device_class", "app", "country", "language"])?;
    let c = Conditions {
        os: values(&o, "os", parse_os)?,
        device_class: values(&o, "device_class", parse_device)?,
        app: values(&o, "app", AppMatch::parse)?,
        country: values(&o, "country", parse_country)?,
        language: values(&o, "language", parse_language)?,
    };
    if c.is_empty() {
        return Err(ApiError::invalid(
            "empty",
            "a rule needs at least one of os, device_class, app, country, language",
        ));
    }
    Ok(c)
}

fn variant(v: &Value, i: usize) -> Result<Variant, ApiError> {
    let o = object(v)?;
    o.deny_unknown(&["name", "destination", "weight"])?;
    let name = match o.opt("name", UtmValue::parse)? {
        Some(n) => n,
        None => {
            let letter = char::from(b'a' + (i % 26) as u8);
            UtmValue::parse(letter.encode_utf8(&mut [0; 4])).expect("valid default name")
        }
    };
    let destination = o.req("destination", Destination::parse)?;
    let weight = o
        .opt_count("weight", 99)?
        .ok_or_else(|| ParseError::new("required", "weight is required").at("weight"))?;
    Ok(Variant {
        name,
        destination,
        weight: weight as u8,
    })
}

/// The items of list field `name`: none for `null` or `[]`, else
/// `min..=max` of them.
fn list<'a>(v: &'a Value, name: &str, min: usize, max: usize) -> Result<&'a [Value], ApiError> {
    let (code, message) = match v {
        Value::Null => return Ok(&[]),
        Value::Array(items) if items.is_empty() || (min..=max).contains(&items.len()) => {
            return Ok(items)
        }
        Value::Array(items) if items.len() < min => {
            ("too_few", format!("need none or at least {min} entries"))
        }
        Value::Array(_) => ("too_many", format!("may have at most {max} entries")),
        _ => ("invalid_type", "must be a list".to_owned()),
    };
    Err(ParseError::new(code, format!("{name} {message}")).at(name))
}

fn object(v: &Value) -> Result<JsonObject, ApiError> {
    match v {
        Value::Object(map) => Ok(JsonObject::from_map(map.clone())),
        _ => Err(ApiError::invalid("invalid_type", "expected a JSON object")),
    }
}

/// A condition's list of values, each parsed, repeats dropped.
fn values<T: PartialEq>(
    o: &JsonObject,
    field: &str,
    parse: fn(&str) -> Result<T, ParseError>,
) -> Result<Vec<T>, ApiError> {
    let invalid =
        |code, message: &str| ParseError::new(code, format!("{field} {message}")).at(field);
    let items = match o.value(field) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("invalid_type", "must be a list of strings")),
    };
    if items.is_empty() {
        return Err(invalid(
            "empty",
            "must list a value (leave it out to match all)",
        ));
    }
    if items.len() > MAX_VALUES {
        return Err(invalid("too_many", "lists too many values"));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| invalid("invalid_type", "must be a list of strings"))?;
        let v = parse(s).map_err(|e| e.at(field))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

fn parse_os(s: &str) -> Result<Os, ParseError> {
    let v = s.trim().to_ascii_lowercase();
    OSES.into_iter().find(|o| o.as_str() == v).ok_or_else(|| {
        ParseError::new(
            "invalid_value",
            "os must be one of ios, android, windows, macos, linux, chromeos",
        )
    })
}

fn parse_device(s: &str) -> Result<DeviceClass, ParseError> {
    let v = s.trim().to_ascii_lowercase();
    DEVICES
        .into_iter()
        .find(|d| d.as_str() == v)
        .ok_or_else(|| {
            ParseError::new(
                "invalid_value",
                "device_class must be one of mobile, tablet, desktop",
            )
        })
}

fn parse_country(s: &str) -> Result<String, ParseError> {
    let v = s.trim();
    if v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(v.to_ascii_uppercase())
    } else {
        Err(ParseError::new(
            "invalid_value",
            "country must be a two-letter ISO 3166-1 code",
        ))
    }
}

/// A language tag (`de`, `de-AT`, `zh_Hant`), lowercased with `-`.
fn parse_language(s: &str) -> Result<String, ParseError> {
    let v = s.trim().to_ascii_lowercase().replace('_', "-");
    let ok = v.len() <= 35
        && v.split('-').enumerate().all(|(i, sub)| {
            let (min, alpha) = if i == 0 { (2, true) } else { (1, false) };
            (min..=8).contains(&sub.len())
                && sub
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || (!alpha && b.is_ascii_digit()))
        });
    if ok {
        Ok(v)
    } else {
        Err(ParseError::new(
            "invalid_value",
            "language must be a language tag such as 'de' or 'de-AT'",
        ))
    }
}

/// `e`, with its field put under `prefix` (`when.os` → `rules[0].when.os`).
fn under(prefix: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::Invalid {
            code,
            message,
            field,
        } => ApiError::Invalid {
            code,
            message,
            field: Some(match field {
                Some(f) => format!("{prefix}.{f}"),
                None => prefix.to_owned(),
            }),
        },
        other => other,
    }
}

fn duplicate(at: &str) -> ApiError {
    ParseError::new("duplicate", "name is used by an earlier entry").at(&format!("{at}.name"))
}

/// A stored item that no longer parses, as a serde error message.
fn stored(what: &str, e: ApiError) -> String {
    let e = under(what, e);
    format!("{}: {e}", e.field().unwrap_or(what))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::ua::{self, Bot, BotKind};
    use proptest::prelude::*;
    use serde_json::json;

    /// Parses `{"rules": ...}` or `{"variants": ...}`; `Ok` is the expected
    /// serialisation, `Err` the (field, code).
    fn check(input: &str, expected: Result<&str, (&str, &str)>) {
        let input: Value = serde_json::from_str(input).unwrap();
        let got = match (&input["rules"], &input["variants"]) {
            (r, Value::Null) => parse_rules(r).map(|r| json!({ "rules": r })),
            (_, v) => parse_variants(v).map(|v| json!({ "variants": v })),
        };
        match (got, expected) {
            (Ok(got), Ok(want)) => {
                assert_eq!(got, serde_json::from_str::<Value>(want).unwrap(), "{input}")
            }
            (Err(e), Err(want)) => {
                assert_eq!((e.field().unwrap_or(""), e.code()), want, "{input}")
            }
            (got, want) => panic!("{input}: got {got:?}, expected {want:?}"),
        }
    }

    const D: &str = r#""destination": "https://shop.example/a""#;

    #[test]
    fn parse_table() {
        check(r#"{"rules": null}"#, Ok(r#"{"rules": []}"#));
        check(r#"{"rules": []}"#, Ok(r#"{"rules": []}"#));
        check(r#"{"variants": []}"#, Ok(r#"{"variants": []}"#));
        check(
            &format!(
                r#"{{"rules": [{{"when": {{"os": ["iOS", "ios"], "country": ["us", "CA"], "app": ["Instagram", "any"], "language": ["de_AT", "EN"], "device_class": [" mobile "]}}, {D}}},
                                {{"name": "Desktop Web", "when": {{"device_class": ["desktop"], "os": null}}, "destination": "HTTPS://Shop.Example/d"}}]}}"#
            ),
            Ok(r#"{"rules": [
                {"name": "rule-1", "when": {"os": ["ios"], "device_class": ["mobile"], "app": ["instagram", "any"], "country": ["US", "CA"], "language": ["de-at", "en"]}, "destination": "https://shop.example/a"},
                {"name": "desktop-web", "when": {"device_class": ["desktop"]}, "destination": "https://shop.example/d"}]}"#),
        );
        check(
            &format!(
                r#"{{"variants": [{{{D}, "weight": 20}}, {{"name": "B", {D}, "weight": 30}}, {{{D}, "weight": 50}}]}}"#
            ),
            Ok(r#"{"variants": [
                {"name": "a", "destination": "https://shop.example/a", "weight": 20},
                {"name": "b", "destination": "https://shop.example/a", "weight": 30},
                {"name": "c", "destination": "https://shop.example/a", "weight": 50}]}"#),
        );
        // Every error names its exact path.
        let rule = |when: &str| format!(r#"{{"rules": [{{"when": {when}, {D}}}]}}"#);
        check(r#"{"rules": {}}"#, Err(("rules", "invalid_type")));
        check(
            &format!(
                r#"{{"rules": [{}]}}"#,
                [r#"{"when": {"os": ["ios"]}, "destination": "https://a.example"}"#; 21].join(",")
            ),
            Err(("rules", "too_many")),
        );
        check(r#"{"rules": [1]}"#, Err(("rules[0]", "invalid_type")));
        let many = format!(r#"{{"country": [{}]}}"#, [r#""US""#; 101].join(","));
        for (when, at, code) in [
            (r#"{"os": ["other"]}"#, ".os", "invalid_value"),
            (r#"{"os": "ios"}"#, ".os", "invalid_type"),
            (r#"{"os": [1]}"#, ".os", "invalid_type"),
            (r#"{"os": []}"#, ".os", "empty"),
            (&many, ".country", "too_many"),
            (
                r#"{"device_class": ["bot"]}"#,
                ".device_class",
                "invalid_value",
            ),
            (r#"{"app": ["myspace"]}"#, ".app", "invalid_value"),
            (r#"{"country": ["USA"]}"#, ".country", "invalid_value"),
            (r#"{"country": ["T1"]}"#, ".country", "invalid_value"),
            (r#"{"language": ["*"]}"#, ".language", "invalid_value"),
            (r#"{"language": ["d"]}"#, ".language", "invalid_value"),
            (r#"{"language": ["de-"]}"#, ".language", "invalid_value"),
            (r#"{"language": ["dé"]}"#, ".language", "invalid_value"),
            (r#"{"oss": ["ios"]}"#, ".oss", "unknown_field"),
            ("{}", "", "empty"),
            (r#"{"os": null}"#, "", "empty"),
            ("[]", "", "invalid_type"),
        ] {
            check(&rule(when), Err((&format!("rules[0].when{at}"), code)));
        }
        check(
            &format!(r#"{{"rules": [{{{D}}}]}}"#),
            Err(("rules[0].when", "required")),
        );
        check(
            r#"{"rules": [{"when": {"os": ["ios"]}}]}"#,
            Err(("rules[0].destination", "required")),
        );
        check(
            r#"{"rules": [{"when": {"os": ["ios"]}, "destination": "https://a.example"}, {"when": {"os": ["ios"]}, "destination": "javascript:alert(1)"}]}"#,
            Err(("rules[1].destination", "unsupported_scheme")),
        );
        check(
            &format!(r#"{{"rules": [{{"when": {{"os": ["ios"]}}, {D}, "priority": 1}}]}}"#),
            Err(("rules[0].priority", "unknown_field")),
        );
        check(
            &format!(r#"{{"rules": [{{"name": " ", "when": {{"os": ["ios"]}}, {D}}}]}}"#),
            Err(("rules[0].name", "empty")),
        );
        check(
            &format!(
                r#"{{"rules": [{{"name": "rule-3", "when": {{"os": ["ios"]}}, {D}}}, {{"when": {{"os": ["android"]}}, {D}}}, {{"when": {{"app": ["any"]}}, {D}}}]}}"#
            ),
            Err(("rules[2].name", "duplicate")),
        );
        let v = |w: &str| format!(r#"{{"variants": [{{{D}, "weight": 50}}, {{{D}, {w}}}]}}"#);
        check(r#"{"variants": "a"}"#, Err(("variants", "invalid_type")));
        check(
            &format!(r#"{{"variants": [{{{D}, "weight": 99}}]}}"#),
            Err(("variants", "too_few")),
        );
        check(
            &format!(
                r#"{{"variants": [{}]}}"#,
                vec![format!(r#"{{{D}, "weight": 9}}"#); 11].join(",")
            ),
            Err(("variants", "too_many")),
        );
        for (second, at, code) in [
            (r#""weight": 49"#, "variants", "invalid_weights"),
            (r#""weight": 51"#, "variants", "invalid_weights"),
            (r#""weight": 0"#, "variants[1].weight", "invalid_value"),
            (r#""weight": 100"#, "variants[1].weight", "invalid_value"),
            (r#""weight": 50.5"#, "variants[1].weight", "invalid_value"),
            (r#""weight": "50""#, "variants[1].weight", "invalid_value"),
            (r#""weight": null"#, "variants[1].weight", "required"),
            (
                r#""weight": 50, "share": 1"#,
                "variants[1].share",
                "unknown_field",
            ),
            (
                r#""weight": 50, "name": "A""#,
                "variants[1].name",
                "duplicate",
            ),
        ] {
            check(&v(second), Err((at, code)));
        }
        check(
            &format!(r#"{{"variants": [{{{D}, "weight": 50}}, {{"weight": 50}}]}}"#),
            Err(("variants[1].destination", "required")),
        );
        check(
            r#"{"variants": [true, false]}"#,
            Err(("variants[0]", "invalid_type")),
        );
    }

    #[test]
    fn round_trips_and_revalidates_on_the_way_in() {
        let rules = parse_rules(&json!([
            {"name": "ios-store", "when": {"os": ["ios"], "country": ["US", "CA"]}, "destination": "https://apps.apple.com/app/id1"},
            {"when": {"app": ["any", "tiktok"], "device_class": ["mobile", "tablet"], "language": ["de"]}, "destination": "https://shop.example/de"},
        ]))
        .unwrap();
        let text = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Rule>>(&text).unwrap(), rules);
        assert_eq!(
            parse_rules(&serde_json::from_str(&text).unwrap()).unwrap(),
            rules
        );
        let variants = parse_variants(&json!([
            {"destination": "https://shop.example/a", "weight": 34},
            {"name": "green", "destination": "https://shop.example/b", "weight": 66},
        ]))
        .unwrap();
        let text = serde_json::to_string(&variants).unwrap();
        assert_eq!(
            text,
            r#"[{"name":"a","destination":"https://shop.example/a","weight":34},{"name":"green","destination":"https://shop.example/b","weight":66}]"#
        );
        assert_eq!(
            serde_json::from_str::<Vec<Variant>>(&text).unwrap(),
            variants
        );
        // A tampered record is refused, with the path in the message.
        let bad = r#"[{"name":"r","when":{"os":["ios"]},"destination":"javascript:x"}]"#;
        let e = serde_json::from_str::<Vec<Rule>>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("rule.destination"), "{e}");
        let bad = r#"[{"name":"a","destination":"https://a.example/","weight":0}]"#;
        assert!(serde_json::from_str::<Vec<Variant>>(bad).is_err());
    }

    fn human(os: Os, device_class: DeviceClass, app: Option<&'static str>) -> UaInfo {
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

    fn variants(weights: &[u8]) -> Vec<Variant> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| Variant {
                name: UtmValue::parse(&format!("v{i}")).unwrap(),
                destination: Destination::parse(&format!("https://shop.example/{i}")).unwrap(),
                weight,
            })
            .collect()
    }

    /// Deterministic 22-character base64url ids (splitmix64).
    fn visitor_ids(n: usize) -> Vec<String> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        (0..n)
            .map(|_| {
                (0..22)
                    .map(|_| char::from(ALPHABET[(next() % 64) as usize]))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn variants_are_sticky_and_split_by_weight() {
        let ids = visitor_ids(5000);
        for weights in [&[50, 50][..], &[20, 30, 50], &[1, 9, 90]] {
            let vs = variants(weights);
            for link_id in [1, 42, -7] {
                let mut counts = vec![0u32; vs.len()];
                for id in &ids {
                    let i = pick_variant(&vs, link_id, id).unwrap();
                    assert_eq!(pick_variant(&vs, link_id, id), Some(i));
                    counts[i] += 1;
                }
                for (count, &w) in counts.iter().zip(weights) {
                    let pct = f64::from(*count) * 100.0 / 5000.0;
                    assert!(
                        (pct - f64::from(w)).abs() <= 3.0,
                        "weights {weights:?}, link {link_id}: {counts:?}"
                    );
                }
            }
        }
        // Same visitor, same link: always the same; the link id matters.
        let vs = variants(&[50, 50]);
        let first = pick_variant(&vs, 9, &ids[0]);
        assert!((0..100).all(|_| pick_variant(&vs, 9, &ids[0]) == first));
        let moved = ids
            .iter()
            .filter(|id| pick_variant(&vs, 9, id) != pick_variant(&vs, 10, id));
        assert!(moved.count() > 2000);
        assert_eq!(pick_variant(&[], 9, &ids[0]), None);
    }

    #[test]
    fn rules_before_variants_before_default() {
        let rules = parse_rules(&json!([{"name": "ios", "when": {"os": ["ios"]}, "destination": "https://apps.example/"}])).unwrap();
        let vs = variants(&[50, 50]);
        let default = Destination::parse("https://shop.example/").unwrap();
        let ios = human(Os::Ios, DeviceClass::Mobile, None);
        let web = human(Os::Windows, DeviceClass::Desktop, None);
        let facts = |ua| VisitorFacts {
            ua,
            country: None,
            accept_language: None,
        };
        let c = choose(&rules, &vs, &facts(&ios), 1, "v");
        assert_eq!(c, Chosen::Rule(0));
        assert_eq!(c.labels(&rules, &vs), (Some("ios"), None));
        assert_eq!(
            c.destination(&default, &rules, &vs).as_str(),
            "https://apps.example/"
        );
        let c = choose(&rules, &vs, &facts(&web), 1, "v");
        let Chosen::Variant(i) = c else {
            panic!("{c:?}")
        };
        assert_eq!(c.labels(&rules, &vs), (None, Some(vs[i].name.as_str())));
        assert_eq!(c.destination(&default, &rules, &vs), &vs[i].destination);
        let c = choose(&rules, &[], &facts(&web), 1, "v");
        assert_eq!(c, Chosen::Default);
        assert_eq!(c.labels(&rules, &vs), (None, None));
        assert_eq!(c.destination(&default, &rules, &vs), &default);
        assert_eq!(Chosen::Rule(5).destination(&default, &rules, &vs), &default);
    }

    /// Fails to compile when `Os` or `DeviceClass` gains a value, so
    /// `OSES` and `DEVICES` are revisited.
    #[test]
    fn every_os_and_device_class_is_considered() {
        for o in OSES {
            match o {
                Os::Ios | Os::Android | Os::Windows | Os::Macos | Os::Linux | Os::Chromeos => {}
                Os::Other => panic!("other is not a target"),
            }
            assert_eq!(parse_os(o.as_str()), Ok(o));
        }
        for d in DEVICES {
            match d {
                DeviceClass::Mobile | DeviceClass::Tablet | DeviceClass::Desktop => {}
                DeviceClass::Bot | DeviceClass::Other => panic!("{d:?} is not a target"),
            }
        }
    }

    #[test]
    fn every_app_name_parses() {
        for n in APP_NAMES {
            assert_eq!(AppMatch::parse(n), Ok(AppMatch::App(n)));
        }
    }

    proptest! {
        #[test]
        fn pick_is_in_range_and_deterministic(
            weights in proptest::collection::vec(1u8..=99, 1..=10),
            link_id in any::<i64>(),
            visitor in ".{0,40}",
        ) {
            let vs = variants(&weights);
            let got = pick_variant(&vs, link_id, &visitor);
            prop_assert!(got.is_some_and(|i| i < vs.len()));
            prop_assert_eq!(pick_variant(&vs, link_id, &visitor), got);
        }
    }
}
