//! Bad input, table-driven, across every endpoint family: the admin API
//! (influencers, campaigns, codes, links, link update), ingest (conversions,
//! the batch, touchpoints, the Shopify webhook), costs, fx, goals, reports,
//! the ranking, attribution, and the redirect paths.
//!
//! Each [`Case`] is one request and what must come back. [`check`] asserts
//! the exact status, never a 5xx, and for a 4xx the
//! `{"error":{"code","message","field"}}` body with the expected code and
//! field, except the redirect's 404, which must be the HTML page.
//!
//! Nothing rejected may be written: every rejected write carries the run's
//! `rej` marker (or targets the suite's own link or campaign, or the `XTS`
//! test currency), and one D1 query at the end proves that no table holds
//! it. SQL metacharacters in a free-text field are no error: those rows must
//! be stored verbatim (or normalised as documented), and the same query
//! reads them back.
//!
//! The row builders are tables, one row per line, so rustfmt leaves them be.

use crate::harness::*;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

/// The JSON body cap and the webhook's.
const CAP: usize = 64 * 1024;
const WEBHOOK_CAP: usize = 1024 * 1024;

/// Where the suite's own link points; a rejected PATCH must leave it so.
const DEST: &str = "https://shop.example/bad-input";

/// SQL metacharacters: a stacked statement, a tautology, backslashes, a NUL,
/// and bind-parameter and LIKE syntax.
const SQL: [&str; 5] = [
    "'; DROP TABLE clicks; --",
    "\" OR 1=1 --",
    "\\'; SELECT 1; -- \\\\",
    "nul\0byte",
    "?1 :id @x $1 %' OR '%'='",
];

/// One row of the table.
struct Case {
    name: String,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    /// The code and field of a JSON error; `None` for a success or the
    /// redirect's HTML 404 page.
    error: Option<(&'static str, Option<String>)>,
    /// What else must hold of the response.
    then: Vec<Then>,
}

enum Then {
    /// The JSON body at this pointer.
    Json(String, Value),
    /// The `Location` header starts with this.
    LocationStarts(String),
}

fn row(name: impl Into<String>, method: &'static str, path: impl Into<String>) -> Case {
    Case {
        name: name.into(),
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
        status: 0,
        error: None,
        then: Vec::new(),
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Case {
        self.headers.push((name, value.into()));
        self
    }
    fn bearer(self, token: &str) -> Case {
        self.header("Authorization", format!("Bearer {token}"))
    }
    fn admin(self) -> Case {
        self.bearer(&admin_token())
    }
    fn ingest(self) -> Case {
        self.bearer(&ingest_token())
    }
    /// A raw body, sent as `application/json`.
    fn raw(self, body: Vec<u8>) -> Case {
        self.header("Content-Type", "application/json").bytes(body)
    }
    fn json(self, body: &Value) -> Case {
        self.raw(body.to_string().into_bytes())
    }
    fn bytes(mut self, body: Vec<u8>) -> Case {
        self.body = Some(body);
        self
    }
    /// A JSON error with this status, code and field.
    fn fails(mut self, status: u16, code: &'static str, field: Option<&str>) -> Case {
        self.status = status;
        self.error = Some((code, field.map(str::to_owned)));
        self
    }
    /// A 400 naming `field`.
    fn bad(self, code: &'static str, field: &str) -> Case {
        self.fails(400, code, Some(field))
    }
    fn unauthorized(self) -> Case {
        self.fails(401, "unauthorized", None)
    }
    /// A success (or, for 404, the redirect's HTML page).
    fn gives(mut self, status: u16) -> Case {
        self.status = status;
        self
    }
    fn then_json(mut self, pointer: impl Into<String>, value: impl Into<Value>) -> Case {
        self.then.push(Then::Json(pointer.into(), value.into()));
        self
    }
    fn then_location(mut self, prefix: impl Into<String>) -> Case {
        self.then.push(Then::LocationStarts(prefix.into()));
        self
    }
}

/// Runs one row and asserts what it expects.
fn check(case: &Case) {
    let headers: Vec<(&str, &str)> = case.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = request_bytes(case.method, &case.path, &headers, case.body.as_deref());
    let shown: String = r.body.chars().take(300).collect();
    let content_type = r.header("content-type").unwrap_or_default();
    assert!(r.status < 500, "a {} (never a 5xx): {shown}", r.status);
    assert_eq!(r.status, case.status, "status; body: {shown}");
    match &case.error {
        Some((code, field)) => {
            assert!(
                content_type.starts_with("application/json"),
                "an error is JSON, not {content_type}"
            );
            r.assert_error(case.status, code, field.as_deref());
        }
        None if r.status == 404 => {
            // The redirect paths' 404 is the HTML page, without a cookie.
            assert!(
                content_type.starts_with("text/html"),
                "the 404 page is HTML, not {content_type}"
            );
            if case.method != "HEAD" {
                assert!(r.body.contains("Link not found"), "the 404 page: {shown}");
            }
            assert!(r.header("set-cookie").is_none() && r.header("location").is_none());
        }
        None => assert!(r.status < 400, "an error needs its code: {shown}"),
    }
    for then in &case.then {
        match then {
            Then::Json(pointer, want) => {
                let v = r.json();
                assert_eq!(v.pointer(pointer), Some(want), "{pointer} of {shown}");
            }
            Then::LocationStarts(prefix) => {
                let location = r.header("location").unwrap_or_default();
                assert!(location.starts_with(prefix.as_str()), "Location {location}");
            }
        }
    }
}

/// A value the suite expects in D1: `column` of the `table` row whose
/// `key_column` is `key`.
struct Stored {
    what: String,
    table: &'static str,
    column: &'static str,
    key_column: &'static str,
    key: String,
    value: String,
}

/// The suite's fixtures and markers.
struct Ctx {
    /// In every rejected write.
    rej: String,
    /// In every accepted one.
    acc: String,
    handle: String,
    campaign: String,
    slug: String,
    code: String,
    tracking_url: String,
    /// An hour ago, in epoch ms: a valid `occurred_at`.
    t: i64,
    n: Cell<u32>,
    stored: RefCell<Vec<Stored>>,
}

impl Ctx {
    /// A fresh name under `mark`.
    fn name(&self, mark: &str) -> String {
        self.n.set(self.n.get() + 1);
        format!("{mark}-{}", self.n.get())
    }

    // Valid bodies of each endpoint, with `mark` in their names and free text.
    fn influencer(&self, mark: &str) -> Value {
        json!({"handle": self.name(mark), "name": format!("N {mark}"), "platform": "tiktok"})
    }
    fn campaign(&self, mark: &str) -> Value {
        json!({"slug": self.name(mark), "name": format!("C {mark}"), "discount_style": "query",
               "discount_param": "promo"})
    }
    fn code(&self, mark: &str) -> Value {
        json!({"code": unique_code("BI"), "influencer": self.handle, "campaign": self.campaign,
               "link": self.slug, "description": format!("D {mark}")})
    }
    fn link(&self, mark: &str) -> Value {
        json!({"slug": self.name(mark), "destination": format!("{DEST}/{mark}"), "influencer": self.handle,
               "campaign": self.campaign, "content": mark, "platform": "tiktok", "utm_medium": "social",
               "utm_term": mark, "discount_code": self.code, "discount_style": "query",
               "discount_param": "promo"})
    }
    fn conversion(&self, mark: &str) -> Value {
        json!({"order_id": self.name(mark), "occurred_at": self.t, "revenue": "1.00", "currency": "USD",
               "customer_id": self.name(mark), "promo_codes": [mark]})
    }
    fn touchpoint(&self, mark: &str) -> Value {
        json!({"occurred_at": self.t, "channel": "email", "source": mark, "medium": mark, "campaign": mark,
               "customer_id": self.name(mark)})
    }
    fn cost(&self, mark: &str) -> Value {
        json!({"influencer": self.handle, "campaign": self.campaign, "kind": "fee", "amount": "1.00",
               "currency": "USD", "incurred_on": "2026-01-01", "note": format!("K {mark}")})
    }
    /// A Shopify order.
    fn order(&self, mark: &str) -> Value {
        json!({"id": self.name(mark), "created_at": "2026-01-01T00:00:00Z", "currency": "USD",
               "total_price": "1.00"})
    }
}

/// A JSON endpoint: how to reach it, and a valid body carrying a marker.
struct Endpoint {
    name: &'static str,
    method: &'static str,
    path: String,
    token: String,
    body: fn(&Ctx, &str) -> Value,
}

impl Endpoint {
    fn row(&self, what: &str) -> Case {
        row(
            format!("{}: {what}", self.name),
            self.method,
            self.path.clone(),
        )
        .bearer(&self.token)
    }
}

#[rustfmt::skip]
fn endpoints(ctx: &Ctx) -> Vec<Endpoint> {
    let (admin, ingest) = (admin_token(), ingest_token());
    let ep = |name, method, path: &str, token: &String, body: fn(&Ctx, &str) -> Value| Endpoint {
        name, method, path: path.to_owned(), token: token.clone(), body,
    };
    vec![
        ep("influencers", "POST", "/api/v1/influencers", &admin, Ctx::influencer),
        ep("campaigns", "POST", "/api/v1/campaigns", &admin, Ctx::campaign),
        ep("codes", "POST", "/api/v1/codes", &admin, Ctx::code),
        ep("links", "POST", "/api/v1/links", &admin, Ctx::link),
        ep("link update", "PATCH", &format!("/api/v1/links/{}", ctx.slug), &admin,
           |_, mark| json!({"destination": format!("https://evil.example/{mark}"), "status": "disabled"})),
        ep("conversions", "POST", "/api/v1/conversions", &ingest, Ctx::conversion),
        ep("conversion batch", "POST", "/api/v1/conversions:batch", &ingest,
           |ctx, mark| json!({"conversions": [ctx.conversion(mark)]})),
        ep("touchpoints", "POST", "/api/v1/touchpoints", &ingest, Ctx::touchpoint),
        ep("costs", "POST", "/api/v1/costs", &admin, Ctx::cost),
        ep("fx", "PUT", "/api/v1/fx", &admin,
           |_, _| json!({"currency": "XTS", "rate_to_reporting": "1.5", "valid_from": "2026-01-01"})),
        ep("campaign goals", "PATCH", &format!("/api/v1/campaigns/{}", ctx.campaign), &admin,
           |_, _| json!({"target_cpa": "5.00", "min_roas": "2.5"})),
    ]
}

/// The endpoint called `name`.
fn ep<'a>(eps: &'a [Endpoint], name: &str) -> &'a Endpoint {
    eps.iter().find(|e| e.name == name).expect("an endpoint")
}

