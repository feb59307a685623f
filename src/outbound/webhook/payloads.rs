//! The bodies sent: one compact JSON envelope `{"id","type","created",
//! "data"}` per event ([`conversion_attributed`], [`conversion_refunded`],
//! [`link_broken`]), with amounts as decimal strings and shares of a
//! conversion as exact numbers.

use super::endpoints::EventKind;
use crate::attribution::models::{Model, CONVERSION_UNIT};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis, SECOND};
use serde::Serialize;
use std::collections::BTreeMap;

/// One touchpoint's credit under one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditLine {
    pub model: Model,
    pub channel: String,
    pub influencer: Option<String>,
    pub campaign: Option<String>,
    pub link: Option<String>,
    pub code: Option<String>,
    /// Credited revenue, minor units of the conversion's currency.
    pub revenue_minor: i64,
    /// Share of one conversion in millionths ([`CONVERSION_UNIT`] is all of
    /// it).
    pub conversion_micros: i64,
}

/// An attributed conversion, for `conversion.attributed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributedConversion {
    pub order_id: String,
    pub occurred_at: Millis,
    pub value_minor: i64,
    pub currency: Currency,
    pub click_id: Option<String>,
    /// Lowercase hex SHA-256 of the normalised email.
    pub email_sha256: Option<String>,
    /// Any number of lines per model, in the order they are to be listed.
    pub credits: Vec<CreditLine>,
    /// The converting click's ad-platform click ids
    /// ([`crate::traffic::ad_click_ids::parse`]) and time (for Meta's `fbc`).
    pub ad_click_ids: serde_json::Map<String, serde_json::Value>,
    pub click_at: Option<Millis>,
}

/// A refund of a stored conversion, for `conversion.refunded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refunded {
    pub order_id: String,
    pub refund_id: Option<String>,
    /// This refund.
    pub amount_minor: i64,
    /// Every refund of the order so far, this one included.
    pub refunded_total_minor: i64,
    /// The order's revenue before refunds.
    pub revenue_minor: i64,
    pub currency: Currency,
    pub refunded_at: Millis,
}

/// A link check's finding, for `link.broken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub slug: String,
    pub short_url: String,
    pub destination: String,
    /// The check's reason code (e.g. `status_4xx_5xx`).
    pub problem: String,
    pub detail: Option<String>,
    pub checked_at: Millis,
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    created: i64,
    data: T,
}

fn envelope<T: Serialize>(id: &str, kind: EventKind, now: Millis, data: T) -> String {
    serde_json::to_string(&Envelope {
        id,
        kind: kind.as_str(),
        created: unix_secs(now),
        data,
    })
    .expect("a payload of strings, numbers and string-keyed maps always serialises")
}

/// Whole Unix seconds (rounded down) of a millisecond timestamp.
fn unix_secs(ms: Millis) -> i64 {
    ms.div_euclid(SECOND)
}

/// The major-unit decimal string, also for negative amounts.
fn decimal(minor: i64, currency: Currency) -> String {
    if minor >= 0 {
        Money { minor, currency }.major()
    } else {
        let minor = minor.checked_neg().unwrap_or(i64::MAX);
        format!("-{}", Money { minor, currency }.major())
    }
}

/// A share of one conversion as an exact JSON number: 500 000 micros is
/// `0.5`, 333 333 is `0.333333`, 1 000 000 is `1`.
fn share(micros: i64) -> serde_json::Number {
    let unit = CONVERSION_UNIT.unsigned_abs();
    let abs = micros.unsigned_abs();
    let sign = if micros < 0 { "-" } else { "" };
    let frac = format!("{:06}", abs % unit);
    let frac = frac.trim_end_matches('0');
    let text = if frac.is_empty() {
        format!("{sign}{}", abs / unit)
    } else {
        format!("{sign}{}.{frac}", abs / unit)
    };
    text.parse()
        .expect("digits with an optional fraction are a JSON number")
}

#[derive(Serialize)]
struct PurchaseData<'a> {
    event_name: &'static str,
    event_time: i64,
    event_id: &'a str,
    order_id: &'a str,
    value: String,
    currency: &'a str,
    click_id: Option<&'a str>,
    hashed_email: Option<&'a str>,
    ad_click_ids: &'a serde_json::Map<String, serde_json::Value>,
    fbc: Option<String>,
    credit: BTreeMap<Model, Vec<LineData<'a>>>,
}

