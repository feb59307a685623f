//! Outbound webhooks: conversions (and broken links) pushed to an ad
//! platform's or a partner's endpoint.
//!
//! The pure half of the feature. An admin registers an endpoint
//! ([`NewEndpoint::parse`]) with the [`EventKind`]s it wants and a shared
//! secret. For every event the shell renders one payload ([`conversion_attributed`],
//! [`conversion_refunded`], [`link_broken`]): compact JSON, one envelope
//! `{"id","type","created","data"}`. It POSTs the body with
//! [`SIGNATURE_HEADER`] set to [`sign`]'s value, and feeds the answer (or the
//! network error) to [`outcome`], which says whether the delivery is done, is
//! retried at a given time ([`RetryPolicy`]: exponential back-off, capped at
//! [`MAX_DELAY_MS`], given up after 24 h by default) or is dead.
//!
//! Endpoint URLs may be `http` so that tests can use a local receiver;
//! production endpoints should be `https`, since the body (order ids, hashed
//! emails, revenue) is otherwise readable on the wire — the signature
//! authenticates it but does not hide it.
//!
//! **Signatures** are Stripe style: `X-Linkcredit-Signature:
//! t=<unix secs>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. Binding the
//! timestamp into the MAC lets a receiver refuse replays of old deliveries.
//!
//! **How a receiver verifies** (what [`verify`] does): read the *raw* body
//! bytes, before any JSON parsing or re-encoding; split the header on `,`
//! into `k=v` pairs and take `t` and every `v1`; compute
//! HMAC-SHA256 with the endpoint secret as key over `t`, a `.`, then the raw
//! body, as lowercase hex; compare it with each `v1` in constant time (more
//! than one `v1` is sent while a secret is being rotated; any match passes);
//! reject the request if `t` is more than 5 minutes
//! ([`DEFAULT_TOLERANCE_SECS`]) from the receiver's clock. A delivery can
//! arrive more than once (a retry after a lost answer), so the receiver
//! should de-duplicate on the envelope's `id`, which stays the same across
//! retries.
//!
//! The core never reads the clock: every time is a `now` parameter.

use crate::attribution::models::{Model, CONVERSION_UNIT};
use crate::base::error::{ApiError, ParseError};
use crate::base::money::{Currency, Money};
use crate::base::time::{self, Millis, HOUR, SECOND};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;
use url::Url;

/// What an endpoint can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    /// A conversion was attributed (the ad-platform "Purchase").
    ConversionAttributed,
    /// A stored conversion was partly or fully refunded.
    ConversionRefunded,
    /// A link check found a broken link.
    LinkBroken,
}

impl EventKind {
    /// Every kind, in the order lists of kinds are kept.
    pub const ALL: [EventKind; 3] = [
        EventKind::ConversionAttributed,
        EventKind::ConversionRefunded,
        EventKind::LinkBroken,
    ];

    /// The envelope's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ConversionAttributed => "conversion.attributed",
            EventKind::ConversionRefunded => "conversion.refunded",
            EventKind::LinkBroken => "link.broken",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Longest accepted endpoint URL, in characters, as given and as normalised.
pub const MAX_URL_LEN: usize = 2048;
/// Shortest accepted secret, in characters.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest accepted secret, in characters.
pub const MAX_SECRET_LEN: usize = 256;
/// Longest accepted description, in characters (after trimming).
pub const MAX_DESCRIPTION_LEN: usize = 200;

/// The body of an endpoint registration, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub secret: Option<String>,
    pub description: Option<String>,
}

/// A validated endpoint registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEndpoint {
    /// The normalised URL (`https://Hooks.Example` becomes
    /// `https://hooks.example/`).
    pub url: String,
    /// Non-empty, without duplicates, in [`EventKind::ALL`] order.
    pub events: Vec<EventKind>,
    pub secret: String,
    pub description: Option<String>,
}