/// Percent-encodes every byte but the unreserved ones.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `body` with two bytes that are not UTF-8 inside its first string value.
fn broken_utf8(body: &Value) -> Vec<u8> {
    let text = body.to_string();
    let at = text.find(":\"").expect("a string value") + 2;
    let mut b = text.into_bytes();
    b.splice(at..at, [0xff, 0xfe]);
    b
}

/// A valid JSON object padded with spaces to exactly `len` bytes.
fn padded(body: &Value, len: usize) -> Vec<u8> {
    let mut b = body.to_string().into_bytes();
    b.pop(); // the closing brace
    b.resize(len - 1, b' ');
    b.push(b'}');
    b
}

/// `body` with `field` set to the literal JSON text `raw` (a number is sent
/// exactly as written, not as an f64 would print it).
fn with_raw(mut body: Value, field: &str, raw: &str) -> Vec<u8> {
    body[field] = json!("@@raw@@");
    body.to_string().replace("\"@@raw@@\"", raw).into_bytes()
}

/// `text` with `"key":value` inserted before its first `"key":`.
fn repeated(text: &str, key: &str, value: &str) -> Vec<u8> {
    let at = text.find(&format!("\"{key}\":")).expect("the key");
    format!("{}\"{key}\":{value},{}", &text[..at], &text[at..]).into_bytes()
}

/// How the UTM convention stores a free-text value.
fn utm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase()
}