#[derive(Serialize)]
struct LineData<'a> {
    channel: &'a str,
    influencer: Option<&'a str>,
    campaign: Option<&'a str>,
    link: Option<&'a str>,
    code: Option<&'a str>,
    revenue: String,
    share: serde_json::Number,
}

/// The `conversion.attributed` body. `data` is
/// `{"event_name":"Purchase","event_time":<unix secs of occurred_at>,
/// "event_id":<order_id>,"order_id","value":"12.34","currency":"USD",
/// "click_id"|null,"hashed_email"|null,"ad_click_ids":{"fbclid":..},
/// "fbc":"fb.1.<click ms>.<fbclid>"|null,"credit":{"<model>":[{"channel",
/// "influencer","campaign","link","code","revenue":"6.17","share":0.5}]}}`:
/// `event_id` is the order id so an ad platform de-duplicates it against
/// its own pixel; `credit` has one key per model present in `c.credits`, in
/// [`Model`]'s declared order, each listing its lines in input order.
pub fn conversion_attributed(id: &str, now: Millis, c: &AttributedConversion) -> String {
    let mut credit: BTreeMap<Model, Vec<LineData<'_>>> = BTreeMap::new();
    for line in &c.credits {
        credit.entry(line.model).or_default().push(LineData {
            channel: &line.channel,
            influencer: line.influencer.as_deref(),
            campaign: line.campaign.as_deref(),
            link: line.link.as_deref(),
            code: line.code.as_deref(),
            revenue: decimal(line.revenue_minor, c.currency),
            share: share(line.conversion_micros),
        });
    }
    let data = PurchaseData {
        event_name: "Purchase",
        event_time: unix_secs(c.occurred_at),
        event_id: &c.order_id,
        order_id: &c.order_id,
        value: decimal(c.value_minor, c.currency),
        currency: c.currency.as_str(),
        click_id: c.click_id.as_deref(),
        hashed_email: c.email_sha256.as_deref(),
        ad_click_ids: &c.ad_click_ids,
        fbc: c
            .ad_click_ids
            .get("fbclid")
            .and_then(serde_json::Value::as_str)
            .zip(c.click_at)
            .map(|(id, at)| crate::traffic::ad_click_ids::fbc(at, id)),
        credit,
    };
    envelope(id, EventKind::ConversionAttributed, now, data)
}

#[derive(Serialize)]
struct RefundData<'a> {
    event_name: &'static str,
    event_time: i64,
    event_id: &'a str,
    order_id: &'a str,
    refund_id: Option<&'a str>,
    amount: String,
    refunded_total: String,
    net_value: String,
    currency: &'a str,
}

/// The `conversion.refunded` body. `data` is `{"event_name":"Refund",
/// "event_time":<unix secs of refunded_at>,"event_id":<order_id>,"order_id",
/// "refund_id"|null,"amount","refunded_total","net_value","currency"}`, the
/// amounts as decimal strings; `net_value` is revenue less the refunded
/// total (negative, with a `-`, if the refunds exceed it).
pub fn conversion_refunded(id: &str, now: Millis, r: &Refunded) -> String {
    let data = RefundData {
        event_name: "Refund",
        event_time: unix_secs(r.refunded_at),
        event_id: &r.order_id,
        order_id: &r.order_id,
        refund_id: r.refund_id.as_deref(),
        amount: decimal(r.amount_minor, r.currency),
        refunded_total: decimal(r.refunded_total_minor, r.currency),
        net_value: decimal(
            r.revenue_minor.saturating_sub(r.refunded_total_minor),
            r.currency,
        ),
        currency: r.currency.as_str(),
    };
    envelope(id, EventKind::ConversionRefunded, now, data)
}

#[derive(Serialize)]
struct BrokenData<'a> {
    slug: &'a str,
    short_url: &'a str,
    destination: &'a str,
    problem: &'a str,
    detail: Option<&'a str>,
    checked_at: String,
}