impl NewEndpoint {
    /// Validates the fields in order (url, events, secret, description) and
    /// reports the first problem as a 400 naming its field:
    /// * `url`: required (`missing`, also when blank); an absolute `http` or
    ///   `https` URL with a host, no user name or password, no fragment, at
    ///   most [`MAX_URL_LEN`] characters, else `invalid_url`;
    /// * `events`: required (`missing`), at least one (`empty`), each a known
    ///   kind (`unknown_event`); duplicates are dropped;
    /// * `secret`: required (`missing`, also when empty); [`MIN_SECRET_LEN`]
    ///   to [`MAX_SECRET_LEN`] printable ASCII characters without spaces
    ///   (`!` to `~`), else `invalid_secret`. It is never trimmed;
    /// * `description`: optional, trimmed, blank is none, at most
    ///   [`MAX_DESCRIPTION_LEN`] characters (`too_long`).
    pub fn parse(input: EndpointInput) -> Result<NewEndpoint, ApiError> {
        let url = parse_url(input.url.as_deref()).map_err(|e| e.at("url"))?;
        let events = parse_events(input.events.as_deref()).map_err(|e| e.at("events"))?;
        let secret = parse_secret(input.secret).map_err(|e| e.at("secret"))?;
        let description = match input.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => {
                return Err(ParseError::new(
                    "too_long",
                    format!("description must be at most {MAX_DESCRIPTION_LEN} characters"),
                )
                .at("description"))
            }
            Some(d) => Some(d.to_owned()),
        };
        Ok(NewEndpoint {
            url,
            events,
            secret,
            description,
        })
    }
}

fn parse_url(s: Option<&str>) -> Result<String, ParseError> {
    let s = s.map(str::trim).unwrap_or_default();
    if s.is_empty() {
        return Err(ParseError::new("missing", "url is required"));
    }
    let invalid = |why: &str| ParseError::new("invalid_url", format!("url {why}"));
    if s.chars().count() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "must be at most {MAX_URL_LEN} characters"
        )));
    }
    let url = Url::parse(s).map_err(|e| invalid(&format!("is not a valid absolute URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http or https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("must have a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain a user name or password"));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not contain a fragment (#...)"));
    }
    if url.as_str().len() > MAX_URL_LEN {
        return Err(invalid(&format!(
            "must be at most {MAX_URL_LEN} characters once encoded"
        )));
    }
    Ok(url.into())
}

fn parse_events(names: Option<&[String]>) -> Result<Vec<EventKind>, ParseError> {
    let Some(names) = names else {
        return Err(ParseError::new("missing", "events is required"));
    };
    if names.is_empty() {
        return Err(ParseError::new(
            "empty",
            "events must list at least one event",
        ));
    }
    let mut wanted = [false; EventKind::ALL.len()];
    for name in names {
        let name = name.trim();
        let Some(i) = EventKind::ALL.iter().position(|k| k.as_str() == name) else {
            return Err(ParseError::new(
                "unknown_event",
                format!(
                    "unknown event '{name}'; valid events are {}",
                    events_text(&EventKind::ALL).replace(',', ", ")
                ),
            ));
        };
        wanted[i] = true;
    }
    Ok(kinds_in_order(&wanted))
}

fn kinds_in_order(wanted: &[bool; EventKind::ALL.len()]) -> Vec<EventKind> {
    EventKind::ALL
        .into_iter()
        .zip(wanted)
        .filter_map(|(k, w)| w.then_some(k))
        .collect()
}

fn parse_secret(s: Option<String>) -> Result<String, ParseError> {
    let s = match s {
        None => return Err(ParseError::new("missing", "secret is required")),
        Some(s) if s.is_empty() => return Err(ParseError::new("missing", "secret is required")),
        Some(s) => s,
    };
    // All bytes in 0x21..=0x7e means ASCII, so bytes are characters.
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&s.len())
        || !s.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(ParseError::new(
            "invalid_secret",
            format!(
                "secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} printable ASCII characters without spaces"
            ),
        ));
    }
    Ok(s)
}