/// The body, oversized, broken, mistyped and truncated, at each endpoint.
#[rustfmt::skip]
fn body_shapes(ctx: &Ctx) -> Vec<Case> {
    let rej = ctx.rej.as_str();
    let eps = endpoints(ctx);
    let mut rows = Vec::new();
    for ep in &eps {
        let body = (ep.body)(ctx, rej);
        let text = body.to_string();
        rows.extend([
            ep.row("one byte over the 64 KiB cap").raw(padded(&body, CAP + 1)).fails(413, "payload_too_large", None),
            ep.row("bytes that are not UTF-8").raw(broken_utf8(&body)).fails(400, "malformed_json", None),
            ep.row("text/plain").header("Content-Type", "text/plain").bytes(text.clone().into_bytes())
                .fails(415, "unsupported_media_type", None),
            ep.row("truncated JSON").raw(text.as_bytes()[..text.len() - 3].to_vec()).fails(400, "malformed_json", None),
        ]);
    }
    let inf = ep(&eps, "influencers");
    let body = ctx.influencer(rej).to_string();
    let at_cap = ctx.influencer(&ctx.acc);
    rows.extend([
        inf.row("no content type").bytes(body.clone().into_bytes()).fails(415, "unsupported_media_type", None),
        inf.row("application/jsonp").header("Content-Type", "application/jsonp").bytes(body.clone().into_bytes())
            .fails(415, "unsupported_media_type", None),
        inf.row("form-encoded").header("Content-Type", "application/x-www-form-urlencoded")
            .bytes(format!("handle={}", ctx.name(rej)).into_bytes()).fails(415, "unsupported_media_type", None),
        inf.row("an empty body").raw(Vec::new()).fails(400, "malformed_json", None),
        inf.row("an array").raw(format!("[{body}]").into_bytes()).fails(400, "expected_object", None),
        inf.row("a string").json(&json!(rej)).fails(400, "expected_object", None),
        inf.row("two objects").raw(format!("{body}{body}").into_bytes()).fails(400, "malformed_json", None),
        inf.row("a lone surrogate escape")
            .raw(format!(r#"{{"handle":"{}","name":"\ud800"}}"#, ctx.name(rej)).into_bytes())
            .fails(400, "malformed_json", None),
        inf.row("exactly 64 KiB is accepted").raw(padded(&at_cap, CAP)).gives(201)
            .then_json("/handle", at_cap["handle"].clone()),
    ]);
    rows
}

/// Missing, wrong, mis-schemed and other roles' tokens; the webhook's HMAC.
#[rustfmt::skip]
fn auth(ctx: &Ctx) -> Vec<Case> {
    let rej = ctx.rej.as_str();
    let (admin, ingest, reports) = (admin_token(), ingest_token(), reports_token());
    let inf = |what: &str| row(format!("influencers: {what}"), "POST", "/api/v1/influencers").json(&ctx.influencer(rej));
    let conv = |what: &str| row(format!("conversions: {what}"), "POST", "/api/v1/conversions").json(&ctx.conversion(rej));
    let link = format!("/api/v1/links/{}", ctx.slug);
    let goals = format!("/api/v1/campaigns/{}", ctx.campaign);
    let mut rows = vec![
        inf("no Authorization").unauthorized(),
        inf("a wrong token").bearer(&format!("{admin}x")).unauthorized(),
        inf("the token less its last character").bearer(&admin[..admin.len() - 1]).unauthorized(),
        inf("the Basic scheme").header("Authorization", format!("Basic {admin}")).unauthorized(),
        inf("the Token scheme").header("Authorization", format!("Token {admin}")).unauthorized(),
        inf("the token without a scheme").header("Authorization", admin.clone()).unauthorized(),
        inf("an empty bearer").header("Authorization", "Bearer ").unauthorized(),
        inf("the ingest token").bearer(&ingest).unauthorized(),
        inf("the reports token").bearer(&reports).unauthorized(),
        row("campaigns: the ingest token", "POST", "/api/v1/campaigns").bearer(&ingest).json(&ctx.campaign(rej)).unauthorized(),
        row("codes: the reports token", "POST", "/api/v1/codes").bearer(&reports).json(&ctx.code(rej)).unauthorized(),
        row("links: the ingest token", "POST", "/api/v1/links").bearer(&ingest).json(&ctx.link(rej)).unauthorized(),
        row("link update: the reports token", "PATCH", link.clone()).bearer(&reports).json(&json!({"status": "disabled"}))
            .unauthorized(),
        row("link stats: the ingest token", "GET", format!("{link}/stats")).bearer(&ingest).unauthorized(),
        conv("no Authorization").unauthorized(),
        conv("the admin token").bearer(&admin).unauthorized(),
        conv("the reports token").bearer(&reports).unauthorized(),
        conv("lower-case scheme, wrong token").header("Authorization", format!("bearer {ingest}-")).unauthorized(),
        row("conversion batch: the admin token", "POST", "/api/v1/conversions:batch").bearer(&admin)
            .json(&json!({"conversions": [ctx.conversion(rej)]})).unauthorized(),
        row("touchpoints: the admin token", "POST", "/api/v1/touchpoints").bearer(&admin).json(&ctx.touchpoint(rej))
            .unauthorized(),
        row("conversion read: the ingest token", "GET", "/api/v1/conversions/1001").bearer(&ingest).unauthorized(),
        row("journey read: the reports token", "GET", "/api/v1/journeys/1001").bearer(&reports).unauthorized(),
        row("costs: the reports token", "POST", "/api/v1/costs").bearer(&reports).json(&ctx.cost(rej)).unauthorized(),
        row("fx: the ingest token", "PUT", "/api/v1/fx").bearer(&ingest)
            .json(&json!({"currency": "XTS", "rate_to_reporting": "1.5", "valid_from": "2026-01-01"})).unauthorized(),
        row("campaign goals: the reports token", "PATCH", goals).bearer(&reports).json(&json!({"target_cpa": "5.00"}))
            .unauthorized(),
        row("reports: no Authorization", "GET", "/api/v1/reports").unauthorized(),
        row("reports: the ingest token", "GET", "/api/v1/reports").bearer(&ingest).unauthorized(),
        row("ranking: the ingest token", "GET", "/api/v1/reports/ranking").bearer(&ingest).unauthorized(),
        row("quality: the reports token", "GET", "/api/v1/quality").bearer(&reports).unauthorized(),
        row("attribution run: no Authorization", "POST", "/api/v1/attribution/run").unauthorized(),
        row("attribution run: the ingest token", "POST", "/api/v1/attribution/run").bearer(&ingest).unauthorized(),
        row("attribution run: the reports token", "POST", "/api/v1/attribution/run").bearer(&reports).unauthorized(),
        row("rollups: the reports token", "POST", "/api/v1/attribution/rollups").bearer(&reports).unauthorized(),
    ];
    // The webhook takes an HMAC of the exact body under the secret, nothing else.
    let hook = |what: &str, body: Vec<u8>| {
        row(format!("Shopify webhook: {what}"), "POST", "/api/v1/webhooks/shopify")
            .header("X-Shopify-Topic", "orders/create").raw(body)
    };
    let order = || ctx.order(rej).to_string().into_bytes();
    let body = order();
    let plus_space = [body.as_slice(), b" "].concat();
    rows.extend([
        hook("no HMAC header", order()).unauthorized(),
        hook("an empty HMAC", order()).header("X-Shopify-Hmac-Sha256", "").unauthorized(),
        hook("an HMAC that is not base64", order()).header("X-Shopify-Hmac-Sha256", "not base64!").unauthorized(),
        hook("the HMAC of another body", order()).header("X-Shopify-Hmac-Sha256", shopify_sign(&order())).unauthorized(),
        hook("the HMAC of the body plus a space", body).header("X-Shopify-Hmac-Sha256", shopify_sign(&plus_space))
            .unauthorized(),
        hook("the admin bearer token instead", order()).bearer(&admin).unauthorized(),
        hook("one byte over the 1 MiB cap, unsigned", vec![b' '; WEBHOOK_CAP + 1]).fails(413, "payload_too_large", None),
    ]);
    rows
}

/// Where an accepted value is read back from: `(table, key column)`.
type Loc = (&'static str, &'static str);

/// What a string field does with SQL metacharacters.
#[derive(Clone, Copy)]
enum Kind {
    /// Its grammar refuses them: 400 with this code.
    Grammar(&'static str),
    /// Free text: stored exactly as sent (a NUL, a control character, is a
    /// 400 `invalid_format`).
    Exact(Loc),
    /// A free-text UTM value: lower-cased, whitespace runs become `-`.
    Utm(Loc),
    /// `promo_codes`: upper-cased (a NUL is a 400 `invalid_value`).
    Upper(Loc),
}

/// SQL metacharacters in every string field of every create endpoint.
fn injection(ctx: &Ctx) -> Vec<Case> {
    use Kind::*;
    #[rustfmt::skip]
    let fields: [(&str, &str, Kind); 46] = [
        ("influencers", "handle", Grammar("invalid_format")),
        ("influencers", "name", Exact(("influencers", "handle"))),
        ("influencers", "platform", Grammar("invalid_value")),
        ("campaigns", "slug", Grammar("invalid_format")),
        ("campaigns", "name", Exact(("campaigns", "slug"))),
        ("campaigns", "discount_style", Grammar("invalid_value")),
        ("campaigns", "discount_param", Grammar("invalid_format")),
        ("codes", "code", Grammar("invalid_format")),
        ("codes", "influencer", Grammar("invalid_format")),
        ("codes", "campaign", Grammar("invalid_format")),
        ("codes", "link", Grammar("invalid_format")),
        ("codes", "description", Exact(("codes", "code"))),
        ("links", "slug", Grammar("invalid_format")),
        ("links", "destination", Grammar("relative_url")),
        ("links", "influencer", Grammar("invalid_format")),
        ("links", "campaign", Grammar("invalid_format")),
        ("links", "content", Utm(("links", "slug"))),
        ("links", "platform", Grammar("invalid_value")),
        ("links", "utm_medium", Utm(("links", "slug"))),
        ("links", "utm_term", Utm(("links", "slug"))),
        ("links", "discount_code", Grammar("invalid_format")),
        ("links", "discount_style", Grammar("invalid_value")),
        ("links", "discount_param", Grammar("invalid_format")),
        ("conversions", "order_id", Exact(("conversions", "customer_id"))),
        ("conversions", "occurred_at", Grammar("invalid_timestamp")),
        ("conversions", "revenue", Grammar("invalid_amount")),
        ("conversions", "currency", Grammar("invalid_currency")),
        ("conversions", "click_id", Grammar("invalid_format")),
        ("conversions", "visitor_id", Grammar("invalid_format")),
        ("conversions", "customer_id", Exact(("conversions", "order_id"))),
        ("conversions", "promo_codes", Upper(("conversions", "order_id"))),
        ("conversions", "email_sha256", Grammar("invalid_format")),
        ("touchpoints", "occurred_at", Grammar("invalid_timestamp")),
        ("touchpoints", "channel", Grammar("invalid_value")),
        ("touchpoints", "source", Utm(("touchpoints", "customer_id"))),
        ("touchpoints", "medium", Utm(("touchpoints", "customer_id"))),
        ("touchpoints", "campaign", Utm(("touchpoints", "customer_id"))),
        ("touchpoints", "visitor_id", Grammar("invalid_format")),
        ("touchpoints", "customer_id", Exact(("touchpoints", "customer_id"))),
        ("costs", "influencer", Grammar("invalid_format")),
        ("costs", "campaign", Grammar("invalid_format")),
        ("costs", "kind", Grammar("invalid_value")),
        ("costs", "amount", Grammar("invalid_amount")),
        ("costs", "currency", Grammar("invalid_currency")),
        ("costs", "incurred_on", Grammar("invalid_date")),
        ("costs", "note", Exact(("costs", "note"))),
    ];
    let eps = endpoints(ctx);
    let mut rows = Vec::new();
    for (endpoint, field, kind) in fields {
        let ep = ep(&eps, endpoint);
        for (i, payload) in SQL.iter().enumerate() {
            let what = format!("SQL #{i} in {field}");
            let nul = payload.contains('\0');
            let (stored_as, (table, key_column)) = match kind {
                Grammar(code) => {
                    // The marker is in the body's other fields.
                    let mut body = (ep.body)(ctx, &ctx.rej);
                    body[field] = json!(payload);
                    rows.push(ep.row(&what).json(&body).bad(code, field));
                    continue;
                }
                Exact(loc) => (None, loc),
                Utm(loc) => (Some(utm as fn(&str) -> String), loc),
                Upper(loc) => (Some(str::to_uppercase as fn(&str) -> String), loc),
            };
            // Free text: the marker goes into the value itself.
            let mark = if nul { &ctx.rej } else { &ctx.acc };
            let value = format!("{payload} {}", ctx.name(mark));
            let mut body = (ep.body)(ctx, mark);
            body[field] = if matches!(kind, Upper(_)) {
                json!([value])
            } else {
                json!(value)
            };
            if nul {
                let code = if matches!(kind, Upper(_)) {
                    "invalid_value"
                } else {
                    "invalid_format"
                };
                rows.push(ep.row(&what).json(&body).bad(code, field));
                continue;
            }
            let stored = stored_as.map_or_else(|| value.clone(), |f| f(&value));
            // Accepted: the admin API echoes the field; an order is read back
            // by its (percent-encoded) id; D1 holds it in any case.
            let mut case = ep.row(&what).json(&body).gives(201);
            if !matches!(endpoint, "conversions" | "touchpoints") {
                case = case.then_json(format!("/{field}"), stored.clone());
            }
            rows.push(case);
            if endpoint == "conversions" {
                let order = body["order_id"].as_str().unwrap();
                let echoed = if field == "promo_codes" {
                    json!([stored])
                } else {
                    json!(stored)
                };
                rows.push(
                    row(
                        format!("conversions: {what}, read back"),
                        "GET",
                        format!("/api/v1/conversions/{}", pct(order)),
                    )
                    .admin()
                    .gives(200)
                    .then_json("/order_id", order)
                    .then_json(format!("/{field}"), echoed),
                );
            }
            let key = if key_column == field {
                stored.clone()
            } else {
                body[key_column].as_str().unwrap().to_owned()
            };
            ctx.stored.borrow_mut().push(Stored {
                what: format!("{endpoint}: {what}"),
                table,
                column: if field == "promo_codes" {
                    "json_extract(promo_codes, '$[0]')"
                } else {
                    field
                },
                key_column,
                key,
                value: stored,
            });
        }
    }
    rows
}

/// Slugs and codes on the redirect paths (HTML 404) and at link creation
/// (400); 10 KB user agents on the redirect and on the API.
#[rustfmt::skip]
fn slugs_and_agents(ctx: &Ctx) -> Vec<Case> {
    let rej = ctx.rej.as_str();
    let slug = ctx.slug.as_str();
    let long = "x".repeat(10 * 1024);
    let ua = format!(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
         Mobile/15E148 Instagram 331.0.0.0 {long}"
    );
    let tracked = format!("{}&lc_cid=", ctx.tracking_url);
    let mut rows = vec![
        row("redirect: a 10 KB user agent", "GET", format!("/{slug}")).header("User-Agent", ua.clone())
            .gives(302).then_location(tracked.clone()),
        row("redirect: a 10 KB user agent and referer", "GET", format!("/{slug}")).header("User-Agent", ua.clone())
            .header("Referer", format!("https://{long}.example/{long}")).gives(302).then_location(tracked.clone()),
        row("redirect: SQL as the user agent", "GET", format!("/{slug}")).header("User-Agent", SQL[0])
            .gives(302).then_location(tracked),
        row("redirect: HEAD with a 10 KB user agent", "HEAD", format!("/{slug}")).header("User-Agent", ua.clone())
            .gives(302),
        row("code redirect: a 10 KB user agent", "GET", format!("/c/{}", ctx.code.to_lowercase()))
            .header("User-Agent", ua.clone()).gives(302)
            .then_location(format!("https://shop.example/discount/{}?redirect=", ctx.code)),
        row("API: a 10 KB user agent", "GET", format!("/api/v1/links/{slug}/stats")).admin()
            .header("User-Agent", ua.clone()).gives(200),
        row("API: a 10 KB user agent on a create", "POST", "/api/v1/influencers").admin().header("User-Agent", ua)
            .json(&ctx.influencer(&ctx.acc)).gives(201),
    ];
    let pages = [
        ("GET", "a dot-dot path", "/..".to_owned()),
        ("GET", "dot-dot after the slug", format!("/{slug}/..")),
        ("GET", "encoded dot-dot", "/%2E%2E".to_owned()),
        ("GET", "dot-dot and an encoded slash", format!("/..%2F{slug}")),
        ("GET", "the slug, an encoded slash, dot-dot", format!("/{slug}%2F..")),
        ("GET", "dot-dot inside a slug", format!("/{slug}..")),
        ("GET", "a unicode slug", "/caf%C3%A9".to_owned()),
        ("GET", "an emoji slug", "/%F0%9F%94%97".to_owned()),
        ("GET", "65 characters", format!("/{}", "a".repeat(65))),
        ("GET", "4000 characters", format!("/{}", "a".repeat(4000))),
        ("GET", "a NUL after the slug", format!("/{slug}%00")),
        ("GET", "SQL as a slug", format!("/{}", pct(SQL[0]))),
        ("GET", "a reserved word", "/api".to_owned()),
        ("HEAD", "HEAD of an unknown slug", format!("/{rej}")),
        ("POST", "POST to a slug", format!("/{slug}")),
        ("GET", "a code with dot-dot", "/c/..%2F".to_owned()),
        ("GET", "a code too short", "/c/AB".to_owned()),
        ("GET", "a code too long", format!("/c/{}", "A".repeat(33))),
        ("GET", "SQL as a code", format!("/c/{}", pct(SQL[1]))),
        ("GET", "a unicode code", "/c/%C3%89T%C3%8920".to_owned()),
    ];
    for (method, what, path) in pages {
        rows.push(row(format!("redirect: {what}"), method, path).gives(404));
    }
    let slugs: [(&str, Value, &str); 8] = [
        ("'..'", json!(".."), "invalid_format"),
        ("with a slash", json!(format!("{rej}/x")), "invalid_format"),
        ("with a literal %2F", json!(format!("{rej}%2Fx")), "invalid_format"),
        ("in unicode", json!(format!("{rej}-café")), "invalid_format"),
        ("of 65 characters", json!(format!("{rej}{}", "a".repeat(65))), "too_long"),
        ("empty", json!(""), "empty"),
        ("reserved", json!("healthz"), "reserved"),
        ("a number", json!(7), "invalid_type"),
    ];
    for (what, value, code) in slugs {
        let mut body = ctx.link(rej);
        body["slug"] = value;
        rows.push(row(format!("links: slug {what}"), "POST", "/api/v1/links").admin().json(&body).bad(code, "slug"));
    }
    rows.extend([
        row("link read: a unicode slug", "GET", "/api/v1/links/caf%C3%A9").admin().fails(404, "not_found", None),
        row("link read: dot-dot inside a slug", "GET", "/api/v1/links/a..b").admin().fails(404, "not_found", None),
        row("link update: an encoded slash in the slug", "PATCH", format!("/api/v1/links/..%2F{slug}")).admin()
            .json(&json!({"status": "disabled"})).fails(404, "not_found", None),
    ]);
    rows
}

/// Destinations that would make the worker an open redirect, or worse.
#[rustfmt::skip]
fn destinations(ctx: &Ctx) -> Vec<Case> {
    let cases: [(&str, Value, &str); 16] = [
        ("javascript:", json!("javascript:alert(document.cookie)"), "unsupported_scheme"),
        ("JaVaScRiPt:", json!("JaVaScRiPt:alert(1)"), "unsupported_scheme"),
        ("data:", json!("data:text/html,<script>alert(1)</script>"), "unsupported_scheme"),
        ("//evil.com", json!("//evil.com/"), "relative_url"),
        ("http://user@evil", json!("http://user@evil.example/"), "credentials_not_allowed"),
        ("with user and password", json!("https://user:pw@shop.example/"), "credentials_not_allowed"),
        ("space-prefixed javascript:", json!("  javascript:alert(1)"), "unsupported_scheme"),
        ("tab- and newline-prefixed //evil.com", json!("\t\n//evil.com/"), "relative_url"),
        ("no-break-space-prefixed javascript:", json!("\u{a0}javascript:alert(1)"), "unsupported_scheme"),
        ("ftp:", json!("ftp://shop.example/"), "unsupported_scheme"),
        ("mailto:", json!("mailto:a@shop.example"), "unsupported_scheme"),
        ("file:", json!("file:///etc/passwd"), "unsupported_scheme"),
        ("an Android intent", json!("intent://shop.example#Intent;scheme=https;end"), "unsupported_scheme"),
        ("without a host", json!("https://"), "invalid_url"),
        ("over 2048 characters", json!(format!("https://shop.example/{}", "a".repeat(2048))), "too_long"),
        ("a number", json!(80), "invalid_type"),
    ];
    let patched = ["javascript:", "//evil.com", "http://user@evil"];
    let mut rows = Vec::new();
    for (what, destination, code) in cases {
        let mut body = ctx.link(&ctx.rej);
        body["destination"] = destination.clone();
        rows.push(row(format!("links: destination {what}"), "POST", "/api/v1/links").admin().json(&body)
            .bad(code, "destination"));
        if patched.contains(&what) {
            rows.push(row(format!("link update: destination {what}"), "PATCH", format!("/api/v1/links/{}", ctx.slug))
                .admin().json(&json!({"destination": destination})).bad(code, "destination"));
        }
    }
    rows
}

/// Amounts, rates and goals: exact decimals or a 400 naming the field.
#[rustfmt::skip]
fn money(ctx: &Ctx) -> Vec<Case> {
    let rej = ctx.rej.as_str();
    let mut rows = Vec::new();
    let revenue: [(&str, &str, &str); 18] = [
        ("negative", r#""-1.00""#, "negative"),
        ("a negative number", "-1", "negative"),
        ("NaN as a string", r#""NaN""#, "invalid_amount"),
        ("Infinity as a string", r#""Infinity""#, "invalid_amount"),
        ("1e309, beyond f64", "1e309", "invalid_amount"),
        ("1e309 as a string", r#""1e309""#, "invalid_amount"),
        ("too many decimals", r#""19.999""#, "too_precise"),
        ("too many decimals as a number, which an f64 rounds to 20", "19.9999999999999999", "too_precise"),
        ("0.1 + 0.2 as an f64 prints it", "0.30000000000000004", "too_precise"),
        ("a huge integer string", r#""99999999999999999999""#, "too_large"),
        ("a huge integer", "123456789012345678901234567890", "too_large"),
        ("i64::MAX major units", "9223372036854775807", "too_large"),
        ("a word", r#""ten""#, "invalid_amount"),
        ("with a decimal comma", r#""1,00""#, "invalid_amount"),
        ("hexadecimal", r#""0x10""#, "invalid_amount"),
        ("a boolean", "true", "invalid_type"),
        ("an array", "[1]", "invalid_type"),
        ("an object", r#"{"amount":1}"#, "invalid_type"),
    ];
    for (what, raw, code) in revenue {
        rows.push(row(format!("conversions: revenue {what}"), "POST", "/api/v1/conversions").ingest()
            .raw(with_raw(ctx.conversion(rej), "revenue", raw)).bad(code, "revenue"));
    }
    let mut yen = ctx.conversion(rej);
    yen["currency"] = json!("JPY");
    yen["revenue"] = json!("1.5");
    rows.push(row("conversions: revenue 1.5 yen", "POST", "/api/v1/conversions").ingest().json(&yen)
        .bad("too_precise", "revenue"));
    for (what, currency, code) in [("lower case", json!("usd"), "invalid_currency"), ("a symbol", json!("US$"), "invalid_currency"),
                                   ("a number", json!(840), "invalid_type")] {
        let mut body = ctx.conversion(rej);
        body["currency"] = currency;
        rows.push(row(format!("conversions: currency {what}"), "POST", "/api/v1/conversions").ingest().json(&body)
            .bad(code, "currency"));
    }
    // In a batch the item carries the error; the request is a 200.
    let item = String::from_utf8(with_raw(ctx.conversion(rej), "revenue", "1e309")).unwrap();
    rows.push(row("conversion batch: revenue 1e309 in an item", "POST", "/api/v1/conversions:batch").ingest()
        .raw(format!(r#"{{"conversions":[{item}]}}"#).into_bytes()).gives(200)
        .then_json("/results/0/status", 400).then_json("/results/0/error/code", "invalid_amount")
        .then_json("/results/0/error/field", "revenue"));
    for (what, raw, code) in [
        ("negative", r#""-5""#, "negative"),
        ("NaN as a string", r#""NaN""#, "invalid_amount"),
        ("1e309", "1e309", "invalid_amount"),
        ("too many decimals", "1.001", "too_precise"),
        ("a huge integer", "18446744073709551616", "too_large"),
        ("a word", r#""a lot""#, "invalid_amount"),
    ] {
        rows.push(row(format!("costs: amount {what}"), "POST", "/api/v1/costs").admin()
            .raw(with_raw(ctx.cost(rej), "amount", raw)).bad(code, "amount"));
    }
    let fx = json!({"currency": "XTS", "rate_to_reporting": "1", "valid_from": "2026-01-01"});
    for (what, raw, code) in [
        ("negative", r#""-1""#, "invalid_rate"),
        ("zero", "0", "invalid_rate"),
        ("NaN as a string", r#""NaN""#, "invalid_rate"),
        ("1e309", "1e309", "invalid_rate"),
        ("with ten decimals", r#""1.0000000001""#, "invalid_rate"),
        ("with 17 decimals as a number, which an f64 rounds to 1", "1.00000000000000001", "invalid_rate"),
        ("with ten integer digits", "9999999999", "invalid_rate"),
        ("a boolean", "true", "invalid_type"),
    ] {
        rows.push(row(format!("fx: rate {what}"), "PUT", "/api/v1/fx").admin()
            .raw(with_raw(fx.clone(), "rate_to_reporting", raw)).bad(code, "rate_to_reporting"));
    }
    let goals = format!("/api/v1/campaigns/{}", ctx.campaign);
    for (field, what, raw, code) in [
        ("target_cpa", "NaN as a string", r#""NaN""#, "invalid_amount"),
        ("target_cpa", "negative", "-1", "negative"),
        ("target_cpa", "1e309", "1e309", "invalid_amount"),
        ("min_roas", "with four decimals", "3.5555", "too_precise"),
        ("min_roas", "a word", r#""lots""#, "invalid_amount"),
        ("min_roas", "a boolean", "false", "invalid_type"),
    ] {
        rows.push(row(format!("campaign goals: {field} {what}"), "PATCH", goals.clone()).admin()
            .raw(with_raw(json!({}), field, raw)).bad(code, field));
    }
    // The webhook's amount, signed, so that it is parsed.
    for (what, raw, code) in [
        ("1e309", "1e309", "invalid_amount"),
        ("negative", r#""-5.00""#, "negative"),
        ("with too many decimals", r#""1.001""#, "too_precise"),
    ] {
        let body = with_raw(ctx.order(rej), "total_price", raw);
        rows.push(row(format!("Shopify webhook: total_price {what}"), "POST", "/api/v1/webhooks/shopify")
            .header("X-Shopify-Topic", "orders/create").header("X-Shopify-Hmac-Sha256", shopify_sign(&body))
            .raw(body).bad(code, "total_price"));
    }
    rows
}

/// A change to a valid body.
enum Edit {
    Set(&'static str, Value),
    Remove(&'static str),
}

/// Unknown, missing, repeated and mistyped fields.
#[rustfmt::skip]
fn shapes(ctx: &Ctx) -> Vec<Case> {
    use Edit::*;
    let rej = ctx.rej.as_str();
    let eps = endpoints(ctx);
    let edits: Vec<(&str, &str, Edit, &str, Option<&str>)> = vec![
        ("influencers", "an unknown field", Set("admin", json!(true)), "unknown_field", Some("admin")),
        ("influencers", "no handle", Remove("handle"), "required", Some("handle")),
        ("influencers", "handle null", Set("handle", Value::Null), "required", Some("handle")),
        ("influencers", "handle a number", Set("handle", json!(42)), "invalid_type", Some("handle")),
        ("influencers", "name an array", Set("name", json!(["x"])), "invalid_type", Some("name")),
        ("influencers", "name of 201 characters", Set("name", json!("n".repeat(201))), "too_long", Some("name")),
        ("influencers", "__proto__", Set("__proto__", json!({"admin": true})), "unknown_field", Some("__proto__")),
        ("campaigns", "no slug", Remove("slug"), "required", Some("slug")),
        ("campaigns", "discount_param utm_source", Set("discount_param", json!("utm_source")), "reserved", Some("discount_param")),
        ("codes", "no influencer", Remove("influencer"), "required", Some("influencer")),
        ("codes", "code of two characters", Set("code", json!("AB")), "too_short", Some("code")),
        ("codes", "code of 33 characters", Set("code", json!("A".repeat(33))), "too_long", Some("code")),
        ("codes", "an unknown influencer", Set("influencer", json!(format!("{rej}-nobody"))), "unknown_influencer", Some("influencer")),
        ("links", "a typo: destinaton", Set("destinaton", json!(DEST)), "unknown_field", Some("destinaton")),
        ("links", "no destination", Remove("destination"), "required", Some("destination")),
        ("links", "escape_in_app \"yes\"", Set("escape_in_app", json!("yes")), "invalid_type", Some("escape_in_app")),
        ("links", "escape_in_app 1", Set("escape_in_app", json!(1)), "invalid_type", Some("escape_in_app")),
        ("links", "content of 101 characters", Set("content", json!("c".repeat(101))), "too_long", Some("content")),
        ("links", "an unregistered discount code", Set("discount_code", json!("NOSUCHCODE42")), "unknown_code", Some("discount_code")),
        ("links", "an unknown campaign", Set("campaign", json!(format!("{rej}-none"))), "unknown_campaign", Some("campaign")),
        ("links", "rules an object", Set("rules", json!({"os": ["ios"]})), "invalid_type", Some("rules")),
        ("links", "a rule without when", Set("rules", json!([{"destination": DEST}])), "required", Some("rules[0].when")),
        ("links", "a rule for os symbian", Set("rules", json!([{"when": {"os": ["symbian"]}, "destination": DEST}])), "invalid_value", Some("rules[0].when.os")),
        ("links", "a rule country of three letters", Set("rules", json!([{"when": {"country": ["DEU"]}, "destination": DEST}])), "invalid_value", Some("rules[0].when.country")),
        ("links", "a rule to javascript:", Set("rules", json!([{"when": {"app": ["any"]}, "destination": "javascript:alert(1)"}])), "unsupported_scheme", Some("rules[0].destination")),
        ("links", "a rule with an unknown condition", Set("rules", json!([{"when": {"browser": ["x"]}, "destination": DEST}])), "unknown_field", Some("rules[0].when.browser")),
        ("links", "21 rules", Set("rules", json!(vec![json!({"when": {"os": ["ios"]}, "destination": DEST}); 21])), "too_many", Some("rules")),
        ("links", "variants weighing 90", Set("variants", json!([{"destination": DEST, "weight": 50}, {"destination": DEST, "weight": 40}])), "invalid_weights", Some("variants")),
        ("links", "a variant of weight 0", Set("variants", json!([{"destination": DEST, "weight": 0}, {"destination": DEST, "weight": 100}])), "invalid_value", Some("variants[0].weight")),
        ("links", "one variant", Set("variants", json!([{"destination": DEST, "weight": 100}])), "too_few", Some("variants")),
        ("links", "21 tags", Set("tags", json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>())), "too_many", Some("tags")),
        ("links", "a tag that is a number", Set("tags", json!([5])), "invalid_type", Some("tags[0]")),
        ("links", "a domain not in SHORT_DOMAINS", Set("domain", json!("evil.example")), "unknown_domain", Some("domain")),
        ("link update", "a rule with no condition", Set("rules", json!([{"when": {}, "destination": DEST}])), "empty", Some("rules[0].when")),
        ("link update", "a domain not in SHORT_DOMAINS", Set("domain", json!("evil.example")), "unknown_domain", Some("domain")),
        ("link update", "the slug", Set("slug", json!("other")), "unknown_field", Some("slug")),
        ("link update", "status \"deleted\"", Set("status", json!("deleted")), "invalid_value", Some("status")),
        ("link update", "status true", Set("status", json!(true)), "invalid_type", Some("status")),
        ("link update", "expires_at \"tomorrow\"", Set("expires_at", json!("tomorrow")), "invalid_timestamp", Some("expires_at")),
        ("link update", "expires_at a number", Set("expires_at", json!(1)), "invalid_type", Some("expires_at")),
        ("conversions", "an unknown field: email", Set("email", json!("a@b.example")), "unknown_field", Some("email")),
        ("conversions", "no revenue", Remove("revenue"), "required", Some("revenue")),
        ("conversions", "no occurred_at", Remove("occurred_at"), "required", Some("occurred_at")),
        ("conversions", "order_id a fraction", Set("order_id", json!(1.5)), "invalid_type", Some("order_id")),
        ("conversions", "order_id an object", Set("order_id", json!({})), "invalid_type", Some("order_id")),
        ("conversions", "order_id of 129 characters", Set("order_id", json!(format!("{rej}{}", "x".repeat(129)))), "too_long", Some("order_id")),
        ("conversions", "occurred_at true", Set("occurred_at", json!(true)), "invalid_type", Some("occurred_at")),
        ("conversions", "occurred_at a fraction", Set("occurred_at", json!(1.5)), "invalid_timestamp", Some("occurred_at")),
        ("conversions", "occurred_at negative", Set("occurred_at", json!(-1)), "invalid_timestamp", Some("occurred_at")),
        ("conversions", "occurred_at before 1970", Set("occurred_at", json!("1969-12-31T23:59:59Z")), "invalid_timestamp", Some("occurred_at")),
        ("conversions", "occurred_at in 2999", Set("occurred_at", json!("2999-01-01T00:00:00Z")), "in_future", Some("occurred_at")),
        ("conversions", "promo_codes a string", Set("promo_codes", json!("SARAH20")), "invalid_type", Some("promo_codes")),
        ("conversions", "promo_codes [1]", Set("promo_codes", json!([1])), "invalid_type", Some("promo_codes")),
        ("conversions", "21 promo codes", Set("promo_codes", json!(vec!["A"; 21])), "too_many", Some("promo_codes")),
        ("conversion batch", "an unknown field: dry_run", Set("dry_run", json!(true)), "unknown_field", Some("dry_run")),
        ("conversion batch", "conversions an object", Set("conversions", json!({})), "invalid_type", Some("conversions")),
        ("conversion batch", "no conversions", Set("conversions", json!([])), "invalid_batch_size", Some("conversions")),
        ("conversion batch", "101 conversions", Set("conversions", json!(vec![json!({}); 101])), "invalid_batch_size", Some("conversions")),
        ("touchpoints", "no ids", Remove("customer_id"), "required", Some("visitor_id")),
        ("touchpoints", "channel a number", Set("channel", json!(5)), "invalid_type", Some("channel")),
        ("touchpoints", "channel \"tv\"", Set("channel", json!("tv")), "invalid_value", Some("channel")),
        ("costs", "no kind", Remove("kind"), "required", Some("kind")),
        ("costs", "incurred_on a number", Set("incurred_on", json!(20260101)), "invalid_type", Some("incurred_on")),
        ("costs", "an unknown field: amount_minor", Set("amount_minor", json!(100)), "unknown_field", Some("amount_minor")),
        ("fx", "no currency", Remove("currency"), "required", Some("currency")),
        ("fx", "the reporting currency", Set("currency", json!("USD")), "invalid_value", Some("currency")),
        ("fx", "an unknown field: rate", Set("rate", json!("1")), "unknown_field", Some("rate")),
        ("campaign goals", "an unknown field: name", Set("name", json!("x")), "unknown_field", Some("name")),
        ("campaign goals", "target_cpa true", Set("target_cpa", json!(true)), "invalid_type", Some("target_cpa")),
    ];
    let mut rows = Vec::new();
    for (endpoint, what, edit, code, field) in edits {
        let ep = ep(&eps, endpoint);
        let mut body = (ep.body)(ctx, rej);
        match edit {
            Set(k, v) => body[k] = v,
            Remove(k) => { body.as_object_mut().unwrap().remove(k); }
        }
        rows.push(ep.row(what).json(&body).fails(400, code, field));
    }
    rows.push(ep(&eps, "link update").row("an empty patch").json(&json!({})).fails(400, "empty_patch", None));
    rows.push(ep(&eps, "campaign goals").row("no goals").json(&json!({})).fails(400, "empty_patch", None));
    // A repeated key would mean one thing here and another to a proxy.
    let link = ctx.link(rej).to_string();
    let conv = ctx.conversion(rej).to_string();
    let batch = json!({"conversions": [ctx.conversion(rej)]}).to_string();
    let other_order = format!("\"{}\"", ctx.name(rej));
    for (endpoint, what, body, field) in [
        ("links", "destination twice", repeated(&link, "destination", "\"https://evil.example/\""), "destination"),
        ("conversions", "order_id twice", repeated(&conv, "order_id", &other_order), "order_id"),
        ("conversion batch", "revenue twice in an item", repeated(&batch, "revenue", "\"0.01\""), "revenue"),
    ] {
        rows.push(ep(&eps, endpoint).row(what).raw(body).fails(400, "duplicate_field", Some(field)));
    }
    // Batch items are validated one by one; the request is a 200.
    rows.push(ep(&eps, "conversion batch").row("items that are not objects, or lack fields")
        .json(&json!({"conversions": [7, "x", {"order_id": ctx.name(rej)}]})).gives(200)
        .then_json("/results/0/error/code", "expected_object").then_json("/results/1/status", 400)
        .then_json("/results/2/error/field", "occurred_at"));
    // The webhook parses only after the HMAC: signed garbage is a 400.
    let signed = |what: &str, body: Vec<u8>| {
        row(format!("Shopify webhook: signed {what}"), "POST", "/api/v1/webhooks/shopify")
            .header("X-Shopify-Topic", "orders/paid").header("X-Shopify-Hmac-Sha256", shopify_sign(&body)).raw(body)
    };
    let order = ctx.order(rej);
    let text = order.to_string();
    let mut no_id = ctx.order(rej);
    no_id.as_object_mut().unwrap().remove("id");
    let mut bad_time = ctx.order(rej);
    bad_time["created_at"] = json!("yesterday");
    let mut bad_currency = ctx.order(rej);
    bad_currency["currency"] = json!("usd");
    rows.extend([
        signed("bytes that are not UTF-8", broken_utf8(&order)).fails(400, "malformed_json", None),
        signed("truncated JSON", text.as_bytes()[..text.len() - 2].to_vec()).fails(400, "malformed_json", None),
        signed("an array", format!("[{text}]").into_bytes()).fails(400, "expected_object", None),
        signed("an order without id", no_id.to_string().into_bytes()).bad("required", "id"),
        signed("created_at \"yesterday\"", bad_time.to_string().into_bytes()).bad("invalid_timestamp", "created_at"),
        signed("currency \"usd\"", bad_currency.to_string().into_bytes()).bad("invalid_currency", "currency"),
    ]);
    rows
}

/// Query parameters of reports, lists and rollups; unknown paths and methods.
#[rustfmt::skip]
fn reads(ctx: &Ctx) -> Vec<Case> {
    let reports = reports_token();
    let report = |what: &str, query: &str| {
        row(format!("reports: {what}"), "GET", format!("/api/v1/reports?{query}")).bearer(&reports)
    };
    let rollups = |what: &str, query: &str| {
        row(format!("rollups: {what}"), "POST", format!("/api/v1/attribution/rollups?{query}")).admin()
    };
    let mut rows = vec![
        report("model SQL", &format!("model={}", pct(SQL[0]))).bad("invalid_value", "model"),
        report("from 2026-02-30", "from=2026-02-30").bad("invalid_date", "from"),
        report("to \"tomorrow\"", "to=tomorrow").bad("invalid_date", "to"),
        report("from after to", "from=2026-11-29&to=2026-01-01").bad("invalid_range", "from"),
        report("over ten years", "from=2000-01-01&to=2026-01-01").bad("invalid_range", "from"),
        report("group_by SQL", &format!("group_by=influencer,{}", pct(SQL[1]))).bad("invalid_value", "group_by"),
        report("format xml", "format=xml").bad("invalid_value", "format"),
        row("ranking: model nope", "GET", "/api/v1/reports/ranking?model=nope").bearer(&reports)
            .bad("invalid_value", "model"),
        row("ranking: a 10 KB from", "GET", format!("/api/v1/reports/ranking?from={}", "9".repeat(10240)))
            .bearer(&reports).bad("invalid_date", "from"),
        rollups("from 2026-13-01", "from=2026-13-01").bad("invalid_date", "from"),
        rollups("an unknown parameter, then a bad from", "foo=bar&from=2026-13-01").bad("invalid_date", "from"),
        rollups("to SQL", &format!("to={}", pct(SQL[0]))).bad("invalid_date", "to"),
        rollups("from after to", "from=2026-11-29&to=2026-11-01").bad("invalid_range", "from"),
        rollups("a century", "from=1970-01-01&to=2069-12-31").bad("invalid_range", "from"),
        row("attribution run: GET", "GET", "/api/v1/attribution/run").admin().fails(405, "method_not_allowed", None),
        row("attribution run: PUT", "PUT", "/api/v1/attribution/run").admin().fails(405, "method_not_allowed", None),
        row("influencers: DELETE", "DELETE", "/api/v1/influencers").admin().fails(405, "method_not_allowed", None),
        row("an unknown API path", "GET", format!("/api/v1/{}", pct(SQL[0]))).admin().fails(404, "not_found", None),
        row("conversion read: an unknown SQL order id", "GET", format!("/api/v1/conversions/{}", pct(SQL[1]))).admin()
            .fails(404, "not_found", None),
        row("journey read: an unknown order id", "GET", format!("/api/v1/journeys/{}", ctx.rej)).admin()
            .fails(404, "not_found", None),
    ];
    for (list, query, field) in [
        ("costs", "limit=0".to_owned(), "limit"),
        ("costs", "limit=201".to_owned(), "limit"),
        ("influencers", "limit=ten".to_owned(), "limit"),
        ("links", "limit=-1".to_owned(), "limit"),
        ("codes", "cursor=%25%25".to_owned(), "cursor"),
        ("campaigns", format!("cursor={}", pct(SQL[0])), "cursor"),
    ] {
        rows.push(row(format!("{list} list: {query}"), "GET", format!("/api/v1/{list}?{query}")).admin()
            .bad("invalid_value", field));
    }
    for (what, id) in [("not a number", "abc"), ("negative", "-1"), ("that does not exist", "999999999"),
                       ("SQL", "1%20OR%201%3D1")] {
        rows.push(row(format!("costs: delete an id {what}"), "DELETE", format!("/api/v1/costs/{id}")).admin()
            .fails(404, "not_found", None));
    }
    rows
}

/// Creates the suite's influencer, campaign, link and code.
fn fixtures() -> Ctx {
    let (handle, campaign) = roster();
    let slug = unique("bi");
    let r = admin(
        "POST",
        "/api/v1/links",
        Some(
            json!({"slug": slug, "destination": DEST, "influencer": handle, "campaign": campaign}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let tracking_url = r.json()["tracking_url"].as_str().unwrap().to_owned();
    let code = unique_code("BI");
    let r = admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": code, "influencer": handle, "link": slug})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    Ctx {
        rej: unique("rej"),
        acc: unique("acc"),
        handle,
        campaign,
        slug,
        code,
        tracking_url,
        t: now_ms() - 3_600_000,
        n: Cell::new(0),
        stored: RefCell::new(Vec::new()),
    }
}

/// Nothing rejected was written, and the free text that was accepted is
/// stored exactly: one D1 query for both. (D1 allows at most 5 terms in a
/// compound SELECT, so each check is a scalar subquery, one column each.)
fn verify_storage(ctx: &Ctx) -> Vec<String> {
    let rej = &ctx.rej;
    let has = |expr: &str| format!("instr(lower({expr}), '{rej}') > 0");
    let leaks = [
        ("influencers", "handle", has("handle || coalesce(name, '')")),
        ("campaigns", "slug", has("slug || coalesce(name, '')")),
        ("codes", "code", has("code || coalesce(description, '')")),
        (
            "links",
            "slug",
            has("slug || destination || coalesce(content, '')"),
        ),
        (
            "conversions",
            "order_id",
            has("order_id || coalesce(customer_id, '') || promo_codes"),
        ),
        (
            "touchpoints",
            "id",
            has("coalesce(customer_id, '') || coalesce(source, '')"),
        ),
        ("identities", "key", has("key")),
        ("costs", "id", has("coalesce(note, '')")),
        ("fx_rates", "currency", "currency = 'XTS'".to_owned()),
        (
            "campaigns",
            "slug",
            format!(
                "slug = '{}' AND (target_cpa_minor IS NOT NULL OR min_roas_milli IS NOT NULL)",
                ctx.campaign
            ),
        ),
        (
            "links",
            "slug",
            format!(
                "slug = '{}' AND (destination <> '{DEST}' OR status <> 'active' \
                 OR expires_at IS NOT NULL OR starts_at IS NOT NULL OR max_clicks IS NOT NULL \
                 OR expired_url IS NOT NULL OR escape_in_app <> 0)",
                ctx.slug
            ),
        ),
    ];
    let mut columns: Vec<String> = leaks
        .iter()
        .enumerate()
        .map(|(i, (table, id, cond))| {
            format!("(SELECT json_group_array({id}) FROM {table} WHERE {cond}) AS \"leak {i}\"")
        })
        .collect();
    // The accepted values, one column per (table, column, key): a JSON
    // object {hex(key): value}. Keys travel as hex, so no payload is SQL.
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02X}")).collect::<String>();
    let stored = ctx.stored.borrow();
    let group_of = |s: &Stored| (s.table, s.column, s.key_column);
    let mut groups: Vec<(&str, &str, &str)> = Vec::new();
    for s in stored.iter() {
        if !groups.contains(&group_of(s)) {
            groups.push(group_of(s));
        }
    }
    for (i, g) in groups.iter().enumerate() {
        let keys: Vec<String> = stored
            .iter()
            .filter(|s| group_of(s) == *g)
            .map(|s| format!("'{}'", hex(&s.key)))
            .collect();
        let (table, column, key) = g;
        columns.push(format!(
            "(SELECT json_group_object(hex({key}), {column}) FROM {table} \
             WHERE hex({key}) IN ({})) AS \"stored {i}\"",
            keys.join(", ")
        ));
    }
    let row = d1(&format!("SELECT {}", columns.join(", ")))
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut failures = Vec::new();
    for (i, (table, ..)) in leaks.iter().enumerate() {
        let written = &row[format!("leak {i}").as_str()];
        if written != "[]" {
            failures.push(format!("{table}: rejected input was written: {written}"));
        }
    }
    for s in stored.iter() {
        let i = groups.iter().position(|g| *g == group_of(s)).unwrap();
        let found: Value = row[format!("stored {i}").as_str()]
            .as_str()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let got = &found[hex(&s.key).as_str()];
        if got != &json!(s.value) {
            failures.push(format!(
                "{}: stored {got}, expected exactly {:?}",
                s.what, s.value
            ));
        }
    }
    failures
}

#[test]
fn bad_input_table() {
    let started = Instant::now();
    let ctx = fixtures();
    let cases: Vec<Case> = [
        body_shapes(&ctx),
        auth(&ctx),
        injection(&ctx),
        slugs_and_agents(&ctx),
        destinations(&ctx),
        money(&ctx),
        shapes(&ctx),
        reads(&ctx),
    ]
    .into_iter()
    .flatten()
    .collect();

    // Every row runs; the failures are reported together.
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = catch_unwind(AssertUnwindSafe(|| check(case))) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(format!(
                "{} ({} {}): {msg}",
                case.name, case.method, case.path
            ));
        }
    }

    // The redirects with long user agents were recorded: the GETs as human
    // clicks, the HEAD as a bot click.
    let visits = cases.iter().filter(|c| c.status == 302).count() as u64;
    let stats = stats_until(&ctx.slug, |v| {
        v["clicks"].as_u64().unwrap_or(0) + v["bot_clicks"].as_u64().unwrap_or(0) >= visits
    });
    let clicks = stats["clicks"].as_u64().unwrap_or(0);
    let bots = stats["bot_clicks"].as_u64().unwrap_or(0);
    if clicks + bots != visits || bots < 1 {
        failures.push(format!(
            "{visits} redirects were recorded as {clicks} clicks and {bots} bot clicks"
        ));
    }

    failures.extend(verify_storage(&ctx));
    eprintln!(
        "bad input: {} cases and {} stored values checked in {:.1} s",
        cases.len(),
        ctx.stored.borrow().len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