/// The `link.broken` body. `data` is `{"slug","short_url","destination",
/// "problem","detail"|null,"checked_at":"<RFC 3339>"}` (this event is for
/// people and tools, not ad platforms, so its time is RFC 3339).
pub fn link_broken(id: &str, now: Millis, b: &BrokenLink) -> String {
    let data = BrokenData {
        slug: &b.slug,
        short_url: &b.short_url,
        destination: &b.destination,
        problem: &b.problem,
        detail: b.detail.as_deref(),
        checked_at: time::format_rfc3339(b.checked_at),
    };
    envelope(id, EventKind::LinkBroken, now, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::webhook::{sign, verify, DEFAULT_TOLERANCE_SECS, SECRET};
    use serde_json::{json, Value};

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn line(model: Model, channel: &str, revenue_minor: i64, micros: i64) -> CreditLine {
        CreditLine {
            model,
            channel: channel.into(),
            influencer: None,
            campaign: None,
            link: None,
            code: None,
            revenue_minor,
            conversion_micros: micros,
        }
    }

    fn parsed(body: &str) -> Value {
        serde_json::from_str(body).unwrap()
    }

    #[test]
    fn attributed_payload() {
        let now = 1_767_225_600_999; // 2026-01-01T00:00:00.999Z
        let mut first = line(Model::Linear, "instagram", 617, 500_000);
        first.influencer = Some("jane".into());
        first.campaign = Some("bfcm".into());
        first.link = Some("serum-jane".into());
        first.code = Some("JANE10".into());
        let c = AttributedConversion {
            order_id: "1001".into(),
            occurred_at: 1_767_225_000_500,
            value_minor: 1234,
            currency: usd(),
            click_id: Some("c_abc".into()),
            email_sha256: Some("ab".repeat(32)),
            ad_click_ids: crate::traffic::ad_click_ids::parse(Some(
                r#"{"fbclid":"IwAR1","ttclid":"t.2"}"#,
            )),
            click_at: Some(1_767_224_000_123),
            credits: vec![
                first,
                line(Model::LastTouch, "tiktok", 1234, 1_000_000),
                line(Model::Linear, "tiktok", 617, 500_000),
                line(Model::FirstTouch, "instagram", 1234, 1_000_000),
            ],
        };
        let body = conversion_attributed("evt_1", now, &c);
        assert!(
            !body.contains('\n') && !body.contains(": "),
            "compact: {body}"
        );
        assert!(
            body.starts_with(
                r#"{"id":"evt_1","type":"conversion.attributed","created":1767225600,"data":{"#
            ),
            "{body}"
        );
        let v = parsed(&body);
        assert_eq!(
            v["data"],
            json!({
                "event_name": "Purchase",
                "event_time": 1_767_225_000,
                "event_id": "1001",
                "order_id": "1001",
                "value": "12.34",
                "currency": "USD",
                "click_id": "c_abc",
                "hashed_email": "ab".repeat(32),
                "ad_click_ids": {"fbclid": "IwAR1", "ttclid": "t.2"},
                "fbc": "fb.1.1767224000123.IwAR1",
                "credit": {
                    "first_touch": [{"channel": "instagram", "influencer": null, "campaign": null,
                        "link": null, "code": null, "revenue": "12.34", "share": 1}],
                    "last_touch": [{"channel": "tiktok", "influencer": null, "campaign": null,
                        "link": null, "code": null, "revenue": "12.34", "share": 1}],
                    "linear": [
                        {"channel": "instagram", "influencer": "jane", "campaign": "bfcm",
                         "link": "serum-jane", "code": "JANE10", "revenue": "6.17", "share": 0.5},
                        {"channel": "tiktok", "influencer": null, "campaign": null,
                         "link": null, "code": null, "revenue": "6.17", "share": 0.5}
                    ]
                }
            })
        );
        // models in declared order, whatever the input order
        let credit = &body[body.find("\"credit\"").unwrap()..];
        let pos = |k: &str| credit.find(&format!("\"{k}\"")).unwrap();
        assert!(pos("first_touch") < pos("last_touch") && pos("last_touch") < pos("linear"));
        // shares are exact decimal numbers in the text
        assert!(body.contains(r#""share":0.5}"#) && body.contains(r#""share":1}"#));
    }

    #[test]
    fn attributed_payload_without_optionals() {
        let c = AttributedConversion {
            order_id: "A-7".into(),
            occurred_at: 0,
            value_minor: 1234,
            currency: Currency::parse("JPY").unwrap(),
            click_id: None,
            email_sha256: None,
            ad_click_ids: serde_json::Map::new(),
            click_at: None,
            credits: vec![
                line(Model::DataDriven, "x", 411, 333_333),
                line(Model::DataDriven, "y", 411, 333_333),
                line(Model::DataDriven, "z", 412, 333_334),
            ],
        };
        let body = conversion_attributed("evt_2", 0, &c);
        let v = parsed(&body);
        assert_eq!(v["created"], 0);
        assert_eq!(v["data"]["value"], "1234");
        assert_eq!(v["data"]["currency"], "JPY");
        assert_eq!(v["data"]["click_id"], Value::Null);
        assert_eq!(v["data"]["hashed_email"], Value::Null);
        assert_eq!(v["data"]["ad_click_ids"], json!({}));
        assert_eq!(v["data"]["fbc"], Value::Null);
        let credit = v["data"]["credit"].as_object().unwrap();
        assert_eq!(credit.keys().collect::<Vec<_>>(), vec!["data_driven"]);
        let lines = credit["data_driven"].as_array().unwrap();
        let got: Vec<(String, String)> = lines
            .iter()
            .map(|l| (l["revenue"].to_string(), l["share"].to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("\"411\"".into(), "0.333333".into()),
                ("\"411\"".into(), "0.333333".into()),
                ("\"412\"".into(), "0.333334".into()),
            ]
        );
        // no credit lines: an empty object
        let none = AttributedConversion {
            credits: vec![],
            ..c
        };
        assert_eq!(
            parsed(&conversion_attributed("e", 0, &none))["data"]["credit"],
            json!({})
        );
    }

    #[test]
    fn decimals_and_shares() {
        let check = |minor: i64, cur: &str, expected: &str| {
            assert_eq!(decimal(minor, Currency::parse(cur).unwrap()), expected);
        };
        check(1234, "USD", "12.34");
        check(5, "USD", "0.05");
        check(0, "USD", "0.00");
        check(1234, "JPY", "1234");
        check(1234, "KWD", "1.234");
        check(-1234, "USD", "-12.34");
        check(-5, "USD", "-0.05");
        check(i64::MIN, "JPY", "-9223372036854775807");
        for (micros, text) in [
            (500_000, "0.5"),
            (333_333, "0.333333"),
            (1_000_000, "1"),
            (0, "0"),
            (1, "0.000001"),
            (250_000, "0.25"),
            (2_500_000, "2.5"),
            (-500_000, "-0.5"),
        ] {
            assert_eq!(share(micros).to_string(), text, "{micros}");
        }
        assert_eq!(
            parsed(&format!("{{\"s\":{}}}", share(500_000)))["s"],
            json!(0.5)
        );
    }

    #[test]
    fn refunded_payload() {
        let r = Refunded {
            order_id: "1001".into(),
            refund_id: Some("r-77".into()),
            amount_minor: 300,
            refunded_total_minor: 500,
            revenue_minor: 1234,
            currency: usd(),
            refunded_at: 1_767_225_601_000,
        };
        let body = conversion_refunded("evt_3", 1_767_225_700_000, &r);
        assert_eq!(
            parsed(&body),
            json!({
                "id": "evt_3",
                "type": "conversion.refunded",
                "created": 1_767_225_700,
                "data": {
                    "event_name": "Refund",
                    "event_time": 1_767_225_601,
                    "event_id": "1001",
                    "order_id": "1001",
                    "refund_id": "r-77",
                    "amount": "3.00",
                    "refunded_total": "5.00",
                    "net_value": "7.34",
                    "currency": "USD"
                }
            })
        );
        let over = Refunded {
            refund_id: None,
            refunded_total_minor: 1300,
            ..r
        };
        let v = parsed(&conversion_refunded("evt_4", 0, &over));
        assert_eq!(v["data"]["refund_id"], Value::Null);
        assert_eq!(v["data"]["net_value"], "-0.66");
    }

    #[test]
    fn broken_link_payload() {
        let b = BrokenLink {
            slug: "serum-jane".into(),
            short_url: "https://go.example/serum-jane".into(),
            destination: "https://shop.example/serum".into(),
            problem: "status_4xx_5xx".into(),
            detail: Some("404 at https://shop.example/serum".into()),
            checked_at: 1_767_225_600_250,
        };
        let body = link_broken("evt_5", 1_767_225_601_000, &b);
        assert_eq!(
            parsed(&body),
            json!({
                "id": "evt_5",
                "type": "link.broken",
                "created": 1_767_225_601,
                "data": {
                    "slug": "serum-jane",
                    "short_url": "https://go.example/serum-jane",
                    "destination": "https://shop.example/serum",
                    "problem": "status_4xx_5xx",
                    "detail": "404 at https://shop.example/serum",
                    "checked_at": "2026-01-01T00:00:00.250Z"
                }
            })
        );
        let quiet = BrokenLink { detail: None, ..b };
        assert_eq!(
            parsed(&link_broken("e", 0, &quiet))["data"]["detail"],
            Value::Null
        );
        // a signed delivery verifies against the exact body sent
        let t = 1_767_225_601;
        let h = sign(SECRET, t, &body);
        assert_eq!(
            verify(SECRET, &h, &body, t + 30, DEFAULT_TOLERANCE_SECS),
            Ok(())
        );
    }
}
