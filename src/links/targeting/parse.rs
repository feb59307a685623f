//! Reading rules and variants: a link's `rules` and `variants` fields (the
//! list invariants: count, unique names, weights summing to 100), and the
//! same parser for a rule or variant read back from D1 or KV. Every error
//! names its exact path (`rules[0].when.os`).

use super::condition_values::{parse_country, parse_device, parse_language, parse_os, values};
use super::rule::{AppMatch, Conditions, Rule, Variant};
use crate::base::body::JsonObject;
use crate::base::error::{ApiError, ParseError};
use crate::links::destination::Destination;
use crate::links::utm_names::UtmValue;
use serde_json::Value;

/// The most rules a link may carry.
pub const MAX_RULES: usize = 20;
/// The most A/B variants a link may carry (at least 2).
pub const MAX_VARIANTS: usize = 10;

impl Conditions {
    fn is_empty(&self) -> bool {
        self.os.is_empty()
            && self.device_class.is_empty()
            && self.app.is_empty()
            && self.country.is_empty()
            && self.language.is_empty()
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
}