/// The stored form of a list of kinds: `conversion.attributed,link.broken`.
pub fn events_text(events: &[EventKind]) -> String {
    events
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads [`events_text`] back. Unknown names (say, from a newer version) are
/// skipped; the result has no duplicates and is in [`EventKind::ALL`] order.
pub fn parse_events_text(s: &str) -> Vec<EventKind> {
    let mut wanted = [false; EventKind::ALL.len()];
    for name in s.split(',') {
        if let Some(i) = EventKind::ALL
            .iter()
            .position(|k| k.as_str() == name.trim())
        {
            wanted[i] = true;
        }
    }
    kinds_in_order(&wanted)
}

// ---------------------------------------------------------------------------
// Signing

/// The request header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Linkcredit-Signature";

/// How far a signature's `t` may be from the receiver's clock: 5 minutes.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

fn mac_hex(secret: &str, t_secs: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(t_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    crate::ingest::conversion::hex(&mac.finalize().into_bytes())
}

/// The [`SIGNATURE_HEADER`] value for `body` sent at `t_secs` (Unix
/// seconds): `t=<t_secs>,v1=<lowercase hex HMAC-SHA256(secret, "<t_secs>.<body>")>`.
pub fn sign(secret: &str, t_secs: i64, body: &str) -> String {
    format!("t={t_secs},v1={}", mac_hex(secret, t_secs, body))
}

/// Why [`verify`] refused a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No (or more than one, or a non-integer) `t`, or no `v1`.
    #[error("malformed signature header")]
    Malformed,
    /// The signature is right but `t` is too far from now (a replay, or a
    /// skewed clock).
    #[error("signature timestamp is outside the tolerance")]
    Stale,
    /// No `v1` is the HMAC of this body with this secret.
    #[error("signature does not match")]
    Mismatch,
}

/// The receiver's check of a [`SIGNATURE_HEADER`] value (see the module
/// docs). The header is comma-separated `k=v` pairs in any order, blanks
/// around them ignored; keys other than `t` and `v1` are ignored; every `v1`
/// is tried (in constant time each) and any match passes. The signature is
/// checked first, so [`VerifyError::Stale`] means an authentic but old (or
/// early) delivery. `t` may be `tolerance_secs` away from `now_secs` and no
/// more; a negative tolerance counts as 0.
pub fn verify(
    secret: &str,
    header: &str,
    body: &str,
    now_secs: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    let mut t: Option<i64> = None;
    let mut sigs: Vec<&str> = Vec::new();
    for (k, v) in header.split(',').filter_map(|p| p.split_once('=')) {
        match k.trim() {
            "t" => {
                let parsed = v.trim().parse().map_err(|_| VerifyError::Malformed)?;
                if t.replace(parsed).is_some() {
                    return Err(VerifyError::Malformed);
                }
            }
            "v1" => sigs.push(v.trim()),
            _ => {}
        }
    }
    let (Some(t), false) = (t, sigs.is_empty()) else {
        return Err(VerifyError::Malformed);
    };
    let expected = mac_hex(secret, t, body);
    // Every candidate is compared (no early exit) so timing does not tell
    // which one matched; a length difference is not secret.
    let mut matched = subtle::Choice::from(0u8);
    for sig in sigs {
        matched |= expected
            .as_bytes()
            .ct_eq(sig.to_ascii_lowercase().as_bytes());
    }
    if !bool::from(matched) {
        return Err(VerifyError::Mismatch);
    }
    if now_secs.abs_diff(t) > tolerance_secs.max(0).unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Retries

/// The longest wait between two attempts: 6 hours.
pub const MAX_DELAY_MS: Millis = 6 * HOUR;

/// Most entries [`RetryPolicy::schedule`] lists (a policy that gives up only
/// after years would otherwise list millions).
const MAX_SCHEDULE: usize = 1000;

/// When failed deliveries are tried again. The wait after the n-th failed
/// attempt is `base_ms · 2^(n−1)`, at most [`MAX_DELAY_MS`]; an attempt is
/// made only if it is due no later than `give_up_after_ms` after the event
/// was created (an attempt due exactly then is still made).
///
/// With the defaults (1 minute, 24 hours) a delivery that always fails is
/// attempted 12 times, at 0, 1, 3, 7, 15, 31, 63, 127, 255, 511 minutes
/// (4 h 16 min: the last doubling wait, 256 minutes, is under 6 h), then
/// 6 hours apart at 871 and 1231 minutes (20 h 31 min); the next, at 1591
/// minutes, would be past 24 h, so the delivery is dead after the 12th
/// failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure (values below 1 count as 1).
    pub base_ms: Millis,
    /// How long after creation attempts may still be made.
    pub give_up_after_ms: Millis,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 60_000,
            give_up_after_ms: 86_400_000,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (0 for none):
    /// `base_ms · 2^(failures−1)`, capped at [`MAX_DELAY_MS`], without
    /// overflow for any `failures`.
    pub fn delay(&self, failures: u32) -> Millis {
        let Some(shift) = failures.checked_sub(1) else {
            return 0;
        };
        let base = self.base_ms.max(1);
        if shift >= 62 {
            return MAX_DELAY_MS;
        }
        base.checked_mul(1i64 << shift)
            .map_or(MAX_DELAY_MS, |d| d.min(MAX_DELAY_MS))
    }

    /// When to make the next attempt of a delivery created at `created_at`
    /// whose `attempts` attempts so far all failed, the last one ending at
    /// `now`: `now + delay(attempts)`. `None` (dead letter) when that is
    /// later than `created_at + give_up_after_ms`. With `attempts == 0` the
    /// first attempt is due at `now`.
    pub fn next_attempt(&self, created_at: Millis, attempts: u32, now: Millis) -> Option<Millis> {
        let next = now.saturating_add(self.delay(attempts));
        let deadline = created_at.saturating_add(self.give_up_after_ms);
        (next <= deadline).then_some(next)
    }

    /// The offsets from creation of every attempt of a delivery that always
    /// fails, each made exactly when due; the first is at 0 (and always
    /// listed). At most 1000 entries.
    pub fn schedule(&self) -> Vec<Millis> {
        let mut out = vec![0];
        let mut failures = 1u32;
        while out.len() < MAX_SCHEDULE {
            let last = out[out.len() - 1];
            match self.next_attempt(0, failures, last) {
                Some(t) => out.push(t),
                None => break,
            }
            failures += 1;
        }
        out
    }
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered 2xx: done.
    Delivered,
    /// Try again at the returned time.
    Retry,
    /// Give up: the retry window is over, or the endpoint answered 410.
    Dead,
}

/// Classifies an attempt. `status` is the endpoint's HTTP status, `None`
/// for a network error or a timeout; `attempts` counts the attempts made so
/// far, this one included. 2xx is [`Outcome::Delivered`]. 410 Gone is
/// [`Outcome::Dead`] at once: the receiver says the endpoint is gone for
/// good, so retrying for a day would only load it (the shell may also
/// disable the endpoint). Anything else (including 3xx: redirects are not
/// followed) is [`Outcome::Retry`] with the time of the next attempt from
/// [`RetryPolicy::next_attempt`], or [`Outcome::Dead`] when there is none.
pub fn outcome(
    policy: &RetryPolicy,
    status: Option<u16>,
    created_at: Millis,
    attempts: u32,
    now: Millis,
) -> (Outcome, Option<Millis>) {
    match status {
        Some(200..=299) => (Outcome::Delivered, None),
        Some(410) => (Outcome::Dead, None),
        _ => match policy.next_attempt(created_at, attempts, now) {
            Some(t) => (Outcome::Retry, Some(t)),
            None => (Outcome::Dead, None),
        },
    }
}

// ---------------------------------------------------------------------------
// Payloads

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
    use crate::base::time::MINUTE;
    use serde_json::{json, Value};

    // -- event kinds --------------------------------------------------------

    #[test]
    fn event_kinds_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("conversion"), None);
        assert_eq!(EventKind::parse("Link.Broken"), None);
        assert_eq!(
            events_text(&EventKind::ALL),
            "conversion.attributed,conversion.refunded,link.broken"
        );
        assert_eq!(events_text(&[]), "");
        assert_eq!(parse_events_text(""), vec![]);
        assert_eq!(
            parse_events_text("link.broken,future.thing,conversion.attributed,link.broken"),
            vec![EventKind::ConversionAttributed, EventKind::LinkBroken]
        );
        let some = [EventKind::ConversionRefunded, EventKind::LinkBroken];
        assert_eq!(parse_events_text(&events_text(&some)), some);
    }

    // -- endpoint registration ----------------------------------------------

    const SECRET: &str = "whsec_0123456789abcdef";

    /// `expected`: Ok((url, events text, description)) or Err((code, field)).
    fn check(json: &str, expected: Result<(&str, &str, Option<&str>), (&str, &str)>) {
        let input: EndpointInput = serde_json::from_str(json).unwrap();
        let got = NewEndpoint::parse(input);
        match (got, expected) {
            (Ok(e), Ok((url, events, description))) => assert_eq!(
                (
                    e.url.as_str(),
                    events_text(&e.events).as_str(),
                    e.description.as_deref()
                ),
                (url, events, description),
                "{json}"
            ),
            (Err(e), Err((code, field))) => {
                assert_eq!((e.code(), e.field()), (code, Some(field)), "{json}")
            }
            (got, want) => panic!("{json}: got {got:?}, want {want:?}"),
        }
    }

    fn body(url: &str, events: &str, secret: &str, extra: &str) -> String {
        format!(r#"{{"url":{url},"events":{events},"secret":{secret}{extra}}}"#)
    }

    #[test]
    fn endpoint_bodies() {
        let s = format!("\"{SECRET}\"");
        let ok = |url: &str| body(url, r#"["link.broken"]"#, &s, "");
        check(
            &ok(r#""https://hooks.example/lc""#),
            Ok(("https://hooks.example/lc", "link.broken", None)),
        );
        check(
            &ok(r#"" HTTPS://Hooks.Example ""#),
            Ok(("https://hooks.example/", "link.broken", None)),
        );
        check(
            &ok(r#""http://127.0.0.1:8787/hook?x=1""#),
            Ok(("http://127.0.0.1:8787/hook?x=1", "link.broken", None)),
        );
        check(&ok("null"), Err(("missing", "url")));
        check(&ok(r#""  ""#), Err(("missing", "url")));
        check(
            &format!(r#"{{"events":["link.broken"],"secret":{s}}}"#),
            Err(("missing", "url")),
        );
        for bad in [
            "/relative",
            "hooks.example/x",
            "ftp://hooks.example/",
            "mailto:a@hooks.example",
            "https://user:pw@hooks.example/",
            "https://user@hooks.example/",
            "https://hooks.example/x#frag",
            "https://hooks.example/#",
            "http://[::1",
            "https://",
        ] {
            check(&ok(&format!("\"{bad}\"")), Err(("invalid_url", "url")));
        }
        let long = format!("https://hooks.example/{}", "a".repeat(MAX_URL_LEN));
        check(&ok(&format!("\"{long}\"")), Err(("invalid_url", "url")));
        let fits = format!("https://hooks.example/{}", "a".repeat(MAX_URL_LEN - 22));
        check(
            &ok(&format!("\"{fits}\"")),
            Ok((&fits, "link.broken", None)),
        );

        // events
        let url = r#""https://hooks.example/""#;
        check(
            &body(
                url,
                r#"["link.broken","conversion.attributed","link.broken"]"#,
                &s,
                "",
            ),
            Ok((
                "https://hooks.example/",
                "conversion.attributed,link.broken",
                None,
            )),
        );
        check(&body(url, "null", &s, ""), Err(("missing", "events")));
        check(&body(url, "[]", &s, ""), Err(("empty", "events")));
        check(
            &body(url, r#"["conversion.attributed","order.paid"]"#, &s, ""),
            Err(("unknown_event", "events")),
        );

        // secret
        let ev = r#"["conversion.refunded"]"#;
        let with_secret = |secret: &str| body(url, ev, secret, "");
        check(&with_secret("null"), Err(("missing", "secret")));
        check(&with_secret(r#""""#), Err(("missing", "secret")));
        check(
            &with_secret(r#""0123456789abcde""#),
            Err(("invalid_secret", "secret")),
        );
        check(
            &with_secret(r#""0123456789abcdef""#),
            Ok(("https://hooks.example/", "conversion.refunded", None)),
        );
        check(
            &with_secret(r#""0123456789 abcdef""#),
            Err(("invalid_secret", "secret")),
        );
        check(
            &with_secret(r#""0123456789abcdef\n""#),
            Err(("invalid_secret", "secret")),
        );
        check(
            &with_secret(r#""0123456789abcdéf""#),
            Err(("invalid_secret", "secret")),
        );
        let max = format!("\"{}\"", "~".repeat(MAX_SECRET_LEN));
        check(
            &with_secret(&max),
            Ok(("https://hooks.example/", "conversion.refunded", None)),
        );
        let over = format!("\"{}\"", "!".repeat(MAX_SECRET_LEN + 1));
        check(&with_secret(&over), Err(("invalid_secret", "secret")));

        // description
        let with_desc = |d: &str| body(url, ev, &s, &format!(r#","description":{d}"#));
        let expect = |d| Ok(("https://hooks.example/", "conversion.refunded", d));
        check(&with_desc(r#""  Meta CAPI  ""#), expect(Some("Meta CAPI")));
        check(&with_desc(r#""   ""#), expect(None));
        check(&with_desc("null"), expect(None));
        let max = format!("\"{}\"", "é".repeat(MAX_DESCRIPTION_LEN));
        check(
            &with_desc(&max),
            expect(Some(&"é".repeat(MAX_DESCRIPTION_LEN))),
        );
        let over = format!("\"{}\"", "x".repeat(MAX_DESCRIPTION_LEN + 1));
        check(&with_desc(&over), Err(("too_long", "description")));

        // the first invalid field, in order, is the one reported
        check(
            &body(r#""ftp://x/""#, "[]", r#""short""#, ""),
            Err(("invalid_url", "url")),
        );
    }

    #[test]
    fn endpoint_unknown_event_lists_valid_names_and_fields_are_exact() {
        let input: EndpointInput = serde_json::from_str(
            r#"{"url":"https://h.example/","events":["order.paid"],"secret":"0123456789abcdef"}"#,
        )
        .unwrap();
        let e = NewEndpoint::parse(input).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown event 'order.paid'; valid events are conversion.attributed, conversion.refunded, link.broken"
        );
        assert!(serde_json::from_str::<EndpointInput>(r#"{"url":"x","enabled":true}"#).is_err());
        let ok = NewEndpoint::parse(EndpointInput {
            url: Some("https://h.example/in".into()),
            events: Some(vec!["conversion.refunded".into()]),
            secret: Some(SECRET.into()),
            description: None,
        })
        .unwrap();
        assert_eq!(
            ok,
            NewEndpoint {
                url: "https://h.example/in".into(),
                events: vec![EventKind::ConversionRefunded],
                secret: SECRET.into(),
                description: None,
            }
        );
    }

    // -- signing ------------------------------------------------------------

    const VEC_SECRET: &str = "whsec_test_secret_123";
    const VEC_BODY: &str = r#"{"a":1}"#;
    /// python3: hmac.new(b"whsec_test_secret_123", b'1700000000.{"a":1}',
    /// hashlib.sha256).hexdigest()
    const VEC_HEX: &str = "e89dcbfdce3392fb275033fb083d8c81e095a63bf687d9a2cd50e7d5f55e21f6";

    #[test]
    fn sign_matches_independent_vector() {
        assert_eq!(
            sign(VEC_SECRET, 1_700_000_000, VEC_BODY),
            format!("t=1700000000,v1={VEC_HEX}")
        );
    }

    #[test]
    fn verify_cases() {
        let now = 1_700_000_000;
        let good = format!("t={now},v1={VEC_HEX}");
        let v = |header: &str, body: &str, secret: &str, now_secs: i64| {
            verify(secret, header, body, now_secs, DEFAULT_TOLERANCE_SECS)
        };
        assert_eq!(v(&good, VEC_BODY, VEC_SECRET, now), Ok(()));
        // within tolerance, both directions, boundary included
        assert_eq!(v(&good, VEC_BODY, VEC_SECRET, now + 300), Ok(()));
        assert_eq!(v(&good, VEC_BODY, VEC_SECRET, now - 300), Ok(()));
        assert_eq!(
            v(&good, VEC_BODY, VEC_SECRET, now + 301),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            v(&good, VEC_BODY, VEC_SECRET, now - 301),
            Err(VerifyError::Stale)
        );
        // tampered body, wrong secret
        assert_eq!(
            v(&good, r#"{"a":2}"#, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            v(&good, r#"{"a": 1}"#, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            v(&good, VEC_BODY, "whsec_test_secret_124", now),
            Err(VerifyError::Mismatch)
        );
        // a changed timestamp breaks the MAC (no replay with a fresh t)
        let moved = format!("t={},v1={VEC_HEX}", now + 1);
        assert_eq!(
            v(&moved, VEC_BODY, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        // reordered pairs, blanks, unknown keys, upper-case hex
        let reordered = format!(" v0=abc , v1={VEC_HEX} ,t={now},scheme=x");
        assert_eq!(v(&reordered, VEC_BODY, VEC_SECRET, now), Ok(()));
        let upper = format!("t={now},v1={}", VEC_HEX.to_uppercase());
        assert_eq!(v(&upper, VEC_BODY, VEC_SECRET, now), Ok(()));
        // two v1 (secret rotation): either may be the matching one
        let old = sign("an_old_secret_value", now, VEC_BODY);
        let old_hex = old.split_once("v1=").unwrap().1;
        let rotating = format!("t={now},v1={old_hex},v1={VEC_HEX}");
        assert_eq!(v(&rotating, VEC_BODY, VEC_SECRET, now), Ok(()));
        assert_eq!(v(&rotating, VEC_BODY, "an_old_secret_value", now), Ok(()));
        assert_eq!(
            v(&rotating, VEC_BODY, "a_third_secret_xx", now),
            Err(VerifyError::Mismatch)
        );
        // stale is reported only for an authentic signature
        assert_eq!(
            v(&good, "tampered", VEC_SECRET, now + 10_000),
            Err(VerifyError::Mismatch)
        );
        // malformed headers
        for bad in [
            "",
            "garbage",
            &format!("v1={VEC_HEX}"),
            &format!("t={now}"),
            &format!("t=,v1={VEC_HEX}"),
            &format!("t=17e8,v1={VEC_HEX}"),
            &format!("t={now},t={now},v1={VEC_HEX}"),
        ] {
            assert_eq!(
                v(bad, VEC_BODY, VEC_SECRET, now),
                Err(VerifyError::Malformed),
                "{bad:?}"
            );
        }
        // a non-hex or truncated v1 is simply not a match
        let short = format!("t={now},v1={}", &VEC_HEX[..63]);
        assert_eq!(
            v(&short, VEC_BODY, VEC_SECRET, now),
            Err(VerifyError::Mismatch)
        );
        // extreme timestamps do not overflow
        let far = sign(VEC_SECRET, i64::MIN, VEC_BODY);
        assert_eq!(
            verify(VEC_SECRET, &far, VEC_BODY, i64::MIN + 300, 300),
            Ok(())
        );
        assert_eq!(
            verify(VEC_SECRET, &far, VEC_BODY, i64::MAX, -1),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(VEC_SECRET, &far, VEC_BODY, i64::MAX, 300),
            Err(VerifyError::Stale)
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        for (t, body) in [(0, ""), (1_767_225_600, "{\"x\":\"é\"}"), (-5, "a.b,c=d")] {
            let h = sign(SECRET, t, body);
            assert_eq!(verify(SECRET, &h, body, t, 0), Ok(()), "{h}");
        }
    }

    // -- retries ------------------------------------------------------------

    #[test]
    fn default_schedule() {
        let p = RetryPolicy::default();
        assert_eq!(
            p,
            RetryPolicy {
                base_ms: 60_000,
                give_up_after_ms: 86_400_000
            }
        );
        let minutes: Vec<i64> = p.schedule().iter().map(|t| t / MINUTE).collect();
        assert_eq!(
            minutes,
            vec![0, 1, 3, 7, 15, 31, 63, 127, 255, 511, 871, 1231]
        );
        assert!(p.schedule().iter().all(|t| t % MINUTE == 0));
        assert!(*p.schedule().last().unwrap() <= 24 * HOUR);
        // after the 12th failure (at 1231 min) the next would be at 1591 min
        assert_eq!(p.next_attempt(0, 12, 1231 * MINUTE), None);
        assert_eq!(p.next_attempt(0, 11, 871 * MINUTE), Some(1231 * MINUTE));
    }

    #[test]
    fn small_schedule_deadline_is_inclusive() {
        let p = RetryPolicy {
            base_ms: 200,
            give_up_after_ms: 3000,
        };
        // 1400 + 1600 = 3000 is not later than the deadline: attempted.
        assert_eq!(p.schedule(), vec![0, 200, 600, 1400, 3000]);
        let p = RetryPolicy {
            give_up_after_ms: 2999,
            ..p
        };
        assert_eq!(p.schedule(), vec![0, 200, 600, 1400]);
    }

    #[test]
    fn delays_double_cap_and_do_not_overflow() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0), 0);
        assert_eq!(p.delay(1), MINUTE);
        assert_eq!(p.delay(2), 2 * MINUTE);
        assert_eq!(p.delay(9), 256 * MINUTE);
        assert_eq!(p.delay(10), MAX_DELAY_MS);
        for n in [62, 63, 64, 100, u32::MAX] {
            assert_eq!(p.delay(n), MAX_DELAY_MS, "{n}");
        }
        let huge = RetryPolicy {
            base_ms: i64::MAX,
            give_up_after_ms: i64::MAX,
        };
        assert_eq!(huge.delay(2), MAX_DELAY_MS);
        assert_eq!(
            huge.next_attempt(i64::MAX - 10, 5, i64::MAX - 5),
            Some(i64::MAX)
        );
        assert_eq!(huge.schedule().len(), 1000);
        let zero = RetryPolicy {
            base_ms: 0,
            give_up_after_ms: 10,
        };
        assert_eq!(zero.schedule(), vec![0, 1, 3, 7]);
    }

    #[test]
    fn next_attempt_is_relative_to_now_and_bounded_by_creation() {
        let p = RetryPolicy::default();
        let created = 1_000_000;
        // a late attempt (the queue was slow) waits from when it ended
        assert_eq!(
            p.next_attempt(created, 1, created + 10 * MINUTE),
            Some(created + 11 * MINUTE)
        );
        assert_eq!(p.next_attempt(created, 0, created), Some(created));
        assert_eq!(
            p.next_attempt(created, 3, created + 24 * HOUR - 4 * MINUTE),
            Some(created + 24 * HOUR)
        );
        assert_eq!(
            p.next_attempt(created, 3, created + 24 * HOUR - 4 * MINUTE + 1),
            None
        );
    }

    #[test]
    fn outcomes() {
        let p = RetryPolicy::default();
        let c = 5_000_000;
        let check = |status, attempts, now, expected: (Outcome, Option<Millis>)| {
            assert_eq!(
                outcome(&p, status, c, attempts, now),
                expected,
                "{status:?} {attempts}"
            );
        };
        check(Some(200), 1, c, (Outcome::Delivered, None));
        check(Some(204), 7, c, (Outcome::Delivered, None));
        check(Some(299), 1, c, (Outcome::Delivered, None));
        check(Some(410), 1, c, (Outcome::Dead, None));
        check(Some(500), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(
            Some(429),
            2,
            c + MINUTE,
            (Outcome::Retry, Some(c + 3 * MINUTE)),
        );
        check(Some(301), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(Some(199), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(Some(404), 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(None, 1, c, (Outcome::Retry, Some(c + MINUTE)));
        check(None, 12, c + 1231 * MINUTE, (Outcome::Dead, None));
        check(Some(503), 12, c + 1231 * MINUTE, (Outcome::Dead, None));
        check(Some(200), 12, c + 1231 * MINUTE, (Outcome::Delivered, None));
    }

    // -- payloads -----------------------------------------------------------

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
